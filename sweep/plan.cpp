#include "sweep/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "models/error.hpp"
#include "models/hash.hpp"
#include "sim/toml_text.hpp"
#include "sweep/text_files.hpp"

namespace eisim::sweep {

namespace {

namespace fs = std::filesystem;

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c: s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') { out += "\\n"; continue; }
        out += c;
    }
    return out + "\"";
}

// The shortest decimal that reads back as x, written as a TOML float (with a '.' or an exponent).
std::string shortest_real(double x) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0? "inf": "-inf";
    char buf[40];
    for (int digits = 1; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, x);
        if (std::strtod(buf, nullptr) == x) break;
    }
    std::string s = buf;
    if (s.find_first_of(".en") == std::string::npos) s += ".0";
    return s;
}

// A TOML value as one line of TOML text (what `--set key=TEXT` reads back as the same value).
std::string toml_text(const toml::value& v) {
    switch (v.type()) {
    case toml::value_t::string: return quote(v.as_string().str);
    case toml::value_t::integer: return std::to_string(v.as_integer());
    case toml::value_t::floating: return shortest_real(v.as_floating());
    case toml::value_t::boolean: return v.as_boolean()? "true": "false";
    case toml::value_t::array: {
        std::string s = "[";
        for (auto& e: v.as_array()) s += (s.size() > 1? ", ": "") + toml_text(e);
        return s + "]";
    }
    case toml::value_t::table: {
        std::map<std::string, std::string> sorted;
        for (auto& [k, e]: v.as_table()) sorted[k] = toml_text(e);
        std::string s = "{";
        for (auto& [k, e]: sorted) s += (s.size() > 1? ", ": " ") + k + " = " + e;
        return s + (sorted.empty()? "}": " }");
    }
    default: {
        std::ostringstream os;
        os << toml::format(v);
        return os.str();
    }
    }
}

swept_value make_value(const toml::value& v) {
    return {toml_text(v), v.is_string()? v.as_string().str: toml_text(v)};
}

// Where in the file a value was written, for the axis order.
std::pair<unsigned long, unsigned long> place(const toml::value& v) {
    const auto loc = v.location();
    return {loc.line(), loc.column()};
}

bool is_range(const toml::value& v) { return v.is_table() && v.as_table().count("range"); }

// A section's keys as dotted names, in file order: `"training.seed" = ...` and `training.seed = ...`
// (a nested table) alike. A { range = ... } table is a value, not a section.
void flatten(const toml::value& table, const std::string& prefix, std::vector<std::pair<std::string, toml::value>>& out) {
    std::vector<std::pair<std::string, toml::value>> here(table.as_table().begin(), table.as_table().end());
    std::sort(here.begin(), here.end(), [](auto& a, auto& b) { return place(a.second) < place(b.second); });
    for (auto& [k, v]: here) {
        const std::string name = prefix.empty()? k: prefix + "." + k;
        if (v.is_table() && !is_range(v)) flatten(v, name, out);
        else out.emplace_back(name, v);
    }
}

// An axis: one key (a grid list) or several varied together (a zip), with its rows of values.
struct axis {
    std::vector<std::string> keys;
    std::vector<std::vector<swept_value>> rows;
    std::pair<unsigned long, unsigned long> at; // its place in the file
};

std::vector<toml::value> grid_values(const std::string& origin, const std::string& key, const toml::value& v) {
    const std::string where = origin + ": [grid] '" + key + "'";
    if (is_range(v)) {
        const auto& t = v.as_table();
        for (auto& [k, _]: t)
            if (k != "range" && k != "step") throw user_error(where + ": unknown key '" + k + "' (a range takes range = [first, last] and step)");
        const toml::value& r = t.at("range");
        if (!r.is_array() || r.as_array().size() != 2 || !r.as_array()[0].is_integer() || !r.as_array()[1].is_integer())
            throw user_error(where + ": range must be two integers, [first, last] (both included)");
        const std::int64_t first = r.as_array()[0].as_integer(), last = r.as_array()[1].as_integer();
        std::int64_t step = 1;
        if (t.count("step")) {
            if (!t.at("step").is_integer() || t.at("step").as_integer() < 1)
                throw user_error(where + ": step must be an integer >= 1");
            step = t.at("step").as_integer();
        }
        if (last < first) throw user_error(where + ": range [" + std::to_string(first) + ", " + std::to_string(last) + "] is empty (first > last)");
        if ((last - first)/step >= 10000000) throw user_error(where + ": range gives more than 10 million values");
        std::vector<toml::value> out;
        for (std::int64_t x = first; x <= last; x += step) out.emplace_back(x);
        return out;
    }
    if (!v.is_array()) throw user_error(where + ": expected a list of values or { range = [first, last] }, got " + toml_text(v));
    if (v.as_array().empty()) throw user_error(where + ": the list is empty");
    return std::vector<toml::value>(v.as_array().begin(), v.as_array().end());
}

