#pragma once
// Exact credit: the gradient of the computed loss with respect to every plastic magnitude, by the
// discrete adjoint (backpropagation through time) of the integrator's own steps.
//
// For an explicit Runge–Kutta step  X_i = x_n + h Σ_{j<i} a_ij k_j,  k_i = f(X_i, t_n + c_i h),
// x_{n+1} = x_n + h Σ b_i k_i, with λ = ∂L/∂x_{n+1}, going backwards over the stages i = s..1:
//
//   κ_i = h b_i λ + h Σ_{l>i} a_li ξ_l          (∂L/∂k_i)
//   ξ_i = (∂f/∂x)ᵀ(X_i) κ_i                     (∂L/∂X_i)
//   ∂L/∂W_rec += (κ_i/τ) φ(X_i)ᵀ,   ∂L/∂W_in += (κ_i/τ) u(t_i)ᵀ
//   ∂L/∂x_n = λ + Σ_i ξ_i  (+ the loss's own ∂L/∂x_n if x_n is observed)
//
// with the readout's loss term e_k = 2 mask_k (y_k − y*_k) / (n_out B Σ mask):
//   ∂L/∂W_out += e_k φ(x_k)ᵀ,   ∂L/∂x_k += φ'(x_k) ⊙ W_outᵀ e_k.
// For fixed steps (euler, rk4) this is exact to round-off; for dopri5 the accepted step sizes are
// held fixed, so it is the exact gradient of the computed solution up to the step-size control.
// Private noise enters additively and leaves the adjoint unchanged. Finally, on magnitudes,
// g[s] = sign[s]·∂L/∂W(post[s], pre[s]); absent synapses get no gradient.
#include <string>
#include <vector>

#include "models/dynamics.hpp"
#include "models/network.hpp"
#include "models/task.hpp"
#include "models/trajectory.hpp"

namespace eisim {

struct gradients {
    double loss = 0.0;
    std::vector<vector> projection; // ∂L/∂m per synapse, by index in network::projections; empty if frozen
    /// The gradient of projection `name` of `net`.
    const vector& of(const network& net, const std::string& name) const;
    bool finite() const;
};

/// Which projections learn. The products' flags say whether any projection of W_rec, W_in or
/// W_out learns (the rules accumulate those dense gradients only then); `projection` says which
/// do, by index in network::projections (empty: every projection of a flagged product).
struct plastic_set {
    bool recurrent = true, input = true, readout = true;
    std::vector<bool> projection;
    bool of(const network& net, std::size_t k) const;
};
/// The plastic set of the projections named (every name must be a projection of `net`).
plastic_set plastic_of(const network& net, const std::vector<std::string>& names);

/// Gradients on magnitudes from dense gradients ∂L/∂W of the products (every rule ends here):
/// each plastic projection gathers its synapses' entries, g[s] = sign[s]·∂L/∂W(post[s], pre[s]).
gradients gather_gradients(const network& net, const plastic_set& which, double loss, const matrix& dW_rec,
                           const matrix& dW_in, const matrix& dW_out);
class outer_accumulator;
/// The same from accumulated dense gradients, gathered in the accumulators' own memory where a
/// product has one projection (so that the recurrent gradient costs one N × N matrix, not that and
/// a copy per synapse).
gradients gather_gradients(const network& net, const plastic_set& which, double loss, outer_accumulator& dW_rec,
                           outer_accumulator& dW_in, const matrix& dW_out);

/// The loss of a forward trajectory against the batch's targets.
double trajectory_loss(const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials);

/// Fixed random matrices that replace transposed weights in the backward pass (feedback
/// alignment, Lillicrap et al. 2016); null pointers mean the exact transposes.
struct feedback_matrices {
    const matrix* readout = nullptr;   // N × n_out, in place of W_outᵀ
    const matrix* recurrent = nullptr; // N × N, in place of W_recᵀ
};

gradients exact_gradient(const network& net, const lowered_network& low, const trajectory& tr,
                         const trial_batch& trials, const plastic_set& which, feedback_matrices feedback = {});

/// Output errors e_k = ∂L/∂y_k (n_out × B per observation) and the loss, shared by every rule.
struct output_errors {
    double loss = 0.0;
    std::vector<matrix> e; // [T+1]
    std::vector<double> loss_per_trial; // [B], summing to loss
};
output_errors output_error(const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials);

} // namespace eisim
