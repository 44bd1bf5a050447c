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
// Blocks are population pairs (run_file's populations, docs/circuits.md). A projection among rate
// populations (network → network) has one block per (post X, pre Y) pair, named XY when each of
// its populations' names is one character (EE = E→E, EI = I→E: version-1 files keep EE, EI, IE,
// II), else "Y->X" (e.g. "PV->E"). A projection from input channels or onto readout units has one
// block per population of its network side, named after it ("E", "PV"). Block "all" comes first
// and always exists; the others follow in population order (post outer, pre inner) and are
// listed only when they hold synapses.
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
    std::vector<std::string> pre_populations, post_populations; // the block's populations (all: the projection's)
    long n_synapses = 0;
    log_normal_summary initial, final;
    long held_at_bound = 0;
    long sign_changes = 0;
    long dale_violations = 0;
    geometry_result geometry_pooled, geometry_per_neuron;
    geometry_result geometry; // a copy of the variant chosen by analysis_options::standardize
};

struct projection_report {
    std::string name, pre_population, post_population;          // the sides
    std::vector<std::string> pre_populations, post_populations; // their populations, in order
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
    std::vector<population_info> populations; // the run file's
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

/// The synapses of one block of a projection and what names it (see "Blocks" in analysis/README.md).
struct block_members {
    std::string name;
    std::vector<std::string> pre_populations, post_populations;
    std::vector<long> synapses;
};

/// The blocks of projection p among `synapses`: by the (post, pre) population pair of each synapse,
/// a side that is not the network counting as one; in population order, non-empty only (block
/// "all" is not among them).
std::vector<block_members> blocks_of(const run_file& f, const projection_info& p, const std::vector<long>& synapses);

/// The snapshot row recorded at learning step `step` (user_error listing the steps if none).
long snapshot_at(const run_file& f, double step);

analysis_report analyze(const run_file& f, const analysis_options& options = {});

/// The projection whose geometry verdict stands for the run (sweep summaries, eisim observe): the
/// recurrent one (where each neuron's incoming synapses are a regression of their own, the case
/// the per-neuron test is made for), else the first among network cells, else the first plastic
/// one; null when the report has none.
const projection_report* representative_projection(const analysis_report& r);

} // namespace eisim::analysis
