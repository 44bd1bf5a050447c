#pragma once
// `eisim analyze`: the experimental predictions tested on a run file. For each plastic projection,
// for all its synapses and for each block, comparing snapshot `from` with snapshot `to`:
//   * the log-normal summary of |w| at both snapshots (stats.hpp, part 1);
//   * the geometry test on the dual change, pooled (stats.hpp, part 2) and standardised per
//     postsynaptic neuron (part 3): the postsynaptic cell of a network projection, the output unit
//     of the readout; `geometry` is the variant chosen by analysis_options::standardize;
//   * synapses held at the bound:  #{ |w_to| ≤ b (1 + 1e−9) },  b = plasticity.min_magnitude;
//   * sign changes:                #{ w_from · w_to < 0 }                    (Dale's law: 0);
//   * Dale violations:             #{ sign_i · w_i < 0 at either snapshot }  (sign from /network).
// Blocks: cells 0..n_e−1 are E, n_e..N−1 are I. A recurrent projection (network → network) has
// blocks named post-then-pre: EE (E→E), EI (I→E), IE (E→I), II. A projection touching the network
// on one side only has blocks "E" and "I" by the type of that cell (input: post, readout: pre).
// Block "all" always exists; other blocks are listed only when they hold synapses.
#include <optional>
#include <string>
#include <vector>

#include "analysis/realism.hpp"
#include "analysis/run_file.hpp"
#include "analysis/stats.hpp"

namespace eisim::analysis {

struct analysis_options {
    std::optional<double> from_step, to_step; // learning steps; default the first and last snapshots
    geometry_options geometry;
    /// The variant reported as `geometry` (both are always computed); per-neuron by default.
    standardization standardize = standardization::per_neuron;
    /// Measurement realism (realism.hpp; EXPORT.md): the before/after weights are those a degraded
    /// experiment sees (observed synapses only, noisy, thresholded). With time_points K, the
    /// default snapshots are the first and last kept ones and --from/--to must name kept ones.
    realism measure;
};

struct snapshot_ref {
    long index = 0;   // row of /trajectory
    double step = 0;  // learning step
    double loss = 0;  // NaN when the file has none
};

struct block_report {
    std::string name;
    long n_synapses = 0;
    log_normal_summary initial, final;
    long held_at_bound = 0;
    long sign_changes = 0;
    long dale_violations = 0;
    geometry_result geometry_pooled, geometry_per_neuron;
    geometry_result geometry; // a copy of the variant chosen by analysis_options::standardize
};

struct projection_report {
    std::string name, pre_population, post_population;
    long n_pre = 0, n_post = 0, n_synapses = 0;
    double bound = 0;
    std::vector<block_report> blocks; // "all" first
    const block_report& block(const std::string& name) const;
};

struct analysis_report {
    std::string path;
    std::int64_t format_version = 0;
    std::string software_version;           // as stored ("" when absent)
    std::optional<std::int64_t> seed;       // root attr seed, when stored
    std::string trained_geometry;           // from the stored config ("" when absent)
    double trained_p = 0;
    long n_e = 0, n_i = 0, n_in = 0, n_out = 0;
    long snapshots = 0;
    snapshot_ref from, to;
    double bound = 0;                       // plasticity.min_magnitude used for held_at_bound
    std::string bound_source;               // "config" or "default"
    geometry_options geometry;              // the settings of the test
    standardization standardize = standardization::per_neuron; // the variant reported as `geometry`
    std::string realism = "none";           // the realism transforms applied (realism::describe)
    std::vector<projection_report> projections; // plastic projections, in file order
    std::vector<std::string> frozen;        // projections left out (plastic = 0)
    const projection_report& projection(const std::string& name) const;
};

/// The snapshot row recorded at learning step `step` (user_error listing the steps if none).
long snapshot_at(const run_file& f, double step);

analysis_report analyze(const run_file& f, const analysis_options& options = {});

} // namespace eisim::analysis
