#pragma once
// Biologically plausible credit assignment (docs/science.md §4). Every rule returns the same
// `gradients` as the exact one and feeds the same mirror step, so each runs under every geometry.
//
//   feedback_alignment  the exact backward pass with fixed random B_out (N × n_out) in place of
//                       W_outᵀ and, by option, B_rec (N × N) in place of W_recᵀ (Lillicrap 2016).
//                       The feedback is sign-concordant (Liao, Leibo & Poggio 2016): random fixed
//                       magnitudes with the signs (and zeros) of the transposed weights, as Dale's
//                       law allows; RFLO uses the same B_out.
//   rflo                random-feedback local online learning (Murray 2019), per-trial form, on the
//                       observation grid with α_i = dt/τ_i:
//                         p_ij(k) = (1 − α_i) p_ij(k−1) + α_i φ'(x_i(k−1)) r_j(k−1)   (eligibility)
//                         g_ij = Σ_k (B_out e_k)_i p_ij(k)
//                       computed without a per-synapse loop: with the filtered feedback
//                         z(k) = B_out e_{k+1} + (1 − α) ⊙ z(k+1),  z(T) = 0,
//                       g = Σ_k [α ⊙ φ'(x_k) ⊙ z(k)] r_kᵀ  (one chunked GEMM; u_k for the input).
//                       The readout's own update e_k r_kᵀ is already local.
//   node_perturbation   reward-based: a second pass with noise ζ injected into every cell
//                       (x_{k+1} = step(x_k) + ζ_k, ζ ~ N(0, c²), c_i² = 2σ² h/τ_i); with the change
//                       of each trial's loss ΔL_b,
//                         g_ij = Σ_b Σ_k (ΔL_b / c_i²) ζ_ib(k) (h/τ_i) r_jb(k),
//                       averaged over `samples` perturbations (first order in ζ: E[g] = ∂L/∂W).
#include <cstdint>
#include <functional>
#include <string>

#include "models/registry.hpp"
#include "plasticity/exact_credit.hpp"

namespace eisim {

inline const registry<int>& credit_registry() {
    static const registry<int> r("credit rule", {{"exact", 0}, {"feedback_alignment", 1}, {"rflo", 2}, {"node_perturbation", 3}});
    return r;
}

struct credit_desc {
    std::string rule = "exact";
    bool feedback_recurrent = false; // feedback_alignment: also replace W_recᵀ
    double perturbation_sigma = 0.05;
    int perturbation_samples = 4;
};

/// A perturbed forward pass: the trajectory with noise of sd `sigma` (as network.noise_sigma)
/// drawn from the stream of `sample`.
using perturbed_forward = std::function<trajectory(double sigma, std::uint64_t sample)>;

class credit {
public:
    /// Draws the fixed random feedback matrices (from `seed`'s "feedback" stream) a rule needs.
    credit(const credit_desc& d, const network& net, std::uint64_t seed);

    gradients operator()(const network& net, const lowered_network& low, const trajectory& tr,
                         const trial_batch& trials, const plastic_set& which, const perturbed_forward& perturbed,
                         std::uint64_t step) const;

    const std::string& rule() const { return desc_.rule; }
    /// The fixed random feedback in place of W_outᵀ (N × n_out; feedback_alignment and rflo).
    const matrix& feedback_readout() const { return B_out_; }

private:
    credit_desc desc_;
    matrix B_out_, B_rec_;
};

gradients rflo_gradient(const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials,
                        const plastic_set& which, const matrix& B_out);

} // namespace eisim
