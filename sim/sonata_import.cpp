#include "sim/sonata_import.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>

#include "io/h5.hpp"
#include "models/error.hpp"
#include "models/hash.hpp"

namespace eisim {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json; // keeps the file's order of populations

namespace {

constexpr double absent = std::numeric_limits<double>::quiet_NaN();

std::string in_quotes(const std::string& path) { return "'" + path + "'"; }

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (auto& e: v) s += (s.empty()? "": ", ") + e;
    return s;
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// ---- circuit_config.json ----------------------------------------------------------------------

// The files of one entry of networks.nodes or networks.edges.
struct file_pair {
    std::string file, types;              // resolved paths; types may be empty (no types CSV)
    std::map<std::string, std::string> type; // population → its "type" in the config ("virtual", ...)
    std::vector<std::string> order;       // the populations the config lists, in its order
};

struct circuit_files {
    std::string config; // the circuit config read (after a simulation config's "network")
    std::vector<file_pair> nodes, edges;
};

json read_json(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw file_error("cannot read the SONATA circuit config " + in_quotes(path) + ": no such file or not readable");
    try {
        return json::parse(f);
    } catch (const std::exception& e) {
        throw file_error(in_quotes(path) + " is not valid JSON: " + e.what());
    }
}

// SONATA's manifest: "$NAME" (or "${NAME}") in a path is the manifest entry "$NAME", whose own
// value may use other entries; ${configdir} is the config file's folder. A relative path (after
// substitution) is relative to that folder.
class manifest {
public:
    manifest(const json& root, const std::string& config): config_(config) {
        dir_ = fs::absolute(fs::path(config)).parent_path().lexically_normal().string();
        vars_["configdir"] = dir_;
        if (!root.contains("manifest")) return;
        const json& m = root["manifest"];
        if (!m.is_object()) throw file_error(in_quotes(config) + " manifest: must be an object of \"$NAME\": \"path\" entries");
        for (auto& [key, value]: m.items()) {
            std::string name = key;
            if (!name.empty() && name[0] == '$') name = name.substr(1);
            if (name.size() > 2 && name.front() == '{' && name.back() == '}') name = name.substr(1, name.size() - 2);
            if (!value.is_string()) throw file_error(in_quotes(config) + " manifest." + key + ": must be a string");
            vars_[name] = value.get<std::string>();
        }
    }

    /// The path `value` (at `where` in the config) with every variable substituted, made absolute.
    std::string path(const std::string& value, const std::string& where) const {
        fs::path p(substitute(value, where, 0));
        if (p.is_relative()) p = fs::path(dir_)/p;
        return p.lexically_normal().string();
    }

private:
    std::string config_, dir_;
    std::map<std::string, std::string> vars_;

