#include "plasticity/online_trial.hpp"

#include <cmath>

#include "models/error.hpp"

namespace eisim {

online_result rflo_online_trial(network& net, lowered_network& low, const trial_batch& trials, const integrator_desc& d,
                                rng& noise, const matrix& B_out, const plastic_set& which, optimizer& opt, long step) {
    const int T = trials.steps();
    const long B = trials.batch();
    const double dt = trials.u.dt;
    const double norm = static_cast<double>(net.n_out)*B*trials.mask_sum();
    rflo_traces traces(net, which, B, dt);
    online_result out;
    out.y.resize(net.n_out, B*(T + 1));
    out.tr.stepper = d.stepper;
    out.tr.dt_obs = dt;
    out.tr.x.push_back(trials.x0);
    out.tr.obs.push_back(0);
    input_grid segment(dt, 1, trials.u.n_in, static_cast<int>(B));
    matrix x = trials.x0, r;
    for (int k = 0;; ++k) {
        net.phi.apply(x, r);
        out.y.middleCols(static_cast<long>(k)*B, B) = low.W_out*r;
        const matrix diff = out.y.middleCols(static_cast<long>(k)*B, B) - trials.target_at(k);
        if (norm > 0 && trials.mask[k] != 0.0) {
            out.loss += trials.mask[k]*diff.squaredNorm()/norm;
            const gradients g = traces.increment(net, B_out, (2.0*trials.mask[k]/norm)*diff, r);
            if (!g.finite())
                throw divergence_error(step, "the online RFLO update is not finite at t = " + std::to_string(k*dt) + " ms");
            out.held = opt.apply(net, g, which, step);
            ++out.updates;
            low.update(net);
        }
        if (k == T) break;
        traces.advance(net, x, r, trials.u.at(k));
        // x_{k+1} from x_k with the weights of this moment, over [t_k, t_k + dt]
        segment.at(0) = trials.u.at(k);
        segment.at(1) = trials.u.at(k + 1);
        const trajectory part = integrate(net, low, segment, x, d, noise);
        for (std::size_t n = 0; n < part.steps(); ++n) {
            out.tr.t.push_back(k*dt + part.t[n]);
            out.tr.h.push_back(part.h[n]);
            out.tr.x.push_back(part.x[n + 1]);
        }
        out.tr.obs.push_back(out.tr.x.size() - 1);
        x = part.x.back();
    }
    return out;
}

} // namespace eisim
