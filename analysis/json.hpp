#pragma once
// JSON values of the analysis report and the SONATA circuit config: nlohmann::ordered_json
// (Debian nlohmann-json3-dev), whose objects keep their insertion order, so that reports are
// written in a stable, readable order. Numbers that are not finite (NaN, ±Inf) are written as
// null: JSON has no spelling for them.
#include <string>

#include <nlohmann/json.hpp>

namespace eisim::analysis {

using json = nlohmann::ordered_json;

/// A member by a dotted path, e.g. "projections.recurrent.blocks.all.geometry.best"; a missing
/// member or a step into a value that is not an object throws std::runtime_error naming the path.
const json& at_path(const json& j, const std::string& dotted);
/// The text of `j` with two-space indentation (indent < 0: on one line). Bytes that are not UTF-8
/// (in a file name, say) are replaced by U+FFFD rather than refused.
std::string dump(const json& j, int indent = 2);

} // namespace eisim::analysis