    std::string substitute(const std::string& s, const std::string& where, int depth) const {
        if (depth > 32) throw file_error(in_quotes(config_) + " " + where + ": the manifest's variables refer to each other in a cycle");
        std::string out;
        for (std::size_t i = 0; i < s.size();) {
            if (s[i] != '$') { out += s[i++]; continue; }
            std::string name;
            std::size_t end = i + 1;
            if (end < s.size() && s[end] == '{') {
                const std::size_t close = s.find('}', end);
                if (close == std::string::npos) throw file_error(in_quotes(config_) + " " + where + ": \"" + s + "\": an unclosed ${");
                name = s.substr(end + 1, close - end - 1);
                end = close + 1;
            } else {
                while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) ++end;
                name = s.substr(i + 1, end - i - 1);
            }
            const auto it = vars_.find(name);
            if (it == vars_.end()) {
                std::string known;
                for (auto& [k, v]: vars_) known += (known.empty()? "": ", ") + ("$" + k);
                throw file_error(in_quotes(config_) + " " + where + ": \"" + s + "\" uses $" + name + ", which the manifest does not define (defined: " +
                                 known + ")");
            }
            out += name == "configdir"? it->second: substitute(it->second, where, depth + 1);
            i = end;
        }
        return out;
    }
};

std::vector<file_pair> read_file_list(const json& networks, const manifest& man, const std::string& config, const char* kind,
                                      const char* file_key, const char* types_key) {
    std::vector<file_pair> out;
    if (!networks.contains(kind)) return out;
    const json& list = networks[kind];
    if (!list.is_array()) throw file_error(in_quotes(config) + " networks." + kind + ": must be a list");
    for (std::size_t i = 0; i < list.size(); ++i) {
        const json& e = list[i];
        const std::string where = std::string("networks.") + kind + "[" + std::to_string(i) + "]";
        if (!e.is_object()) throw file_error(in_quotes(config) + " " + where + ": must be an object");
        file_pair f;
        if (!e.contains(file_key) || !e[file_key].is_string())
            throw file_error(in_quotes(config) + " " + where + ": no " + file_key + " (a string)");
        f.file = man.path(e[file_key].get<std::string>(), where + "." + file_key);
        if (e.contains(types_key)) {
            if (!e[types_key].is_string()) throw file_error(in_quotes(config) + " " + where + "." + types_key + ": must be a string");
            f.types = man.path(e[types_key].get<std::string>(), where + "." + types_key);
        }
        if (e.contains("populations")) {
            if (!e["populations"].is_object()) throw file_error(in_quotes(config) + " " + where + ".populations: must be an object");
            for (auto& [name, props]: e["populations"].items()) {
                f.order.push_back(name);
                if (props.is_object() && props.contains("type") && props["type"].is_string()) f.type[name] = props["type"].get<std::string>();
            }
        }
        out.push_back(std::move(f));
    }
    return out;
}

circuit_files read_circuit_config(const std::string& path) {
    circuit_files c;
    c.config = path;
    json root = read_json(path);
    if (!root.is_object()) throw file_error(in_quotes(path) + " is not a SONATA circuit config (a JSON object)");
    // A simulation config names its circuit config under "network".
    if (!root.contains("networks") && root.contains("network") && root["network"].is_string()) {
        const manifest man(root, path);
        c.config = man.path(root["network"].get<std::string>(), "network");
        root = read_json(c.config);
        if (!root.is_object()) throw file_error(in_quotes(c.config) + " is not a SONATA circuit config (a JSON object)");
    }
    if (!root.contains("networks") || !root["networks"].is_object())
        throw file_error(in_quotes(c.config) + " has no \"networks\" object: not a SONATA circuit config");
    const manifest man(root, c.config);
    const json& networks = root["networks"];
    c.nodes = read_file_list(networks, man, c.config, "nodes", "nodes_file", "node_types_file");
    c.edges = read_file_list(networks, man, c.config, "edges", "edges_file", "edge_types_file");
    if (c.nodes.empty()) throw file_error(in_quotes(c.config) + " networks.nodes: lists no nodes file");
    return c;
}

// ---- node_types.csv, edge_types.csv: space-separated, a header, one row per type --------------

std::vector<std::string> split_fields(const std::string& line, bool collapse) {
    std::vector<std::string> out;
    std::string cell;
    bool quoted_cell = false, in_quotes = false, any = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (in_quotes) {
            if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') { cell += '"'; ++i; }
            else if (ch == '"') in_quotes = false;
            else cell += ch;
        } else if (ch == '"') {
            in_quotes = quoted_cell = any = true;
        } else if (ch == ' ' || ch == '\t') {
            if (collapse && !any) continue; // a run of separators
            out.push_back(cell);
            cell.clear();
            quoted_cell = any = false;
        } else {
            cell += ch;
            any = true;
        }
    }
    if (any || quoted_cell || !collapse) out.push_back(cell);
    return out;
}

struct types_table {
    std::string file;
    std::map<std::int64_t, std::map<std::string, std::string>> rows; // type id → column → value
};

bool missing_value(const std::string& v) {
    return v.empty() || v == "NULL" || v == "NONE" || v == "None" || v == "nan" || v == "NaN";
}

types_table read_types(const std::string& path, const char* id_column, const std::string& named_by) {
    types_table t;
    t.file = path;
    if (path.empty()) return t;
    std::ifstream in(path);
    if (!in) throw file_error("cannot read the types file " + in_quotes(path) + " (" + named_by + "): no such file or not readable");
    std::string line;
    std::vector<std::string> header;
    long row = 0;
    while (std::getline(in, line)) {
        ++row;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        if (header.empty()) {
            header = split_fields(line, true);
            if (std::find(header.begin(), header.end(), id_column) == header.end())
                throw file_error(in_quotes(path) + ": the header '" + line + "' has no " + id_column + " column");
            continue;
        }
        auto cells = split_fields(line, false);
        if (cells.size() != header.size()) cells = split_fields(line, true);
        if (cells.size() != header.size())
            throw file_error(in_quotes(path) + " line " + std::to_string(row) + ": " + std::to_string(cells.size()) + " fields for " +
                             std::to_string(header.size()) + " columns");
        std::map<std::string, std::string> values;
        for (std::size_t c = 0; c < header.size(); ++c) values[header[c]] = cells[c];
        const std::string& id_text = values[id_column];
        char* end = nullptr;
        const long long id = std::strtoll(id_text.c_str(), &end, 10);
        if (id_text.empty() || *end != '\0')
            throw file_error(in_quotes(path) + " line " + std::to_string(row) + ": " + id_column + " = '" + id_text + "' is not an integer");
        if (!t.rows.emplace(id, std::move(values)).second)
            throw file_error(in_quotes(path) + " line " + std::to_string(row) + ": a second row for " + id_column + " " + id_text);
    }
    if (header.empty()) throw file_error(in_quotes(path) + " is empty; it needs a header with " + id_column);
    return t;
}

