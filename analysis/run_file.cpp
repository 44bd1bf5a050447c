#include "analysis/run_file.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <tuple>
#include <toml.hpp>

#include "models/error.hpp"

namespace eisim::analysis {

namespace {

// The populations of the three projections eisim writes, for files that leave them out.
struct known_projection { const char* name; const char* pre; const char* post; };
constexpr known_projection known[] = {
    {"recurrent", "network", "network"}, {"input", "input", "network"}, {"readout", "network", "output"}};

index_vector to_index(const std::vector<std::int64_t>& v) {
    index_vector out(static_cast<long>(v.size()));
    for (std::size_t i = 0; i < v.size(); ++i) out[static_cast<long>(i)] = static_cast<long>(v[i]);
    return out;
}

// "a, b, c".
std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (auto& n: names) out += (out.empty()? "": ", ") + n;
    return out;
}

// "no population 'X' (known: E, I, ...)".
std::string no_population(const std::string& name, const std::vector<population_info>& populations) {
    std::vector<std::string> known;
    for (auto& q: populations) known.push_back(q.name);
    return "no population '" + name + "' (known: " + joined(known) + ")";
}

// A [T] or [T × 1] dataset read as T values.
std::vector<double> read_column(hid_t loc, const std::string& name, const std::string& path) {
    const auto dims = h5::shape(loc, name);
    if (dims.empty() || dims.size() > 2 || (dims.size() == 2 && dims[1] != 1))
        throw file_error("'" + path + "': /" + name + " should be a column [T] or [T × 1]");
    return h5::read_double(loc, name);
}

} // namespace

void run_file::fail(const std::string& what) const { throw file_error("'" + path_ + "': " + what); }

