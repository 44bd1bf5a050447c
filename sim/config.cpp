#include "sim/config.hpp"
#include "sim/toml_text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <toml.hpp>
#include <type_traits>

#include "models/error.hpp"
#include "models/trials.hpp"
#include "models/transfer.hpp"
#include "plasticity/geometry.hpp"
#include "plasticity/local_credit.hpp"
#include "sim/sonata_import.hpp"

namespace eisim {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

enum class vtype { integer, real, boolean, string, list, table };

// One TOML key: its section, name, type, allowed values and comment, and how to read and write it.
struct param {
    std::string section, key, doc;
    vtype type;
    double lo = -inf, hi = inf;
    bool lo_open = false;
    std::function<std::vector<std::string>()> choices; // allowed strings (string, list)
    std::function<std::string(const config&)> show;    // the current value as TOML
    std::function<void(config&, const toml::value&)> set;
    // A component's key (models/parameters.hpp): shown only while its component is chosen;
    // `stray` is the message for a value given while it is not ("" if none), `reset` its default.
    std::function<bool(const config&)> shown;
    std::function<std::string(const config&)> stray;
    std::function<void(config&)> reset;

    std::string name() const { return section + "." + key; }
};

std::string format_real(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0? "inf": "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v); // shortest text that reads back exactly
    std::string s(buf, res.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c: s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string describe(const toml::value& v) {
    try {
        std::ostringstream os;
        os << toml::format(v);
        std::string s = os.str();
        if (s.size() > 60) s = utf8_prefix(s, 57) + "...";
        return s;
    } catch (...) { return "(unprintable)"; }
}

std::string range_text(const param& p) {
    std::ostringstream os;
    if (p.type == vtype::integer) os << "an integer";
    else os << "a number";
    if (p.lo > -inf) os << (p.lo_open? " > ": " >= ") << format_real(p.lo);
    if (p.hi < inf) os << (p.lo > -inf? " and <= ": " <= ") << format_real(p.hi);
    return os.str();
}

[[noreturn]] void bad(const param& p, const toml::value& v, const std::string& allowed) {
    throw config_error(p.name(), "got " + describe(v) + ", expected " + allowed);
}

double checked_number(const param& p, const toml::value& v) {
    double x;
    if (v.is_integer()) x = static_cast<double>(v.as_integer());
    else if (v.is_floating() && p.type == vtype::real) x = v.as_floating();
    else bad(p, v, range_text(p));
    const bool above = p.lo_open? x > p.lo: x >= p.lo;
    if (!(above && x <= p.hi)) bad(p, v, range_text(p));
    return x;
}

std::string checked_string(const param& p, const toml::value& v) {
    auto allowed = [&] {
        std::string s;
        for (auto& c: p.choices()) s += (s.empty()? "": ", ") + c;
        return s;
    };
    if (!v.is_string()) bad(p, v, p.choices? "a string, one of: " + allowed(): "a string");
    std::string s = v.as_string();
    if (p.choices) {
        auto c = p.choices();
        if (std::find(c.begin(), c.end(), s) == c.end()) bad(p, v, "one of: " + allowed());
    }
    return s;
}

template <typename S, typename T>
param integer(const char* sec, const char* key, S config::*sp, T S::*mp, double lo, double hi, const char* doc) {
    param p{sec, key, doc, vtype::integer, lo, hi};
    p.show = [sp, mp](const config& c) { return std::to_string((c.*sp).*mp); };
    p.set = [p, sp, mp](config& c, const toml::value& v) { (c.*sp).*mp = static_cast<T>(checked_number(p, v)); };
    return p;
}

template <typename S>
param real(const char* sec, const char* key, S config::*sp, double S::*mp, double lo, double hi, const std::string& doc, bool lo_open = false) {
    param p{sec, key, doc, vtype::real, lo, hi, lo_open};
    p.show = [sp, mp](const config& c) { return format_real((c.*sp).*mp); };
    p.set = [p, sp, mp](config& c, const toml::value& v) { (c.*sp).*mp = checked_number(p, v); };
    return p;
}

template <typename S>
param boolean(const char* sec, const char* key, S config::*sp, bool S::*mp, const char* doc) {
    param p{sec, key, doc, vtype::boolean};
    p.show = [sp, mp](const config& c) { return std::string((c.*sp).*mp? "true": "false"); };
    p.set = [p, sp, mp](config& c, const toml::value& v) {
        if (!v.is_boolean()) bad(p, v, "true or false");
        (c.*sp).*mp = v.as_boolean();
    };
    return p;
}

template <typename S>
param string(const char* sec, const char* key, S config::*sp, std::string S::*mp,
             std::function<std::vector<std::string>()> choices, const std::string& doc) {
    param p{sec, key, doc, vtype::string};
    p.choices = std::move(choices);
    p.show = [sp, mp](const config& c) { return quote((c.*sp).*mp); };
    p.set = [p, sp, mp](config& c, const toml::value& v) { (c.*sp).*mp = checked_string(p, v); };
    return p;
}

template <typename S>
param list(const char* sec, const char* key, S config::*sp, std::vector<std::string> S::*mp,
           std::function<std::vector<std::string>()> choices, const std::string& doc) {
    param p{sec, key, doc, vtype::list};
    p.choices = std::move(choices);
    p.show = [sp, mp](const config& c) {
        std::string s = "[";
        for (auto& e: (c.*sp).*mp) s += (s.size() > 1? ", ": "") + quote(e);
        return s + "]";
    };
    p.set = [p, sp, mp](config& c, const toml::value& v) {
        if (!v.is_array()) bad(p, v, "a list of strings");
        std::vector<std::string> out;
        for (auto& e: v.as_array()) {
            std::string s = checked_string(p, e);
            if (std::find(out.begin(), out.end(), s) != out.end()) bad(p, v, "a list without repeats");
            out.push_back(s);
        }
        (c.*sp).*mp = out;
    };
    return p;
}

// A table of positive numbers keyed by names from `choices` (plasticity.learning_rates).
template <typename S>
param number_table(const char* sec, const char* key, S config::*sp, std::map<std::string, double> S::*mp, double hi,
                   std::function<std::vector<std::string>()> choices, const std::string& doc) {
    param p{sec, key, doc, vtype::table, 0, hi, true};
    p.choices = std::move(choices);
    p.show = [sp, mp](const config& c) {
        std::string s;
        for (auto& [k, v]: (c.*sp).*mp) s += (s.empty()? "{ ": ", ") + k + " = " + format_real(v);
        return s.empty()? std::string("{}"): s + " }";
    };
    p.set = [p, sp, mp](config& c, const toml::value& v) {
        if (!v.is_table()) bad(p, v, "a table of NAME = number, like { eg = 0.2, euclidean = 0.02 }");
        std::map<std::string, double> out;
        for (auto& [k, e]: v.as_table()) {
            checked_string(p, toml::value(k)); // a known name
            param entry = p;
            entry.key += "." + k;
            entry.type = vtype::real;
            out[k] = checked_number(entry, e);
        }
        (c.*sp).*mp = out;
    };
    return p;
}

std::function<std::vector<std::string>()> fixed(std::vector<std::string> v) {
    return [v] { return v; };
}

// ---- Components' own keys (models/parameters.hpp): declared with each registered component ----

std::string show_value(const param_value& v) {
    if (auto* b = std::get_if<bool>(&v)) return *b? "true": "false";
    if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    if (auto* d = std::get_if<double>(&v)) return format_real(*d);
    return quote(std::get<std::string>(v));
}

vtype type_of(const key_spec& k) {
    switch (k.fallback.index()) {
    case 0: return vtype::boolean;
    case 1: return vtype::integer;
    case 2: return vtype::real;
    default: return vtype::string;
    }
}

// The params of every key the components of registry `reg`, chosen by `chooser` of section
// `sec`, declare; a key several components share (with one spec) is one param.
template <typename S, typename R>
std::vector<param> component_params(const char* sec, S config::*sp, std::string S::*chooser, const R& reg) {
    std::vector<param> out;
    std::vector<std::shared_ptr<std::vector<std::string>>> owners;
    for (auto& name: reg.names()) {
        for (const key_spec& k: reg.get(name).keys) {
            auto it = std::find_if(out.begin(), out.end(), [&](const param& p) { return p.key == k.name; });
            if (it != out.end()) {
                owners[static_cast<std::size_t>(it - out.begin())]->push_back(name);
                continue;
            }
            auto own = std::make_shared<std::vector<std::string>>(std::vector<std::string>{name});
            owners.push_back(own);
            param p{sec, k.name, k.doc, type_of(k), k.lo, k.hi, k.lo_open};
            if (!k.choices.empty()) p.choices = fixed(k.choices);
            const std::string key = k.name;
            p.show = [sp, key](const config& c) { return show_value((c.*sp).keys.value(key)); };
            const vtype t = p.type;
            p.set = [p, sp, key, t](config& c, const toml::value& v) {
                switch (t) {
                case vtype::boolean:
                    if (!v.is_boolean()) bad(p, v, "true or false");
                    (c.*sp).keys.set(key, v.as_boolean());
                    break;
                case vtype::integer: (c.*sp).keys.set(key, static_cast<std::int64_t>(checked_number(p, v))); break;
                case vtype::real: (c.*sp).keys.set(key, checked_number(p, v)); break;
                default: (c.*sp).keys.set(key, checked_string(p, v)); break;
                }
            };
            const auto chosen = [sp, chooser, own](const config& c) {
                return std::find(own->begin(), own->end(), (c.*sp).*chooser) != own->end();
            };
            p.shown = chosen;
            const param_value fallback = k.fallback;
            const std::string what = reg.what();
            p.stray = [sp, chooser, own, key, fallback, chosen, what](const config& c) -> std::string {
                if (chosen(c) || !(c.*sp).keys.given(key) || (c.*sp).keys.value(key) == fallback) return "";
                std::string names;
                for (auto& o: *own) names += (names.empty()? "": " or ") + o;
                return "= " + show_value((c.*sp).keys.value(key)) + " is a key of " + what + " " + names + ", which is not the one chosen (" +
                       (c.*sp).*chooser + "): remove it, or choose " + names;
            };
            p.reset = [sp, key, fallback](config& c) { (c.*sp).keys.reset(key, fallback); };
            out.push_back(std::move(p));
        }
    }
    // A shared key must mean the same for each of its components.
    for (auto& name: reg.names())
        for (const key_spec& k: reg.get(name).keys)
            for (auto& other: reg.names())
                for (const key_spec& o: reg.get(other).keys)
                    if (k.name == o.name && !k.same_as(o))
                        throw std::logic_error("the " + reg.what() + "s " + name + " and " + other + " declare the key '" + k.name + "' differently");
    return out;
}

// "name (doc), name (doc; keys: a, b), ...": the components of `reg` with their own keys.
template <typename R>
std::string component_listing(const R& reg) {
    std::string s;
    for (auto& name: reg.names()) {
        const auto& e = reg.get(name);
        std::string keys;
        for (auto& k: e.keys) keys += (keys.empty()? "": ", ") + k.name;
        s += (s.empty()? "": ", ") + name + " (" + e.doc + (keys.empty()? "": "; keys: " + keys) + ")";
    }
    return s;
}

// ---- The circuit: [[populations]] and [[projections]], arrays of tables (docs/circuits.md) ----

// One key of a population or projection table: its comment, when it is shown (the model's or
// the rule's own keys only), how to print and how to set it. `path` names the element in
// messages, e.g. "projections[3].pre".
template <typename E>
struct element_key {
    std::string key, doc;
    std::function<bool(const E&)> shown;
    std::function<std::string(const E&)> show;
    std::function<void(E&, const toml::value&, const std::string& path)> set;
    // A component's key: the message for a value given while the component is not chosen ("" if
    // none), and the key's default.
    std::function<std::string(const E&)> stray = nullptr;
    std::function<void(E&)> reset = nullptr;
};

[[noreturn]] void bad_value(const std::string& path, const toml::value& v, const std::string& allowed) {
    throw config_error(path, "got " + describe(v) + ", expected " + allowed);
}

double element_number(const std::string& path, const toml::value& v, double lo, double hi, bool integer = false) {
    std::ostringstream allowed;
    allowed << (integer? "an integer": "a number") << " in [" << format_real(lo) << ", " << format_real(hi) << "]";
    double x;
    if (v.is_integer()) x = static_cast<double>(v.as_integer());
    else if (v.is_floating() && !integer) x = v.as_floating();
    else bad_value(path, v, allowed.str());
    if (!(x >= lo && x <= hi)) bad_value(path, v, allowed.str());
    return x;
}

std::string element_string(const std::string& path, const toml::value& v, const std::vector<std::string>& choices = {}) {
    std::string allowed;
    for (auto& c: choices) allowed += (allowed.empty()? "": ", ") + c;
    if (!v.is_string()) bad_value(path, v, choices.empty()? "a string": "a string, one of: " + allowed);
    const std::string s = v.as_string();
    if (!choices.empty() && std::find(choices.begin(), choices.end(), s) == choices.end()) bad_value(path, v, "one of: " + allowed);
    return s;
}

std::string element_name(const std::string& path, const toml::value& v) {
    const std::string s = element_string(path, v);
    const bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
    if (!ok) bad_value(path, v, "a name of letters, digits, '_' and '-'");
    return s;
}

std::string show_block(const block_values& b) {
    if (!b.is_table()) return format_real(b.value);
    std::string s = "[";
    for (std::size_t r = 0; r < b.table.size(); ++r) {
        s += r? ", [": "[";
        for (std::size_t c = 0; c < b.table[r].size(); ++c) s += (c? ", ": "") + format_real(b.table[r][c]);
        s += "]";
    }
    return s + "]";
}

block_values element_block(const std::string& path, const toml::value& v, double lo, double hi) {
    if (!v.is_array()) return block_values(element_number(path, v, lo, hi));
    std::vector<std::vector<double>> table;
    for (auto& row: v.as_array()) {
        if (!row.is_array()) bad_value(path, v, "a number, or a table [[...], ...] with one row per post population");
        table.emplace_back();
        for (auto& x: row.as_array()) table.back().push_back(element_number(path, x, lo, hi));
    }
    if (table.empty()) bad_value(path, v, "a number, or a non-empty table");
    return block_values(std::move(table));
}

std::string show_names(const std::vector<std::string>& v) {
    if (v.size() == 1) return quote(v[0]);
    std::string s = "[";
    for (auto& e: v) s += (s.size() > 1? ", ": "") + quote(e);
    return s + "]";
}

std::vector<std::string> element_names(const std::string& path, const toml::value& v) {
    if (v.is_string()) return {element_name(path, v)};
    if (!v.is_array() || v.as_array().empty()) bad_value(path, v, "a population name, or a list of them");
    std::vector<std::string> out;
    for (auto& e: v.as_array()) out.push_back(element_name(path, e));
    return out;
}

// The CSV of an explicit synapse list: a header naming pre, post and (optionally) magnitude, then
// one synapse per row.
std::vector<listed_synapse> read_synapse_csv(const std::string& file, const std::string& path) {
    std::ifstream in(file);
    if (!in) throw config_error(path, "cannot read the synapse list '" + file + "'");
    std::string line;
    const auto split = [](const std::string& l) {
        std::vector<std::string> cells;
        std::string cell;
        std::istringstream is(l);
        while (std::getline(is, cell, ',')) {
            const auto a = cell.find_first_not_of(" \t\r"), b = cell.find_last_not_of(" \t\r");
            cells.push_back(a == std::string::npos? "": cell.substr(a, b - a + 1));
        }
        return cells;
    };
    if (!std::getline(in, line)) throw config_error(path, "'" + file + "' is empty; it needs the header pre,post,magnitude");
    const auto header = split(line);
    long col[3] = {-1, -1, -1};
    const char* names[3] = {"pre", "post", "magnitude"};
    for (std::size_t c = 0; c < header.size(); ++c)
        for (int k = 0; k < 3; ++k) if (header[c] == names[k]) col[k] = static_cast<long>(c);
    if (col[0] < 0 || col[1] < 0) throw config_error(path, "'" + file + "': the header '" + line + "' lacks pre and post (expected pre,post,magnitude)");
    std::vector<listed_synapse> out;
    for (long row = 2; std::getline(in, line); ++row) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const auto cells = split(line);
        const auto cell = [&](int k) -> const std::string& {
            if (static_cast<std::size_t>(col[k]) >= cells.size())
                throw config_error(path, "'" + file + "' row " + std::to_string(row) + ": no " + names[k] + " value");
            return cells[static_cast<std::size_t>(col[k])];
        };
        listed_synapse s;
        for (int k = 0; k < 2; ++k) {
            const std::string& t = cell(k);
            std::int64_t v = 0;
            const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
            if (r.ec != std::errc() || r.ptr != t.data() + t.size())
                throw config_error(path, "'" + file + "' row " + std::to_string(row) + ": " + names[k] + " = '" + t + "' is not an integer id");
            (k == 0? s.pre: s.post) = v;
        }
        if (col[2] >= 0) {
            const std::string& t = cell(2);
            char* end = nullptr;
            s.magnitude = std::strtod(t.c_str(), &end);
            if (t.empty() || end != t.c_str() + t.size())
                throw config_error(path, "'" + file + "' row " + std::to_string(row) + ": magnitude = '" + t + "' is not a number");
        } else {
            s.magnitude = std::numeric_limits<double>::quiet_NaN();
        }
        out.push_back(s);
    }
    return out;
}

// A component key's value in an element's table, checked against its spec (models/parameters.hpp).
param_value element_value(const key_spec& k, const toml::value& v, const std::string& at) {
    param_value out;
    switch (k.fallback.index()) {
    case 0: if (!v.is_boolean()) bad_value(at, v, k.allowed()); out = v.as_boolean(); break;
    case 1: if (!v.is_integer()) bad_value(at, v, k.allowed()); out = static_cast<std::int64_t>(v.as_integer()); break;
    case 2:
        if (v.is_integer()) out = static_cast<double>(v.as_integer());
        else if (v.is_floating()) out = v.as_floating();
        else bad_value(at, v, k.allowed());
        break;
    default: if (!v.is_string()) bad_value(at, v, k.allowed()); out = v.as_string(); break;
    }
    if (!k.check(out).empty()) bad_value(at, v, k.allowed());
    return out;
}

// The keys of a [[populations]] table: name, model, size, sign, then the neuron models' own keys
// (models/circuit.hpp), each shown while its population chose its model (and, for keys of a
// component the model chooses, as rate's transfer functions, that component). A key given for a
// model or component not chosen is `stray` (validate() refuses it).
const std::vector<element_key<population_desc>>& population_keys() {
    using P = population_desc;
    static const std::vector<element_key<P>> keys = [] {
        const auto always = [](const P&) { return true; };
        std::vector<element_key<P>> out = {
            {"name", "the population's name (letters, digits, '_', '-')", always, [](const P& p) { return quote(p.name); },
             [](P& p, const toml::value& v, const std::string& at) { p.name = element_name(at, v); }},
            {"model", "neuron model: " + neuron_models().listing(), always, [](const P& p) { return quote(p.model); },
             [](P& p, const toml::value& v, const std::string& at) { p.model = element_string(at, v, neuron_models().names()); }},
            {"size", "number of cells", always, [](const P& p) { return std::to_string(p.size); },
             [](P& p, const toml::value& v, const std::string& at) { p.size = static_cast<int>(element_number(at, v, 1, 20000, true)); }},
            {"sign", "Dale's law: excitatory or inhibitory, the sign of every outgoing synapse",
             [](const P& p) { return neuron_models().get(p.model).has_sign; }, [](const P& p) { return quote(p.sign); },
             [](P& p, const toml::value& v, const std::string& at) { p.sign = element_string(at, v, {"excitatory", "inhibitory"}); }},
        };
        // A key's owners: the models that declare it, with the component of the model's chooser
        // ("" for the model's own keys). Models may share a key of one spec (lif and alif).
        struct owner { std::string model, component; };
        std::map<std::string, std::shared_ptr<std::vector<owner>>> owners;
        const auto add = [&](const key_spec& k, owner o, const std::string& chooser) {
            if (auto it = owners.find(k.name); it != owners.end()) {
                it->second->push_back(o);
                return;
            }
            for (auto& e: out)
                if (e.key == k.name) throw std::logic_error("the population key '" + k.name + "' is declared twice");
            auto own = owners[k.name] = std::make_shared<std::vector<owner>>(std::vector<owner>{o});
            const auto chosen = [own, chooser](const P& p) {
                for (auto& o: *own)
                    if (p.model == o.model && (o.component.empty() || p.keys.text(chooser) == o.component)) return true;
                return false;
            };
            const std::string name = k.name;
            const param_value fallback = k.fallback;
            element_key<P> e{k.name, k.doc, chosen, [name](const P& p) { return show_value(p.keys.value(name)); },
                             [k](P& p, const toml::value& v, const std::string& at) { p.keys.set(k.name, element_value(k, v, at)); }};
            e.stray = [chosen, name, fallback, own, chooser](const P& p) -> std::string {
                if (chosen(p) || !p.keys.given(name) || p.keys.value(name) == fallback) return "";
                std::string what;
                for (auto& o: *own)
                    what += (what.empty()? "": " or ") + (o.component.empty()? o.model: o.component);
                const owner& o = own->front();
                const bool component = !o.component.empty() && p.model == o.model;
                what = (o.component.empty()? "neuron model ": transfer_registry().what() + " ") + what;
                const std::string now = component? chooser + " = " + p.keys.text(chooser): "model = " + p.model;
                return "= " + show_value(p.keys.value(name)) + " is a key of " + what + ", which is not the one chosen (" + now + "): remove it";
            };
            e.reset = [name, fallback](P& p) { p.keys.reset(name, fallback); };
            out.push_back(std::move(e));
        };
        for (auto& m: neuron_models().names()) {
            const neuron_model& model = neuron_models().get(m);
            for (auto& k: model.keys) add(k, {m, ""}, model.chooser);
            for (auto& [component, own]: model.chosen_keys)
                for (auto& k: own) add(k, {m, component}, model.chooser);
        }
        return out;
    }();
    return keys;
}

const std::vector<element_key<projection_desc>>& projection_keys() {
    using Q = projection_desc;
    const auto always = [](const Q&) { return true; };
    const auto sized = [](const char* by) { return [by](const Q& q) { return q.weights != "file" && q.size_by == by; }; };
    const auto set_size = [](const char* by) {
        return [by](Q& q, const toml::value& v, const std::string& at) {
            (std::string(by) == "scale"? q.scale: std::string(by) == "median"? q.median: q.mean) = element_block(at, v, 0, 1e6);
            q.size_by = by;
        };
    };
    const auto show_size = [](const char* by) {
        return [by](const Q& q) { return show_block(std::string(by) == "scale"? q.scale: std::string(by) == "median"? q.median: q.mean); };
    };
    static const std::vector<element_key<Q>> keys = {
        {"name", "the projection's name: /network/<name> and /trajectory/<name> in the run file", always,
         [](const Q& q) { return quote(q.name); }, [](Q& q, const toml::value& v, const std::string& at) { q.name = element_name(at, v); }},
        {"pre", "presynaptic population, or a list whose cells are concatenated in order", always,
         [](const Q& q) { return show_names(q.pre); }, [](Q& q, const toml::value& v, const std::string& at) { q.pre = element_names(at, v); }},
        {"post", "postsynaptic population, or a list", always, [](const Q& q) { return show_names(q.post); },
         [](Q& q, const toml::value& v, const std::string& at) { q.post = element_names(at, v); }},
        {"connectivity", "bernoulli (p), fixed_indegree (k), all_to_all, one_to_one, file (an explicit list), or sonata "
                         "(the edges of [circuit] sonata: set by the import)", always,
         [](const Q& q) { return quote(q.connectivity); },
         [](Q& q, const toml::value& v, const std::string& at) {
             q.connectivity = element_string(at, v, {"bernoulli", "fixed_indegree", "all_to_all", "one_to_one", "file", "sonata"});
         }},
        {"p", "bernoulli: connection probability; a number, or a table [post][pre] (block XY: post X, pre Y)",
         [](const Q& q) { return q.connectivity == "bernoulli"; }, [](const Q& q) { return show_block(q.p); },
         [](Q& q, const toml::value& v, const std::string& at) { q.p = element_block(at, v, 0, 1); }},
        {"k", "fixed_indegree: presynaptic partners of every post cell from each pre population (number or table)",
         [](const Q& q) { return q.connectivity == "fixed_indegree"; }, [](const Q& q) { return show_block(q.k); },
         [](Q& q, const toml::value& v, const std::string& at) { q.k = element_block(at, v, 0, 1e9); }},
        {"file", "file: CSV with the header pre,post,magnitude (ids index the concatenated cells of pre and of post)",
         [](const Q& q) { return q.connectivity == "file"; }, [](const Q& q) { return quote(q.file); }, nullptr}, // set by set_file
        {"autapses", "whether a cell may synapse onto itself (where pre and post share a population)", always,
         [](const Q& q) { return std::string(q.autapses? "true": "false"); },
         [](Q& q, const toml::value& v, const std::string& at) {
             if (!v.is_boolean()) bad_value(at, v, "true or false");
             q.autapses = v.as_boolean();
         }},
        {"weights", "initial magnitudes: lognormal, gamma, constant, or file (the list's magnitude column)", always,
         [](const Q& q) { return quote(q.weights); },
         [](Q& q, const toml::value& v, const std::string& at) { q.weights = element_string(at, v, {"lognormal", "gamma", "constant", "file"}); }},
        {"scale", "summed typical input of a block: typical magnitude = scale / max(expected in-degree, 1) (number or table)",
         sized("scale"), show_size("scale"), set_size("scale")},
        {"median", "lognormal: median magnitude (instead of scale; number or table)", sized("median"), show_size("median"), set_size("median")},
        {"mean", "mean magnitude (instead of scale; number or table)", sized("mean"), show_size("mean"), set_size("mean")},
        {"sigma_ln", "lognormal: sd of ln(magnitude) (Song et al. 2005: 0.9355)", [](const Q& q) { return q.weights == "lognormal"; },
         [](const Q& q) { return format_real(q.sigma_ln); },
         [](Q& q, const toml::value& v, const std::string& at) { q.sigma_ln = element_number(at, v, 0, 10); }},
        {"shape", "gamma: shape k of Gamma(k, mean/k) (Song, Yang & Wang 2016: 2)", [](const Q& q) { return q.weights == "gamma"; },
         [](const Q& q) { return format_real(q.shape); },
         [](Q& q, const toml::value& v, const std::string& at) {
             q.shape = element_number(at, v, 0, 1e6);
             if (q.shape <= 0) bad_value(at, v, "a number > 0");
         }},
        {"delay", "synaptic delay in time steps (rate populations: 0 only; spiking: >= 1)", always, [](const Q& q) { return std::to_string(q.delay); },
         [](Q& q, const toml::value& v, const std::string& at) { q.delay = static_cast<int>(element_number(at, v, 0, 1e6, true)); }},
        {"tau_syn_ms", "spiking circuits: synaptic time constant of this projection's currents (ms; 0, and not printed: the post "
                       "population's tau_syn_e_ms or tau_syn_i_ms by the pre population's sign)", [](const Q& q) { return q.tau_syn_ms != 0.0; },
         [](const Q& q) { return format_real(q.tau_syn_ms); },
         [](Q& q, const toml::value& v, const std::string& at) { q.tau_syn_ms = element_number(at, v, 0, 1e6); }},
        {"plastic", "whether the projection learns under [plasticity] (false: frozen)", always,
         [](const Q& q) { return std::string(q.plastic? "true": "false"); },
         [](Q& q, const toml::value& v, const std::string& at) {
             if (!v.is_boolean()) bad_value(at, v, "true or false");
             q.plastic = v.as_boolean();
         }},
    };
    return keys;
}

// connectivity.file: resolved against `base` (the config file's folder) and read now.
void set_file(projection_desc& q, const toml::value& v, const std::string& at, const std::string& base) {
    const std::string given = element_string(at, v);
    std::filesystem::path path(given);
    if (path.is_relative() && !base.empty()) path = std::filesystem::path(base)/path;
    q.file = std::filesystem::absolute(path).lexically_normal().string();
    q.listed = read_synapse_csv(q.file, at);
}

template <typename E>
std::string known_element_keys(const std::vector<element_key<E>>& keys) {
    std::string s;
    for (auto& k: keys) s += (s.empty()? "": ", ") + k.key;
    return s;
}

template <typename E>
void set_element_key(E& e, const std::vector<element_key<E>>& keys, const std::string& key, const toml::value& v,
                     const std::string& at, const std::string& base) {
    for (auto& k: keys) {
        if (k.key != key) continue;
        if constexpr (std::is_same_v<E, projection_desc>)
            if (key == "file") { set_file(e, v, at, base); return; }
        k.set(e, v, at);
        return;
    }
    throw config_error(at, "unknown key; known keys: " + known_element_keys(keys));
}

// One array of tables: every element starts from the description's defaults, `required` keys must
// be given.
template <typename E>
std::vector<E> read_elements(const toml::value& array, const char* section, const std::vector<element_key<E>>& keys,
                             const std::vector<std::string>& required, const std::string& base) {
    if (!array.is_array() || array.as_array().empty())
        throw config_error(section, std::string("must be an array of tables: [[") + section + "]], one per element");
    std::vector<E> out;
    for (std::size_t i = 0; i < array.as_array().size(); ++i) {
        const toml::value& t = array.as_array()[i];
        const std::string at = std::string(section) + "[" + std::to_string(i) + "]";
        if (!t.is_table()) throw config_error(at, "must be a table [[" + std::string(section) + "]], got " + describe(t));
        E e;
        for (auto& r: required)
            if (!t.as_table().count(r)) throw config_error(at + "." + r, "missing; every element of [[" + std::string(section) + "]] needs it");
        for (auto& [key, value]: t.as_table()) set_element_key(e, keys, key, value, at + "." + key, base);
        out.push_back(std::move(e));
    }
    return out;
}

// An array of tables on top of `existing` elements (the imported ones): an element of an existing
// name amends it (only `name` is required), every other one is a new element with its
// `required` keys, added after them.
template <typename E>
void merge_elements(std::vector<E>& existing, const toml::value& array, const char* section, const std::vector<element_key<E>>& keys,
                    const std::vector<std::string>& required, const std::string& base) {
    if (!array.is_array() || array.as_array().empty())
        throw config_error(section, std::string("must be an array of tables: [[") + section + "]], one per element");
    const std::size_t imported = existing.size();
    std::set<std::string> amended;
    for (std::size_t i = 0; i < array.as_array().size(); ++i) {
        const toml::value& t = array.as_array()[i];
        const std::string at = std::string(section) + "[" + std::to_string(i) + "]";
        if (!t.is_table()) throw config_error(at, "must be a table [[" + std::string(section) + "]], got " + describe(t));
        if (!t.as_table().count("name"))
            throw config_error(at + ".name", "missing; every element of [[" + std::string(section) + "]] needs it");
        const std::string name = element_name(at + ".name", t.as_table().at("name"));
        std::size_t k = 0;
        while (k < imported && existing[k].name != name) ++k;
        if (k < imported) {
            if (!amended.insert(name).second)
                throw config_error(at + ".name", "\"" + name + "\": a second element amending the imported " + section + " element of that name");
            // Messages name the element's place in the circuit, as validation does.
            const std::string here = std::string(section) + "[" + std::to_string(k) + "]";
            for (auto& [key, value]: t.as_table()) set_element_key(existing[k], keys, key, value, here + "." + key, base);
            continue;
        }
        for (auto& r: required)
            if (!t.as_table().count(r)) throw config_error(at + "." + r, "missing; every element of [[" + std::string(section) + "]] needs it");
        E e;
        const std::string here = std::string(section) + "[" + std::to_string(existing.size()) + "]";
        for (auto& [key, value]: t.as_table()) set_element_key(e, keys, key, value, here + "." + key, base);
        existing.push_back(std::move(e));
    }
}

template <typename E>
void print_elements(std::ostream& os, const std::vector<E>& elements, const char* section, const std::vector<element_key<E>>& keys,
                    bool comments) {
    std::set<std::string> commented; // each key's comment once, where it first appears
    for (std::size_t i = 0; i < elements.size(); ++i) {
        os << "\n[[" << section << "]]\n";
        for (auto& k: keys) {
            if (!k.shown(elements[i])) continue;
            if (comments && commented.insert(k.key).second) os << "# " << k.doc << "\n";
            os << k.key << " = " << k.show(elements[i]) << "\n";
        }
    }
}

// --set populations.NAME.key=value / projections.NAME.key=value
template <typename E>
void override_element(std::vector<E>& elements, const char* section, const std::vector<element_key<E>>& keys,
                      const std::string& rest, const toml::value& v) {
    const auto dot = rest.find('.');
    if (dot == std::string::npos)
        throw config_error(std::string(section) + "." + rest, std::string("--set needs ") + section + ".NAME.key=value");
    const std::string name = rest.substr(0, dot), key = rest.substr(dot + 1);
    std::string known;
    bool found = false, named = false;
    const auto k = std::find_if(keys.begin(), keys.end(), [&](const element_key<E>& e) { return e.key == key; });
    for (std::size_t i = 0; i < elements.size(); ++i) {
        known += (known.empty()? "": ", ") + elements[i].name;
        if (name != "*" && elements[i].name != name) continue;
        if (name == "*" && key == "name") throw config_error(std::string(section) + ".*.name", "every element needs a name of its own");
        named = true;
        // '*' sets a component's key on the elements that chose that component (a model's key
        // on the populations of that model).
        if (name == "*" && k != keys.end() && k->stray && !k->shown(elements[i])) continue;
        set_element_key(elements[i], keys, key, v, std::string(section) + "[" + std::to_string(i) + "]." + key, "");
        found = true;
    }
    if (found) return;
    if (named)
        throw config_error(std::string(section) + ".*." + key, std::string("no element of [[") + section + "]] has this key (its model or component is not chosen by any)");
    throw config_error(std::string(section) + "." + name, std::string("no element of [[") + section + "]] of that name (known: " + known + ")");
}

// The keys of the sections themselves (not of a component).
std::vector<param> section_keys() {
    using C = config;
    using K = circuit_desc;
    const std::vector<param> s = {
        real("network", "spectral_radius", &C::circuit, &K::spectral_radius, 0, 1e3,
             "rescale the signed matrix of the projections among rate populations to this spectral radius (0 = no rescaling)"),
        list("network", "spectral_radius_of", &C::circuit, &K::spectral_radius_of, nullptr,
             "the projections rescaled together by one factor (empty: every projection among rate populations)"),
        real("network", "noise_sigma", &C::circuit, &K::noise_sigma, 0, 1e6,
             "private noise: tau dx = (...) dt + sigma sqrt(2 tau) dW on every rate cell (euler and rk4 only)"),

        string("input", "kind", &C::input, &input_desc::kind, [] { return input_registry().names(); },
               "input generator of the input populations' channels: " + component_listing(input_registry())),
        string("integrator", "stepper", &C::integrator, &integrator_desc::stepper, [] { return stepper_registry().names(); },
               component_listing(stepper_registry())),
        real("integrator", "dt_ms", &C::integrator, &integrator_desc::dt_ms, 0, 1e6,
             "time step of euler/rk4, and the observation and input grid of every stepper (ms)", true),
        real("integrator", "max_abs_x", &C::integrator, &integrator_desc::max_abs_x, 0, 1e300,
             "runaway guard: a run stops (exit 3) when |x| exceeds this", true),
        string("integrator", "products", &C::integrator, &integrator_desc::products, fixed({"auto", "dense", "sparse"}),
               "how W_rec phi(x) and its transpose are computed: dense, sparse, or auto (sparse when at most "
               "integrator.sparse_below of the N*N recurrent entries are connections)"),
        real("integrator", "sparse_below", &C::integrator, &integrator_desc::sparse_below, 0, 1,
             "auto: the recurrent density below which products are sparse (measured crossover; bench/)"),

        string("task", "kind", &C::task, &task_desc::kind, [] { return task_registry().names(); },
               component_listing(task_registry()) + "; see README 'Tasks'"),
        integer("task", "batch", &C::task, &task_desc::batch, 1, 100000, "trials per batch B"),
        real("task", "duration_ms", &C::task, &task_desc::duration_ms, 0, 1e9, "trial length (ms), a multiple of integrator.dt_ms", true),
        boolean("task", "fresh_trials", &C::task, &task_desc::fresh_trials,
                "false: one fixed set of trials for every step (the setting of the theory); true: new trials each step"),
        real("task", "mask_start_ms", &C::task, &task_desc::mask_start_ms, 0, 1e9, "observations before this time are left out of the loss"),

        integer("training", "seed", &C::training, &training_desc::seed, 0, 4.6e18, "seed of the student network, inputs and noise"),
        integer("training", "steps", &C::training, &training_desc::steps, 0, 1e9, "learning steps"),
        integer("training", "record_every", &C::training, &training_desc::record_every, 1, 1e9,
                "record every weight every this many steps (the initial and final states always)"),
        integer("training", "activity_trials", &C::training, &training_desc::activity_trials, 0, 100000,
                "trials whose activity is written to /activity (first and last steps)"),
        integer("training", "heldout_trials", &C::training, &training_desc::heldout_trials, 0, 1000000,
                "decision tasks: trials of the fixed held-out set whose accuracy /trajectory/heldout_accuracy records; 0 = none"),
        integer("training", "heldout_every", &C::training, &training_desc::heldout_every, 0, 1e9,
                "steps between held-out measurements (and the final state), a multiple of record_every; 0 = the least "
                "multiple of record_every >= 8 heldout_trials / batch (128 for 512 trials in batches of 32)"),
        string("training", "record_precision", &C::training, &training_desc::record_precision, fixed({"float64", "float32"}),
               "storage type of the recorded weight trajectory: float64, or float32 (half the file, 7 significant digits)"),
        integer("training", "record_compression", &C::training, &training_desc::record_compression, 0, 9,
                "gzip level (with byte shuffle) of the weight trajectory; 0 = none"),

        string("plasticity", "geometry", &C::plasticity, &plasticity_desc::geometry, [] { return geometry_registry().names(); },
               "mirror map: " + component_listing(geometry_registry())),
        string("plasticity", "credit", &C::plasticity, &plasticity_desc::credit, [] { return credit_registry().names(); },
               "credit assignment: " + component_listing(credit_registry())),
        real("plasticity", "learning_rate", &C::plasticity, &plasticity_desc::learning_rate, 0, 1e6,
             "learning rate of a geometry that learning_rates leaves out; 0 = the geometry's default (" + [] {
                 std::string s;
                 for (auto& g: geometry_registry().names()) s += (s.empty()? "": ", ") + g + " " + format_real(default_learning_rate(g));
                 return s;
             }() + ")"),
        number_table("plasticity", "learning_rates", &C::plasticity, &plasticity_desc::learning_rates, 1e6,
                     [] { return geometry_registry().names(); },
                     "learning rate per geometry, e.g. { eg = 0.2, euclidean = 0.02 }: the chosen geometry's entry wins over "
                     "learning_rate, so that a config serves every geometry (--set plasticity.learning_rates.eg=0.3 sets one)"),
        real("plasticity", "momentum", &C::plasticity, &plasticity_desc::momentum, 0, 0.999999, "momentum of the gradient buffer (published code: 0.9)"),
        string("plasticity", "normalisation", &C::plasticity, &plasticity_desc::normalisation,
               [] { return normalisation_registry().names(); }, "gradient normalisation before the mirror step: " + component_listing(normalisation_registry())),
        string("plasticity", "schedule", &C::plasticity, &plasticity_desc::schedule, [] { return schedule_registry().names(); },
               "learning-rate schedule: " + schedule_registry().listing()),
        real("plasticity", "weight_decay", &C::plasticity, &plasticity_desc::weight_decay, 0, 1e6,
             "weight decay: eg adds wd sign(w) to the gradient (multiplicative), euclidean/pnorm add wd m"),
        real("plasticity", "min_magnitude", &C::plasticity, &plasticity_desc::min_magnitude, 0, 1,
             "euclidean/pnorm: magnitudes are held at this bound instead of changing sign", true),
    };
    return s;
}

// The schema: the sections' own keys, each component's keys after the key that chooses it.
const std::vector<param>& schema() {
    using C = config;
    static const std::vector<param> s = [] {
        std::vector<param> out;
        const auto after = [&out](const std::string& sec, const std::string& key, std::vector<param> more) {
            auto at = std::find_if(out.begin(), out.end(), [&](const param& p) { return p.section == sec && p.key == key; });
            out.insert(at + 1, more.begin(), more.end());
        };
        out = section_keys();
        after("input", "kind", component_params("input", &C::input, &input_desc::kind, input_registry()));
        after("task", "kind", component_params("task", &C::task, &task_desc::kind, task_registry()));
        after("integrator", "stepper", component_params("integrator", &C::integrator, &integrator_desc::stepper, stepper_registry()));
        after("plasticity", "credit", component_params("plasticity", &C::plasticity, &plasticity_desc::credit, credit_registry()));
        after("plasticity", "geometry", component_params("plasticity", &C::plasticity, &plasticity_desc::geometry, geometry_registry()));
        after("plasticity", "normalisation",
              component_params("plasticity", &C::plasticity, &plasticity_desc::normalisation, normalisation_registry()));
        for (std::size_t i = 0; i < out.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (out[i].name() == out[j].name()) throw std::logic_error("the config key " + out[i].name() + " is declared twice");
        return out;
    }();
    return s;
}

const param* find_param(const std::string& section, const std::string& key) {
    for (auto& p: schema()) if (p.section == section && p.key == key) return &p;
    return nullptr;
}

std::vector<std::string> sections() {
    std::vector<std::string> out;
    for (auto& p: schema()) if (std::find(out.begin(), out.end(), p.section) == out.end()) out.push_back(p.section);
    return out;
}

std::string known_keys(const std::string& section) {
    std::string s;
    for (auto& p: schema()) if (p.section == section) s += (s.empty()? "": ", ") + p.key;
    return s;
}

// The sections known besides the schema's: the circuit's arrays of tables, and [circuit].
const char* const circuit_arrays = "populations, projections, circuit";

// [circuit]: sonata (a path, relative to the config file's folder), signs, digest.
void read_circuit_section(circuit_import& im, const toml::value& table, const std::string& folder) {
    if (!table.is_table()) throw config_error("circuit", "must be a table [circuit], got " + describe(table));
    for (auto& [key, value]: table.as_table()) {
        const std::string at = "circuit." + key;
        if (key == "sonata") {
            const std::string given = element_string(at, value);
            if (given.empty()) bad_value(at, value, "the path of a SONATA circuit_config.json");
            std::filesystem::path path(given);
            if (path.is_relative() && !folder.empty()) path = std::filesystem::path(folder)/path;
            im.sonata = std::filesystem::absolute(path).lexically_normal().string();
        } else if (key == "signs") {
            if (!value.is_table()) bad_value(at, value, "a table { POPULATION = \"excitatory\" | \"inhibitory\", ... }");
            im.signs.clear();
            for (auto& [name, sign]: value.as_table()) im.signs[name] = element_string(at + "." + name, sign, {"excitatory", "inhibitory"});
        } else if (key == "digest") {
            im.digest = element_string(at, value);
        } else {
            throw config_error(at, "unknown key; known keys in [circuit]: sonata, signs, digest");
        }
    }
}

// The imported circuit in place of the base's, the TOML's elements still to come. Its weights are
// the files': no spectral-radius rescaling unless the TOML asks for it.
void import_circuit(config& c) {
    sonata_circuit imported = import_sonata(c.import.sonata, c.import.signs);
    if (!c.import.digest.empty() && c.import.digest != imported.digest)
        throw file_error("'" + c.import.sonata + "': the SONATA circuit is not the one this config was made with (digest " + imported.digest +
                         ", the config's circuit.digest is " + c.import.digest + "): its files changed since");
    c.import.digest = imported.digest;
    c.circuit.populations = imported.populations;
    c.circuit.projections = std::move(imported.projections);
    c.circuit.spectral_radius = 0.0;
    c.circuit.spectral_radius_of.clear();
    c.import.populations = imported.populations;
    c.import.projections.clear();
    for (auto& q: c.circuit.projections) { // a copy without the synapse list
        std::vector<listed_synapse> listed;
        listed.swap(q.listed);
        c.import.projections.push_back(q);
        listed.swap(q.listed);
    }
    c.notes.insert(c.notes.end(), imported.notes.begin(), imported.notes.end());
}

// The default circuit's input and readout, for an imported circuit that has none: input "in"
// onto every rate population (Bernoulli), readout "out" from the excitatory ones (all to all).
void attach_default_io(config& c) {
    const network_desc d;
    std::vector<std::string> rate, excitatory;
    for (auto& p: c.circuit.populations)
        if (p.model == "rate") {
            rate.push_back(p.name);
            if (p.sign == "excitatory") excitatory.push_back(p.name);
        }
    if (rate.empty()) return; // validation says so
    if (c.circuit.n_in() == 0) {
        population_desc in;
        in.name = "in"; in.model = "input"; in.size = d.n_in;
        projection_desc q;
        q.name = "input"; q.pre = {"in"}; q.post = rate;
        q.p = d.p_in; q.scale = d.scale_in; q.sigma_ln = d.sigma_ln;
        c.circuit.populations.push_back(in);
        c.circuit.projections.push_back(q);
    }
    if (c.circuit.n_out() == 0) {
        population_desc out;
        out.name = "out"; out.model = "readout"; out.size = d.n_out;
        projection_desc q;
        q.name = "readout"; q.connectivity = "all_to_all"; q.post = {"out"};
        q.pre = excitatory.empty()? rate: excitatory;
        if (excitatory.empty()) c.notes.push_back("the imported circuit has no excitatory rate population: the default readout reads every rate population");
        q.scale = d.scale_out; q.sigma_ln = d.sigma_ln;
        c.circuit.populations.push_back(out);
        c.circuit.projections.push_back(q);
    }
}

// `circuit` (non-empty): the --circuit option, in place of [circuit] sonata.
// A task brings its own channel counts: the input and readout populations whose size the user did
// not give (the built-in circuit's "in" and "out") take the counts the chosen task needs, so that
// `--set task.kind=perceptual_decision` runs on the defaults. A size the user gave is never changed
// (validate_task then names it and the count needed). With several input (or readout) populations
// their split is the user's: nothing is changed.
void adopt_task_channels(config& c) {
    const task_info& t = task_registry().get(c.task.kind);
    const auto adopt = [&](const std::string& model, int need) {
        population_desc* only = nullptr;
        int count = 0;
        for (auto& p: c.circuit.populations)
            if (p.model == model) only = &p, ++count;
        if (count == 1 && need > 0 && !c.sizes_given.count(only->name)) only->size = need;
    };
    adopt("input", t.n_in);
    adopt("readout", t.n_out);
    c.input.n_in = c.circuit.n_in();
}

void apply_table(config& c, const toml::value& root, const std::string& folder, const std::string& circuit = "") {
    if (!root.is_table()) throw config_error("", "the configuration is not a TOML table");
    auto secs = sections();
    std::string known_sections;
    for (auto& s: secs) known_sections += (known_sections.empty()? "": ", ") + s;
    known_sections += std::string(", ") + circuit_arrays;
    // [circuit] first: the import is the base of the populations and projections.
    if (root.as_table().count("circuit")) read_circuit_section(c.import, root.as_table().at("circuit"), folder);
    if (!circuit.empty()) {
        c.import.sonata = std::filesystem::absolute(circuit).lexically_normal().string();
        c.import.digest.clear();
    }
    if (!c.import.active() && !c.import.signs.empty())
        throw config_error("circuit.signs", "given, but no circuit is imported (circuit.sonata, or --circuit)");
    const bool importing = c.import.active();
    if (importing) import_circuit(c);
    for (auto& [sec, table]: root.as_table()) {
        if (sec == "circuit") continue;
        if (sec == "populations") {
            if (importing) merge_elements(c.circuit.populations, table, "populations", population_keys(), {"name", "size"}, folder);
            else c.circuit.populations = read_elements(table, "populations", population_keys(), {"name", "size"}, folder);
            continue;
        }
        if (sec == "projections") {
            if (importing) merge_elements(c.circuit.projections, table, "projections", projection_keys(), {"name", "pre", "post"}, folder);
            else c.circuit.projections = read_elements(table, "projections", projection_keys(), {"name", "pre", "post"}, folder);
            continue;
        }
        if (std::find(secs.begin(), secs.end(), sec) == secs.end()) {
            const bool old = sec == "connectivity" || sec == "readout";
            throw config_error(sec, "unknown section; known sections: " + known_sections +
                                        (old? " (the circuit is described by [[populations]] and [[projections]] since format 2; see docs/circuits.md)": ""));
        }
        if (!table.is_table()) throw config_error(sec, "must be a table [" + sec + "], got " + describe(table));
        for (auto& [key, value]: table.as_table()) {
            const param* p = find_param(sec, key);
            if (!p) {
                const bool old = (sec == "network" && key != "spectral_radius") || (sec == "input" && key == "n_in") ||
                                 (sec == "plasticity" && key == "plastic");
                throw config_error(sec + "." + key, "unknown key; known keys in [" + sec + "]: " + known_keys(sec) +
                                                        (old? " (populations, sizes and plastic projections are keys of [[populations]] and "
                                                              "[[projections]] since format 2; see docs/circuits.md)": ""));
            }
            p->set(c, value);
        }
    }
    if (root.as_table().count("populations") || importing)
        for (auto& p: c.circuit.populations) c.sizes_given.insert(p.name);
    if (importing) attach_default_io(c);
    adopt_task_channels(c);
}

// What the import fixed stays: the imported elements come first, with the names, models, sizes
// and signs (populations) and the lists, connectivity, autapses and file (projections) the files
// gave them. Projections of connectivity sonata are the imported ones only.
void validate_import(const config& c) {
    const auto& pops = c.circuit.populations;
    const auto& projs = c.circuit.projections;
    const auto fixed = [](const std::string& at, const std::string& what, const std::string& key, const std::string& was) {
        throw config_error(at, what + " is imported from the SONATA circuit: its " + key + " is the files' (" + was +
                                   ") and cannot be changed here" + (key == "sign"? " (a population without ei takes circuit.signs)": ""));
    };
    const auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (auto& e: v) s += (s.empty()? "": ", ") + e;
        return "[" + s + "]";
    };
    for (std::size_t i = 0; i < c.import.populations.size(); ++i) {
        const population_desc& was = c.import.populations[i];
        const std::string at = "populations[" + std::to_string(i) + "].";
        if (i >= pops.size() || pops[i].name != was.name) fixed(at + "name", "population " + was.name, "name", was.name);
        const population_desc& p = pops[i];
        if (p.model != was.model) fixed(at + "model", "population " + was.name, "model", was.model);
        if (p.size != was.size) fixed(at + "size", "population " + was.name, "size", std::to_string(was.size));
        if (p.sign != was.sign) fixed(at + "sign", "population " + was.name, "sign", was.sign);
    }
    for (std::size_t i = 0; i < c.import.projections.size(); ++i) {
        const projection_desc& was = c.import.projections[i];
        const std::string at = "projections[" + std::to_string(i) + "].";
        if (i >= projs.size() || projs[i].name != was.name) fixed(at + "name", "projection " + was.name, "name", was.name);
        const projection_desc& q = projs[i];
        if (q.pre != was.pre) fixed(at + "pre", "projection " + was.name, "pre", list(was.pre));
        if (q.post != was.post) fixed(at + "post", "projection " + was.name, "post", list(was.post));
        if (q.connectivity != was.connectivity || q.file != was.file)
            fixed(at + "connectivity", "projection " + was.name, "connectivity", "sonata, the edges of " + was.file);
        if (q.autapses != was.autapses) fixed(at + "autapses", "projection " + was.name, "autapses", was.autapses? "true": "false");
    }
    for (std::size_t i = c.import.projections.size(); i < projs.size(); ++i)
        if (projs[i].connectivity == "sonata") {
            std::string names;
            for (auto& q: c.import.projections) names += (names.empty()? "": ", ") + q.name;
            throw config_error("projections[" + std::to_string(i) + "].connectivity",
                               "sonata is the imported projections' own (from [circuit] sonata: " + (names.empty()? std::string("none"): names) +
                                   "); \"" + projs[i].name + "\" is none of them");
        }
}

// The task's own needs: channel counts, periods that fit the trial, credit rules it supports.
void validate_task(const config& c) {
    const task_info& t = task_registry().get(c.task.kind);
    const std::string kind = "task.kind = " + c.task.kind;
    // The key to name: the size of the (first) input or readout population.
    const auto size_key = [&](const std::string& model) {
        for (std::size_t i = 0; i < c.circuit.populations.size(); ++i)
            if (c.circuit.populations[i].model == model) return "populations[" + std::to_string(i) + "].size";
        return std::string("populations");
    };
    if (t.n_in > 0 && c.circuit.n_in() != t.n_in)
        throw config_error(size_key("input"), "the input populations have " + std::to_string(c.circuit.n_in()) + " channels, but " + kind +
                                                  " needs " + std::to_string(t.n_in) + " (" + t.channels + ")");
    if (t.channel_groups > 0 && (c.circuit.n_in() == 0 || c.circuit.n_in() % t.channel_groups != 0))
        throw config_error(size_key("input"), "the input populations have " + std::to_string(c.circuit.n_in()) + " channels, but " + kind +
                                                  " needs a positive multiple of " + std::to_string(t.channel_groups) + " (" + t.channels + ")");
    if (c.task.kind == "evidence_accumulation" && c.task.keys.integer("n_cues") % 2 == 0)
        throw config_error("task.n_cues", "= " + std::to_string(c.task.keys.integer("n_cues")) + ": give an odd number, so that the cues always have a majority");
    if (t.n_out > 0 && c.circuit.n_out() != t.n_out)
        throw config_error(size_key("readout"), "the readout populations have " + std::to_string(c.circuit.n_out()) + " units, but " + kind +
                                                    " needs " + std::to_string(t.n_out) + " (one output per choice)");
    if (t.decision) {
        const double t_d = decision_onset_ms(c.task);
        if (!(t_d + c.integrator.dt_ms <= c.task.duration_ms))
            throw config_error("task.duration_ms", "= " + format_real(c.task.duration_ms) + " leaves no decision period: " + kind +
                                                       " needs more than fixation, stimulus and delay = " + format_real(t_d) + " ms");
    }
    if (t.fixed_point) {
        if (c.plasticity.credit != "exact")
            throw config_error("plasticity.credit", "= " + c.plasticity.credit + ", but " + kind +
                                                        " supports only exact (implicit differentiation at the fixed point)");
        if (c.circuit.noise_sigma > 0)
            throw config_error("network.noise_sigma", "must be 0 for " + kind + " (a noisy network has no fixed point)");
    }
}

// Each population key given for a neuron model or component the population did not choose:
// f(its key path, the message, the key, the population's index).
template <typename F>
void for_stray_population_keys(const config& c, F f) {
    for (std::size_t i = 0; i < c.circuit.populations.size(); ++i)
        for (auto& k: population_keys())
            if (k.stray)
                if (const std::string why = k.stray(c.circuit.populations[i]); !why.empty())
                    f("populations[" + std::to_string(i) + "]." + k.key, why, k, i);
}

} // namespace

int config::observation_steps() const { return eisim::observation_steps(task, integrator); }

void validate_for_learning(const config& c) {
    const auto& pops = c.circuit.populations;
    const auto role = [&](const std::string& name) {
        for (auto& p: pops)
            if (p.name == name) return p.model == "input" || p.model == "readout"? p.model: std::string("network");
        return std::string();
    };
    // Whether some projection can hold a synapse from a population of role `from` to one of role `to`.
    const auto connects = [&](const std::string& from, const std::string& to) {
        for (auto& q: c.circuit.projections)
            for (std::size_t i = 0; i < q.post.size(); ++i)
                for (std::size_t j = 0; j < q.pre.size(); ++j) {
                    if (role(q.pre[j]) != from || role(q.post[i]) != to) continue;
                    if (q.is_listed()? !q.listed.empty()
                        : q.connectivity == "bernoulli"? q.p.at(i, j) > 0
                        : q.connectivity == "fixed_indegree"? q.k.at(i, j) > 0: true)
                        return true;
                }
        return false;
    };
    const std::string undefined = "the outputs would be the same on every trial whatever the weights: nothing could be learned and the "
                                  "accuracy would be undefined (task.kind = " + c.task.kind + ")";
    if (c.circuit.n_in() == 0)
        throw config_error("populations", "the circuit has no input channels (a population with model = \"input\"); without input " + undefined);
    if (!connects("input", "network"))
        throw config_error("projections", "no projection carries the input channels to the network's cells (every one from an input "
                                          "population has p = 0, k = 0 or no listed synapse, or there is none); " + undefined);
    if (!connects("network", "readout"))
        throw config_error("projections", "no projection reaches the readout from the network's cells (every one has p = 0, k = 0 or no "
                                          "listed synapse, or there is none); " + undefined);
}

std::vector<std::string> inert_settings(const config& c) {
    std::vector<std::string> notes;
    const plasticity_desc& d = c.plasticity;
    if (const auto it = d.learning_rates.find(d.geometry); d.learning_rate != 0 && it != d.learning_rates.end())
        notes.push_back("plasticity.learning_rate = " + format_real(d.learning_rate) + " has no effect: plasticity.learning_rates." +
                        d.geometry + " = " + format_real(it->second) + " is the rate of the chosen geometry (set that entry to change it)");
    return notes;
}

void validate(const config& c) {
    for (auto& p: schema())
        if (p.stray)
            if (const std::string why = p.stray(c); !why.empty()) throw config_error(p.name(), why);
    for_stray_population_keys(c, [](const std::string& at, const std::string& why, auto&, std::size_t) { throw config_error(at, why); });
    const double ratio = c.task.duration_ms/c.integrator.dt_ms;
    if (!(ratio >= 1.0) || std::abs(ratio - std::round(ratio)) > 1e-9*ratio)
        throw config_error("task.duration_ms", "= " + format_real(c.task.duration_ms) + " must be a positive multiple of integrator.dt_ms = " + format_real(c.integrator.dt_ms));
    if (ratio > 1e7)
        throw config_error("task.duration_ms", "gives " + format_real(std::round(ratio)) + " time steps; at most 1e7 are allowed");
    validate_import(c);
    validate_circuit(c.circuit);
    const double N = c.circuit.n();
    if (N > 20000) throw config_error("populations", "the rate populations have " + format_real(N) + " cells; at most 20000 are supported");
    // Memory of one stored forward trajectory (N × B × (T+1) doubles) must fit comfortably.
    const double bytes = 8.0*N*c.task.batch*(std::round(ratio) + 1);
    if (bytes > 8e9)
        throw config_error("task.batch", "N = " + format_real(N) + " rate cells, batch = " + std::to_string(c.task.batch) +
                                         " and " + format_real(std::round(ratio)) + " steps need " + format_real(std::round(bytes/1e9)) +
                                         " GB for one trajectory; at most 8 GB are allowed");
    if (c.plasticity.normalisation == "adam" && c.plasticity.momentum != 0.0)
        throw config_error("plasticity.momentum", "= " + format_real(c.plasticity.momentum) +
                                                      ", but normalisation = \"adam\" has its own first moment (plasticity.adam_beta1): set one of them");
    if (c.training.heldout_every > 0 && c.training.heldout_every % c.training.record_every != 0)
        throw config_error("training.heldout_every", "= " + std::to_string(c.training.heldout_every) + " is not a multiple of training.record_every = " +
                                                         std::to_string(c.training.record_every) + ": the held-out set is measured at snapshots");
    if (c.training.activity_trials > c.task.batch)
        throw config_error("training.activity_trials", "= " + std::to_string(c.training.activity_trials) + " exceeds task.batch = " + std::to_string(c.task.batch));
    if (c.circuit.spiking() && c.circuit.noise_sigma > 0)
        throw config_error("network.noise_sigma", "private noise is for rate populations; a spiking circuit takes noise as Poisson input spikes");
    if (c.circuit.noise_sigma > 0 && c.integrator.stepper == "dopri5")
        throw config_error("network.noise_sigma", "private noise needs a fixed-step stepper (euler or rk4), not dopri5");
    if (!c.circuit.spiking() && credit_registry().get(c.plasticity.credit).family == "spiking")
        throw config_error("plasticity.credit", "= " + c.plasticity.credit + " is a credit rule of spiking circuits (lif, alif populations); "
                                                "rate circuits learn with exact, feedback_alignment, rflo or node_perturbation");
    if (c.plasticity.credit == "node_perturbation" && (c.circuit.noise_sigma > 0 || c.integrator.stepper == "dopri5"))
        throw config_error("plasticity.credit", "node_perturbation needs a fixed-step stepper (euler or rk4) and network.noise_sigma = 0");
    validate_task(c);
    if (c.task.mask_start_ms >= c.task.duration_ms)
        throw config_error("task.mask_start_ms", "= " + format_real(c.task.mask_start_ms) + " leaves no observation in the loss (duration_ms = " + format_real(c.task.duration_ms) + ")");
}

config default_config() {
    config c;
    c.circuit = ei_circuit(network_desc{});
    c.input.n_in = c.circuit.n_in();
    validate(c);
    return c;
}

namespace {

// Arrays and inline tables nested deeper than this are refused before parsing: the parser recurses
// once per level (10,000 levels overflowed its stack; 2,000 took 38 s), and no config nests more
// than a table of tables.
constexpr int max_toml_nesting = 64;

// The deepest nesting of [ and { outside strings and comments (a table header [[a]] counts 2).
int toml_nesting(const std::string& text) {
    int depth = 0, deepest = 0;
    char quote = 0;
    bool comment = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (comment) { comment = ch != '\n'; continue; }
        if (quote) {
            if (quote == '"' && ch == '\\') ++i;
            else if (ch == quote) quote = 0;
            continue;
        }
        if (ch == '"' || ch == '\'') quote = ch;
        else if (ch == '#') comment = true;
        else if (ch == '[' || ch == '{') deepest = std::max(deepest, ++depth);
        else if ((ch == ']' || ch == '}') && depth > 0) --depth;
    }
    return deepest;
}

} // namespace

