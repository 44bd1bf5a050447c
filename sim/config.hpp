#pragma once
// The run configuration: plain descriptions of every layer's parameters, a schema that names each
// TOML key with its type, allowed range and a comment, and the three ways in: built-in defaults,
// a TOML file, and `--set section.key=value` overrides. Validation happens once, here; errors name
// the key, the value and what is allowed (eisim::config_error, exit code 2).
#include <cstdint>
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
    std::string record_precision = "float64"; // or "float32"
    int record_compression = 0;               // gzip level of the weight trajectory
};

struct config {
    circuit_desc circuit; // populations and projections (docs/circuits.md)
    input_desc input;
    integrator_desc integrator;
    task_desc task;
    training_desc training;
    plasticity_desc plasticity;

    int observation_steps() const;
};

/// The built-in defaults, validated.
config default_config();
/// Read a TOML file on top of the defaults; unknown keys, wrong types and out-of-range values throw.
config load_config(const std::string& path);
/// Parse TOML text on top of `base` (`origin` names the text in messages; relative synapse-list
/// files are found in `folder`).
config parse_config(const std::string& text, const std::string& origin, config base, const std::string& folder = "");
/// Parse the config text of a format-1 run file, whose circuit was the E/I template's keys
/// ([network] n_e ..., [connectivity], [readout], input.n_in, plasticity.plastic): they become
/// the same circuit (ei_circuit), so that version-1 runs can be resumed.
config parse_format1_config(const std::string& text, const std::string& origin);
/// Apply one `section.key=value` override, then validate (unless `check` is false: several
/// overrides that only make sense together, e.g. task.kind with input.n_in, are validated once after).
void apply_override(config& c, const std::string& assignment, bool check = true);
/// Cross-key validation (also run by load/parse/override).
void validate(const config& c);
/// The fully resolved configuration as TOML, with a comment for every key.
std::string to_toml(const config& c, bool comments = true);

} // namespace eisim