axis zip_axis(const std::string& origin, const std::string& section, const toml::value& table) {
    std::vector<std::pair<std::string, toml::value>> keys;
    flatten(table, "", keys);
    axis a;
    if (keys.empty()) throw user_error(origin + ": " + section + " has no keys");
    std::size_t n = 0;
    std::string first;
    for (auto& [k, v]: keys) {
        const std::string where = origin + ": " + section + " '" + k + "'";
        if (!v.is_array()) throw user_error(where + ": expected a list (zip lists vary together, element by element)");
        if (v.as_array().empty()) throw user_error(where + ": the list is empty");
        if (a.keys.empty()) {
            n = v.as_array().size();
            first = k;
            a.rows.resize(n);
            a.at = place(v);
        } else if (v.as_array().size() != n) {
            throw user_error(where + " has " + std::to_string(v.as_array().size()) + " values and '" + first + "' has " + std::to_string(n) +
                             ": zip lists vary together and need one length");
        }
        a.keys.push_back(k);
        for (std::size_t i = 0; i < n; ++i) a.rows[i].push_back(make_value(v.as_array()[i]));
    }
    return a;
}

std::string folder_of(const std::string& path) {
    const fs::path p = fs::path(path).parent_path();
    return p.empty()? ".": p.string();
}

// A relative base: beside the sweep file, else in the working directory.
std::string find_base(const std::string& base, const std::string& folder, const std::string& origin) {
    if (base.empty()) return "";
    std::error_code ec;
    const fs::path p(base);
    if (p.is_absolute()) return base;
    const fs::path beside = fs::path(folder)/p;
    if (fs::exists(beside, ec)) return fs::absolute(beside, ec).lexically_normal().string();
    if (fs::exists(p, ec)) return fs::absolute(p, ec).lexically_normal().string();
    throw user_error(origin + ": base '" + base + "' is found neither beside the sweep file ('" + beside.string() +
                     "') nor in the working directory");
}

} // namespace

std::string run_id(const config& c) {
    fnv1a f;
    const std::string canonical = to_toml(c, false);
    f.bytes(canonical.data(), canonical.size());
    return f.hex();
}

std::string sweep_plan::describe(const sweep_point& p) const {
    std::string s;
    for (std::size_t i = 0; i < swept_keys.size(); ++i) s += (i? ", ": "") + swept_keys[i] + " = " + p.values[i].shown;
    return s.empty()? "no swept key": s;
}