toml::value parse_toml_text(const std::string& text, const std::string& origin) {
    if (toml_nesting(text) > max_toml_nesting)
        throw config_error("", origin + " nests arrays or inline tables more than " + std::to_string(max_toml_nesting) + " levels deep");
    try {
        std::istringstream is(text);
        return toml::parse(is, origin);
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (msg.size() > 600) msg = utf8_prefix(msg, 600) + "...";
        throw config_error("", origin + " is not valid TOML: " + msg);
    }
}

config parse_config(const std::string& text, const std::string& origin, config base, const std::string& folder, const std::string& circuit) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw config_error("", origin + " is empty; give at least one [section] (see 'eisim config'), or no file for the defaults");
    const toml::value root = parse_toml_text(text, origin);
    apply_table(base, root, folder, circuit);
    validate(base);
    return base;
}

void drop_stray_keys(config& c) {
    for (auto& p: schema())
        if (p.stray)
            if (const std::string why = p.stray(c); !why.empty()) {
                c.notes.push_back(p.name() + " " + why + "; it has no effect and is left out");
                p.reset(c);
            }
    std::vector<std::pair<std::size_t, const element_key<population_desc>*>> stray;
    for_stray_population_keys(c, [&](const std::string& at, const std::string& why, auto& k, std::size_t i) {
        c.notes.push_back(at + " " + why + "; it has no effect and is left out");
        stray.emplace_back(i, &k);
    });
    for (auto& [i, k]: stray) k->reset(c.circuit.populations[i]);
}

