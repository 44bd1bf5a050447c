#pragma once
// Exact credit at a fixed point, by implicit differentiation (the regression task). With P static
// inputs u_p, fixed points x*_p = W_rec φ(x*_p) + W_in u_p + b (τ drops out), outputs
// y_p = W_out φ(x*_p) and the loss
//
//   L = Σ_p ‖y_p − y*_p‖² / (n_out P),   e_p = ∂L/∂y_p = 2 (y_p − y*_p) / (n_out P),
//
// the implicit function theorem gives, with D_p = diag φ'(x*_p) and the adjoint λ_p solving
//
//   (I − W_rec D_p)ᵀ λ_p = D_p W_outᵀ e_p,
//
//   ∂L/∂W_rec = Σ_p λ_p φ(x*_p)ᵀ,   ∂L/∂W_in = Σ_p λ_p u_pᵀ,   ∂L/∂W_out = Σ_p e_p φ(x*_p)ᵀ.
//
// One LU factorisation of the N × N matrix per pattern (Eigen). A singular I − W_rec D_p (no
// isolated fixed point) yields a non-finite gradient, which the learning loop reports as divergence.
#include "plasticity/exact_credit.hpp"

namespace eisim {

/// The loss L of fixed points X (N × P) against targets (n_out × P).
double fixed_point_loss(const network& net, const lowered_network& low, const matrix& X, const matrix& target);

/// ∂L/∂m of every plastic projection at the fixed points X under inputs U (n_in × P).
gradients implicit_gradient(const network& net, const lowered_network& low, const matrix& X, const matrix& U,
                            const matrix& target, const plastic_set& which);

} // namespace eisim
