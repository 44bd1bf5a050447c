#pragma once
// The trials of a learning step for every task (models/tasks.hpp): inputs u, targets y* and the
// loss mask on the observation grid t_k = k·dt (ms), k = 0..T, with T = round(duration_ms / dt_ms)
// and B = task.batch trials, made from plain descriptions and, where the task has one, the teacher
// network (its products as the circuit's: sparse_products(integrator, circuit)).
//
//   inputs           u = the input generator's (input.kind, models/input.hpp) on the grid;
//                    x0 = 0 (N × B);  mask_k = 1 if t_k ≥ mask_start_ms, else 0.
//   teacher_student  those inputs, x0 and mask; the targets are the teacher's outputs
//                      y*_k = W*_out φ(x*_k),   x* the teacher's trajectory from x0 under u,
//                    integrated with the configured stepper (its private noise, if any, from the
//                    teacher's own stream).
//   regression       P = B static patterns U ~ U[0, 1]^(n_in × P) (make_patterns), u_k = U at every
//                    k, x0 = 0; the targets at every k are the teacher's readout at its fixed point,
//                      y*_p = W*_out φ(x*_p),   x*_p = W*_rec φ(x*_p) + W*_in u_p + b*,
//                    relaxed from x0 to task.fixed_point_tol (models/relax.hpp); mask = 1 at the
//                    last observation only (the student's loss is that of its fixed point).
//   decision tasks   make_decision_trials (models/tasks.hpp); no teacher.
//
// Random streams (models/random.hpp): step s's trials are drawn from stream(seed, "trials", s),
// seed = training.seed (the inputs, the patterns or the decision trials, in the order above), and
// the teacher's private noise from stream(task.teacher_seed, "teacher-noise", s). One fixed set of
// trials is step 0's.
#include <cstdint>

#include "models/circuit.hpp"
#include "models/input.hpp"
#include "models/integrate.hpp"
#include "models/network.hpp"
#include "models/random.hpp"
#include "models/task.hpp"
#include "models/tasks.hpp"

namespace eisim {

/// The observation steps T = round(duration_ms / dt_ms) of a trial.
int observation_steps(const task_desc& task, const integrator_desc& integ);

/// What trials are made from: descriptions, held by reference (they must outlive the spec).
struct trial_spec {
    const task_desc& task;
    const input_desc& input;
    const integrator_desc& integrator; // dt_ms is the grid step; its stepper runs the teacher
    const circuit_desc& circuit;       // the sizes N and n_in, and whether products are sparse
    int steps() const { return observation_steps(task, integrator); }
};

/// A batch of the input generator's inputs, x0 = 0 and the mask from mask_start_ms; no targets.
trial_batch make_input_trials(const trial_spec& s, rng& g);

/// The inputs the task drives a network with (no teacher needed): a decision task's own trials
/// (targets and labels included), else make_input_trials. `eisim simulate` runs these.
trial_batch make_task_inputs(const trial_spec& s, rng& g);

/// teacher_student: make_input_trials from `g`, with the teacher's outputs on them as targets
/// (its private noise from `noise`).
trial_batch make_teacher_trials(const trial_spec& s, const network& teacher, rng& g, rng& noise);

/// regression: static patterns from `g`, with the teacher's fixed-point readout as targets.
/// A teacher without a fixed point throws divergence_error (models/relax.hpp).
trial_batch make_regression_trials(const trial_spec& s, const network& teacher, rng& g);

/// The trials of learning step `index` for task.kind, from the streams above. `teacher` is needed
/// (non-null) exactly for the tasks whose task_info says teacher.
trial_batch make_trials(const trial_spec& s, const network* teacher, std::uint64_t seed, long index);

/// A probe set: the task's trials (s.task.batch of them) from stream(probe_seed, "probe-trials")
/// and the teacher's noise from stream(probe_seed, "probe-teacher-noise"), so that every run of a
/// task, at every snapshot, is probed with the same trials (eisim observe, docs/identify.md).
trial_batch make_probe_trials(const trial_spec& s, const network* teacher, std::uint64_t probe_seed);

} // namespace eisim
