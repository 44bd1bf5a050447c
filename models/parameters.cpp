#include "models/parameters.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace eisim {

namespace {

std::string number_text(double v) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

template <typename T>
const T& held(const std::map<std::string, param_value>& values, const std::string& name, const char* type) {
    auto it = values.find(name);
    if (it == values.end()) throw std::logic_error("component key '" + name + "' was never declared");
    if (!std::holds_alternative<T>(it->second)) throw std::logic_error("component key '" + name + "' is not " + type);
    return std::get<T>(it->second);
}

} // namespace

bool key_spec::same_as(const key_spec& o) const {
    return name == o.name && fallback == o.fallback && lo == o.lo && hi == o.hi && lo_open == o.lo_open && choices == o.choices;
}

std::string key_spec::allowed() const {
    if (std::holds_alternative<bool>(fallback)) return "true or false";
    if (std::holds_alternative<std::string>(fallback)) {
        if (choices.empty()) return "a string";
        std::string s;
        for (auto& c: choices) s += (s.empty()? "": ", ") + c;
        return "one of: " + s;
    }
    std::string s = std::holds_alternative<std::int64_t>(fallback)? "an integer": "a number";
    const double inf = std::numeric_limits<double>::infinity();
    if (lo > -inf) s += (lo_open? " > ": " >= ") + number_text(lo);
    if (hi < inf) s += (lo > -inf? " and <= ": " <= ") + number_text(hi);
    return s;
}

std::string key_spec::check(const param_value& v) const {
    if (v.index() != fallback.index()) return "expected " + allowed();
    if (auto* s = std::get_if<std::string>(&v))
        return choices.empty() || std::find(choices.begin(), choices.end(), *s) != choices.end()? "": "expected " + allowed();
    double x;
    if (auto* i = std::get_if<std::int64_t>(&v)) x = static_cast<double>(*i);
    else if (auto* d = std::get_if<double>(&v)) x = *d;
    else return "";
    const bool above = lo_open? x > lo: x >= lo;
    return above && x <= hi? "": "expected " + allowed();
}

key_spec real_key(std::string name, double fallback, double lo, double hi, std::string doc, bool lo_open) {
    return {std::move(name), fallback, std::move(doc), lo, hi, lo_open, {}};
}

key_spec integer_key(std::string name, std::int64_t fallback, double lo, double hi, std::string doc) {
    return {std::move(name), fallback, std::move(doc), lo, hi, false, {}};
}

key_spec flag_key(std::string name, bool fallback, std::string doc) {
    return {std::move(name), fallback, std::move(doc)};
}

key_spec choice_key(std::string name, std::string fallback, std::vector<std::string> choices, std::string doc) {
    key_spec k{std::move(name), std::move(fallback), std::move(doc)};
    k.choices = std::move(choices);
    return k;
}

void parameters::declare(const std::vector<key_spec>& keys) {
    for (auto& k: keys) values_.emplace(k.name, k.fallback);
}

void parameters::set(const std::string& name, param_value v) {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::logic_error("component key '" + name + "' was never declared");
    if (it->second.index() != v.index()) throw std::logic_error("component key '" + name + "' set with a value of another type");
    it->second = std::move(v);
    given_.insert(name);
}

void parameters::reset(const std::string& name, param_value fallback) {
    set(name, std::move(fallback));
    given_.erase(name);
}

double parameters::real(const std::string& name) const { return held<double>(values_, name, "a number"); }
std::int64_t parameters::integer(const std::string& name) const { return held<std::int64_t>(values_, name, "an integer"); }
bool parameters::flag(const std::string& name) const { return held<bool>(values_, name, "true or false"); }
const std::string& parameters::text(const std::string& name) const { return held<std::string>(values_, name, "a string"); }

const param_value& parameters::value(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::logic_error("component key '" + name + "' was never declared");
    return it->second;
}

} // namespace eisim
