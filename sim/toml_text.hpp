#pragma once
// TOML text as a toml11 value, for every reader of eisim's TOML (configs, sweep files).
#include <string>
#include <toml.hpp>

namespace eisim {

/// Parse `text`; text that is not TOML throws config_error "<origin> is not valid TOML: <the
/// parser's message, at most 600 characters>".
toml::value parse_toml_text(const std::string& text, const std::string& origin);

} // namespace eisim
