#pragma once
// The run configuration: plain descriptions of every layer's parameters, a schema that names each
// TOML key with its type, allowed range and a comment, and the three ways in: built-in defaults,
// a TOML file, and `--set section.key=value` overrides. Validation happens once, here; errors name
// the key, the value and what is allowed (eisim::config_error, exit code 2).
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/circuit.hpp"
#include "models/input.hpp"
#include "models/network.hpp"
#include "models/tasks.hpp"
#include "plasticity/optimizer.hpp"
#include "models/integrate.hpp"

namespace eisim {

struct training_desc {
    std::int64_t seed = 1;
    int steps = 25;
    int record_every = 1;
    int activity_trials = 2; // trials written to /activity at the first and last steps
    int heldout_trials = 512; // decision tasks: the fixed held-out set (sim/heldout.hpp); 0 = none
    int heldout_every = 0;    // steps between held-out measurements, a multiple of record_every; 0 = auto
    std::string record_precision = "float64"; // or "float32"
    int record_compression = 0;               // gzip level of the weight trajectory
};

/// [circuit]: a circuit read from files (docs/circuits.md, "SONATA in"). Its populations and
/// projections come first in `config::circuit`, in the import's order; a [[populations]] or
/// [[projections]] element of an imported name amends that element (keys the files fix, such as
/// size, sign, pre and post, may be repeated, not changed), every other one is added.
struct circuit_import {
    std::string sonata;                       // a SONATA circuit_config.json (absolute path); "" = none
    std::map<std::string, std::string> signs; // population → excitatory | inhibitory, where its nodes carry no ei
    std::string digest;                       // of the imported circuit; a config that gives it must match
    // The elements as imported (listed synapses left out), to refuse changes to what the files fix.
    std::vector<population_desc> populations;
    std::vector<projection_desc> projections;
    bool active() const { return !sonata.empty(); }
};

struct config {
    circuit_import import; // [circuit]
    circuit_desc circuit; // populations and projections (docs/circuits.md)
    input_desc input;
    integrator_desc integrator;
    task_desc task;
    training_desc training;
    plasticity_desc plasticity;
    // What reading the config had to tell (e.g. SONATA delays left out); no part of the config.
    std::vector<std::string> notes;
    // The populations whose size the user gave (a [[populations]] element of the TOML, an imported
    // population, --set populations.NAME.size). The others, the built-in circuit's input and
    // readout, take the channel counts of the chosen task (adopt_task_channels); no part of the
    // printed config, which gives every size.
    std::set<std::string> sizes_given;

    int observation_steps() const;
};

/// The built-in defaults, validated.
config default_config();
/// Read a TOML file on top of the defaults; unknown keys, wrong types and out-of-range values throw.
/// `circuit` (non-empty) imports that SONATA circuit config, as [circuit] sonata does (and in its
/// place); `path` may then be empty (the defaults, with the imported circuit).
config load_config(const std::string& path, const std::string& circuit = "");
/// Parse TOML text on top of `base` (`origin` names the text in messages; relative synapse-list
/// files and circuit.sonata are found in `folder`; `circuit` as in load_config).
config parse_config(const std::string& text, const std::string& origin, config base, const std::string& folder = "",
                    const std::string& circuit = "");
/// Parse the config text a run file stores (format 2). Keys of components that are not chosen
/// (which earlier versions printed with every other key) go back to their defaults, with a note.
config parse_stored_config(const std::string& text, const std::string& origin);
/// Parse the config text of a format-1 run file, whose circuit was the E/I template's keys
/// ([network] n_e ..., [connectivity], [readout], input.n_in, plasticity.plastic): they become
/// the same circuit (ei_circuit), so that version-1 runs can be resumed.
config parse_format1_config(const std::string& text, const std::string& origin);
/// Apply one `section.key=value` override, then validate (unless `check` is false: several
/// overrides that only make sense together, e.g. task.kind with input.n_in, are validated once after).
void apply_override(config& c, const std::string& assignment, bool check = true);
/// Keys of components that are not chosen (say an RFLO key while plasticity.credit = "exact"),
/// which validate() refuses, go back to their defaults, with a note in c.notes for each. A run
/// file's stored config (earlier versions printed every component's keys) and a sweep's
/// combinations (a key swept or set for one component means nothing where another is chosen)
/// are read this way.
void drop_stray_keys(config& c);
/// Cross-key validation (also run by load/parse/override).
void validate(const config& c);
/// Settings that are valid but have no effect, as notes for the user (empty if none): a
/// plasticity.learning_rate beside a plasticity.learning_rates table that has the chosen
/// geometry's entry (the entry is the rate). `eisim run`/`simulate` and `sweep plan` print them.
std::vector<std::string> inert_settings(const config& c);
/// What learning needs beyond validate() (`eisim run`, not `simulate`): input channels, a
/// projection that carries them to the network's cells, and one from the network to the readout.
/// Without them the outputs (and a teacher's targets) are the same on every trial, whatever the
/// weights and the data: the loss cannot fall and the accuracy is undefined (config_error).
void validate_for_learning(const config& c);
/// The fully resolved configuration as TOML, with a comment for every key.
std::string to_toml(const config& c, bool comments = true);

} // namespace eisim
