#include "models/input.hpp"

#include <cmath>

namespace eisim {

input_grid make_input(const input_desc& d, double dt, int steps, int batch, rng& g) {
    input_grid u(dt, steps, d.n_in, batch);
    switch (input_registry().get(d.kind).type) {
    case input_kind::kind::ou: {
        const double decay = std::exp(-dt/d.tau_ms);
        const double kick = d.sigma*std::sqrt(1.0 - decay*decay);
        matrix v(d.n_in, batch);
        for (long b = 0; b < batch; ++b)
            for (long c = 0; c < d.n_in; ++c) v(c, b) = d.mean + d.sigma*normal(g);
        for (int k = 0; k <= steps; ++k) {
            if (k > 0)
                for (long b = 0; b < batch; ++b)
                    for (long c = 0; c < d.n_in; ++c) v(c, b) = d.mean + (v(c, b) - d.mean)*decay + kick*normal(g);
            u.at(k) = v.cwiseMax(0.0);
        }
        break;
    }
    case input_kind::kind::step:
        for (int k = 0; k <= steps; ++k) {
            const double t = k*dt;
            if (t >= d.onset_ms && t < d.offset_ms) u.at(k).setConstant(d.amplitude);
        }
        break;
    case input_kind::kind::zero: break;
    }
    return u;
}

} // namespace eisim