run_file::run_file(const std::string& path): path_(path) {
    file_ = h5::open_file(path); // not HDF5, unreadable or truncated: file_error
    strings_ = h5::file_strings(file_);
    try {
        if (!h5::has_attr(file_, "format"))
            fail("not an eisim run file (no 'format' attribute at the root; expected format=\"eisim.run\")");
        const std::string format = strings_.attr(file_, "format");
        if (format != "eisim.run") fail("not an eisim run file (format=\"" + format + "\", expected \"eisim.run\")");
        if (!h5::has_attr(file_, "format_version")) fail("no 'format_version' attribute at the root");
        format_version_ = h5::read_attr_int(file_, "format_version");
        if (format_version_ > readable_format_version)
            fail("format_version " + std::to_string(format_version_) + " is newer than this eisim reads (" +
                 std::to_string(readable_format_version) + "); use a newer eisim");
        if (format_version_ < 1) fail("invalid format_version " + std::to_string(format_version_));

        if (!h5::exists(file_, "network")) fail("missing group /network");
        auto net = h5::open_group(file_, "network");
        n_e_ = static_cast<long>(h5::read_attr_int(net, "n_e"));
        n_i_ = static_cast<long>(h5::read_attr_int(net, "n_i"));
        if (n_e_ < 0 || n_i_ < 0) fail("/network: negative n_e or n_i");
        if (h5::has_attr(net, "n_in")) n_in_ = static_cast<long>(h5::read_attr_int(net, "n_in"));
        if (h5::has_attr(net, "n_out")) n_out_ = static_cast<long>(h5::read_attr_int(net, "n_out"));

        if (!h5::exists(file_, "trajectory"))
            fail("missing group /trajectory: the file holds no learning trajectory (written by 'eisim simulate'?)");
        auto traj = h5::open_group(file_, "trajectory");
        steps_ = read_column(traj, "step", path_);
        long T = snapshots();
        // The complete snapshots (sim/recorder.hpp): the committed ones (version 3; older files
        // have no marker: the rows every dataset holds).
        if (format_version_ >= 3 && !h5::has_attr(traj, "committed"))
            fail("/trajectory has no attribute committed (a version-3 file records its complete snapshots there)");
        if (h5::has_attr(traj, "committed")) {
            const std::int64_t committed = h5::read_attr_int(traj, "committed");
            if (committed < 0) fail("/trajectory attribute committed is negative (" + std::to_string(committed) + ")");
            T = std::min(T, static_cast<long>(committed));
        }

        if (format_version_ >= 2) read_populations(net);

        // The circuit's order where the file gives it (/network attr projections, version 2), else
        // the known projections first, in the recorder's order; then any other group.
        auto names = h5::subgroups(net);
        if (format_version_ >= 2) names.erase(std::remove(names.begin(), names.end(), "populations"), names.end());
        std::vector<std::string> ordered;
        const auto add = [&](const std::string& n) {
            if (std::find(names.begin(), names.end(), n) != names.end() && std::find(ordered.begin(), ordered.end(), n) == ordered.end())
                ordered.push_back(n);
        };
        if (h5::has_attr(net, "projections")) {
            std::istringstream list(strings_.attr(net, "projections"));
            for (std::string n; std::getline(list, n, ',');) add(n);
        }
        for (auto& k: known) add(k.name);
        for (auto& n: names) add(n);
        if (ordered.empty()) fail("/network holds no projection group");
        // Dale's law as the file states it: each network cell's sign, +1 or -1.
        std::vector<std::int64_t> cell_sign;
        if (h5::exists(net, "cell_sign")) {
            cell_sign = h5::read_int(net, "cell_sign");
            if (static_cast<long>(cell_sign.size()) != n_e_ + n_i_)
                fail("/network/cell_sign holds " + std::to_string(cell_sign.size()) + " signs for n_e + n_i = " + std::to_string(n_e_ + n_i_) +
                     " cells");
            for (std::size_t i = 0; i < cell_sign.size(); ++i)
                if (cell_sign[i] != 1 && cell_sign[i] != -1)
                    fail("/network/cell_sign[" + std::to_string(i) + "] = " + std::to_string(cell_sign[i]) + " (a sign is +1 or -1)");
        }

        for (auto& name: ordered) {
            auto g = h5::open_group(net, name);
            projection_info p;
            p.name = name;
            p.pre = to_index(h5::read_int(g, "pre"));
            p.post = to_index(h5::read_int(g, "post"));
            p.sign = to_index(h5::read_int(g, "sign"));
            if (p.post.size() != p.pre.size() || p.sign.size() != p.pre.size())
                fail("/network/" + name + ": pre, post and sign differ in length");
            p.plastic = !h5::has_attr(g, "plastic") || h5::read_attr_int(g, "plastic") != 0;
            const known_projection* kp = nullptr;
            for (auto& k: known) if (name == k.name) kp = &k;
            for (auto [attr, field, fallback]: {std::tuple{"pre_population", &p.pre_population, kp? kp->pre: nullptr},
                                                std::tuple{"post_population", &p.post_population, kp? kp->post: nullptr}}) {
                if (h5::has_attr(g, attr)) *field = strings_.attr(g, attr);
                else if (fallback) *field = fallback;
                else fail("/network/" + name + ": missing attribute '" + attr + "'");
                if (*field != "network" && *field != "input" && *field != "output")
                    fail("/network/" + name + ": " + attr + " \"" + *field + "\" (expected network, input or output)");
            }
            // A side's size: from the populations (version 2), else from /network's attributes.
            const auto side_extent = [&](const std::string& side) -> long {
                if (format_version_ >= 2) return side_size(side);
                return side == "network"? n_e_ + n_i_: side == "input"? n_in_: n_out_;
            };
            p.n_pre = h5::has_attr(g, "n_pre")? static_cast<long>(h5::read_attr_int(g, "n_pre")): side_extent(p.pre_population);
            p.n_post = h5::has_attr(g, "n_post")? static_cast<long>(h5::read_attr_int(g, "n_post")): side_extent(p.post_population);
            // Indices into the network must name a cell, so that their populations can be told apart.
            for (auto [idx, pop, what]: {std::tuple{&p.pre, &p.pre_population, "pre"}, std::tuple{&p.post, &p.post_population, "post"}}) {
                if (idx->size() == 0) continue;
                const long lo = idx->minCoeff(), hi = idx->maxCoeff();
                const long bound = *pop == "network"? n_e_ + n_i_: (what == std::string("pre")? p.n_pre: p.n_post);
                if (lo < 0 || (bound >= 0 && hi >= bound))
                    fail("/network/" + name + "/" + what + ": index " + std::to_string(lo < 0? lo: hi) + " out of range [0, " +
                         std::to_string(bound) + ")");
            }
            for (long k = 0; k < p.size(); ++k) {
                const long sg = p.sign[k];
                if (sg != 1 && sg != -1)
                    fail("/network/" + name + "/sign[" + std::to_string(k) + "] = " + std::to_string(sg) + " (a sign is +1 or -1)");
                if (p.pre_population == "network" && !cell_sign.empty() && sg != cell_sign[static_cast<std::size_t>(p.pre[k])])
                    fail("/network/" + name + "/sign[" + std::to_string(k) + "] = " + std::to_string(sg) + " contradicts the sign of its "
                         "presynaptic cell " + std::to_string(p.pre[k]) + " in /network/cell_sign (Dale's law)");
            }
            if (h5::has_attr(g, "connectivity")) p.connectivity = strings_.attr(g, "connectivity");
            if (h5::has_attr(g, "delay")) p.delay = static_cast<long>(h5::read_attr_int(g, "delay"));
            if (format_version_ >= 2) read_projection_populations(g, p);
            const std::string wpath = name + "/weight";
            if (!h5::exists(traj, wpath)) fail("missing dataset /trajectory/" + wpath);
            const auto dims = h5::shape(traj, wpath);
            if (dims.size() != 2 || dims[1] != static_cast<hsize_t>(p.size()))
                fail("/trajectory/" + wpath + " should be [T × " + std::to_string(p.size()) + "] (one column per synapse)");
            // A run killed while writing may hold fewer weight rows than steps: use the complete snapshots.
            T = std::min(T, static_cast<long>(dims[0]));
            projections_.push_back(std::move(p));
        }
        if (format_version_ < 2) synthesise_populations();
        steps_.resize(static_cast<std::size_t>(std::max(T, 0L)));
        if (T < 1) fail("the trajectory holds no snapshot");
        for (long k = 1; k < T; ++k)
            if (!(steps_[k] > steps_[k - 1])) fail("/trajectory/step is not increasing");
        read_config();
    } catch (const file_error& e) {
        const std::string msg = e.what();
        if (msg.rfind("'" + path_ + "'", 0) == 0) throw;
        fail(msg); // name the file in errors from the h5 layer
    }
}

