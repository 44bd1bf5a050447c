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
// and ∂L/∂w_s = Σ over the spikes of s's presynaptic cell at step k of λ^I_{post, p}(k + d).
//
// The computation (plasticity/spiking_credit.hpp, "The backward pass"): the trials of a block side
// by side in W lanes, λ^I in the ring of the last max_delay + 1 steps, [port][cell][lane], with q(k) = λ^v(k)
// where the cell integrates in step k (else 0) so that the shared step forms λ^I(k−1). The
// recurrent term and the gradient of the network's synapses read the same values, λ^I(k + d_s) of
// each synapse s of j, so one traversal of j's fan-out does both for all W lanes:
//   λ^z_{j,l} += w_s λ^I_{post s, p s, l}(k + d_s),   g_{s,l} += z_{j,l}(k) λ^I_{post s, p s, l}(k + d_s)
// (the latter only where j spiked in some lane), for every cell with ψ ≠ 0 or a spike in some lane.
// Cost per step and block: O(N · W · ports) plus one read of (w, ring offset) and W
// multiply–adds per synapse of those cells: O(synapses · T · B) multiply–adds in all, BPTT's price,
// which e-prop does not pay, as B/W vectorised passes over the fan-out instead of B scalar ones.
#include <cstdint>
#include <stdexcept>

#include "plasticity/spiking_credit.hpp"

namespace eisim {

namespace {

constexpr std::size_t W = spiking_lanes;

// λ^z_j's recurrent term added to lz (W lanes) over j's fan-out entries [first, last), and with
// Gradient the gradient of those synapses from j's spikes zj (W lanes) of this step.
template <bool Gradient>
void recurrent_term(const spiking_backward_step& st, std::int64_t first, std::int64_t last, const lanes& zj, lanes& lz) {
    const spiking_network::fanout& f = st.s->from_network;
    const double* __restrict w = f.w.data();
    const std::int32_t* __restrict offset = st.offset;
    double* __restrict g = st.g_network;
    const double* X = st.X;
    lanes acc0 = {}, acc1 = {}; // two chains of additions, even and odd entries
    std::int64_t e = first;
    for (; e + 1 < last; e += 2) {
        const lanes x0 = load_lanes(X + offset[e]), x1 = load_lanes(X + offset[e + 1]);
        acc0 += w[e]*x0; // λ^z_{j,l} += w_s λ^I_{post s, p s, l}(k + d_s)
        acc1 += w[e + 1]*x1;
        if (Gradient) { // g_{s,l} += z_{j,l} λ^I_{post s, p s, l}(k + d_s)
            double* g0 = g + static_cast<std::size_t>(e)*W;
            store_lanes(g0, load_lanes(g0) + zj*x0);
            store_lanes(g0 + W, load_lanes(g0 + W) + zj*x1);
        }
    }
    if (e < last) {
        const lanes x0 = load_lanes(X + offset[e]);
        acc0 += w[e]*x0;
        if (Gradient) {
            double* g0 = g + static_cast<std::size_t>(e)*W;
            store_lanes(g0, load_lanes(g0) + zj*x0);
        }
    }
    lz += acc0 + acc1;
}

// Step k of the adjoints above for a block of trials; mu_v, mu_a hold λ^v', λ^a' after step k.
void surrogate_bptt_step(const spiking_backward_step& st) {
    const spiking_network& s = *st.s;
    const spiking_network::fanout& f = s.from_network;
    for (auto& grp: s.groups)
        for (int j = grp.first; j < grp.first + grp.size; ++j) {
            const std::size_t at = static_cast<std::size_t>(j)*W;
            const lanes psi = load_lanes(st.psi + at), v = load_lanes(st.v + at), z = load_lanes(st.z + at);
            const lane_mask integrates = load_lanes(st.active + at) != 0.0;
            const lanes lam_v = load_lanes(st.mu_v + at), lam_a = load_lanes(st.mu_a + at); // λ^v', λ^a' after step k
            lanes lz = load_lanes(st.L + at);
            bool any_psi = false;
            for (std::size_t l = 0; l < W; ++l) any_psi = any_psi || psi[l] != 0.0;
            // λ^z only acts through ψ (the reset's (v_reset − v) ∂z is ψ too): the recurrent term
            // where some lane has ψ ≠ 0, the gradient where some lane spiked.
            if (st.fired[j]) recurrent_term<true>(st, f.first[static_cast<std::size_t>(j)], f.first[static_cast<std::size_t>(j) + 1], z, lz);
            else if (any_psi) recurrent_term<false>(st, f.first[static_cast<std::size_t>(j)], f.first[static_cast<std::size_t>(j) + 1], z, lz);
            // Lane by lane: λ^z = L + Σ_s w_s λ^I(k + d_s) + (v_reset − v) λ^v' + λ^a' (alif),
            // λ^v = (1 − z) λ^v' + ψ λ^z, q = integrates? λ^v: 0,
            // λ^v'(k−1) = integrates? e^{−h/τ_m} λ^v: λ^v, λ^a'(k−1) = ρ (λ^a' − β ψ λ^z) (alif; lif: 0).
            lz += (grp.v_reset - v)*lam_v;
            if (grp.adaptive) lz += lam_a;
            const lanes lv = (1.0 - z)*lam_v + psi*lz;
            store_lanes(st.q + at, select_lanes(integrates, lv, lanes{}));
            store_lanes(st.mu_v + at, select_lanes(integrates, grp.decay_m*lv, lv));
            store_lanes(st.mu_a + at, grp.adaptive? grp.decay_a*(lam_a - grp.beta*psi*lz): lanes{});
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
    r.spiking_step = surrogate_bptt_step;
    return r;
}

} // namespace eisim
