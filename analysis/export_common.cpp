#include "analysis/export_common.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "models/error.hpp"

namespace eisim::analysis {

namespace fs = std::filesystem;

namespace {

std::string format_step(double s) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", s);
    return buf;
}

} // namespace

long snapshot_index(const run_file& run, const std::string& step) {
    const auto& steps = run.steps();
    const long T = run.snapshots();
    if (step == "first") return 0;
    if (step == "last") return T - 1;
    double n = 0;
    std::size_t used = 0;
    try {
        n = std::stod(step, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != step.size())
        throw user_error("--step: '" + step + "' is not 'first', 'last' or a learning step number");
    for (long k = 0; k < T; ++k)
        if (steps[static_cast<std::size_t>(k)] == n) return k;
    std::string held;
    const long show = std::min<long>(T, 12);
    for (long k = 0; k < show; ++k) held += (k? ", ": "") + format_step(steps[static_cast<std::size_t>(k)]);
    if (show < T) held += ", ..., " + format_step(steps.back());
    throw user_error("--step: '" + run.path() + "' holds no snapshot at learning step " + step +
                     " (it holds steps " + held + ")");
}

synapse_table table_of(const projection_info& p) {
    synapse_table t;
    t.projection = p.name;
    t.pre = p.pre;
    t.post = p.post;
    t.pre_is_network = p.pre_population == "network";
    t.post_is_network = p.post_population == "network";
    return t;
}

observed_edges observe_edges(const run_file& run, const projection_info& p, const realism& r,
                             const std::vector<bool>& cells, long chosen) {
    observed_edges e;
    e.projection = &p;
    e.chosen = chosen;
    const auto sampled = sample_synapses(r, table_of(p), cells);
    const vector w0 = measure(r, p.name, 0, run.weights(p.name, 0), sampled);
    const vector wc = chosen == 0? w0: measure(r, p.name, chosen, run.weights(p.name, chosen), sampled);
    std::vector<long> keep;
    for (std::size_t j = 0; j < sampled.size(); ++j)
        if (r.detection_threshold == 0 || !std::isnan(wc[static_cast<long>(j)])) keep.push_back(static_cast<long>(j));
    e.initial.resize(static_cast<long>(keep.size()));
    e.weight.resize(static_cast<long>(keep.size()));
    for (std::size_t i = 0; i < keep.size(); ++i) {
        e.synapse.push_back(sampled[static_cast<std::size_t>(keep[i])]);
        e.initial[static_cast<long>(i)] = w0[keep[i]];
        e.weight[static_cast<long>(i)] = wc[keep[i]];
    }
    return e;
}

void check_new_file(const std::string& path, bool overwrite) {
    // Only regular files are replaced: not a directory, a device, a FIFO, a socket, nor a symlink
    // to one of them or to nothing.
    std::error_code ec;
    const auto link = fs::symlink_status(path, ec);
    if (!fs::exists(link)) return;
    const auto st = fs::status(path, ec);
    if (!fs::is_regular_file(st)) {
        std::string what;
        switch (st.type()) {
        case fs::file_type::directory: what = "a directory"; break;
        case fs::file_type::block: what = "a block device"; break;
        case fs::file_type::character: what = "a character device"; break;
        case fs::file_type::fifo: what = "a FIFO"; break;
        case fs::file_type::socket: what = "a socket"; break;
        case fs::file_type::not_found: what = "nothing"; break;
        default: what = "not a regular file"; break;
        }
        if (fs::is_symlink(link)) what = "a symlink to " + what;
        throw user_error("cannot write '" + path + "': it is " + what + ", not a regular file (--overwrite replaces only regular files)");
    }
    if (!overwrite) throw user_error("output file '" + path + "' exists; pass --overwrite to replace it");
}

} // namespace eisim::analysis
