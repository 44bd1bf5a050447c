#pragma once
// Biologically plausible credit assignment (docs/science.md §4). Every rule returns the same
// `gradients` as the exact one and feeds the same mirror step, so each runs under every geometry.
//
//   feedback_alignment  the exact backward pass with fixed random B_out (N × n_out) in place of
//                       W_outᵀ and, by option, B_rec (N × N) in place of W_recᵀ (Lillicrap 2016).
//                       The feedback is sign-concordant (Liao, Leibo & Poggio 2016): random fixed
//                       magnitudes with the signs of the transposed weights, as Dale's law allows.
//                       B_out reaches every cell (Murray 2019's B is random over all units): a cell
//                       the readout does not read gets ξσ of either sign (so the I cells of the
//                       default circuits learn too); B_rec keeps W_recᵀ's zeros. RFLO uses the same B_out.
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
#include <string>
#include <vector>

#include "models/integrate.hpp"
#include "models/parameters.hpp"
#include "models/registry.hpp"
#include "plasticity/exact_credit.hpp"

namespace eisim {

/// A credit rule by name, and the values of the rules' own keys ([plasticity]: feedback_recurrent,
/// perturbation_sigma, ...; the registered rules' keys, at their defaults until set).
struct credit_desc {
    std::string rule = "exact";
    parameters keys;
    explicit credit_desc(std::string rule = "exact");
};

class credit;
struct spiking_network;
struct spiking_backward_step;

/// A credit rule, registered by name: its one-line documentation, its config keys ([plasticity]),
/// what it draws once before learning (`prepare`, may be null: the fixed random feedback) and its
/// gradient estimate. Each rule is one file, plasticity/credit_NAME.cpp.
struct credit_rule {
    std::string doc;
    std::vector<key_spec> keys;
    void (*prepare)(credit& c, const network& net);
    gradients (*estimate)(const credit& c, const network& net, const lowered_network& low, const trajectory& tr,
                          const trial_batch& trials, const plastic_set& which, std::uint64_t step);
    /// The circuits it trains: "rate" (the estimate above) or "spiking" (plasticity/spiking_credit.hpp).
    std::string family = "rate";
    /// Spiking rules: one step of the backward pass of a block of trials (plasticity/spiking_credit.hpp):
    /// the rule's adjoints, q and the gradient of the network's synapses from that step's spikes.
    void (*spiking_step)(const spiking_backward_step& step) = nullptr;
};
const registry<credit_rule>& credit_registry();

// The registered rules (one file each).
credit_rule exact_credit_rule();
credit_rule feedback_alignment_credit_rule();
credit_rule rflo_credit_rule();
credit_rule node_perturbation_credit_rule();
credit_rule eprop_credit_rule();
credit_rule surrogate_bptt_credit_rule();

class credit {
public:
    /// The rule of `d` with its keys (their defaults where `d` lacks them); its `prepare` draws what
    /// it needs once (the random feedback from `seed`'s "feedback" stream). Node perturbation
    /// integrates its noisy passes with `integ` and `seed`'s "perturbation" streams.
    credit(const credit_desc& d, const network& net, std::uint64_t seed, const integrator_desc& integ = {});

    /// The rule's estimate of ∂L/∂m for the forward pass `tr` of `trials` at learning step `step`.
    gradients operator()(const network& net, const lowered_network& low, const trajectory& tr,
                         const trial_batch& trials, const plastic_set& which, std::uint64_t step) const;

    const std::string& rule() const { return desc_.rule; }
    const credit_rule& info() const;
    const credit_desc& desc() const { return desc_; }
    const parameters& keys() const { return desc_.keys; }
    const integrator_desc& integrator() const { return integ_; }
    std::uint64_t seed() const { return seed_; }
    /// The fixed random feedback in place of W_outᵀ (N × n_out; feedback_alignment and rflo).
    const matrix& feedback_readout() const { return B_out_; }
    /// The fixed random feedback in place of W_recᵀ (N × N; feedback_alignment with feedback_recurrent).
    const matrix& feedback_recurrent() const { return B_rec_; }

    /// Draw sign-concordant random feedback for W_outᵀ and, with `recurrent`, for W_recᵀ (Liao,
    /// Leibo & Poggio 2016), in that order from the "feedback" stream: for the rules' `prepare`.
    void draw_feedback(const network& net, bool recurrent);

private:
    credit_desc desc_;
    const credit_rule* rule_;
    integrator_desc integ_;
    std::uint64_t seed_;
    matrix B_out_, B_rec_;
};

gradients rflo_gradient(const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials,
                        const plastic_set& which, const matrix& B_out);

} // namespace eisim