// ---- the attributes of a node or edge population ----------------------------------------------

// Every element's attribute from its group (node_group_id / node_group_index, or edge_...) or,
// where the group has none, from its type's row of the types table. The group's value wins.
class attributes {
public:
    attributes(hid_t pop, std::string where, const types_table& types, const std::string& prefix, std::size_t n):
        pop_(pop), where_(std::move(where)), types_(types), n_(n) {
        type_ = h5::read_int(pop, prefix + "_type_id");
        if (type_.size() != n) fail_count(prefix + "_type_id", type_.size());
        if (h5::exists(pop, prefix + "_group_id")) {
            group_ = h5::read_int(pop, prefix + "_group_id");
            if (group_.size() != n) fail_count(prefix + "_group_id", group_.size());
            if (!h5::exists(pop, prefix + "_group_index"))
                throw file_error(where_ + ": " + prefix + "_group_id without " + prefix + "_group_index");
            index_ = h5::read_int(pop, prefix + "_group_index");
            if (index_.size() != n) fail_count(prefix + "_group_index", index_.size());
        } else { // no groups listed: group 0 (if any) in element order
            group_.assign(n, 0);
            index_.resize(n);
            for (std::size_t i = 0; i < n; ++i) index_[i] = static_cast<std::int64_t>(i);
        }
    }

    std::int64_t type(std::size_t i) const { return type_[i]; }
    std::int64_t group(std::size_t i) const { return group_[i]; }
    const std::string& where() const { return where_; }
    const std::string& types_file() const { return types_.file; }
    bool has_type_row(std::size_t i) const { return types_.rows.count(type_[i]) > 0; }

    /// The attribute as text for every element; "" where neither the group nor the type has it.
    std::vector<std::string> strings(const std::string& name) {
        std::vector<std::string> out(n_);
        cached_column col(*this, name);
        for (std::size_t i = 0; i < n_; ++i) {
            const column& c = col(group_[i]);
            if (c.kind != column::none) {
                const auto k = checked_index(c, i, name);
                out[i] = c.kind == column::strings? c.text[k]: number(c.numbers[k]);
                if (!missing_value(out[i])) continue;
                out[i].clear();
            }
            const std::string* v = type_value(i, name);
            if (v) out[i] = *v;
        }
        return out;
    }

    /// The attribute as a number for every element; NaN where neither has it.
    std::vector<double> numbers(const std::string& name) {
        std::vector<double> out(n_, absent);
        cached_column col(*this, name);
        for (std::size_t i = 0; i < n_; ++i) {
            const column& c = col(group_[i]);
            if (c.kind != column::none) {
                const auto k = checked_index(c, i, name);
                if (c.kind == column::numeric) { out[i] = c.numbers[k]; continue; }
                if (!missing_value(c.text[k])) { out[i] = parse(c.text[k], where_ + "/" + std::to_string(group_[i]) + "/" + name, i); continue; }
            }
            const std::string* v = type_value(i, name);
            if (v) out[i] = parse(*v, in_quotes(types_.file) + " (type " + std::to_string(type_[i]) + ", column " + name + ")", i);
        }
        return out;
    }

private:
    struct column {
        enum kind_t { none, strings, numeric } kind = none;
        std::vector<std::string> text;
        std::vector<double> numbers;
    };
    hid_t pop_;
    std::string where_;
    const types_table& types_;
    std::size_t n_;
    std::vector<std::int64_t> type_, group_, index_;
    std::map<std::pair<std::int64_t, std::string>, column> columns_;