void run_file::read_populations(hid_t net) {
    const std::string where = "/network/populations";
    if (!h5::exists(net, "populations")) fail("missing group " + where + " (format version 2 lists the circuit's populations)");
    auto g = h5::open_group(net, "populations");
    const auto dataset = [&](const char* field) {
        if (!h5::exists(g, field)) fail("missing dataset " + where + "/" + field);
        return std::string(field);
    };
    const auto names = strings_.dataset(g, dataset("name"));
    const auto models = strings_.dataset(g, dataset("model"));
    const auto sides = strings_.dataset(g, dataset("side"));
    const auto firsts = h5::read_int(g, dataset("first"));
    const auto sizes = h5::read_int(g, dataset("size"));
    const auto signs = h5::read_int(g, dataset("sign"));
    const std::size_t P = names.size();
    if (P == 0) fail(where + " holds no population");
    const auto optional_doubles = [&](const char* field) {
        auto v = h5::exists(g, field)? h5::read_double(g, field): std::vector<double>(P, std::numeric_limits<double>::quiet_NaN());
        if (v.size() != P) fail(where + "/" + field + " has " + std::to_string(v.size()) + " entries for " + std::to_string(P) + " populations");
        return v;
    };
    const auto tau = optional_doubles("tau_ms"), bias = optional_doubles("bias");
    const auto transfers = h5::exists(g, "transfer")? strings_.dataset(g, "transfer"): std::vector<std::string>(P);
    if (transfers.size() != P) fail(where + "/transfer has " + std::to_string(transfers.size()) + " entries for " + std::to_string(P) + " populations");
    if (models.size() != P || sides.size() != P || firsts.size() != P || sizes.size() != P || signs.size() != P)
        fail(where + ": name, model, side, first, size and sign differ in length");
    std::map<std::string, long> next_first; // per side: where the next population starts
    long excitatory = 0, inhibitory = 0;
    for (std::size_t k = 0; k < P; ++k) {
        population_info q{names[k], models[k], sides[k], static_cast<long>(firsts[k]), static_cast<long>(sizes[k]),
                          static_cast<int>(signs[k]), tau[k], bias[k], transfers[k]};
        const std::string what = where + ": population '" + q.name + "'";
        if (q.name.empty()) fail(where + ": population " + std::to_string(k) + " has no name");
        for (std::size_t j = 0; j < k; ++j)
            if (names[j] == q.name) fail(where + ": two populations named '" + q.name + "'");
        if (q.side != "network" && q.side != "input" && q.side != "output")
            fail(what + ": side \"" + q.side + "\" (expected network, input or output)");
        if (q.size < 0) fail(what + ": negative size " + std::to_string(q.size));
        if (q.first != next_first[q.side])
            fail(what + " starts at index " + std::to_string(q.first) + " of side " + q.side + "; expected " +
                 std::to_string(next_first[q.side]) + " (the populations of a side follow each other in order)");
        next_first[q.side] += q.size;
        if (q.side != "output" && q.sign != 1 && q.sign != -1)
            fail(what + ": sign " + std::to_string(q.sign) + " (expected +1 or -1)");
        if (q.side == "network") (q.sign > 0? excitatory: inhibitory) += q.size;
        populations_.push_back(std::move(q));
    }
    if (excitatory != n_e_ || inhibitory != n_i_)
        fail(where + ": the network populations hold " + std::to_string(excitatory) + " excitatory and " +
             std::to_string(inhibitory) + " inhibitory cells; /network says n_e = " + std::to_string(n_e_) + ", n_i = " +
             std::to_string(n_i_));
}

