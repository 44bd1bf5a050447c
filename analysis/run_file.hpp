#pragma once
// Reading a run file (HDF5) for analysis. The layout is the contract of docs/circuits.md ("The run
// file (format version 2)", which adds the circuit to version 1's layout) as sim/recorder.hpp
// writes it; a file made anywhere else in the same layout reads the same. What the analysis
// needs, and what happens when it is absent:
//
//   /                  attrs format = "eisim.run" (required), format_version 1 or 2 (required),
//                      config (TOML text; optional: plasticity.min_magnitude and
//                      plasticity.geometry / p are taken from it when present), seed (optional)
//   /network           attrs n_e, n_i (required), n_in, n_out (optional)
//   /network/populations  version 2 (required there): datasets name, model, side [P] strings,
//                      first, size, sign [P] integers (required), tau_ms, bias [P], transfer [P] strings (optional);
//                      the populations of a side follow each other from index 0, in order, and
//                      the network's hold n_e excitatory and n_i inhibitory cells. Version 1 has
//                      none: its populations are E (cells 0..n_e−1), I (n_e..N−1; none when
//                      n_i = 0), in (the input channels) and out (the readout units).
//   /network/<proj>    every other group here is a projection: pre, post, sign [nnz] (required);
//                      attrs plastic (optional, default 1), pre_population, post_population
//                      (the sides; optional for recurrent/input/readout, whose defaults are
//                      known), n_pre, n_post (optional; defaults from the sides), connectivity,
//                      delay (optional); version 2: pre_populations, post_populations [k] strings
//                      (required; every pre and post index lies in one of them). In version 1
//                      a side's populations are those its indices touch (all of them when it
//                      has no synapse).
//   /trajectory/step   [T] or [T × 1] learning step of each snapshot (required, increasing)
//   /trajectory/loss   [T] or [T × 1] (optional)
//   /trajectory/accuracy  [T] or [T × 1] (optional)
//   /trajectory/<proj>/weight   [T × nnz] signed weights (required for each projection)
//   /training/loss     [steps] or [steps × 1] (optional)
//
// A file that is not HDF5, is truncated, is not a run file, has a newer format_version, or
// lacks a required part throws eisim::file_error naming the file and the part.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "io/h5.hpp"
#include "models/types.hpp"

namespace eisim::analysis {

/// The newest run-file format this reader understands (sim/recorder.hpp's run_format_version;
/// a test checks that the two agree).
constexpr std::int64_t readable_format_version = 6;

/// The bound at which euclidean/p-norm runs hold magnitudes when no config says otherwise.
constexpr double default_min_magnitude = 1e-8;

/// One population of the circuit (docs/circuits.md): the indices first..first+size−1 of its side.
struct population_info {
    std::string name;
    std::string model; // "rate", "input" or "readout"
    std::string side;  // "network" (cells), "input" (channels) or "output" (readout units)
    long first = 0, size = 0;
    int sign = 0;      // +1 excitatory, −1 inhibitory (Dale's law), 0 for readouts
    double tau_ms = std::numeric_limits<double>::quiet_NaN(); // NaN where the model or file has none
    double bias = std::numeric_limits<double>::quiet_NaN();
    std::string transfer; // rate: its transfer function ("" where the model or file has none)
    bool holds(long index) const { return index >= first && index < first + size; }
};

struct projection_info {
    std::string name;
    std::string pre_population, post_population; // the sides: "network", "input" or "output"
    std::vector<std::string> pre_populations, post_populations; // the populations of each side, in order
    std::string connectivity; // the connectivity rule ("" when the file has none: version 1)
    long delay = 0;           // synaptic delay in time steps
    long n_pre = 0, n_post = 0;
    bool plastic = true;
    index_vector pre, post; // side index of each synapse (network cell, input channel, output unit)
    index_vector sign;      // +1 or −1 (Dale's law: the sign of the presynaptic cell)
    long size() const { return static_cast<long>(pre.size()); }
};

class run_file {
public:
    /// Open and check the layout; throws eisim::file_error.
    explicit run_file(const std::string& path);

    const std::string& path() const { return path_; }
    std::int64_t format_version() const { return format_version_; }
    long n_e() const { return n_e_; }
    long n_i() const { return n_i_; }
    long n_in() const { return n_in_; }
    long n_out() const { return n_out_; }

    /// The populations, in the circuit's order (version 1: E, I, in, out).
    const std::vector<population_info>& populations() const { return populations_; }
    /// The population named `name`; throws eisim::file_error if none.
    const population_info& population(const std::string& name) const;
    /// The position in populations() of the population of `side` that holds side index `index`;
    /// throws eisim::file_error if none does.
    std::size_t population_index(const std::string& side, long index) const;
    /// The population of `side` that holds side index `index` (population_index).
    const population_info& population_of(const std::string& side, long index) const {
        return populations_[population_index(side, index)];
    }
    /// The number of indices of a side: the summed sizes of its populations.
    long side_size(const std::string& side) const;
    /// Root attributes that may be absent in files not written by eisim ("" when absent).
    std::string attr_text(const std::string& name) const;
    /// An integer root attribute, when present and an integer.
    std::optional<std::int64_t> attr_int(const std::string& name) const;

    const std::vector<projection_info>& projections() const { return projections_; }
    const projection_info& projection(const std::string& name) const;

    /// Learning step of each snapshot (T values).
    const std::vector<double>& steps() const { return steps_; }
    long snapshots() const { return static_cast<long>(steps_.size()); }
    /// Loss at each snapshot (NaN where the file has none).
    std::vector<double> snapshot_loss() const;
    /// The task's accuracy at each snapshot, /trajectory/accuracy (NaN where the file has none).
    std::vector<double> snapshot_accuracy() const;
    /// Loss after each learning step, /training/loss (empty when absent).
    std::vector<double> training_loss() const;
    /// The signed weights of projection `proj` at snapshot `index` (0 ≤ index < T).
    vector weights(const std::string& proj, long index) const;

    /// plasticity.min_magnitude from the stored config, or default_min_magnitude.
    double min_magnitude() const { return min_magnitude_; }
    bool min_magnitude_from_config() const { return min_magnitude_from_config_; }
    /// plasticity.geometry ("eg", "euclidean", "pnorm") and p from the stored config ("" / 0 when absent).
    const std::string& trained_geometry() const { return trained_geometry_; }
    double trained_p() const { return trained_p_; }

private:
    std::string path_;
    h5::handle file_;
    h5::file_strings strings_; // the file's strings, read at once
    std::int64_t format_version_ = 0;
    long n_e_ = 0, n_i_ = 0, n_in_ = 0, n_out_ = 0;
    std::vector<population_info> populations_;
    std::vector<projection_info> projections_;
    std::vector<double> steps_;
    double min_magnitude_ = default_min_magnitude;
    bool min_magnitude_from_config_ = false;
    std::string trained_geometry_;
    double trained_p_ = 0;

    [[noreturn]] void fail(const std::string& what) const;
    std::vector<double> snapshot_series(const std::string& name) const; // [T], NaN where absent
    std::size_t find_population(const std::string& side, long index) const; // populations_.size() if none
    void read_populations(hid_t net);
    void synthesise_populations();
    void read_projection_populations(hid_t group, projection_info& p) const;
    void read_config();
};

} // namespace eisim::analysis