    // The column of one attribute, looked up again only when the group changes.
    struct cached_column {
        attributes& a;
        const std::string& name;
        std::int64_t group = std::numeric_limits<std::int64_t>::min();
        const column* c = nullptr;
        cached_column(attributes& a_, const std::string& name_): a(a_), name(name_) {}
        const column& operator()(std::int64_t g) {
            if (!c || g != group) { c = &a.group_column(g, name); group = g; }
            return *c;
        }
    };

    [[noreturn]] void fail_count(const std::string& dataset, std::size_t got) const {
        throw file_error(where_ + "/" + dataset + ": " + std::to_string(got) + " values for " + std::to_string(n_) + " elements");
    }

    const column& group_column(std::int64_t g, const std::string& name) {
        const auto key = std::make_pair(g, name);
        auto it = columns_.find(key);
        if (it != columns_.end()) return it->second;
        column c;
        const std::string group = std::to_string(g);
        if (h5::exists(pop_, group) && h5::exists(pop_, group + "/" + name)) {
            auto grp = h5::open_group(pop_, group);
            if (h5::exists(grp, "@library/" + name)) { // SONATA's enumerated strings: indices into @library/<name>
                const auto library = h5::read_strings(grp, "@library/" + name);
                const auto codes = h5::read_int(grp, name);
                c.kind = column::strings;
                for (auto code: codes) {
                    if (code < 0 || code >= static_cast<std::int64_t>(library.size()))
                        throw file_error(where_ + "/" + group + "/" + name + ": code " + std::to_string(code) + " is not in @library/" + name);
                    c.text.push_back(library[static_cast<std::size_t>(code)]);
                }
            } else if (h5::holds_strings(grp, name)) {
                c.kind = column::strings;
                c.text = h5::read_strings(grp, name);
            } else {
                c.kind = column::numeric;
                c.numbers = h5::read_double(grp, name);
            }
        }
        return columns_.emplace(key, std::move(c)).first->second;
    }

    std::size_t checked_index(const column& c, std::size_t i, const std::string& name) const {
        const std::size_t size = c.kind == column::strings? c.text.size(): c.numbers.size();
        const std::int64_t k = index_[i];
        if (k < 0 || static_cast<std::size_t>(k) >= size)
            throw file_error(where_ + ": element " + std::to_string(i) + " has group index " + std::to_string(k) + ", but " + where_ + "/" +
                             std::to_string(group_[i]) + "/" + name + " holds " + std::to_string(size) + " values");
        return static_cast<std::size_t>(k);
    }

    const std::string* type_value(std::size_t i, const std::string& name) const {
        const auto row = types_.rows.find(type_[i]);
        if (row == types_.rows.end()) return nullptr;
        const auto v = row->second.find(name);
        if (v == row->second.end() || missing_value(v->second)) return nullptr;
        return &v->second;
    }

    double parse(const std::string& text, const std::string& where, std::size_t i) const {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0')
            throw file_error(where + ": '" + text + "' (element " + std::to_string(i) + ") is not a number");
        return v;
    }
};

// ---- populations ------------------------------------------------------------------------------

std::string sanitized(const std::string& s) {
    std::string out = s;
    for (char& ch: out)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-')) ch = '_';
    return out;
}

