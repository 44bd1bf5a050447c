#pragma once
// `eisim sweep summary`: what a finished (or running) sweep found, read from its output directory
// (docs/sweeps.md, "eisim sweep summary"). Only reads the sweep's files; writes its own beside them.
//
//   DIR/manifest.csv   id, <swept keys, in axis order>, status, exit_code, attempts, seconds,
//                      final_loss, final_accuracy, host, rank (a header, then one row per run)
//   DIR/runs/<id>.h5   the run files (read with --analyze only)
//
// What is computed:
//   * A swept key is a seed key when its last dotted component contains "seed" (training.seed,
//     circuit.seed, task.seed). The other swept keys are the condition keys: the runs that share
//     their values form one condition, and its seeds are replicates.
//   * Per condition, per value of each single condition key (the marginal: every run with that
//     value, whatever the other keys) and over all runs: the count of runs by status, and over the
//     done runs whose number is known the mean and the sample standard deviation
//       x̄ = (1/n) Σ x_i,   s = √( Σ (x_i − x̄)² / (n − 1) )     (NaN when n < 2; x̄ NaN when n = 0)
//     of final_loss and of final_accuracy. Diverged runs are counted, never averaged: their final
//     loss is whatever the run had when it stopped, not an outcome of learning.
//   * With --analyze, the geometry test (analysis/analyze.hpp, default options: standardised per
//     postsynaptic neuron) on each done run's file, and the identified geometry tabulated against
//     the one it was trained with.
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace eisim::sweep {

inline constexpr double no_number = std::numeric_limits<double>::quiet_NaN();

struct summary_options {
    bool analyze = false; // run the geometry test on every done run's file
};

/// True when the last dotted component of `key` contains "seed".
bool is_seed_key(const std::string& key);

/// The manifest's columns after the swept keys, in order.
const std::vector<std::string>& manifest_outcome_columns();

/// One row of DIR/manifest.csv. Numbers are NaN (or nullopt) where the cell is empty.
struct manifest_run {
    std::string id;
    std::vector<std::string> values; // one per swept key, as the manifest shows them
    std::string status;              // pending, running, done, diverged or failed
    std::optional<long> exit_code, attempts, rank;
    double seconds = no_number, final_loss = no_number, final_accuracy = no_number;
    std::string host;
    long line = 0; // where the row starts in the manifest (1-based), for messages
};

struct sweep_manifest {
    std::string path;
    std::vector<std::string> swept_keys; // in axis order
    std::vector<manifest_run> runs;      // in file order
};

/// Read a manifest. A missing or unreadable file, a wrong header, a row with the wrong number of
/// fields, an unknown status, a number that does not parse or a repeated id is an eisim::user_error
/// naming the file and the line.
sweep_manifest read_manifest(const std::string& path);

/// Mean and sample standard deviation (n − 1) of the finite values among x.
struct mean_sd {
    long n = 0;    // finite values used
    double mean = no_number; // NaN when n = 0
    double sd = no_number;   // NaN when n < 2
};
mean_sd mean_and_sd(const std::vector<double>& x);

struct status_counts {
    long runs = 0, done = 0, diverged = 0, failed = 0, pending = 0, running = 0;
};

/// One group of runs and its outcome.
struct outcome_row {
    /// "all" (every run), "condition" (every condition key fixed) or "marginal" (one fixed).
    std::string group;
    /// The (key, value) pairs fixed in this group: all condition keys for a condition, one for a
    /// marginal, none for "all".
    std::vector<std::pair<std::string, std::string>> fixed;
    status_counts counts;
    mean_sd final_loss, final_accuracy; // over the done runs
    std::vector<std::string> ids;       // the group's runs, in manifest order
};

/// The geometry test on one done run.
struct identified_run {
    std::string id;
    std::vector<std::string> values;  // its swept values (sweep_summary::swept_keys)
    std::string trained_geometry;     // plasticity.geometry of the stored config: eg, euclidean, pnorm
    std::string trained;              // the same as a candidate's name: "eg", "p=2.0" (euclidean), "p=<p>"
    std::string identified;           // the best candidate (geometry_result::best)
    bool correct = false;             // identified == trained
    bool trained_consistent = false;  // trained is in the consistent set (within the noise floor)
    std::string projection;           // the projection tested (recurrent where there is one)
    long n_synapses = 0;              // synapses in the test
    double best_dcdf = no_number;     // ΔCDF of the best candidate
    double trained_dcdf = no_number;  // ΔCDF of the trained one (NaN when it is no candidate)
    double floor = no_number;         // the noise floor for n_synapses
};

/// A done run whose file could not be analysed (missing, unreadable, nothing changed, ...).
struct unanalysable_run {
    std::string id, reason;
};

struct identification_table {
    std::vector<identified_run> runs;            // analysed, in manifest order
    std::vector<unanalysable_run> not_analysable;
    /// The confusion table: counts[t][i] runs trained with trained_labels[t] and identified as
    /// identified_labels[i]; labels in order of first appearance.
    std::vector<std::string> trained_labels, identified_labels;
    std::vector<std::vector<long>> counts;
    long correct = 0, trained_consistent = 0;
};

struct sweep_summary {
    std::string dir;
    std::vector<std::string> swept_keys;     // in axis order
    std::vector<std::string> condition_keys; // the swept keys that are not seed keys, in axis order
    std::vector<std::string> seed_keys;
    std::vector<manifest_run> runs;
    outcome_row all;
    std::vector<outcome_row> conditions; // in order of first appearance in the manifest
    std::vector<outcome_row> marginals;  // condition key by key (axis order), values by first appearance
    bool analyzed = false;
    identification_table identification; // filled when analyzed
};

/// Read DIR/manifest.csv and summarise it (with options.analyze, also the run files). Throws
/// eisim::user_error for a missing or malformed manifest; a run file that cannot be analysed is
/// listed in identification.not_analysable, not fatal.
sweep_summary summarize_sweep(const std::string& dir, const summary_options& options);

/// The summary as tables for people.
void print_sweep_summary(std::ostream& os, const sweep_summary& s);

/// Write DIR/summary.csv (the "all" row, the conditions, then the marginals) and, when analyzed,
/// DIR/identification.csv (one row per done run); each is written to a temporary file beside it and renamed.
/// Returns the paths written. Throws eisim::user_error when a file cannot be written.
///
///   summary.csv         group, key, <condition keys>, runs, done, diverged, failed, pending,
///                       running, final_loss_n, final_loss_mean, final_loss_sd, final_accuracy_n,
///                       final_accuracy_mean, final_accuracy_sd
///                       group is all|condition|marginal; key is the fixed key of a marginal row
///                       (empty otherwise); a condition key's cell is empty where it is not fixed.
///   identification.csv  id, <swept keys>, analysed (1 or 0), projection, trained_geometry,
///                       trained, identified, correct, trained_consistent, n_synapses, best_dcdf,
///                       trained_dcdf, floor, reason (why a run was not analysable)
/// Numbers are written with 17 significant digits (they read back bit for bit); unknown ones as
/// empty cells.
std::vector<std::string> write_sweep_summary(const std::string& dir, const sweep_summary& s);

/// The script that draws the figure: $EISIM_SWEEP_FIGURE_SCRIPT, else sweep/summary_figure.py of
/// the source tree.
std::string sweep_figure_script();

/// Draw DIR/summary.png from DIR/summary.csv and DIR/manifest.csv (write_sweep_summary first) with
/// sweep/summary_figure.py, run by analysis::python_interpreter(). Throws eisim::user_error when
/// summary.csv is missing, the interpreter cannot run, lacks matplotlib or numpy, or the script fails.
void draw_sweep_figure(const std::string& dir);

} // namespace eisim::sweep
