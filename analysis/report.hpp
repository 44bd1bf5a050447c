#pragma once
// The analysis report as JSON (schema "eisim.analysis", version 2; every field is described in
// analysis/README.md) and as a readable table. Non-finite numbers are written as null.
#include <ostream>
#include <string>
#include <vector>

#include "analysis/analyze.hpp"
#include "analysis/json.hpp"

namespace eisim::analysis {

constexpr int report_schema_version = 2;

json to_json(const analysis_report& r);
/// Write the JSON report to `path` (user_error when it cannot be written).
void write_json(const analysis_report& r, const std::string& path);
/// The readable table printed by `eisim analyze`.
void print_table(std::ostream& os, const analysis_report& r);
/// A list of candidate names with runs of consecutive p values shortened: "eg, p=1.1..1.4".
std::string compress_names(const std::vector<std::string>& names);

} // namespace eisim::analysis
