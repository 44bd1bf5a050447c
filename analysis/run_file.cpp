#include "analysis/run_file.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
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
    try {
        if (!h5::has_attr(file_, "format"))
            fail("not an eisim run file (no 'format' attribute at the root; expected format=\"eisim.run\")");
        const std::string format = h5::read_attr_string(file_, "format");
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

        // Known projections first, in the recorder's order; then any other group.
        auto names = h5::subgroups(net);
        std::vector<std::string> ordered;
        for (auto& k: known)
            if (std::find(names.begin(), names.end(), k.name) != names.end()) ordered.push_back(k.name);
        for (auto& n: names)
            if (std::find(ordered.begin(), ordered.end(), n) == ordered.end()) ordered.push_back(n);
        if (ordered.empty()) fail("/network holds no projection group");

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
                if (h5::has_attr(g, attr)) *field = h5::read_attr_string(g, attr);
                else if (fallback) *field = fallback;
                else fail("/network/" + name + ": missing attribute '" + attr + "'");
            }
            const auto population_size = [&](const std::string& pop) -> long {
                if (pop == "network") return n_e_ + n_i_;
                if (pop == "input") return n_in_;
                if (pop == "output") return n_out_;
                return -1;
            };
            p.n_pre = h5::has_attr(g, "n_pre")? static_cast<long>(h5::read_attr_int(g, "n_pre")): population_size(p.pre_population);
            p.n_post = h5::has_attr(g, "n_post")? static_cast<long>(h5::read_attr_int(g, "n_post")): population_size(p.post_population);
            // Indices into the network must name a cell, so that E and I can be told apart.
            for (auto [idx, pop, what]: {std::tuple{&p.pre, &p.pre_population, "pre"}, std::tuple{&p.post, &p.post_population, "post"}}) {
                if (idx->size() == 0) continue;
                const long lo = idx->minCoeff(), hi = idx->maxCoeff();
                const long bound = *pop == "network"? n_e_ + n_i_: (what == std::string("pre")? p.n_pre: p.n_post);
                if (lo < 0 || (bound >= 0 && hi >= bound))
                    fail("/network/" + name + "/" + what + ": index " + std::to_string(lo < 0? lo: hi) + " out of range [0, " +
                         std::to_string(bound) + ")");
            }
            const std::string wpath = name + "/weight";
            if (!h5::exists(traj, wpath)) fail("missing dataset /trajectory/" + wpath);
            const auto dims = h5::shape(traj, wpath);
            if (dims.size() != 2 || dims[1] != static_cast<hsize_t>(p.size()))
                fail("/trajectory/" + wpath + " should be [T × " + std::to_string(p.size()) + "] (one column per synapse)");
            // A run killed while writing may hold fewer weight rows than steps: use the complete snapshots.
            T = std::min(T, static_cast<long>(dims[0]));
            projections_.push_back(std::move(p));
        }
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
        return h5::read_attr_string(file_, name);
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

std::vector<double> run_file::snapshot_loss() const {
    std::vector<double> out(steps_.size(), std::numeric_limits<double>::quiet_NaN());
    if (!h5::exists(file_, "trajectory/loss")) return out;
    try {
        auto loss = read_column(file_, "trajectory/loss", path_);
        for (std::size_t k = 0; k < out.size() && k < loss.size(); ++k) out[k] = loss[k];
    } catch (const file_error& e) {
        fail(e.what());
    }
    return out;
}

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
        return Eigen::Map<vector>(row.data(), static_cast<long>(row.size()));
    } catch (const file_error& e) {
        const std::string msg = e.what();
        if (msg.rfind("'" + path_ + "'", 0) == 0) throw;
        fail(msg);
    }
}

} // namespace eisim::analysis
