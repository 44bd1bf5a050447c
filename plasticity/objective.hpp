#pragma once
// The objective of one forward pass, as the learning loop evaluates it: the loss L, its credit
// ∂L/∂m on every plastic magnitude, and the task's accuracy (models/tasks.hpp).
//
//   trajectory tasks (teacher_student, the decision tasks): on the forward trajectory x_k,
//     L = Σ_k mask_k Σ_{o,b} (y_{k,o,b} − y*_{k,o,b})² / (n_out · B · Σ_k mask_k),  y_k = W_out φ(x_k)
//     (models/task.hpp); the credit is the credit rule's estimate for learning step s
//     (plasticity/local_credit.hpp: exact, feedback_alignment, rflo, node_perturbation); the
//     accuracy is task_accuracy(y): the fraction of correct choices, or R² over the masked observations.
//   fixed-point tasks (regression): relaxation goes on from the trajectory's end x_T under the
//     constant input U = u_0 until the fixed point x* = W_rec φ(x*) + W_in U + b (models/relax.hpp,
//     task.fixed_point_tol, task.relax_max_ms, the integrator's stepper); with y*_p the targets at
//     the last observation,
//       L = Σ_p ‖W_out φ(x*_p) − y*_p‖² / (n_out P),
//     the credit is the exact implicit gradient at x* (plasticity/implicit_credit.hpp), whatever
//     the credit rule, and the accuracy is R² of W_out φ(x*) against y*, every pattern weighted 1.
//
// Evaluation neither changes the network nor draws from any stream of its own (a credit rule that
// draws, node perturbation, uses its streams for step s).
#include <cstdint>
#include <limits>

#include "models/dynamics.hpp"
#include "models/integrate.hpp"
#include "models/network.hpp"
#include "models/task.hpp"
#include "models/tasks.hpp"
#include "models/trajectory.hpp"
#include "plasticity/exact_credit.hpp"
#include "plasticity/local_credit.hpp"

namespace eisim {

struct evaluation {
    gradients g; // g.loss always; g.projection (∂L/∂m per plastic projection) only with credit
    double accuracy = std::numeric_limits<double>::quiet_NaN();
};

class objective {
public:
    /// `rule` is held by reference and must outlive the objective; `which` says which projections
    /// receive credit.
    objective(const task_desc& task, const credit& rule, const integrator_desc& integ, plastic_set which);

    /// The loss and the accuracy of the forward pass `tr` of `trials` (no credit).
    evaluation evaluate(const network& net, const lowered_network& low, const trajectory& tr,
                        const trial_batch& trials) const;
    /// The same with the credit ∂L/∂m of learning step `step`.
    evaluation evaluate_with_credit(const network& net, const lowered_network& low, const trajectory& tr,
                                    const trial_batch& trials, std::uint64_t step) const;

private:
    evaluation evaluate(const network& net, const lowered_network& low, const trajectory& tr,
                        const trial_batch& trials, bool with_credit, std::uint64_t step) const;

    bool fixed_point_;
    double fixed_point_tol_, relax_max_ms_;
    const credit& rule_;
    integrator_desc integ_;
    plastic_set which_;
};

/// The projections that learn: those of `net` marked plastic in the circuit it was built from.
plastic_set plastic_of(const network& net, const circuit_desc& circuit);

} // namespace eisim
