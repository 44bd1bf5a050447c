// surrogate_bptt: backpropagation through time of a spiking circuit with the pseudo-derivative ψ
// in place of the spike's derivative (the surrogate-gradient method of snnTorch and Norse, with
// Bellec's piecewise-linear ψ). It is not the gradient of the spiking loss, which is zero almost
// everywhere; it is the exact gradient of the computation with ∂z/∂v := ψ, ∂z/∂a := −βψ.
//
// Unlike e-prop it keeps every path: the recurrent spikes (a spike of j changes the currents of
// its targets d steps later), the reset (v' = v + z (v_reset − v), so ∂v'/∂v = 1 − z and
// ∂v'/∂z = v_reset − v) and the adaptation's increment (a' = a + z). Refractory steps hold v
// (∂v_k/∂v'_{k−1} = 1, no current reaches it) and have ψ = 0. With λ the adjoints of the state
// after step k (v'_k, a'_k, I_k) and L the direct learning signal (N × T), backwards from λ = 0
// after the last step:
//   λ^z_j(k) = L_j(k) + Σ_{synapses s of j} w_s λ^I_{post s, p s}(k + d_s)
//              + (v_reset − v_j(k)) λ^v'_j(k) + λ^a'_j(k)            (the last term alif only)
//   λ^v_j(k) = (1 − z_j(k)) λ^v'_j(k) + ψ_j(k) λ^z_j(k),   λ^a_j(k) = λ^a'_j(k) − β ψ_j(k) λ^z_j(k)
//   λ^v'_j(k−1) = e^{−h/τ_m} λ^v_j(k) if j integrates in step k, else λ^v_j(k)
//   λ^I_p(k−1) = e^{−h/τ_p} λ^I_p(k) + gain_p λ^v(k) (if j integrates in step k)
//   λ^a'_j(k−1) = ρ λ^a_j(k)
// and ∂L/∂w_s = Σ over the spikes of s's presynaptic cell at step k of λ^I_{post, p}(k + d). The
// recurrent term costs O(synapses) per step: BPTT's price, which e-prop does not pay.
#include <stdexcept>

#include "plasticity/spiking_credit.hpp"

namespace eisim {

namespace {

void surrogate_bptt_adjoint(const spiking_network& s, const spiking_trial& tr, const matrix& L, std::vector<double>& lam_I) {
    const int P = s.ports;
    const long T = L.cols();
    const auto n = static_cast<std::size_t>(s.n), PN = static_cast<std::size_t>(P)*n;
    lam_I.assign(static_cast<std::size_t>(T)*PN, 0.0);
    // Which cells spiked, and which integrated (were not refractory), in every step.
    std::vector<std::uint8_t> z(static_cast<std::size_t>(T)*n, 0), active(static_cast<std::size_t>(T)*n, 1);
    std::vector<long> n_ref(n, 1);
    std::vector<const spiking_network::group*> group_of(n, nullptr);
    for (auto& g: s.groups)
        for (int i = g.first; i < g.first + g.size; ++i) {
            n_ref[i] = static_cast<long>(g.n_ref);
            group_of[i] = &g;
        }
    for (std::size_t q = 0; q < tr.network.size(); ++q) {
        const long k = tr.network.step[q];
        const auto i = static_cast<std::size_t>(tr.network.cell[q]);
        z[static_cast<std::size_t>(k)*n + i] = 1;
        for (long r = k + 1; r < std::min(T, k + n_ref[i]); ++r) active[static_cast<std::size_t>(r)*n + i] = 0;
    }
    std::vector<double> lam_v(n, 0.0), lam_a(n, 0.0), lam_cur(PN, 0.0); // after step k: λ^v', λ^a', λ^I
    const spiking_network::fanout& f = s.from_network;
    for (long k = T; k-- > 0;) {
        std::copy(lam_cur.begin(), lam_cur.end(), lam_I.begin() + static_cast<long>(static_cast<std::size_t>(k)*PN));
        const std::size_t row = static_cast<std::size_t>(k)*n;
        const double* psi = tr.psi.data() + row;
        const double* v = tr.v.data() + row;
        for (std::size_t j = 0; j < n; ++j) {
            const spiking_network::group& g = *group_of[j];
            double lz = L(static_cast<long>(j), k);
            if (psi[j] != 0.0) // λ^z only acts through ψ and the reset's (v_reset − v) ∂z, which is ψ too
                for (auto e = f.first[j]; e < f.first[j + 1]; ++e) {
                    const long at = k + f.delay[e];
                    if (at < T) lz += f.w[e]*lam_I[static_cast<std::size_t>(at)*PN + static_cast<std::size_t>(f.port[e])*n + static_cast<std::size_t>(f.post[e])];
                }
            const double zj = z[row + j];
            lz += (g.v_reset - v[j])*lam_v[j] + (g.adaptive? lam_a[j]: 0.0);
            const double lv = (1.0 - zj)*lam_v[j] + psi[j]*lz;
            const double la = g.adaptive? lam_a[j] - g.beta*psi[j]*lz: 0.0;
            const bool integrates = active[row + j] != 0;
            for (int p = 0; p < P; ++p) {
                double& li = lam_cur[static_cast<std::size_t>(p)*n + j];
                li = s.decay_port[p]*li + (integrates? g.gain[static_cast<std::size_t>(p)]*lv: 0.0);
            }
            lam_v[j] = integrates? g.decay_m*lv: lv;
            lam_a[j] = g.decay_a*la;
        }
    }
}

} // namespace

credit_rule surrogate_bptt_credit_rule() {
    credit_rule r{"backpropagation through time of spiking circuits with the pseudo-derivative as the spike's surrogate "
                  "derivative (as snnTorch and Norse; not the gradient of the spiking loss)",
                  spiking_credit_keys(), nullptr,
                  [](const credit&, const network&, const lowered_network&, const trajectory&, const trial_batch&, const plastic_set&,
                     std::uint64_t) -> gradients { throw std::logic_error("surrogate_bptt is a credit rule of spiking circuits"); }};
    r.family = "spiking";
    r.spiking_adjoint = surrogate_bptt_adjoint;
    return r;
}

} // namespace eisim
