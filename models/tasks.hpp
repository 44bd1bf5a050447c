#pragma once
// The tasks (`task.kind`): each fills a batch of trials with inputs u, targets y* and a loss mask
// on the observation grid t_k = k·dt (ms), k = 0..T, and has its own accuracy.
//
// Decision tasks (Song, Yang & Wang 2016 conventions; two outputs, two-alternative choice):
//   periods  fixation [0, t_f), stimulus, delay, (working_memory: second stimulus), decision
//            [t_d, T·dt], with t_f = fixation_ms and t_d the end of the last delay/stimulus.
//   inputs   channel 0 is the fixation cue: u_0 = 1 for t < t_d, 0 in the decision period (the go
//            signal). Evidence for a signed strength c ∈ [−1, 1] is a pair of channels
//              u₊ = ½(1 + c) + σ ξ,   u₋ = ½(1 − c) + σ ξ'      (ξ, ξ' ~ N(0, 1) per grid point)
//            during its stimulus period and 0 outside, σ = task.input_noise.
//   strengths |c| = coherence·v, v ~ U[¼, 1], sign ±1 with probability ½ (task.coherence).
//   targets  y* = 0 in the fixation period; in the decision period y*_choice = 1 for the correct
//            output and 0 for the other. Output 0 means "positive" (c > 0, or f1 > f2).
//   mask     1 in the fixation and decision periods, 0 in between (and before task.mask_start_ms).
//   accuracy the fraction of trials whose choice argmax_o Σ_{k ∈ decision} y_{o,k} is correct
//            (chance ½).
//
//   perceptual_decision  n_in = 3 [fixation, evidence₊, evidence₋]: report the sign of c.
//   context_integration  n_in = 7 [fixation, motion₊, motion₋, colour₊, colour₋, context_motion,
//                        context_colour] (Mante, Sussillo, Shenoy & Newsome 2013): two independent
//                        strengths c_m, c_c; a one-hot context cue (on until t_d) says which to report.
//   working_memory       n_in = 3 [fixation, f₊, f₋]: parametric working memory (Romo et al. 1999):
//                        f1 ~ U[−1, 1] in stimulus 1, a delay, f2 = f1 + Δ in stimulus 2 with Δ a
//                        strength as above; report whether f1 > f2.
//   evidence_accumulation  the e-prop task (Bellec et al. 2020; NEST's eprop evidence-accumulation
//                        example): n_in = 4m channels in four groups [left, right, recall,
//                        background] of m; n_cues cues (task.n_cues, odd), cue i on its side's
//                        channels (u = 1) over [i (cue + gap) + gap, i (cue + gap) + gap + cue) ms
//                        (task.cue_ms, task.cue_gap_ms); each trial favours a side (probability ½)
//                        and each cue is on it with probability task.cue_prob; a memory period
//                        (task.memory_ms), then the recall (decision) period to the end of the
//                        trial with u = 1 on the recall channels; background channels at
//                        u = task.background throughout. No fixation channel. Report the side of
//                        the majority of the cues (output 0 left, 1 right); mask: the recall
//                        period. In a spiking circuit the channels fire Poisson spikes at
//                        spike_rate_hz · u (Bellec: 40 Hz, background 10 Hz).
//
// Pattern generation (the e-prop tutorial's regression, Bellec et al. 2020 Fig. 2; NEST's
// eprop_supervised_regression_sine-waves), R² accuracy:
//   pattern_generation  every output reproduces its own sum of sinusoids, the same on every trial,
//                       y*_o(t) = A Σ_{k=1..K} a_ok sin(2π k t / P + φ_ok) / Σ_k a_ok,
//                       K = task.n_sinusoids harmonics of the period P = task.period_ms, amplitudes
//                       a_ok ~ U[½, 1] and phases φ_ok ~ U[0, 2π) drawn once from stream
//                       (task.pattern_seed, "pattern"), A = task.amplitude. The inputs are a clock:
//                       channel i of n_in is a Gaussian bump in time, u_i(t) = exp(−(t − c_i)² / 2σ²),
//                       c_i = (i + ½) T_trial / n_in, σ = task.clock_width_ms (0: T_trial / n_in), so
//                       that the circuit knows the time; in a spiking circuit the channels fire
//                       Poisson spikes at spike_rate_hz · u. Mask: every observation (after
//                       task.mask_start_ms). No teacher network.
//
// Regression tasks (R² accuracy, 1 − SSE/SST with the masked, mask-weighted sums
// SSE = Σ w (y − y*)², SST = Σ w (y* − ȳ*_o)², ȳ*_o the weighted mean target of output o; NaN if SST = 0):
//   teacher_student  y* = the teacher network's outputs on the same inputs (inputs from input.kind).
//   regression       P = task.batch static patterns u_p ~ U[0, 1]^n_in, held for the whole trial;
//                    y*_p = the teacher's readout at its fixed point x* = W_rec φ(x*) + W_in u_p + b.
//                    The loss is that of the student's fixed point (mask: the last observation).
#include <cstdint>
#include <string>
#include <vector>

