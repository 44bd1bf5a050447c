#pragma once
// eisim observe: the observables of Nayebi et al. (NeurIPS 2020) measured on eisim runs, one table
// per sweep (docs/identify.md has the definitions and the table's layout).
//
// For every run and every kept snapshot (a row of the table): for each plastic projection and each
// of its blocks (analysis/analyze.hpp: "all", then the population pairs), the block's signed
// weights; for each rate/spiking and readout population, its activations on the probe trials
// (observe/probe.hpp); for each projection onto cells or readouts and each block, the activity
// change: the sensitivity of each postsynaptic cell to its presynaptic population,
//     a_i(b) = gain_i(b) · Σ_{j∈Y} W_ij          (gain: the trial's mean φ'(x_i), or ψ_i; 1 for readouts)
// each under identity, abs and square and summarised by the seven statistics of
// observe/observables.hpp. Labels come from each run's own config: credit, geometry, p, task,
// seed, size.
//
// Measurement realism on the way in (analysis/realism.hpp; all off by default), drawn per run from
// the realism seed and the run's name hashed together:
//   observe_neurons F   the observed cells (the same for every measure; at least one per population):
//                       weights among them, their activations, their activity change (presynaptic
//                       sums over observed cells, scaled by |Y|/|Y_observed| to stay unbiased)
//   observe_synapses F, noise_multiplicative, noise_additive, detection_threshold: the weights, as
//                       analyze and export measure them
//   noise S             Gaussian noise on every element of every measure, of standard deviation S
//                       times that measure's root-mean-square at the run's first kept snapshot
//   time_points K       K kept snapshots, evenly spaced (first and last kept); with
//   subsample_period P  K snapshots P apart from a random first one (Nayebi et al.'s subsample period)
// Features that are undefined (NaN) at any row of the table are dropped and counted.
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/realism.hpp"

namespace eisim::observe {

struct observe_options {
    analysis::realism measure;  // the realism transforms (their seed also seeds noise and time points)
    double noise = 0;           // S ≥ 0, relative to each measure's RMS
    long subsample_period = 0;  // P ≥ 1 with time_points; 0 = evenly spaced
    int probe_trials = 32;      // trials of the probe set
    std::uint64_t probe_seed = 1;
    bool geometry_test = true;  // also run the ΔCDF geometry test on each run (first kept snapshot vs the second, and vs the last)
    std::string out;            // TABLE: .h5 (HDF5) or .csv
    bool overwrite = false;
    bool quiet = false;
};

struct observe_summary {
    long runs = 0, rows = 0, features = 0;
    std::vector<std::string> dropped;   // features undefined at some row
    std::vector<std::string> left_out;  // sweep runs not done ("<id>: <status>")
};

/// Observe the run files `inputs` (RUN.h5 files, or sweep directories: their done runs) into
/// options.out. Throws eisim::user_error (exit 2) naming the run for: fewer snapshots than asked,
/// runs whose snapshots or features differ from the others', a config without labels.
observe_summary observe(const std::vector<std::string>& inputs, const observe_options& options);

/// The realism transforms of run `run`: `r` with its seed replaced by FNV-1a of (r.seed, run).
analysis::realism run_realism(const analysis::realism& r, const std::string& run);

/// The kept snapshot positions among T for time_points K (0 = all), subsample period P (0 = evenly
/// spaced) and the random start drawn from `seed`'s stream "observe.time_start" keyed by `run`.
/// Throws user_error naming `run` when T cannot give them.
std::vector<long> kept_snapshots(long T, long K, long P, std::uint64_t seed, const std::string& run);

} // namespace eisim::observe
