// eprop: eligibility propagation for spiking circuits (Bellec et al. 2020); the equations are in
// plasticity/spiking_credit.hpp. Rate circuits refuse it (sim/config.cpp), so its rate estimate
// is never called.
#include <stdexcept>

#include "plasticity/spiking_credit.hpp"

namespace eisim {

namespace {

// Step k of the per-cell adjoints of e-prop's eligibility vectors for a block of trials (lanes),
// backwards from μ(T) = 0:
//   μ^a(k) = −β L ψ(k) + ρ (1 − β ψ(k)) μ^a(k+1)
//   μ^v(k) = L ψ(k) + e^{−h/τ_m} μ^v(k+1) + ρ ψ(k) μ^a(k+1)
// and q(k) = μ^v(k), so the ring's X is μ^I: μ^I_p(k−1) = gain_p μ^v(k) + e^{−h/τ_p} μ^I_p(k).
void eprop_step(const spiking_backward_step& st) {
    constexpr std::size_t W = spiking_lanes;
    const spiking_network& s = *st.s;
    const double* __restrict psi = st.psi;
    const double* __restrict L = st.L;
    double* __restrict mu_v = st.mu_v;
    double* __restrict mu_a = st.mu_a;
    double* __restrict q = st.q;
    for (auto& grp: s.groups) {
        const double rho = grp.decay_a, beta = grp.beta, decay_m = grp.decay_m;
        const bool adaptive = grp.adaptive;
        for (std::size_t i = static_cast<std::size_t>(grp.first)*W; i < static_cast<std::size_t>(grp.first + grp.size)*W; ++i) {
            const double v1 = mu_v[i], a1 = mu_a[i]; // μ^v(k+1), μ^a(k+1)
            const double Lpsi = L[i]*psi[i];
            mu_v[i] = Lpsi + decay_m*v1 + rho*psi[i]*a1;
            mu_a[i] = adaptive? -beta*Lpsi + rho*(1.0 - beta*psi[i])*a1: 0.0;
            q[i] = mu_v[i];
        }
    }
    // The network's spikes of step k: g_s += μ^I_{post,p}(k + d).
    add_sent_gradient(s.from_network, st.offset, st.z, st.fired, s.n, st.X, st.g_network);
}

} // namespace

credit_rule eprop_credit_rule() {
    std::vector<key_spec> keys = spiking_credit_keys();
    keys.push_back(choice_key("eprop_feedback", "symmetric", {"symmetric", "random"},
                              "eprop: the learning signal's feedback: symmetric (W_out transposed) or random (fixed, sign-concordant)"));
    credit_rule r{"e-prop for spiking circuits: eligibility traces, the pseudo-derivative and a learning signal through the "
                  "readout's feedback (Bellec et al. 2020)",
                  keys,
                  [](credit& c, const network& net) { if (c.keys().text("eprop_feedback") == "random") c.draw_feedback(net, false); },
                  [](const credit&, const network&, const lowered_network&, const trajectory&, const trial_batch&, const plastic_set&,
                     std::uint64_t) -> gradients { throw std::logic_error("eprop is a credit rule of spiking circuits"); }};
    r.family = "spiking";
    r.spiking_step = eprop_step;
    return r;
}

} // namespace eisim
