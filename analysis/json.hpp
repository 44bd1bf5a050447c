#pragma once
// A tiny JSON value: enough to write the analysis report and to read it back (tests, tools).
// Objects keep their insertion order, so reports are written in a stable, readable order.
// Numbers that are not finite (NaN, ±Inf) are written as null: JSON has no spelling for them.
#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace eisim::analysis {

class json {
public:
    enum class kind { null, boolean, integer, number, string, array, object };

    json() = default;                                        // null
    json(std::nullptr_t) {}
    json(bool b): kind_(kind::boolean), b_(b) {}
    json(int i): kind_(kind::integer), i_(i) {}
    json(long i): kind_(kind::integer), i_(i) {}
    json(long long i): kind_(kind::integer), i_(i) {}
    json(double x): kind_(kind::number), x_(x) {}
    json(const char* s): kind_(kind::string), s_(s) {}
    json(std::string s): kind_(kind::string), s_(std::move(s)) {}
    static json array() { json j; j.kind_ = kind::array; return j; }
    static json object() { json j; j.kind_ = kind::object; return j; }
    template <typename T> static json array(const std::vector<T>& v) {
        json j = array();
        for (const auto& x: v) j.push_back(json(x));
        return j;
    }

    kind type() const { return kind_; }
    bool is_null() const { return kind_ == kind::null; }
    bool is_string() const { return kind_ == kind::string; }
    bool is_number() const { return kind_ == kind::number || kind_ == kind::integer; }
    bool is_array() const { return kind_ == kind::array; }
    bool is_object() const { return kind_ == kind::object; }

    // Access; a wrong kind or a missing key throws std::runtime_error naming it.
    bool as_bool() const;
    double as_double() const;
    long long as_int() const;
    const std::string& as_string() const;
    std::size_t size() const;                                // array or object
    const json& operator[](std::size_t i) const;             // array element
    const json& operator[](const std::string& key) const;    // object member
    bool contains(const std::string& key) const;
    /// A member by a dotted path, e.g. "projections.recurrent.blocks.all.geometry.best".
    const json& at_path(const std::string& dotted) const;
    const std::vector<std::pair<std::string, json>>& items() const;

    // Building.
    json& push_back(json v);
    /// Set (or replace) an object member; returns the member.
    json& set(const std::string& key, json v);

    /// Write with two-space indentation (indent < 0: on one line).
    void write(std::ostream& os, int indent = 2) const;
    std::string dump(int indent = 2) const;
    /// Parse a JSON text; throws std::runtime_error with the offset on malformed input.
    static json parse(const std::string& text);

private:
    kind kind_ = kind::null;
    bool b_ = false;
    long long i_ = 0;
    double x_ = 0;
    std::string s_;
    std::vector<json> a_;
    std::vector<std::pair<std::string, json>> o_;
    void write_at(std::ostream& os, int indent, int depth) const;
};

} // namespace eisim::analysis