void run_file::read_projection_populations(hid_t group, projection_info& p) const {
    const std::string where = "/network/" + p.name;
    for (auto [end, list, side, idx]: {std::tuple{"pre", &p.pre_populations, &p.pre_population, &p.pre},
                                       std::tuple{"post", &p.post_populations, &p.post_population, &p.post}}) {
        const std::string field = std::string(end) + "_populations";
        if (!h5::exists(group, field)) fail("missing dataset " + where + "/" + field);
        *list = strings_.dataset(group, field);
        if (list->empty()) fail(where + "/" + field + " is empty");
        std::vector<bool> listed(populations_.size(), false);
        for (auto& name: *list) {
            const auto q = std::find_if(populations_.begin(), populations_.end(), [&](auto& x) { return x.name == name; });
            if (q == populations_.end()) fail(where + "/" + field + ": " + no_population(name, populations_));
            if (q->side != *side)
                fail(where + "/" + field + ": population '" + name + "' is on side " + q->side + ", not " + *side);
            listed[static_cast<std::size_t>(q - populations_.begin())] = true;
        }
        for (long k = 0; k < idx->size(); ++k) {
            const std::size_t j = find_population(*side, (*idx)[k]);
            if (j < populations_.size() && listed[j]) continue;
            fail(where + "/" + end + ": synapse " + std::to_string(k) + " (index " + std::to_string((*idx)[k]) + ") is in " +
                 (j < populations_.size()? "population '" + populations_[j].name + "'": "no population of side " + *side) +
                 ", not among " + field + " (" + joined(*list) + ")");
        }
    }
}

void run_file::synthesise_populations() {
    // Version 1 is the default circuit's shape (docs/circuits.md, "Migration from version 1").
    const auto extent = [&](const std::string& side, long attr) {
        long n = attr;
        for (auto& p: projections_) {
            if (p.pre_population == side) n = std::max(n, p.n_pre);
            if (p.post_population == side) n = std::max(n, p.n_post);
        }
        return n;
    };
    populations_.push_back({"E", "rate", "network", 0, n_e_, 1});
    if (n_i_ > 0) populations_.push_back({"I", "rate", "network", n_e_, n_i_, -1});
    populations_.push_back({"in", "input", "input", 0, extent("input", n_in_), 1});
    populations_.push_back({"out", "readout", "output", 0, extent("output", n_out_), 0});
    // A side's populations: those its indices touch, in order (all of them when it has none).
    for (auto& p: projections_)
        for (auto [list, side, idx]: {std::tuple{&p.pre_populations, &p.pre_population, &p.pre},
                                      std::tuple{&p.post_populations, &p.post_population, &p.post}}) {
            std::vector<bool> touched(populations_.size(), idx->size() == 0);
            for (long k = 0; k < idx->size(); ++k) touched[population_index(*side, (*idx)[k])] = true;
            for (std::size_t j = 0; j < populations_.size(); ++j)
                if (touched[j] && populations_[j].side == *side) list->push_back(populations_[j].name);
        }
}

const population_info& run_file::population(const std::string& name) const {
    for (auto& q: populations_) if (q.name == name) return q;
    fail(no_population(name, populations_));
}

std::size_t run_file::find_population(const std::string& side, long index) const {
    std::size_t j = 0;
    while (j < populations_.size() && !(populations_[j].side == side && populations_[j].holds(index))) ++j;
    return j;
}

std::size_t run_file::population_index(const std::string& side, long index) const {
    const std::size_t j = find_population(side, index);
    if (j == populations_.size()) fail("no " + side + " population holds index " + std::to_string(index));
    return j;
}

long run_file::side_size(const std::string& side) const {
    long n = 0;
    for (auto& q: populations_) if (q.side == side) n += q.size;
    return n;
}

