// eprop: eligibility propagation for spiking circuits (Bellec et al. 2020); the equations are in
// plasticity/spiking_credit.hpp. Rate circuits refuse it (sim/config.cpp), so its rate estimate
// is never called.
#include <stdexcept>

#include "plasticity/spiking_credit.hpp"

namespace eisim {

namespace {

// The per-cell adjoints of e-prop's eligibility vectors, backwards from μ(T) = 0:
//   μ^a(k) = −β L ψ(k) + ρ (1 − β ψ(k)) μ^a(k+1)
//   μ^v(k) = L ψ(k) + e^{−h/τ_m} μ^v(k+1) + ρ ψ(k) μ^a(k+1)
//   μ^I_p(k) = gain_p μ^v(k+1) + e^{−h/τ_p} μ^I_p(k+1)
void eprop_adjoint(const spiking_network& s, const spiking_trial& tr, const matrix& L, std::vector<double>& mu_I) {
    const int P = s.ports;
    const long T = L.cols();
    const auto n = static_cast<std::size_t>(s.n);
    mu_I.assign(static_cast<std::size_t>(T)*static_cast<std::size_t>(P)*n, 0.0);
    std::vector<double> mu_v(n, 0.0), mu_a(n, 0.0), next_I(static_cast<std::size_t>(P)*n, 0.0);
    for (long k = T; k-- > 0;) {
        const double* psi = tr.psi.data() + static_cast<std::size_t>(k)*n;
        const double* Lk = L.col(k).data();
        double* mI = mu_I.data() + static_cast<std::size_t>(k)*static_cast<std::size_t>(P)*n;
        for (auto& grp: s.groups) {
            const double rho = grp.decay_a, beta = grp.beta;
            for (int i = grp.first; i < grp.first + grp.size; ++i) {
                const double v1 = mu_v[i], a1 = mu_a[i]; // μ^v(k+1), μ^a(k+1)
                for (int p = 0; p < P; ++p) {
                    const std::size_t at = static_cast<std::size_t>(p)*n + static_cast<std::size_t>(i);
                    next_I[at] = grp.gain[static_cast<std::size_t>(p)]*v1 + s.decay_port[p]*next_I[at];
                    mI[at] = next_I[at];
                }
                const double Lpsi = Lk[i]*psi[i];
                mu_v[i] = Lpsi + grp.decay_m*v1 + rho*psi[i]*a1;
                mu_a[i] = grp.adaptive? -beta*Lpsi + rho*(1.0 - beta*psi[i])*a1: 0.0;
            }
        }
    }
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
    r.spiking_adjoint = eprop_adjoint;
    return r;
}

} // namespace eisim