// The names to read from one HDF5 group in order: those the config lists first (as it lists
// them), then the rest in name order.
std::vector<std::string> ordered(const std::vector<std::string>& listed, const std::vector<std::string>& present) {
    std::vector<std::string> out;
    for (auto& n: listed)
        if (std::find(present.begin(), present.end(), n) != present.end() && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    for (auto& n: present)
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    return out;
}

// One (node population, pop_name) pair as read.
struct raw_population {
    std::string node_population, pop_name, where, name;
    bool input = false;
    std::string ei;              // "e", "i" or "" (no node carries it)
    double tau_ms = absent;
    int size = 0;
};

struct node_population {
    std::string name, where;
    std::vector<int> population;  // raw population of each node (row)
    std::vector<int> local;       // the node's index within it
    std::vector<std::int64_t> ids; // node_id of each row; empty: the row index
    std::unordered_map<std::int64_t, std::size_t> row_of;
    std::size_t size() const { return population.size(); }
    /// The row of node `id`, or -1.
    long row(std::int64_t id) const {
        if (ids.empty()) return id >= 0 && static_cast<std::size_t>(id) < population.size()? static_cast<long>(id): -1;
        const auto it = row_of.find(id);
        return it == row_of.end()? -1: static_cast<long>(it->second);
    }
};

void read_node_population(hid_t file, const std::string& name, const std::string& file_path, const types_table& types,
                          const std::string& config_type, std::vector<raw_population>& raw, std::vector<node_population>& out) {
    auto pop = h5::open_group(file, "nodes/" + name);
    node_population np;
    np.name = name;
    np.where = in_quotes(file_path) + " /nodes/" + name;
    if (!h5::exists(pop, "node_type_id")) throw file_error(np.where + ": no node_type_id dataset");
    const std::size_t n = static_cast<std::size_t>(h5::shape(pop, "node_type_id").at(0));
    if (h5::exists(pop, "node_id")) {
        np.ids = h5::read_int(pop, "node_id");
        if (np.ids.size() != n) throw file_error(np.where + "/node_id: " + std::to_string(np.ids.size()) + " ids for " + std::to_string(n) + " nodes");
        bool identity = true;
        for (std::size_t i = 0; i < n; ++i) {
            if (np.ids[i] != static_cast<std::int64_t>(i)) identity = false;
            if (!np.row_of.emplace(np.ids[i], i).second)
                throw file_error(np.where + "/node_id: node id " + std::to_string(np.ids[i]) + " appears twice");
        }
        if (identity) { np.ids.clear(); np.row_of.clear(); }
    }
    attributes attr(pop, np.where, types, "node", n);
    const auto pop_name = attr.strings("pop_name");
    const auto ei = attr.strings("ei");
    const auto model_type = attr.strings("model_type");
    auto tau = attr.numbers("tau_ms");
    const auto tau_plain = attr.numbers("tau");
    std::map<std::string, int> index; // pop_name → raw population
    np.population.resize(n);
    np.local.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::string node = "node " + std::to_string(np.ids.empty()? static_cast<std::int64_t>(i): np.ids[i]) + " (node_type_id " +
                                 std::to_string(attr.type(i)) + ")";
        if (pop_name[i].empty())
            throw file_error(np.where + ": " + node + " has no pop_name, neither in its group /nodes/" + name + "/" + std::to_string(attr.group(i)) +
                             " nor in " + (types.file.empty()? std::string("a node types file (none is listed)"): "the node types file " + in_quotes(types.file)) +
                             "; eisim makes a population of each pop_name (bmtk's convention)");
        auto it = index.find(pop_name[i]);
        if (it == index.end()) {
            raw_population r;
            r.node_population = name;
            r.pop_name = pop_name[i];
            r.where = np.where + " pop_name " + pop_name[i];
            r.input = config_type == "virtual" || model_type[i] == "virtual";
            it = index.emplace(pop_name[i], static_cast<int>(raw.size())).first;
            raw.push_back(r);
        }
        raw_population& r = raw[static_cast<std::size_t>(it->second)];
        const bool input = config_type == "virtual" || model_type[i] == "virtual";
        if (input != r.input)
            throw file_error(r.where + ": " + node + " is " + (input? "": "not ") + "virtual while others of its pop_name are " +
                             (r.input? "": "not ") + "virtual; a population is input (virtual) or network cells, not both");
        if (!ei[i].empty()) {
            if (ei[i] != "e" && ei[i] != "i")
                throw file_error(r.where + ": " + node + " has ei = '" + ei[i] + "'; expected \"e\" or \"i\"");
            if (r.ei.empty()) r.ei = ei[i];
            else if (r.ei != ei[i])
                throw file_error(r.where + ": " + node + " has ei = " + ei[i] + " while an earlier node of its pop_name has " + r.ei +
                                 "; every cell of a population has one Dale sign");
        }
        const double t = std::isnan(tau[i])? tau_plain[i]: tau[i];
        if (!std::isnan(t)) {
            if (!(t > 0 && std::isfinite(t))) throw file_error(r.where + ": " + node + " has tau = " + number(t) + " ms; expected a number > 0");
            if (std::isnan(r.tau_ms)) r.tau_ms = t;
            else if (r.tau_ms != t)
                throw file_error(r.where + ": " + node + " has tau = " + number(t) + " ms, an earlier node " + number(r.tau_ms) +
                                 "; a population has one tau_ms");
        }
        np.population[i] = it->second;
        np.local[i] = r.size++;
    }
    out.push_back(std::move(np));
}

} // namespace

// ---- the digest -------------------------------------------------------------------------------

