#pragma once
// RFLO, online form (Murray 2019, eLife 8:e43299): the weights change during the trial, at every
// observation t_k = k·dt (ms), from each synapse's own eligibility trace and the error fed back at
// that moment. For synapse s = (i ← j) of trial b, with α_i = dt/τ_i:
//
//   p_sb(k) = (1 − α_i) p_sb(k−1) + α_i φ'(x_ib(k−1)) q_jb(k−1),   p(0) = 0   (eligibility)
//   g_s(k)  = sign_s Σ_b (B_out e_b(k))_i p_sb(k)                             (recurrent, input)
//   g_s(k)  = sign_s Σ_b e_ib(k) r_jb(k)                                      (readout: delta rule)
//   ∇φ(m(k⁺)) = ∇φ(m(k)) − η g(k)                                            (a mirror step)
//
// q = r = φ(x) for the recurrent projection and q = u for the input one; e(k) = ∂L/∂y_k =
// 2 mask_k (y_k − y*_k)/(n_out B Σ mask) with y_k = W_out(k) r_k from the weights of that moment.
// With the weights held fixed, Σ_k g(k) is the per-trial RFLO gradient (rflo_gradient in
// local_credit.hpp); with them changing, the two updates agree to first order in η.
// Memory: one trace per plastic synapse and trial (nnz × B doubles per projection).
#include "plasticity/exact_credit.hpp"

namespace eisim {

class rflo_traces {
public:
    /// Zero traces for `batch` trials on the observation step `dt_ms`.
    rflo_traces(const network& net, const plastic_set& which, long batch, double dt_ms);

    /// g(k) from the traces p(k), the output error e (n_out × B) and the rates r = φ(x_k) (N × B);
    /// `B_out` (N × n_out) is the fixed random feedback. `loss` is left 0.
    gradients increment(const network& net, const matrix& B_out, const matrix& e, const matrix& r) const;

    /// p(k+1) from p(k) and observation k: state x (N × B), rates r = φ(x), input u (n_in × B).
    void advance(const network& net, const matrix& x, const matrix& r, const matrix& u);

private:
    plastic_set which_;
    struct traced { // a plastic recurrent or input projection
        std::size_t index;                 // in network::projections
        bool input;                        // q = u (input) or r (recurrent)
        projection::synapse_lists synapses;
        vector decay, alpha;               // per synapse: 1 − α_post, α_post
        matrix P;                          // nnz × B traces
    };
    std::vector<traced> traced_;
};

} // namespace eisim