config parse_stored_config(const std::string& text, const std::string& origin) {
    const toml::value root = parse_toml_text(text, origin);
    config c;
    apply_table(c, root, "");
    drop_stray_keys(c);
    validate(c);
    return c;
}

config parse_format1_config(const std::string& text, const std::string& origin) {
    toml::value root = parse_toml_text(text, origin);
    if (!root.is_table()) throw config_error("", origin + " is not a TOML table");
    // The E/I template's keys, as version 1 named them.
    network_desc d;
    struct key { const char *section, *name; double* real; int* integer; std::string* text; };
    const std::vector<key> keys = {
        {"network", "n_e", nullptr, &d.n_e, nullptr}, {"network", "n_i", nullptr, &d.n_i, nullptr},
        {"network", "tau_e_ms", &d.tau_e_ms, nullptr, nullptr}, {"network", "tau_i_ms", &d.tau_i_ms, nullptr, nullptr},
        {"network", "transfer", nullptr, nullptr, &d.transfer}, {"network", "transfer_k", &d.transfer_k, nullptr, nullptr},
        {"network", "transfer_n", &d.transfer_n, nullptr, nullptr}, {"network", "bias", &d.bias, nullptr, nullptr},
        {"network", "spectral_radius", &d.spectral_radius, nullptr, nullptr}, {"network", "noise_sigma", &d.noise_sigma, nullptr, nullptr},
        {"connectivity", "p_ee", &d.p_ee, nullptr, nullptr}, {"connectivity", "p_ei", &d.p_ei, nullptr, nullptr},
        {"connectivity", "p_ie", &d.p_ie, nullptr, nullptr}, {"connectivity", "p_ii", &d.p_ii, nullptr, nullptr},
        {"connectivity", "scale_ee", &d.scale_ee, nullptr, nullptr}, {"connectivity", "scale_ei", &d.scale_ei, nullptr, nullptr},
        {"connectivity", "scale_ie", &d.scale_ie, nullptr, nullptr}, {"connectivity", "scale_ii", &d.scale_ii, nullptr, nullptr},
        {"connectivity", "sigma_ln", &d.sigma_ln, nullptr, nullptr}, {"connectivity", "p_in", &d.p_in, nullptr, nullptr},
        {"connectivity", "scale_in", &d.scale_in, nullptr, nullptr}, {"input", "n_in", nullptr, &d.n_in, nullptr},
        {"readout", "n_out", nullptr, &d.n_out, nullptr}, {"readout", "from", nullptr, nullptr, &d.readout_from},
        {"readout", "scale", &d.scale_out, nullptr, nullptr}};
    auto& top = root.as_table();
    for (auto& k: keys) {
        auto sec = top.find(k.section);
        if (sec == top.end() || !sec->second.is_table()) continue;
        auto& table = sec->second.as_table();
        auto v = table.find(k.name);
        if (v == table.end()) continue;
        const std::string at = std::string(k.section) + "." + k.name;
        if (k.text) *k.text = element_string(at, v->second);
        else if (k.integer) *k.integer = static_cast<int>(element_number(at, v->second, 0, 1e9, true));
        else *k.real = element_number(at, v->second, -1e300, 1e300);
        table.erase(v);
    }
    std::vector<std::string> plastic = {"recurrent", "input", "readout"};
    if (top.count("plasticity") && top.at("plasticity").is_table() && top.at("plasticity").as_table().count("plastic")) {
        auto& table = top.at("plasticity").as_table();
        plastic = element_names("plasticity.plastic", table.at("plastic"));
        table.erase("plastic");
    }
    for (auto sec: {"connectivity", "readout"}) top.erase(sec);
    config c = default_config();
    c.circuit = ei_circuit(d);
    for (auto& p: c.circuit.projections) p.plastic = std::find(plastic.begin(), plastic.end(), p.name) != plastic.end();
    apply_table(c, root, "");
    drop_stray_keys(c);
    validate(c);
    return c;
}

