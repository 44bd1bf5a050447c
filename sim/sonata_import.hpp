#pragma once
// Reading a SONATA circuit into populations and projections (docs/circuits.md, "SONATA in"):
// `eisim run --circuit circuit_config.json` and `[circuit] sonata`.
//
//   circuit_config.json   networks.nodes (nodes_file, node_types_file) and networks.edges
//                         (edges_file, edge_types_file); manifest variables ($BASE_DIR, ${configdir})
//                         resolved, relative paths taken from the config file's folder.
//   populations           one per (SONATA node population, node attribute pop_name), its cells in
//                         node order; input (virtual node populations or node types) or rate (every
//                         other model type). Dale sign from the attribute ei ("e"/"i"), else from
//                         `signs`, else excitatory for inputs (a rate population without one is an
//                         error). tau_ms from the attribute tau_ms or tau (ms) where present.
//   projections           one per SONATA edge population, named after it: pre = the populations
//                         its source nodes belong to, post = those of its targets (each in circuit
//                         order), connectivity = "sonata", weights = "file". Synapse k is edge k of
//                         the file; its pre and post index the concatenated cells of those lists.
//                         Magnitude = |syn_weight| × nsyns (nsyns = 1 where absent); a negative
//                         syn_weight from an excitatory population is refused.
//
// A node or edge attribute is read from the population's group (node_group_id/node_group_index)
// and, where the group lacks it, from the types CSV row of the node's or edge's type: the group's
// value wins. Errors name the file and the part: file_error for what the files hold, config_error
// for the signs.
#include <map>
#include <string>
#include <vector>

#include "models/circuit.hpp"

namespace eisim {

struct sonata_circuit {
    std::vector<population_desc> populations;
    std::vector<projection_desc> projections;
    std::vector<std::string> notes; // what the user should know (delays left out, empty edge populations)
    std::string digest;             // of the populations and synapses as read (circuit_digest)
};

/// Read the circuit that `circuit_config` (a SONATA circuit config, or a simulation config whose
/// "network" names one) describes. `signs` maps population names to "excitatory" | "inhibitory"
/// for populations whose nodes carry no ei attribute.
sonata_circuit import_sonata(const std::string& circuit_config, const std::map<std::string, std::string>& signs);

/// A fingerprint (16 hex digits, FNV-1a 64) of populations and projections: names, models,
/// sizes, signs, tau_ms, the lists and every listed synapse with its magnitude's bits.
std::string circuit_digest(const std::vector<population_desc>& populations, const std::vector<projection_desc>& projections);

} // namespace eisim
