#pragma once
// The held-out set of a decision task: a fixed set of trials the network never learns from, whose
// fraction of correct choices measures what was learned without the noise of one training batch
// (with 32 trials the training accuracy moves in steps of 1/32 and, at 0.8, has a standard error
// of 7 %; 512 trials bring it to sqrt(p(1 − p)/512) ≤ 2.2 %, 1.8 % at 0.8).
//
//   trials:   training.heldout_trials of the task's trials, in chunks of task.batch (the last one
//             smaller), chunk j from the streams of the held-out seed h = stream(seed, "heldout")()
//             and index j: make_trials(h, j) (stream(h, "trials", j)), and, with private noise,
//             stream(h, "noise", j); spiking circuits draw their input spikes and initial
//             potentials for pass j of seed h. The same set, noise and spikes at every measurement.
//   measured: at the steps that are multiples of heldout_interval(c), and at the final state,
//             with the weights before the step of that index (as /trajectory/loss);
//   loss:     the task's loss, accuracy the fraction of correct choices, over all its trials (the
//             chunks' means weighted by their trial counts: the mask is the same for every trial).
//
// Only decision tasks have one (their accuracy is a fraction of trials; R² of a teacher task is
// not measured here); training.heldout_trials = 0 turns it off.
#include <cstdint>
#include <limits>
#include <vector>

#include "models/network.hpp"
#include "models/trials.hpp"
#include "plasticity/local_credit.hpp"
#include "plasticity/objective.hpp"
#include "sim/config.hpp"

namespace eisim {

/// Steps between held-out measurements: training.heldout_every, or, if 0, the smallest multiple of
/// record_every of at least 8 · heldout_trials / batch (128 for 512 trials in batches of 32). A
/// measurement is heldout_trials / batch forward passes: about 6 to 8 learning steps' time for the
/// rate examples with 512 trials in batches of 32, about 12 for the spiking one (whose step is
/// little more than its forward pass); measured by bench/heldout.py: 8 % of a 200-step rate
/// example's time, 23 % of the spiking example's (BENCHMARKS.md, "Held-out set").
long heldout_interval(const config& c);

struct heldout_result {
    double loss = std::numeric_limits<double>::quiet_NaN();
    double accuracy = std::numeric_limits<double>::quiet_NaN();
};

class heldout_set {
public:
    /// Empty unless the task is a decision task and training.heldout_trials > 0.
    heldout_set(const config& c, std::uint64_t seed);
    bool empty() const { return chunks_.empty(); }
    int trials() const { return trials_; }
    /// Whether the state before step `step` (of S) is measured.
    bool due(long step, long S) const { return !empty() && (step == S || step % interval_ == 0); }
    /// The loss and accuracy of `net` on the set; `low` for rate circuits (else null).
    heldout_result measure(const network& net, const lowered_network* low, const config& c, const objective& task_objective,
                           const credit& rule, const plastic_set& which) const;

private:
    std::vector<trial_batch> chunks_;
    std::vector<int> sizes_; // trials per chunk
    std::uint64_t seed_ = 0;
    int trials_ = 0;
    long interval_ = 1;
};

} // namespace eisim