void run_file::read_config() {
    const std::string text = attr_text("config");
    if (text.empty()) return;
    try {
        std::istringstream is(text);
        const toml::value root = toml::parse(is, "config");
        if (!root.is_table() || root.as_table().count("plasticity") == 0) return;
        const auto& pl = root.as_table().at("plasticity");
        if (!pl.is_table()) return;
        const auto& t = pl.as_table();
        const auto number = [&](const char* key, double& out) {
            auto it = t.find(key);
            if (it == t.end()) return false;
            if (it->second.is_floating()) out = it->second.as_floating();
            else if (it->second.is_integer()) out = static_cast<double>(it->second.as_integer());
            else return false;
            return true;
        };
        double m = 0;
        if (number("min_magnitude", m) && m >= 0 && std::isfinite(m)) {
            min_magnitude_ = m;
            min_magnitude_from_config_ = true;
        }
        auto g = t.find("geometry");
        if (g != t.end() && g->second.is_string()) trained_geometry_ = g->second.as_string().str;
        if (trained_geometry_ == "pnorm") number("p", trained_p_);
    } catch (const std::exception&) {
        // A config the reader cannot parse: the defaults stand (the report says where the bound came from).
    }
}

std::string run_file::attr_text(const std::string& name) const {
    if (!h5::has_attr(file_, name)) return "";
    try {
        return strings_.attr(file_, name);
    } catch (const file_error&) {
        return ""; // present but not a string (e.g. the integer seed): the caller asks for text only
    }
}

std::optional<std::int64_t> run_file::attr_int(const std::string& name) const {
    if (!h5::has_attr(file_, name)) return std::nullopt;
    h5::handle a(H5Aopen(file_, name.c_str(), H5P_DEFAULT), H5Aclose);
    h5::handle type(H5Aget_type(a), H5Tclose);
    if (!a.valid() || H5Tget_class(type) != H5T_INTEGER) return std::nullopt;
    return h5::read_attr_int(file_, name);
}

const projection_info& run_file::projection(const std::string& name) const {
    for (auto& p: projections_) if (p.name == name) return p;
    fail("no projection '" + name + "'");
}

std::vector<double> run_file::snapshot_series(const std::string& name) const {
    std::vector<double> out(steps_.size(), std::numeric_limits<double>::quiet_NaN());
    if (!h5::exists(file_, name)) return out;
    try {
        auto values = read_column(file_, name, path_);
        for (std::size_t k = 0; k < out.size() && k < values.size(); ++k) out[k] = values[k];
    } catch (const file_error& e) {
        fail(e.what());
    }
    return out;
}

std::vector<double> run_file::snapshot_loss() const { return snapshot_series("trajectory/loss"); }

std::vector<double> run_file::snapshot_accuracy() const { return snapshot_series("trajectory/accuracy"); }

std::vector<double> run_file::training_loss() const {
    if (!h5::exists(file_, "training/loss")) return {};
    try {
        return read_column(file_, "training/loss", path_);
    } catch (const file_error& e) {
        fail(e.what());
    }
}

vector run_file::weights(const std::string& proj, long index) const {
    const auto& p = projection(proj);
    if (index < 0 || index >= snapshots()) fail("snapshot " + std::to_string(index) + " out of range");
    try {
        auto row = h5::read_rows(file_, "trajectory/" + proj + "/weight", static_cast<hsize_t>(index), 1);
        if (static_cast<long>(row.size()) != p.size()) fail("/trajectory/" + proj + "/weight: wrong row length");
        // Every weight finite and of its synapse's sign (Dale's law), or the file is not a run's.
        for (long k = 0; k < p.size(); ++k) {
            const double w = row[static_cast<std::size_t>(k)];
            if (!std::isfinite(w))
                fail("/trajectory/" + proj + "/weight[" + std::to_string(index) + ", " + std::to_string(k) + "] is not finite");
            if (w * static_cast<double>(p.sign[k]) < 0)
                fail("/trajectory/" + proj + "/weight[" + std::to_string(index) + ", " + std::to_string(k) + "] = " + std::to_string(w) +
                     " contradicts the synapse's sign " + std::to_string(p.sign[k]) + " in /network/" + proj + " (Dale's law)");
        }
        return Eigen::Map<vector>(row.data(), static_cast<long>(row.size()));
    } catch (const file_error& e) {
        const std::string msg = e.what();
        if (msg.rfind("'" + path_ + "'", 0) == 0) throw;
        fail(msg);
    }
}

} // namespace eisim::analysis
