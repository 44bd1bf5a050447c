// rflo: random-feedback local online learning (Murray 2019), per-trial form, on the observation
// grid with α_i = dt/τ_i (the equations in local_credit.hpp); B_out is the fixed sign-concordant
// feedback. plasticity.rflo_form = online takes a mirror step at every observation instead
// (plasticity/online_trial.hpp, driven by the learning loop).
#include "models/dynamics.hpp"
#include "plasticity/local_credit.hpp"
#include "plasticity/outer_accumulator.hpp"

namespace eisim {

gradients rflo_gradient(const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials,
                        const plastic_set& which, const matrix& B_out) {
    const long N = net.n(), B = trials.batch();
    const output_errors err = output_error(net, low, tr, trials);
    const std::size_t T = tr.obs.size() - 1;
    const vector alpha = tr.dt_obs*low.inv_tau;
    const vector decay = vector::Ones(N) - alpha;
    outer_accumulator dW_rec(which.recurrent? N: 0, which.recurrent? N: 0, B), dW_in(which.input? N: 0, which.input? net.n_in: 0, B);
    matrix dW_out = matrix::Zero(net.n_out, N);
    matrix z = matrix::Zero(N, B), dphi, r, q;
    for (std::size_t k = T + 1; k-- > 0;) {
        const matrix& xk = tr.at_obs(k);
        net.phi.apply(xk, r);
        if (which.readout) dW_out.noalias() += err.e[k]*r.transpose();
        if (k == T) continue; // z(T) = 0
        // z(k) = B e_{k+1} + (1 − α) ⊙ z(k+1)
        z = (B_out*err.e[k + 1]) + (z.array().colwise()*decay.array()).matrix();
        net.phi.derivative(xk, dphi);
        q = (dphi.array()*z.array()).colwise()*alpha.array();
        if (which.recurrent) dW_rec.add(q, r);
        if (which.input) dW_in.add(q, trials.u.at(static_cast<int>(k)));
    }
    return gather_gradients(net, which, err.loss, dW_rec, dW_in, dW_out);
}

credit_rule rflo_credit_rule() {
    return {"random-feedback local online learning: eligibility traces and random feedback (Murray 2019)",
            {choice_key("rflo_form", "trial", {"trial", "online"},
                        "rflo: trial (one mirror step per learning step) or online (a mirror step at every observation "
                        "during the trial, same learning rate; traces take nnz x batch doubles)")},
            [](credit& c, const network& net) { c.draw_feedback(net, false); },
            [](const credit& c, const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials,
               const plastic_set& which, std::uint64_t) { return rflo_gradient(net, low, tr, trials, which, c.feedback_readout()); }};
}

} // namespace eisim
