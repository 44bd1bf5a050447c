#pragma once
// Experimental realism: degrade ground-truth synaptic weights the way a real measurement is
// degraded, so that an analysis can be asked how well it survives. Pure functions on in-memory
// data (no files); every random draw comes from an explicit seeded stream (models/random.hpp).
//
// The transforms, applied to one projection with synapses k = 0..n−1 (the run file's synapse
// order) and weight snapshots t = 0..T−1 (the run file's trajectory rows), w_tk signed:
//
//   observe_neurons F     each cell i of the "network" population is observed iff U_i < F,
//                         U_i the i-th uniform draw of stream(seed, "realism.neurons"). A synapse
//                         is kept only if each of its endpoints that is a network cell is observed
//                         (input and output channels are the experimenter's own stimulus and
//                         readout: always known). As in a paired recording or an EM volume: only
//                         the synapses among the recorded cells are seen. The same cells for every
//                         projection.
//   observe_synapses F    synapse k is kept iff V_k < F, V_k the k-th uniform draw of
//                         stream(seed, "realism.synapses.<projection>"). Each synapse is seen with
//                         probability F, independently.
//   noise_multiplicative S   w̃_tk = w_tk · exp(S ξ_tk)      (log-normal: ln|w̃/w| ~ N(0, S²), sign kept)
//   noise_additive S         w̃_tk = w̃_tk + S η_tk           (after the multiplicative noise)
//                         ξ_tk, η_tk ~ N(0, 1): the k-th draw of stream(seed,
//                         "realism.noise_multiplicative.<projection>", t), resp. ".noise_additive.".
//                         Independent per synapse and snapshot; drawn for all n synapses, so the
//                         noise on a synapse does not depend on which others are observed.
//   detection_threshold T a measured weight with |w̃_tk| < T is not detected: NaN at that snapshot.
//   time_points K         only the snapshots at positions round(j (T−1)/(K−1)), j = 0..K−1, are
//                         kept (the first and the last always); all of them when K = 0 or K ≥ T.
//
// The observed subset of a projection: the synapses kept by both sampling rules that are detected
// at one or more kept snapshots. Every transform is off by default, and off means exactly the
// identity: all synapses, all snapshots, the weights bit for bit.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/types.hpp"

namespace eisim::analysis {

/// The options of the realism transforms and their seed (defaults: every transform off).
struct realism {
    double observe_synapses = 1;     // F ∈ (0, 1]
    double observe_neurons = 1;      // F ∈ (0, 1]
    double noise_multiplicative = 0; // S ≥ 0 (sd of ln|w̃/w|)
    double noise_additive = 0;       // S ≥ 0 (sd of w̃ − w, in weight units)
    double detection_threshold = 0;  // T ≥ 0 (weight units)
    long time_points = 0;            // K = 0 (all) or K ≥ 2
    std::uint64_t seed = 1;

    /// Is any transform on?
    bool active() const;
    /// Throws eisim::user_error naming the option ("--observe-synapses", ...) and its allowed range.
    void validate() const;
    /// "observe_synapses=0.5, noise_multiplicative=0.2, seed=1", or "none".
    std::string describe() const;
};

/// The structure of one projection, as the transforms need it.
struct synapse_table {
    std::string projection;     // names the random streams: "recurrent", "input", ...
    index_vector pre, post;     // endpoint indices of each synapse
    bool pre_is_network = true; // endpoints in the "network" population (cells); else channels
    bool post_is_network = true;
    long size() const { return static_cast<long>(pre.size()); }
};

/// Weight snapshots of one projection.
struct weight_series {
    std::vector<long> snapshot; // the run-file trajectory row of each row of w (keys the noise)
    matrix w;                   // [rows × n] signed weights
};

/// What a degraded measurement of one projection sees.
struct observation {
    std::vector<long> synapse;  // synapse ids (run-file order), increasing
    std::vector<long> rows;     // the kept rows of the input series, increasing
    std::vector<long> snapshot; // the run-file trajectory row of each kept row
    matrix w;                   // [rows.size() × synapse.size()] measured weights; NaN = not detected
};

/// The observed cells of the network population (all true when observe_neurons = 1).
std::vector<bool> observed_cells(const realism& r, long n_cells);
/// The same cells, and in each group of cells [first, first + size) (a population) that has none
/// observed, the one with the smallest draw U_i: at least one cell of every population is seen.
std::vector<bool> observed_cells(const realism& r, long n_cells, const std::vector<std::pair<long, long>>& groups);

/// The synapses kept by the two sampling rules (observe_neurons, observe_synapses), increasing.
/// `cells` is observed_cells(r, N); every network endpoint must be < cells.size().
std::vector<long> sample_synapses(const realism& r, const synapse_table& table, const std::vector<bool>& cells);

/// The measured weights of `synapses` at run-file snapshot `snapshot`, from the true weights `w`
/// of all n synapses of the projection: noise, then the detection threshold (NaN = not detected).
vector measure(const realism& r, const std::string& projection, long snapshot, const vector& w,
               const std::vector<long>& synapses);

/// The kept positions among T snapshots (time_points), increasing.
std::vector<long> kept_time_points(long time_points, long T);

/// All the transforms on one projection: sample, keep time points, measure, and drop the
/// synapses that are detected at no kept snapshot.
observation apply(const realism& r, const synapse_table& table, const std::vector<bool>& cells,
                  const weight_series& series);

/// The before/after view an analysis compares: the measured weights of one projection at two
/// trajectory rows (apply on those two rows), as full-length vectors indexed by synapse id, NaN for
/// the synapses not observed, and the ids of the observed ones.
struct measured_pair {
    std::vector<long> synapse; // observed synapse ids, increasing
    vector from, to;           // [n] measured weights; NaN where not observed or not detected
};
measured_pair measure_pair(const realism& r, const synapse_table& table, const std::vector<bool>& cells,
                           long from_row, const vector& w_from, long to_row, const vector& w_to);

} // namespace eisim::analysis
