#pragma once
// `eisim export sonata`: a run file as a SONATA circuit (the Allen Institute / Blue Brain network
// format, spec v0.1: github.com/AllenInstitute/sonata, docs/SONATA_DEVELOPER_GUIDE.md), so that
// tools that read SONATA (libsonata, bmtk, NEST's SonataNetwork, ...) read a ground-truth
// connectome whose learning rule is known. analysis/EXPORT.md lists every dataset; in short:
//
//   nodes.h5          /nodes/network  the rate populations' cells (node_id = cell index; one node
//                                     type per population, 0/pop_name its name, 0/ei its sign)
//                     /nodes/input    the input channels, a virtual population (pop_name likewise)
//   edges.h5          /edges/<proj>   one edge population per projection between those populations
//                                     (network→network, input→network); a readout has no node
//                                     population to point to and is not written.
//                                     Edge e is the e-th observed synapse in the run file's order
//                                     (without realism transforms: edge id = synapse id).
//                                     Group 0: syn_weight (signed, at the chosen step),
//                                     initial_weight (signed, first snapshot), sign (int8),
//                                     synapse_id (the run file's synapse index).
//                                     indices/source_to_target and indices/target_to_source.
//   node_types.csv, edge_types.csv    space-separated type tables (a row per population; edge
//                                     types by the populations of both ends and the sign)
//   circuit_config.json               the files, as the SONATA circuit config lists them
//   weights_<proj>.h5 (--trajectory)  the weight trajectory as a SONATA report: /report/network
//                                     with elements = the edges grouped by target node.
//
// Every HDF5 file carries the root attributes magic (uint32 0x0A7A) and version (uint32 [0, 1]).
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/realism.hpp"
#include "analysis/run_file.hpp"

namespace eisim::analysis {

struct sonata_export_options {
    std::string out_dir;        // created if missing
    std::string step = "last";  // "first", "last" or a learning step N (see snapshot_index)
    bool trajectory = false;    // also write weights_<proj>.h5
    bool overwrite = false;     // replace files of the same names in out_dir
    realism measure;            // time_points applies to the trajectory only
};

struct sonata_export_summary {
    std::vector<std::string> files;                    // written, full paths
    long snapshot = 0;                                 // trajectory row of syn_weight
    double step = 0;                                   // its learning step
    std::vector<std::pair<std::string, long>> edges;   // edge population → edge count
};

/// Write the circuit. Throws eisim::user_error (exit 2); on error nothing is left in out_dir.
sonata_export_summary export_sonata(const run_file& run, const sonata_export_options& options);

/// The SONATA edge index of one direction (libsonata's layout): the edges are cut into ranges
/// of consecutive edge ids that share the node; range_to_edge_id [R × 2] holds [start, end) of
/// each range, grouped by node in node order, and node_id_to_ranges [n_nodes × 2] holds, for
/// node i, [start, end) of its rows in range_to_edge_id (start = end when it has no edge).
/// Both row-major.
struct edge_index {
    std::vector<std::uint64_t> node_id_to_ranges;
    std::vector<std::uint64_t> range_to_edge_id;
};
edge_index build_edge_index(const std::vector<std::uint64_t>& node_of_edge, std::uint64_t n_nodes);

} // namespace eisim::analysis
