#pragma once
// What the exporters (SONATA, CSV) share: choosing the exported snapshot, the observed edges of a
// projection under the realism transforms, and the rule that existing files are never replaced
// without --overwrite. See analysis/EXPORT.md.
#include <string>
#include <vector>

#include "analysis/realism.hpp"
#include "analysis/run_file.hpp"

namespace eisim::analysis {

/// The trajectory row for "first", "last" or a learning step N (one of /trajectory/step).
/// Throws eisim::user_error naming the steps the file holds.
long snapshot_index(const run_file& run, const std::string& step);

/// The realism view of a projection's structure.
synapse_table table_of(const projection_info& p);

/// The edges a degraded measurement of one projection sees at the chosen snapshot.
struct observed_edges {
    const projection_info* projection = nullptr;
    long chosen = 0;           // the trajectory row of the exported weights
    std::vector<long> synapse; // run-file synapse ids, increasing: edge e is synapse synapse[e]
    vector initial;            // measured weight at row 0 (NaN: below the detection threshold then)
    vector weight;             // measured weight at row `chosen` (always detected)
    long size() const { return static_cast<long>(synapse.size()); }
};

/// The synapses kept by the sampling rules and detected at row `chosen`, with their measured
/// weights at row 0 and at `chosen` (the identity when no transform is on).
observed_edges observe_edges(const run_file& run, const projection_info& p, const realism& r,
                             const std::vector<bool>& cells, long chosen);

/// Throws eisim::user_error if `path` exists and overwrite is false, or if it is a directory.
void check_new_file(const std::string& path, bool overwrite);

/// The cell count of the network side (n_e + n_i).
inline long network_size(const run_file& run) { return run.side_size("network"); }

} // namespace eisim::analysis