sweep_plan parse_sweep(const std::string& text, const std::string& origin, const std::string& folder) {
    const toml::value root = parse_toml_text(text, origin);
    sweep_plan plan;
    plan.file = origin;
    std::vector<axis> axes;
    std::set<std::string> seen; // every key set or swept, once
    const auto once = [&](const std::string& key, const std::string& section) {
        if (key.find('.') == std::string::npos)
            throw user_error(origin + ": " + section + " '" + key + "': expected a config key section.key (as --set takes)");
        if (!seen.insert(key).second)
            throw user_error(origin + ": '" + key + "' is given twice (in [set], [grid] or [zip]); give each key once");
    };
    for (auto& [name, v]: root.as_table()) {
        if (name == "base") {
            if (!v.is_string()) throw user_error(origin + ": base must be a string (a config file's path)");
            plan.base = find_base(v.as_string().str, folder, origin);
        } else if (name == "set" || name == "grid") {
            if (!v.is_table()) throw user_error(origin + ": [" + name + "] must be a table of config keys");
            std::vector<std::pair<std::string, toml::value>> keys;
            flatten(v, "", keys);
            for (auto& [k, x]: keys) {
                once(k, "[" + name + "]");
                if (name == "set") {
                    if (is_range(x)) throw user_error(origin + ": [set] '" + k + "': a range belongs in [grid]");
                    plan.sets.push_back(k + "=" + toml_text(x));
                    continue;
                }
                axis a;
                a.keys = {k};
                a.at = place(x);
                for (auto& e: grid_values(origin, k, x)) a.rows.push_back({make_value(e)});
                axes.push_back(std::move(a));
            }
        } else if (name == "zip") {
            std::vector<axis> zips;
            if (v.is_table()) zips.push_back(zip_axis(origin, "[zip]", v));
            else if (v.is_array()) {
                for (std::size_t i = 0; i < v.as_array().size(); ++i) {
                    if (!v.as_array()[i].is_table()) throw user_error(origin + ": [[zip]] must be tables of lists");
                    zips.push_back(zip_axis(origin, "[[zip]] " + std::to_string(i + 1), v.as_array()[i]));
                }
            } else throw user_error(origin + ": [zip] must be a table of lists");
            for (auto& a: zips) {
                for (auto& k: a.keys) once(k, "[zip]");
                axes.push_back(std::move(a));
            }
        } else {
            throw user_error(origin + ": unknown key '" + name + "' (a sweep file has base, [set], [grid] and [zip])");
        }
    }
    std::sort(axes.begin(), axes.end(), [](const axis& a, const axis& b) { return a.at < b.at; });

    plan.combinations = 1;
    for (auto& a: axes) {
        for (auto& k: a.keys) plan.swept_keys.push_back(k);
        if (plan.combinations > 10000000/a.rows.size()) throw user_error(origin + ": more than 10 million combinations");
        plan.combinations *= a.rows.size();
    }

    // The base with the fixed overrides, once; then each combination on a copy of it.
    config fixed;
    try {
        fixed = load_config(plan.base);
    } catch (const user_error& e) {
        throw user_error(origin + ": base: " + e.what());
    }
    for (auto& s: plan.sets) {
        try {
            apply_override(fixed, s, false);
        } catch (const user_error& e) {
            throw user_error(origin + ": [set] " + e.what());
        }
    }
    std::map<std::string, std::size_t> index_of; // id -> position in plan.points
    std::set<std::string> notes;
    std::vector<std::size_t> digit(axes.size(), 0); // the row of each axis; the last varies fastest
    for (std::size_t k = 1; k <= plan.combinations; ++k) {
        sweep_point p;
        p.combination = k;
        p.resolved = fixed;
        for (std::size_t a = 0; a < axes.size(); ++a)
            for (auto& v: axes[a].rows[digit[a]]) p.values.push_back(v);
        const auto where = [&] { return "combination " + std::to_string(k) + " of " + std::to_string(plan.combinations) + " (" + plan.describe(p) + ")"; };
        std::size_t i = 0;
        for (std::size_t a = 0; a < axes.size(); ++a)
            for (auto& v: axes[a].rows[digit[a]]) {
                const std::string& key = plan.swept_keys[i++];
                try {
                    apply_override(p.resolved, key + "=" + v.toml, false);
                } catch (const user_error& e) {
                    throw user_error(origin + ": axis '" + key + "' = " + v.shown + ", " + where() + ": " + e.what());
                }
            }
        try {
            // A key of a component that this combination does not choose has no effect here.
            drop_stray_keys(p.resolved);
            validate(p.resolved);
        } catch (const user_error& e) {
            throw user_error(origin + ": " + where() + ": " + e.what());
        }
        for (auto& n: p.resolved.notes) notes.insert(n);
        for (auto& n: inert_settings(p.resolved)) notes.insert(n);
        p.resolved.notes.clear();
        p.id = run_id(p.resolved);
        auto [it, fresh] = index_of.emplace(p.id, plan.points.size());
        if (fresh) plan.points.push_back(std::move(p));
        else plan.merged.push_back({k, plan.points[it->second].combination});
        for (std::size_t a = axes.size(); a-- > 0;) { // the next combination
            if (++digit[a] < axes[a].rows.size()) break;
            digit[a] = 0;
        }
    }
    plan.notes.assign(notes.begin(), notes.end());
    return plan;
}

sweep_plan read_sweep(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw user_error("sweep file '" + path + "' is a directory");
    const auto text = read_text(path);
    if (!text) throw user_error("cannot read the sweep file '" + path + "'");
    return parse_sweep(*text, path, folder_of(path));
}

} // namespace eisim::sweep