config load_config(const std::string& path, const std::string& circuit) {
    if (path.empty()) { // the defaults with the imported circuit
        config c = default_config();
        if (circuit.empty()) return c;
        apply_table(c, toml::value(toml::table{}), "", circuit);
        validate(c);
        return c;
    }
    std::ifstream f(path, std::ios::binary);
    if (!f) throw config_error("", "cannot read the config file '" + path + "'");
    std::stringstream ss;
    ss << f.rdbuf();
    return parse_config(ss.str(), path, default_config(), std::filesystem::path(path).parent_path().string(), circuit);
}

void apply_override(config& c, const std::string& assignment, bool check) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos)
        throw config_error("", "--set '" + assignment + "': expected section.key=value");
    const std::string name = assignment.substr(0, eq), text = assignment.substr(eq + 1);
    const auto dot = name.find('.');
    if (dot == std::string::npos)
        throw config_error(name, "--set needs section.key=value");
    const std::string sec = name.substr(0, dot), key = name.substr(dot + 1);
    if (sec == "circuit")
        throw config_error(name, "[circuit] is read with the import, before everything else: give it in the TOML file (or the circuit with --circuit)");
    const auto value = [&](bool bare_is_string, const std::string& expected) {
        if (toml_nesting(text) > max_toml_nesting)
            throw config_error(name, "the value nests arrays or inline tables more than " + std::to_string(max_toml_nesting) + " levels deep");
        toml::value t;
        try {
            std::istringstream is("v = " + text);
            t = toml::parse(is, "--set");
        } catch (const std::exception&) {
            if (bare_is_string) return toml::value(text); // bare words are strings
            throw config_error(name, "cannot read value '" + text + "' (expected " + expected + ")");
        }
        if (t.as_table().size() != 1) // "5\nother = 1": TOML after the value
            throw config_error(name, "'" + text + "' holds more than the value (TOML after it): give each key its own --set");
        return t.as_table().at("v");
    };
    if (sec == "populations" || sec == "projections") {
        const toml::value v = value(true, "");
        if (sec == "populations") override_element(c.circuit.populations, "populations", population_keys(), key, v);
        else override_element(c.circuit.projections, "projections", projection_keys(), key, v);
        if (sec == "populations" && key.size() > 5 && key.compare(key.size() - 5, 5, ".size") == 0) {
            const std::string who = key.substr(0, key.size() - 5);
            for (auto& p: c.circuit.populations)
                if (who == "*" || p.name == who) c.sizes_given.insert(p.name);
        }
        c.input.n_in = c.circuit.n_in();
        if (check) validate(c);
        return;
    }
    const param* p = find_param(sec, key);
    if (!p && key.find('.') != std::string::npos) { // one entry of a table: plasticity.learning_rates.eg=0.3
        const param* t = find_param(sec, key.substr(0, key.find('.')));
        if (t && t->type == vtype::table) {
            std::istringstream current("v = " + t->show(c));
            toml::value table = toml::parse(current, "config").as_table().at("v");
            table.as_table()[key.substr(key.find('.') + 1)] = value(false, "a number");
            t->set(c, table);
            if (check) validate(c);
            return;
        }
    }
    if (!p) {
        auto secs = sections();
        const bool old = sec == "connectivity" || sec == "readout" || (sec == "network" && key != "spectral_radius") ||
                         (sec == "input" && key == "n_in") || (sec == "plasticity" && key == "plastic");
        const std::string hint = old? " (populations, sizes and plastic projections are keys of populations.NAME.* and "
                                      "projections.NAME.* since format 2; see docs/circuits.md)": "";
        if (std::find(secs.begin(), secs.end(), sec) == secs.end())
            throw config_error(name, "unknown section '" + sec + "'" + hint);
        throw config_error(name, "unknown key; known keys in [" + sec + "]: " + known_keys(sec) + hint);
    }
    const std::string expected = p->type == vtype::list? "a list like [\"a\", \"b\"]"
                                 : p->type == vtype::table? "a table like { eg = 0.2, euclidean = 0.02 }": range_text(*p);
    p->set(c, value(p->type == vtype::string, expected));
    if (sec == "task" && key == "kind") adopt_task_channels(c);
    if (check) validate(c);
}

