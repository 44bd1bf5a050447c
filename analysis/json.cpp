#include "analysis/json.hpp"

#include <stdexcept>

namespace eisim::analysis {

const json& at_path(const json& j, const std::string& dotted) {
    const json* at = &j;
    std::size_t start = 0;
    while (start <= dotted.size()) {
        const auto dot = dotted.find('.', start);
        const std::string key = dotted.substr(start, dot == std::string::npos? std::string::npos: dot - start);
        if (!at->is_object() || !at->contains(key))
            throw std::runtime_error("json: no member '" + dotted.substr(0, dot == std::string::npos? dotted.size(): dot) + "'");
        at = &(*at)[key];
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return *at;
}

std::string dump(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

} // namespace eisim::analysis
