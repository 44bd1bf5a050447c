#pragma once
// The message of the config error a TOML text (read on top of the defaults) gives, or "" if none.
#include <string>

#include "models/error.hpp"
#include "sim/config.hpp"

namespace eisim::test {

inline std::string config_error_of(const std::string& text) {
    try {
        parse_config(text, "test.toml", default_config());
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

} // namespace eisim::test
