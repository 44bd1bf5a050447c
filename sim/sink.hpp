#pragma once
// Sinks: what the learning loop hands every step to (as NEST's recording backends: prepare, after
// each step, finish). A sink only receives; it never changes the run. The loop owns the HDF5 sink
// (the run file) and the progress sink; callers may add their own (memory_sink for tests, later
// Python callbacks).
//
//   prepare(first, steps)   once, before step `first` (0, or where a resumed run continues)
//   evaluated(view)         the weights after `view.step` learning steps and their forward pass:
//                           every step s = first..steps, the final state included
//   updated(view)           learning step `view.step` (0-based) changed the weights
//   finish(summary)         once, after the final state
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "models/dynamics.hpp"
#include "models/network.hpp"
#include "models/task.hpp"
#include "models/trajectory.hpp"
#include "plasticity/optimizer.hpp"
#include "plasticity/spiking_credit.hpp"

namespace eisim {

struct run_summary;

/// The state after `step` learning steps: its loss, the task's accuracy, and the forward pass:
/// of a rate circuit, its lowered network and trajectory; of a spiking one, its spikes and readouts.
struct evaluated_view {
    long step;
    double loss, accuracy;
    const network& net;
    const trial_batch& trials;
    const lowered_network* low = nullptr;
    const trajectory* tr = nullptr;
    const spiking_evaluation* spiking = nullptr;
    // On the held-out set (sim/heldout.hpp) at the steps it is measured; NaN elsewhere.
    double heldout_loss = std::numeric_limits<double>::quiet_NaN(), heldout_accuracy = std::numeric_limits<double>::quiet_NaN();
};

/// Learning step `step` (0-based) was taken from the state of loss `loss`.
struct updated_view {
    long step;
    double loss, accuracy;
    long held_at_bound;
    double learning_rate;
    const network& net;
    const optimizer& opt;
};

class sink {
public:
    virtual ~sink() = default;
    virtual void prepare(long /*first*/, long /*steps*/) {}
    virtual void evaluated(const evaluated_view&) {}
    virtual void updated(const updated_view&) {}
    virtual void finish(const run_summary&) {}
};

/// Everything a run hands its sinks, kept in memory (tests; small runs).
class memory_sink: public sink {
public:
    struct snapshot {
        long step;
        double loss, accuracy;
        std::map<std::string, vector> weights; // signed, by projection
    };
    struct update {
        long step;
        double loss, accuracy, learning_rate;
        long held_at_bound;
    };
    void evaluated(const evaluated_view& v) override {
        snapshot s{v.step, v.loss, v.accuracy, {}};
        for (auto& p: v.net.projections) s.weights[p.name] = p.signed_weights();
        snapshots.push_back(std::move(s));
    }
    void updated(const updated_view& v) override {
        updates.push_back({v.step, v.loss, v.accuracy, v.learning_rate, v.held_at_bound});
    }
    std::vector<snapshot> snapshots; // one per evaluated state, in order
    std::vector<update> updates;     // one per learning step
};

} // namespace eisim
