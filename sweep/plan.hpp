#pragma once
// A sweep file, read and expanded: every combination of its axes resolved to a validated config,
// combinations that resolve to the same config merged, each run named by a stable hash of its
// config (docs/sweeps.md).
//
//   base = "examples/perceptual_decision.toml"   # optional; the built-in defaults when absent
//   [set]                                         # fixed overrides, applied to every run
//   "training.steps" = 50
//   [grid]                                        # the cartesian product of these lists
//   "plasticity.geometry" = ["eg", "euclidean"]
//   "training.seed" = { range = [1, 20] }         # integers, both ends included (optional step)
//   [zip]                                         # lists of one length, varied together: one axis
//   "task.kind" = ["perceptual_decision", "context_integration"]
//   "task.duration_ms" = [300.0, 500.0]
//
// Keys are any `eisim run --set` key, quoted ("training.seed") or as dotted TOML keys. Axes vary
// in the order the file gives them, the first slowest; `[[zip]]` tables give several zip axes.
// A relative base is found beside the sweep file, else in the working directory.
#include <cstddef>
#include <string>
#include <vector>

#include "sim/config.hpp"

namespace eisim::sweep {

/// One swept value: as TOML writes it (for --set and the config) and as the manifest shows it
/// (strings without quotes).
struct swept_value {
    std::string toml, shown;
};

/// One run of the sweep: a distinct resolved config.
struct sweep_point {
    std::string id;                  // fnv1a hex of the canonical resolved config (to_toml without comments)
    std::size_t combination = 0;     // the first combination (1-based) that resolves to it
    std::vector<swept_value> values; // one per swept key (sweep_plan::swept_keys), of that combination
    config resolved;                 // validated
};

/// Two combinations with the same resolved config: the later one is run as the earlier one.
struct merged_combination {
    std::size_t combination, same_as; // 1-based
};

struct sweep_plan {
    std::string file;                    // the sweep file as given
    std::string base;                    // the base config's path ("" = the built-in defaults)
    std::vector<std::string> sets;       // "key=value", in file order
    std::vector<std::string> swept_keys; // every swept key, axis by axis
    std::size_t combinations = 0;        // the product of the axis lengths
    std::vector<sweep_point> points;     // in combination order, without the merged ones
    std::vector<merged_combination> merged;
    std::vector<std::string> notes;      // what resolving told (keys left out where they have no effect)

    /// "key = value, key = value" of a point's swept values.
    std::string describe(const sweep_point& p) const;
};

/// Read, expand and validate a sweep file. Any problem (not TOML, an unknown section, a list
/// where none belongs, zip lists of unequal lengths, a key swept twice, a combination eisim would
/// refuse) is a user_error naming the file, the axis or key, and the combination (exit code 2).
sweep_plan read_sweep(const std::string& path);

/// The same from TOML text; relative bases are found in `folder`.
sweep_plan parse_sweep(const std::string& text, const std::string& origin, const std::string& folder);

/// A run's id: 16 hex digits of FNV-1a over to_toml(c, false). The threads, the progress output
/// and the output path are options of a run, not of its config, so they never change it.
std::string run_id(const config& c);

} // namespace eisim::sweep
