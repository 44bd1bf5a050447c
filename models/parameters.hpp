#pragma once
// The config keys a component carries (a geometry's exponent, a credit rule's noise, an input's
// time constant), declared beside the component and registered with it (models/registry.hpp), as
// the parameters of a mechanism in Arbor's catalogue or of a model in NEST:
//
//   key_spec     name, default (its type is the key's type), allowed range or choices, one-line doc
//   parameters   the values of one config section's component keys by name, every key at its
//                default until given; the config layer (sim/config.cpp) reads, checks and prints
//                them, and a component reads its own at construction.
//
// Nothing here knows a particular component: adding one with new keys touches no shared struct.
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace eisim {

/// A key's value: its type is fixed by the key's default.
using param_value = std::variant<bool, std::int64_t, double, std::string>;

struct key_spec {
    std::string name;
    param_value fallback; // the default
    std::string doc;
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    bool lo_open = false;             // numbers: lo itself is not allowed
    std::vector<std::string> choices; // strings: the allowed values (empty: any)

    bool same_as(const key_spec& o) const;
    /// The value's problem against this key's type and range ("" if none), e.g. "expected a number > 1".
    std::string check(const param_value& v) const;
    /// What is allowed, e.g. "a number > 1", "one of: trial, online".
    std::string allowed() const;
};

/// A real-valued key in [lo, hi] (lo excluded when lo_open).
key_spec real_key(std::string name, double fallback, double lo, double hi, std::string doc, bool lo_open = false);
key_spec integer_key(std::string name, std::int64_t fallback, double lo, double hi, std::string doc);
key_spec flag_key(std::string name, bool fallback, std::string doc);
key_spec choice_key(std::string name, std::string fallback, std::vector<std::string> choices, std::string doc);

/// The values of a section's component keys. declare() puts each key at its default; set()
/// records a value given in the config (checked by the config layer first).
class parameters {
public:
    void declare(const std::vector<key_spec>& keys);
    void set(const std::string& name, param_value v);
    void set(const std::string& name, const char* v) { set(name, param_value(std::string(v))); }
    /// Back to `fallback` (the key's default), as if never given.
    void reset(const std::string& name, param_value fallback);
    bool has(const std::string& name) const { return values_.count(name) > 0; }
    /// Whether the config gave this key (else it is at its default).
    bool given(const std::string& name) const { return given_.count(name) > 0; }

    double real(const std::string& name) const;
    std::int64_t integer(const std::string& name) const;
    bool flag(const std::string& name) const;
    const std::string& text(const std::string& name) const;
    const param_value& value(const std::string& name) const;

private:
    std::map<std::string, param_value> values_;
    std::set<std::string> given_;
};

} // namespace eisim