#include "models/parameters.hpp"
#include "models/random.hpp"
#include "models/registry.hpp"
#include "models/task.hpp"

namespace eisim {

struct task_desc {
    std::string kind = "teacher_student";
    int batch = 16;
    double duration_ms = 500.0;
    bool fresh_trials = false;  // false: one fixed set of trials (the setting of the theory)
    double mask_start_ms = 0.0; // observations before this time do not enter the loss
    // The tasks' own keys ([task]), every registered task's at its default until set:
    //   teacher_seed (teacher_student, regression); fixation_ms, stimulus_ms, delay_ms (ms),
    //   coherence, input_noise (decision tasks); fixed_point_tol (max_i |−x + W_rec φ(x) + W_in u + b|
    //   at the fixed point), relax_max_ms (give up, exit 3, after this much relaxation) (regression).
    parameters keys;
    task_desc();
};

/// A task, registered by name: its documentation, its needs and its config keys ([task]).
struct task_info {
    std::string doc;
    int n_in = 0, n_out = 0; // required counts; 0 = any
    bool decision = false;   // choice accuracy (else R²)
    bool teacher = false;    // targets come from a teacher network
    bool fixed_point = false;
    std::string channels;    // what the input channels are, for messages
    std::vector<key_spec> keys;
    int channel_groups = 0;  // n_in must be a positive multiple of it (0: any n_in, or n_in above)
};
const registry<task_info>& task_registry();

/// Start of the decision period (ms) of a decision task.
double decision_onset_ms(const task_desc& d);

/// A batch of a decision task (perceptual_decision, context_integration, working_memory,
/// evidence_accumulation with n_in channels) on the grid t_k = k·dt, k = 0..steps, drawn from
/// `g`; x0 = 0 (N × B).
trial_batch make_decision_trials(const task_desc& d, double dt, int steps, int n_cells, rng& g, int n_in = 0);

/// A batch of pattern_generation (B identical trials of n_in clock channels and n_out targets) on
/// the grid t_k = k·dt, k = 0..steps; x0 = 0 (N × B).
trial_batch make_pattern_trials(const task_desc& d, double dt, int steps, int n_in, int n_out, int n_cells, double mask_start_ms);

/// Static patterns u_p ~ U[0, 1]^n_in for the regression task, n_in × P.
matrix make_patterns(int n_in, int P, rng& g);

/// R² = 1 − Σ w (y − y*)² / Σ w (y* − ȳ*)², column j weighted by w[j]; NaN if the targets do not vary.
double r_squared(const matrix& y, const matrix& target, const vector& w);

/// The task's accuracy of outputs y (n_out × B·(T+1), input_grid's layout): the fraction of correct
/// choices where the batch has labels, else R² over the masked observations.
double task_accuracy(const matrix& y, const trial_batch& trials);

} // namespace eisim
