#pragma once
// An experiment: builds the student (and teacher) network and the trials from a validated config,
// drives them, and hands everything to the recorder.
//
//   simulate   one batch of trials, forward only: /network and /activity of every trial.
//   learn      the learning loop. Step s = 0..S−1: make the trials (models/trials.hpp), run them
//              forward, evaluate the loss and its credit (plasticity/objective.hpp), hand both to the
//              sinks, take the mirror step of every plastic projection.
//              Every step also records the task's accuracy (choice accuracy or R², models/tasks.hpp).
//              Snapshots of every weight after s steps go to /trajectory every record_every
//              steps, always at s = 0 and s = S (the final state, with one more forward pass).
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "sim/sink.hpp"

namespace eisim {

struct run_options {
    std::string out;
    bool overwrite = false;
    bool quiet = false;
    bool resume = false; // continue the run in `out` from its newest checkpoint
    // SIGINT and SIGTERM: learn() installs its own handlers (sim/signals.hpp) unless an embedding
    // (the Python module) keeps its interpreter's and asks instead: `stop_requested`, called after
    // every learning step is written, returns the signal to stop for (0 = go on).
    bool own_signal_handlers = true;
    std::function<int()> stop_requested;
};

struct projection_summary {
    std::string name;
    long n = 0;
    double mean_ln = 0, sd_ln = 0;  // of ln|w| over the synapses with |w| > 0
    long zero = 0;                  // synapses with |w| = 0 (EG's multiplicative steps can underflow to 0)
    long held_at_bound = 0;         // synapses at the projection bound (euclidean/pnorm)
    long sign_changes = 0;          // must be 0
};

struct run_summary {
    double initial_loss = 0, final_loss = 0;
    // The task's accuracy (models/tasks.hpp): fraction of correct choices, or R²; NaN if not recorded.
    double initial_accuracy = std::numeric_limits<double>::quiet_NaN(), final_accuracy = std::numeric_limits<double>::quiet_NaN();
    std::string accuracy_measure;
    // The fraction correct on the held-out set (sim/heldout.hpp) of heldout_trials trials (0: none).
    int heldout_trials = 0;
    double initial_heldout_accuracy = std::numeric_limits<double>::quiet_NaN(),
           final_heldout_accuracy = std::numeric_limits<double>::quiet_NaN();
    long steps = 0;
    double seconds = 0;
    // Wall time of each learning step taken here (forward pass, credit, mirror steps, recording
    // and checkpoint), in order; bench/ reports their median.
    std::vector<double> step_seconds;
    std::vector<projection_summary> initial, final;
};

/// Build the student network and simulate one batch of trials into a run file.
void simulate(const config& c, const run_options& opt);

/// Train the student under the config's plasticity and record the run. With opt.resume, continue
/// the stopped run in opt.out (whose own config must be passed as `c`): the finished file equals
/// the uninterrupted run's, dataset for dataset. SIGINT/SIGTERM finish the current step, save it
/// and throw `interrupted`. Every step is handed to the run file's and the progress display's
/// sinks and to `sinks` (sim/sink.hpp).
run_summary learn(const config& c, const run_options& opt, const std::vector<sink*>& sinks = {});

/// The configuration a run file was written with.
config config_of_run(const std::string& path);
/// The same from the text of its /config attribute and its format_version, for a reader that has
/// the file open already (`where`: the file, named in errors).
config config_of_run_text(const std::string& text, std::int64_t format_version, const std::string& where);

/// ln|w| statistics of every projection.
std::vector<projection_summary> summarize(const network& net);

} // namespace eisim
