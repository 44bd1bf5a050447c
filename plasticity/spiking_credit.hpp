#pragma once
// Credit for spiking circuits: e-prop (Bellec et al. 2020, Nat Commun 11:3625, "A solution to the
// learning dilemma for recurrent networks of spiking neurons"; NEST's eprop_iaf models are a C++
// reference) and surrogate-gradient BPTT (plasticity/credit_surrogate_bptt.cpp). docs/spiking.md
// derives what follows; the model is models/spiking.hpp. Both rules share everything here except
// the adjoints' step, which each supplies (credit_rule::spiking_step).
//
// Loss. The readouts y (models/spiking.hpp) enter the task's loss (models/task.hpp) with
// e_o(k) = ∂L/∂y_o(k) = 2 mask_k (y_o(k) − y*_o(k)) / (n_out B Σ mask), plus, with
// plasticity.rate_reg = c > 0, the firing-rate regulariser
//   E_reg = (c/2) Σ_j (f̄_j − f_0)²,   f̄_j = 1000 n_j / (B T h)  (Hz; n_j spikes of cell j in the batch)
// with f_0 = plasticity.rate_target_hz; the loss reported is L + E_reg.
//
// e-prop. ∂L/∂w_s of synapse s (pre i, post j, port p, delay d) is estimated as
//   g_s = Σ_k L_j(k) e_s(k)
// with the learning signal through the readout's feedback B (N × n_out: W_outᵀ for symmetric
// e-prop, fixed sign-concordant random for random e-prop; plasticity.eprop_feedback)
//   L_j(k) = Σ_o B_jo ẽ_o(k) + c (f̄_j − f_0) 1000/(B T h),   ẽ_o(k) = Σ_{k' > k} κ_o^{k'−k−1} e_o(k')
// (ẽ is ∂L/∂z_j(k) through the leaky readout, which is Bellec's κ-filtered eligibility trace seen
// from the other end), and the eligibility trace e_s(k) = ψ_j(k) (ε^v_s(k) − β_j ε^a_s(k)), where
// the eligibility vectors follow the cell's own dynamics with its reset and refractoriness left
// out (as e-prop does):
//   ε^I_s(k) = e^{−h/τ_p} ε^I_s(k−1) + z_i(k − d)                    (the current's)
//   ε^v_s(k) = e^{−h/τ_m} ε^v_s(k−1) + gain_p ε^I_s(k−1)             (the membrane's)
//   ε^a_s(k) = ρ_j (1 − β_j ψ_j(k−1)) ε^a_s(k−1) + ρ_j ψ_j(k−1) ε^v_s(k−1)   (alif; ρ = e^{−h/τ_a})
// from ε(−1) = 0; z_i are the input channels' spikes for input projections. The readout's own
// gradient is exact: ∂L/∂W_oj = Σ_k e_o(k) z̄_j(k), z̄_j(k) = Σ_{k' < k} κ_o^{k−1−k'} z_j(k').
//
// Cost. Every coefficient of ε^v_s in g_s depends on the post cell alone, so g_s = Σ_k μ^I_{jp}(k)
// z_i(k − d) with the per-cell adjoints, backwards from μ(T) = 0:
//   μ^a(k) = −β L ψ(k) + ρ (1 − β ψ(k)) μ^a(k+1)
//   μ^v(k) = L ψ(k) + e^{−h/τ_m} μ^v(k+1) + ρ ψ(k) μ^a(k+1)
//   μ^I_p(k) = gain_p μ^v(k+1) + e^{−h/τ_p} μ^I_p(k+1)
// and the sum over k runs over the presynaptic spikes only: a trial costs O(N · T · ports) plus
// O(1) per synaptic event, like the forward pass, never O(synapses × T). The result equals the
// per-synapse forward traces (tests/spiking/credit_reference.py).
//
// The backward pass (both rules). The trials of a batch run backwards side by side, in blocks of
// W = spiking_lanes trials (lane l of block b0 is trial b0 + l; a short last block pads with
// lanes that have no spikes, ψ = 0 and L = 0): every per-cell quantity is a row of W lanes,
// [cell][lane], so each synapse is read once for W trials and the lane loops are vector code.
// Both rules' current adjoints X_p(k) (e-prop's μ^I, BPTT's λ^I: the adjoint of current p after
// step k, what a spike of step k − d through a synapse of delay d receives) follow one recursion,
//   X_p(k−1) = e^{−h/τ_p} X_p(k) + gain_p q(k)
// with the rule's q (credit_rule::spiking_step: e-prop's μ^v(k); BPTT's λ^v(k) where the cell
// integrates in step k, else 0). Step k reads X(k) .. X(k + max_delay) only, so they live in a ring,
// never a T × ports × N array, with X(k') = 0 for k' ≥ T: each X(k') goes to slots k' mod S and
// k' mod S + S of 2S (S = max_delay + 1, a slot [port][cell][lane]), so that X(k) .. X(k + max_delay)
// are S adjacent slots from slot k mod S and a synapse's row is that window plus a fixed offset
// (its delay's slot, port and post cell). The spikes of step k take their gradients at once,
//   g_{s,l} += z_{i,l}(k) X_{post,p,l}(k + d)
// (x_c(k) in place of z for channels with drive = "current"): the input channels' here, the
// network's in the rule's step (BPTT in the same traversal of the fan-out as its recurrent term),
// into W numbers per synapse, summed over the lanes (lane_sum) and added to the projections'
// gradients at the end. Blocks are independent and their gradients are added in block order: the
// same sums for any thread count. Cost per step and block: O(N · ports · W) for the cells, plus W
// multiply–adds per synapse of every source that spiked in some lane (and for BPTT per synapse of
// every cell with ψ ≠ 0 in some lane). Memory: ψ and v of the whole batch (2 B N T doubles, from the
// forward pass), and per block the ring (2 (max_delay + 1) · ports · N · W doubles), two bytes per
// cell and step (the lanes' spikes and refractory steps as bits) and W doubles per synapse.
// Gradients on magnitudes are g[s] = sign[s] ∂L/∂w_s, summed over the batch.
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "models/network.hpp"
#include "models/spiking.hpp"
#include "models/trials.hpp"
#include "plasticity/exact_credit.hpp"
#include "plasticity/local_credit.hpp"

