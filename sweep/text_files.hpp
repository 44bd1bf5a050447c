#pragma once
// The small files a sweep reads and writes (sweep files, status files, configs, manifests,
// summaries), whole. Internal to sweep/.
#include <optional>
#include <string>

namespace eisim::sweep {

/// The whole file, or nothing when it cannot be opened or read.
std::optional<std::string> read_text(const std::string& path);

/// Write `text` to `path` atomically: readers see the old file or the new one, never a part. The
/// temporary file beside it is named after this host and process, so that ranks and shards that
/// write the same file at once never write into each other's. Throws user_error on failure.
void write_atomically(const std::string& path, const std::string& text);

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s);

} // namespace eisim::sweep