std::string to_toml(const config& c, bool comments) {
    std::ostringstream os;
    if (comments) os << "# eisim configuration, fully resolved. Every key is shown with its value.\n";
    if (c.import.active()) {
        os << "\n[circuit]\n";
        if (comments) os << "# a SONATA circuit config: its node and edge populations are the first [[populations]] and [[projections]] "
                            "below (docs/circuits.md, 'SONATA in')\n";
        os << "sonata = " << quote(c.import.sonata) << "\n";
        if (comments) os << "# Dale sign of imported populations whose nodes carry no ei attribute: { NAME = \"excitatory\" | \"inhibitory\" }\n";
        os << "signs = {";
        bool first = true;
        for (auto& [name, sign]: c.import.signs) {
            os << (first? " ": ", ") << name << " = " << quote(sign);
            first = false;
        }
        os << (first? "}": " }") << "\n";
        if (comments) os << "# fingerprint of the imported populations and synapses: reading this config again checks that the files still hold them\n";
        os << "digest = " << quote(c.import.digest) << "\n";
    }
    for (auto& sec: sections()) {
        os << "\n[" << sec << "]\n";
        for (auto& p: schema()) {
            if (p.section != sec || (p.shown && !p.shown(c))) continue;
            if (comments) os << "# " << p.doc << "\n";
            os << p.key << " = " << p.show(c) << "\n";
        }
        if (sec == "network") { // the circuit, after its global keys
            if (comments) os << "\n# The circuit: populations and projections (docs/circuits.md).";
            print_elements(os, c.circuit.populations, "populations", population_keys(), comments);
            print_elements(os, c.circuit.projections, "projections", projection_keys(), comments);
        }
    }
    return os.str();
}

} // namespace eisim