namespace eisim {

/// One forward pass of a spiking circuit, its loss, accuracy and (if asked) its e-prop credit.
struct spiking_evaluation {
    gradients g;            // g.loss = task_loss + rate_loss; g.projection only with credit
    double task_loss = 0.0, rate_loss = 0.0;
    double accuracy = std::numeric_limits<double>::quiet_NaN();
    std::vector<spiking_trial> trials; // the forward pass: spikes and initial potentials
    matrix y;               // the readouts, n_out × B·(T+1)
};

/// Simulate `trials` on `s` (lowered from `net`) for learning step `step` (its input spikes and
/// initial potentials from `seed`'s streams for pass `step`), and evaluate it under the credit rule
/// `rule` (eprop or surrogate_bptt) and its keys; with `with_credit`, also the rule's gradient of
/// every projection in `which`. `record`, where given, lends the pass its storage for ψ and v and
/// takes it back (models/spiking.hpp: keep one across the learning steps).
spiking_evaluation evaluate_spiking(const network& net, const spiking_network& s, const trial_batch& trials,
                                    const credit& rule, const plastic_set& which, std::uint64_t seed, std::uint64_t step,
                                    bool with_credit, spiking_record* record = nullptr);

/// Trials side by side in the backward pass (a power of two: bit l of a byte marks lane l).
constexpr int spiking_lanes = 8;

/// Step k of the backward pass of a block of trials, as a rule's spiking_step sees it. Arrays
/// indexed [cell][lane] hold N·W numbers at j·W + l (W = spiking_lanes).
struct spiking_backward_step {
    const spiking_network* s = nullptr;
    long k = 0;
    const double *psi = nullptr, *v = nullptr; // ψ(k), v(k)
    const double* L = nullptr;                 // the learning signal L(k)
    const double* z = nullptr;                 // 1 where the cell spiked in step k, else 0
    const double* active = nullptr;            // 1 where the cell integrates in step k (not refractory), else 0
    const std::uint8_t* fired = nullptr;       // [cell] the lanes where it spiked in step k, as bits
    /// The currents' adjoints after steps k .. k + max_delay, [d][port][cell][lane] (zero for k + d ≥ T):
    /// X + offset[e] is the row of lanes a spike of step k through entry e of s->from_network reaches.
    const double* X = nullptr;
    const std::int32_t* offset = nullptr;      // [entry of s->from_network] (d·ports·N + port·N + post)·W
    double* g_network = nullptr;               // [entry of s->from_network][lane] the rule adds the gradient of spikes in step k
    double *mu_v = nullptr, *mu_a = nullptr;   // the rule's state (its adjoints after step k), zero at k = T
    double* q = nullptr;                       // the rule writes q(k): X(k−1) = e^{−h/τ_p} X(k) + gain_p q(k)
};

/// The W lanes of a row as one value, a GCC/Clang vector (one AVX-512 register, two AVX ones, four
/// SSE2 ones), so that the hot lane loops are vector code whatever the auto-vectoriser decides.
typedef double lanes __attribute__((vector_size(spiking_lanes*sizeof(double))));
// Without AVX-512, GCC notes at every call of a function that returns one by value that such a
// call between files built for different vector units would break (-Wpsabi); these helpers are
// inline, and every eisim file is built with the same flags: the note is off where this is included.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
inline lanes load_lanes(const double* p) {
    lanes x;
    std::memcpy(&x, p, sizeof x);
    return x;
}
inline void store_lanes(double* p, lanes x) { std::memcpy(p, &x, sizeof x); }
/// Lane by lane, where mask ≠ 0 ? yes : no (mask as a comparison of lanes gives it: all bits or none).
typedef std::int64_t lane_mask __attribute__((vector_size(spiking_lanes*sizeof(double))));
inline lanes select_lanes(lane_mask mask, lanes yes, lanes no) {
    return reinterpret_cast<lanes>((reinterpret_cast<lane_mask>(yes) & mask) | (reinterpret_cast<lane_mask>(no) & ~mask));
}

/// Σ_l x_l over the lanes, as the tree ((x0 + x4) + (x2 + x6)) + ((x1 + x5) + (x3 + x7)).
inline double lane_sum(const double* x) {
    static_assert(spiking_lanes == 8, "lane_sum's tree has 8 lanes");
    double h[4];
    for (int l = 0; l < 4; ++l) h[l] = x[l] + x[l + 4];
    return (h[0] + h[2]) + (h[1] + h[3]);
}

/// g[e·W + l] += x_{c,l} X[offset_e + l] over the entries e of `f` of every source c
/// with any[c] ≠ 0: the gradient of the synapses of sources that sent x (spikes, or a current
/// channel's drive; [source][lane]) in step k, lane by lane (summed over the lanes at the end).
/// `offset`: as spiking_backward_step::offset, for `f`.
void add_sent_gradient(const spiking_network::fanout& f, const std::int32_t* offset, const double* x, const std::uint8_t* any,
                       int sources, const double* X, double* g);

/// The keys every spiking rule shares ([plasticity]): surrogate_gamma, rate_reg, rate_target_hz.
std::vector<key_spec> spiking_credit_keys();

} // namespace eisim