std::string circuit_digest(const std::vector<population_desc>& populations, const std::vector<projection_desc>& projections) {
    fnv1a f;
    f.value<std::uint64_t>(populations.size());
    for (auto& p: populations) {
        f.text(p.name);
        f.text(p.model);
        f.value<std::int64_t>(p.size);
        f.text(p.sign);
        f.value(p.keys.real("tau_ms"));
    }
    f.value<std::uint64_t>(projections.size());
    for (auto& q: projections) {
        f.text(q.name);
        for (auto* list: {&q.pre, &q.post}) {
            f.value<std::uint64_t>(list->size());
            for (auto& n: *list) f.text(n);
        }
        f.value<std::int8_t>(q.autapses);
        f.value<std::uint64_t>(q.listed.size());
        for (auto& s: q.listed) { f.value(s.pre); f.value(s.post); f.value(s.magnitude); }
    }
    return f.hex();
}

sonata_circuit import_sonata(const std::string& circuit_config, const std::map<std::string, std::string>& signs) {
    const circuit_files files = read_circuit_config(circuit_config);
    sonata_circuit out;

    // Nodes: every (node population, pop_name) pair, in file order.
    std::vector<raw_population> raw;
    std::vector<node_population> node_pops;
    for (std::size_t k = 0; k < files.nodes.size(); ++k) {
        const file_pair& fp = files.nodes[k];
        const std::string named = "networks.nodes[" + std::to_string(k) + "] of " + in_quotes(files.config);
        const types_table types = read_types(fp.types, "node_type_id", named);
        auto file = h5::open_file(fp.file);
        if (!h5::exists(file, "nodes")) throw file_error(in_quotes(fp.file) + " (" + named + ") has no /nodes group: not a SONATA nodes file");
        auto nodes = h5::open_group(file, "nodes");
        for (auto& name: ordered(fp.order, h5::subgroups(nodes))) {
            for (auto& np: node_pops)
                if (np.name == name) throw file_error(in_quotes(fp.file) + ": a second node population named " + name + " (first in " + np.where + ")");
            const auto t = fp.type.find(name);
            read_node_population(file, name, fp.file, types, t == fp.type.end()? std::string(): t->second, raw, node_pops);
        }
    }
    if (raw.empty()) throw file_error(in_quotes(files.config) + ": its nodes files hold no node");

    // Names: the pop_name (letters, digits, '_' and '-'; others become '_'), prefixed by the node
    // population's name where two node populations share a pop_name.
    std::map<std::string, int> uses;
    for (auto& r: raw) ++uses[sanitized(r.pop_name)];
    std::map<std::string, const raw_population*> named;
    for (auto& r: raw) {
        r.name = uses[sanitized(r.pop_name)] > 1? sanitized(r.node_population + "_" + r.pop_name): sanitized(r.pop_name);
        if (!named.emplace(r.name, &r).second)
            throw file_error(r.where + " and " + named[r.name]->where + " both become the population " + r.name + "; rename one pop_name");
    }
    std::vector<std::string> names;
    for (auto& r: raw) names.push_back(r.name);
    for (auto& [name, sign]: signs) {
        if (!named.count(name))
            throw config_error("circuit.signs." + name, "no imported population of that name (imported: " + join(names) + ")");
        if (sign != "excitatory" && sign != "inhibitory") throw config_error("circuit.signs." + name, "\"" + sign + "\": expected excitatory or inhibitory");
    }
    for (auto& r: raw) {
        population_desc p;
        p.name = r.name;
        p.model = r.input? "input": "rate";
        p.size = r.size;
        const auto given = signs.find(r.name);
        const std::string from_ei = r.ei.empty()? std::string(): r.ei == "e"? "excitatory": "inhibitory";
        if (given != signs.end()) {
            if (!from_ei.empty() && from_ei != given->second)
                throw config_error("circuit.signs." + r.name, "= " + given->second + ", but the nodes of " + r.where + " say ei = " + r.ei);
            p.sign = given->second;
        } else if (!from_ei.empty()) {
            p.sign = from_ei;
        } else if (r.input) {
            p.sign = "excitatory";
        } else {
            throw config_error("circuit.signs", "population " + r.name + " (" + r.where + ") has no ei attribute (\"e\" or \"i\") on its nodes or "
                               "node types: give its Dale sign in [circuit] signs, e.g. signs = { " + r.name + " = \"excitatory\" } (or \"inhibitory\")");
        }
        if (!std::isnan(r.tau_ms) && !r.input) p.keys.set("tau_ms", r.tau_ms);
        out.populations.push_back(p);
    }

    // Edges: one projection per edge population, its synapses in the file's edge order.
    std::set<std::string> projection_names;
    for (std::size_t k = 0; k < files.edges.size(); ++k) {
        const file_pair& fp = files.edges[k];
        const std::string named_by = "networks.edges[" + std::to_string(k) + "] of " + in_quotes(files.config);
        const types_table types = read_types(fp.types, "edge_type_id", named_by);
        auto file = h5::open_file(fp.file);
        if (!h5::exists(file, "edges")) throw file_error(in_quotes(fp.file) + " (" + named_by + ") has no /edges group: not a SONATA edges file");
        auto edges = h5::open_group(file, "edges");
        for (auto& name: ordered(fp.order, h5::subgroups(edges))) {
            auto pop = h5::open_group(edges, name);
            const std::string where = in_quotes(fp.file) + " /edges/" + name;
            const auto src = h5::read_int(pop, "source_node_id");
            const auto tgt = h5::read_int(pop, "target_node_id");
            if (src.size() != tgt.size())
                throw file_error(where + ": " + std::to_string(src.size()) + " source_node_id for " + std::to_string(tgt.size()) + " target_node_id");
            const auto node_pop_of = [&](const char* dataset) -> const node_population& {
                auto d = h5::open_dataset(pop, dataset);
                std::string np_name;
                if (h5::has_attr(d, "node_population")) np_name = h5::read_attr_string(d, "node_population");
                else if (node_pops.size() == 1) np_name = node_pops[0].name;
                else throw file_error(where + "/" + dataset + ": no node_population attribute (there are several node populations)");
                for (auto& np: node_pops) if (np.name == np_name) return np;
                std::vector<std::string> known;
                for (auto& np: node_pops) known.push_back(np.name);
                throw file_error(where + "/" + dataset + ": node_population \"" + np_name + "\" is not among the circuit's node populations (" +
                                 join(known) + ")");
            };
            const node_population& S = node_pop_of("source_node_id");
            const node_population& T = node_pop_of("target_node_id");
            const std::size_t n = src.size();
            if (n == 0) {
                out.notes.push_back(where + " has no edges; it makes no projection");
                continue;
            }
            std::vector<long> srow(n), trow(n);
            std::vector<char> pre_used(raw.size(), 0), post_used(raw.size(), 0);
            for (std::size_t e = 0; e < n; ++e) {
                srow[e] = S.row(src[e]);
                trow[e] = T.row(tgt[e]);
                if (srow[e] < 0)
                    throw file_error(where + " edge " + std::to_string(e) + ": source_node_id " + std::to_string(src[e]) + " is no node of " + S.where);
                if (trow[e] < 0)
                    throw file_error(where + " edge " + std::to_string(e) + ": target_node_id " + std::to_string(tgt[e]) + " is no node of " + T.where);
                pre_used[static_cast<std::size_t>(S.population[static_cast<std::size_t>(srow[e])])] = 1;
                post_used[static_cast<std::size_t>(T.population[static_cast<std::size_t>(trow[e])])] = 1;
            }
            // The projection's lists: the populations its edges touch, in circuit order; ids are
            // offsets into their concatenation.
            projection_desc q;
            q.name = sanitized(name);
            if (q.name == "populations") q.name = "populations_";
            if (!projection_names.insert(q.name).second)
                throw file_error(where + ": a second edge population that becomes the projection " + q.name + "; rename one");
            std::vector<std::int64_t> pre_offset(raw.size(), -1), post_offset(raw.size(), -1);
            std::int64_t pre_n = 0, post_n = 0;
            std::string pre_kind;
            for (std::size_t r = 0; r < raw.size(); ++r) {
                if (pre_used[r]) {
                    const std::string kind = raw[r].input? "input": "rate";
                    if (!pre_kind.empty() && kind != pre_kind)
                        throw file_error(where + ": its source nodes are in input (virtual) and network populations (" + join(q.pre) + ", " + raw[r].name +
                                         "); an edge population's sources are of one kind");
                    pre_kind = kind;
                    q.pre.push_back(raw[r].name);
                    pre_offset[r] = pre_n;
                    pre_n += raw[r].size;
                }
                if (post_used[r]) {
                    if (raw[r].input)
                        throw file_error(where + ": its target nodes include the virtual population " + raw[r].name + " (" + raw[r].where +
                                         "); virtual nodes (eisim's inputs) take no synapses");
                    q.post.push_back(raw[r].name);
                    post_offset[r] = post_n;
                    post_n += raw[r].size;
                }
            }
            attributes attr(pop, where, types, "edge", n);
            const auto weight = attr.numbers("syn_weight");
            const auto nsyns = attr.numbers("nsyns");
            const auto delay = attr.numbers("delay");
            q.connectivity = "sonata";
            q.weights = "file";
            q.file = fp.file + ":/edges/" + name;
            q.listed.resize(n);
            std::vector<std::pair<std::uint64_t, std::size_t>> pair_keys(n); // (pre, post) of each edge, to find repeated pairs
            double max_delay = 0;
            for (std::size_t e = 0; e < n; ++e) {
                const auto s = static_cast<std::size_t>(srow[e]), t = static_cast<std::size_t>(trow[e]);
                const auto ps = static_cast<std::size_t>(S.population[s]), pt = static_cast<std::size_t>(T.population[t]);
                const auto edge = [&] { // for messages only
                    return where + " edge " + std::to_string(e) + " (source node " + std::to_string(src[e]) + " of " + S.name + ", population " +
                           raw[ps].name + "; target node " + std::to_string(tgt[e]) + " of " + T.name + ", population " + raw[pt].name + ")";
                };
                const double w = weight[e];
                if (std::isnan(w))
                    throw file_error(edge() + " has no syn_weight, neither in its group /edges/" + name + "/" + std::to_string(attr.group(e)) + " nor in " +
                                     (types.file.empty()? std::string("an edge types file (none is listed)"): "the edge types file " + in_quotes(types.file)) +
                                     " (edge_type_id " + std::to_string(attr.type(e)) + ")");
                if (!std::isfinite(w)) throw file_error(edge() + ": syn_weight = " + number(w) + " is not finite");
                const population_desc& pre_pop = out.populations[ps];
                if (w < 0 && pre_pop.sign == "excitatory")
                    throw file_error(edge() + ": syn_weight = " + number(w) + " is negative, but " + raw[ps].name + " is excitatory; only an inhibitory "
                                     "population's weights may be stored as negative numbers (their magnitude is used)");
                const double k = std::isnan(nsyns[e])? 1.0: nsyns[e];
                if (!(k >= 0 && std::isfinite(k))) throw file_error(edge() + ": nsyns = " + number(k) + "; expected a number >= 0");
                if (std::isfinite(delay[e]) && delay[e] != 0) max_delay = std::max(max_delay, std::abs(delay[e]));
                listed_synapse& syn = q.listed[e];
                syn.pre = pre_offset[ps] + S.local[s];
                syn.post = post_offset[pt] + T.local[t];
                syn.magnitude = std::abs(w)*k;
                pair_keys[e] = {static_cast<std::uint64_t>(syn.pre)*static_cast<std::uint64_t>(post_n) + static_cast<std::uint64_t>(syn.post), e};
                if (&S == &T && s == t) q.autapses = true;
            }
            // The first edge that repeats an earlier edge's pair of nodes.
            std::sort(pair_keys.begin(), pair_keys.end());
            std::size_t repeat = n, earlier = 0;
            for (std::size_t j = 1; j < n; ++j)
                if (pair_keys[j].first == pair_keys[j - 1].first && pair_keys[j].second < repeat) {
                    std::size_t first = j - 1;
                    while (first > 0 && pair_keys[first - 1].first == pair_keys[j].first) --first;
                    repeat = pair_keys[j].second;
                    earlier = pair_keys[first].second;
                }
            if (repeat < n) {
                const std::size_t e = repeat;
                throw file_error(where + " edge " + std::to_string(e) + " (source node " + std::to_string(src[e]) + ", target node " + std::to_string(tgt[e]) +
                                 ") connects the same pair of nodes as edge " + std::to_string(earlier) +
                                 "; eisim holds one synapse per pair of cells (give it one edge, with nsyns or the summed syn_weight)");
            }
            if (max_delay > 0)
                out.notes.push_back(where + ": its delays (up to " + number(max_delay) + " ms) are left out: rate populations take no synaptic "
                                    "delay, so projection " + q.name + " has delay = 0");
            out.projections.push_back(std::move(q));
        }
    }
    out.digest = circuit_digest(out.populations, out.projections);
    return out;
}

} // namespace eisim
