#pragma once
// The description of a circuit: populations and projections as plain data (docs/circuits.md).
// It is validated once (validate_circuit: every mistake names its key path, e.g.
// 'projections[3].pre') and then lowered by build_network (models/network.hpp).
//
// A population is a named group of cells of one neuron model and one Dale sign. A projection
// connects the concatenated cells of its pre populations to those of its post populations; it has
// one block per (post X, pre Y) pair, and its per-block values are a number (every block) or a
// table [post][pre].
#include <cstdint>
#include <string>
#include <vector>

#include "models/parameters.hpp"
#include "models/registry.hpp"

namespace eisim {

/// A value per block of a projection: one number for every block, or a table [post][pre].
struct block_values {
    double value = 0.0;
    std::vector<std::vector<double>> table; // empty: `value` for every block
    block_values(double v = 0.0): value(v) {}
    block_values(std::vector<std::vector<double>> t): table(std::move(t)) {}
    double at(std::size_t post, std::size_t pre) const { return table.empty()? value: table[post][pre]; }
    bool is_table() const { return !table.empty(); }
};

struct population_desc {
    std::string name;
    std::string model = "rate";      // rate | lif | alif | input | readout (neuron_models())
    int size = 1;
    std::string sign = "excitatory"; // excitatory | inhibitory: every outgoing synapse's sign
    // The neuron model's own keys (rate: tau_ms, bias, transfer, and the transfer function's own:
    // power's transfer_k, transfer_n; lif: tau_m_ms, v_th_mV, ...), every registered model's
    // declared at its default.
    parameters keys;
    population_desc();
};

/// One synapse of an explicit list (connectivity = file): ids local to the pre and post population.
struct listed_synapse {
    std::int64_t pre = 0, post = 0;
    double magnitude = 0.0;
};

struct projection_desc {
    std::string name;
    std::vector<std::string> pre, post; // populations; their cells are concatenated in this order
    // bernoulli | fixed_indegree | all_to_all | one_to_one | file (a CSV) | sonata (a SONATA edge
    // population, set by the import: sim/sonata_import.hpp). file and sonata are explicit lists.
    std::string connectivity = "bernoulli";
    block_values p = 1.0;   // bernoulli: connection probability
    block_values k = 1.0;   // fixed_indegree: presynaptic partners per post cell from each pre population
    bool autapses = false;
    std::string file;       // connectivity = file: the CSV (pre,post,magnitude), read by the config layer;
                            // sonata: the edges file and population (messages only)
    // The explicit list (file: the CSV's rows; sonata: the edges in the file's order). pre and post
    // index the concatenated cells of the projection's pre and post populations, in list order
    // (with one population each, the ids local to it).
    std::vector<listed_synapse> listed;
    std::string weights = "lognormal";  // lognormal | gamma | constant | file
    std::string size_by = "scale";      // which of scale, median, mean sizes the magnitudes
    block_values scale = 1.0;           // typical magnitude = scale / max(expected in-degree, 1)
    block_values median = 1.0, mean = 1.0;
    double sigma_ln = 0.9355;           // lognormal: sd of ln m (Song et al. 2005)
    double shape = 2.0;                 // gamma: shape
    int delay = 0;                      // time steps; rate models take 0 only, spiking ones >= 1
    double tau_syn_ms = 0.0;            // spiking: synaptic time constant (0: the post population's by the pre sign)
    bool plastic = true;
    /// Whether the synapses are an explicit list (connectivity file or sonata).
    bool is_listed() const { return connectivity == "file" || connectivity == "sonata"; }
};

struct circuit_desc {
    std::vector<population_desc> populations;
    std::vector<projection_desc> projections;
    double spectral_radius = 0.8;                // 0 = no rescaling
    std::vector<std::string> spectral_radius_of; // projections rescaled together; empty = every rate → rate one
    double noise_sigma = 0.0;                    // private noise on every rate cell (Euler–Maruyama)

    /// Cells of the network populations (rate or spiking: the state), input channels, readout units.
    int n() const;
    int n_in() const { return side_size("input"); }
    int n_out() const { return side_size("readout"); }
    int side_size(const std::string& model) const;
    /// The population of that name, or nullptr.
    const population_desc* find(const std::string& name) const;
    const projection_desc* find_projection(const std::string& name) const;
    /// "rate" or "spiking": the family of the network populations' models ("" if none).
    std::string family() const;
    bool spiking() const { return family() == "spiking"; }
    /// The projections rescaled to the spectral radius (spectral_radius_of, or its default).
    std::vector<std::string> rescaled() const;
};

/// A neuron model by name: what kind of population it makes, and its own config keys. A model
/// may have a key that chooses a component with keys of its own (rate: `transfer`, whose
/// functions are models/transfer.hpp's); those keys are the population's too.
struct neuron_model {
    std::string doc;
    bool has_sign, has_dynamics; // input: sign, no dynamics; readout: neither; rate, lif, alif: both
    std::string family;          // models with dynamics: "rate" or "spiking" (one family per circuit)
    std::vector<key_spec> keys;
    std::string chooser;         // the key choosing a component ("" if none)
    std::vector<std::pair<std::string, std::vector<key_spec>>> chosen_keys; // each choice's own keys
    /// Keys of the model and of the component its population chose.
    std::vector<key_spec> keys_of(const parameters& values) const;
};
const registry<neuron_model>& neuron_models();

/// Check everything that involves more than one key; throws config_error naming the key path.
void validate_circuit(const circuit_desc& c);

/// The expected number of synapses of projection `p` (for layouts and memory estimates).
double expected_synapses(const circuit_desc& c, const projection_desc& p);
/// The expected fraction of the N × N recurrent entries that are synapses.
double expected_density(const circuit_desc& c);

/// The two-population E/I network of eisim's first versions (format version 1), as a template:
/// E (n_e cells) and I (n_i), input channels "in" and readout "out"; projections recurrent
/// (Bernoulli per block, block XY = post X, pre Y), input (excitatory afferents) and readout
/// (all-to-all from E, or from E and I). The built-in default circuit is ei_circuit({}).
struct network_desc {
    int n_e = 800, n_i = 200, n_in = 20, n_out = 2;
    double tau_e_ms = 20.0, tau_i_ms = 10.0;
    std::string transfer = "relu";
    double transfer_k = 1.0, transfer_n = 2.0;
    double bias = 0.0;
    double spectral_radius = 0.8;
    double noise_sigma = 0.0;
    double p_ee = 0.2, p_ei = 0.4, p_ie = 0.4, p_ii = 0.4;
    double scale_ee = 1.0, scale_ei = 1.2, scale_ie = 1.0, scale_ii = 1.2;
    double sigma_ln = 0.9355;
    double p_in = 0.2, scale_in = 1.0;
    std::string readout_from = "e"; // "e" or "all"
    double scale_out = 1.0;
    int n() const { return n_e + n_i; }
};
circuit_desc ei_circuit(const network_desc& d);

} // namespace eisim
