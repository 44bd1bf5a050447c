#include "analysis/analyze.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "analysis/export_common.hpp"
#include "models/error.hpp"

namespace eisim::analysis {

namespace {

std::string step_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", s);
    return buf;
}

// The subset of `w` at the given synapse indices.
vector subset(const vector& w, const std::vector<long>& idx) {
    vector out(static_cast<long>(idx.size()));
    for (std::size_t k = 0; k < idx.size(); ++k) out[static_cast<long>(k)] = w[idx[k]];
    return out;
}

block_report make_block(const block_members& m, const projection_info& p, const vector& w0, const vector& w1, double bound,
                        const geometry_options& g, standardization chosen) {
    const auto& idx = m.synapses;
    block_report b;
    b.name = m.name;
    b.pre_populations = m.pre_populations;
    b.post_populations = m.post_populations;
    b.n_synapses = static_cast<long>(idx.size());
    const vector a = subset(w0, idx), c = subset(w1, idx);
    const double held = bound*(1 + 1e-9);
    // The log-normal fits leave the weights held at the bound out: a magnitude held at 1e-8 is a
    // synapse the projected geometry pruned, not the tail of a distribution (ln 1e-8 = −18).
    const auto above = [held](const vector& w) {
        std::vector<double> kept;
        for (double x: w) if (std::abs(x) > held) kept.push_back(x);
        return vector(Eigen::Map<const vector>(kept.data(), static_cast<long>(kept.size())));
    };
    b.initial = summarize_log_normal(above(a));
    b.final = summarize_log_normal(above(c));
    for (std::size_t k = 0; k < idx.size(); ++k) {
        const long i = static_cast<long>(k);
        const double s = static_cast<double>(p.sign[idx[k]]);
        if (std::abs(c[i]) <= held) ++b.held_at_bound;
        if (a[i]*c[i] < 0) ++b.sign_changes;
        if (s*a[i] < 0 || s*c[i] < 0) ++b.dale_violations;
    }
    index_vector post(static_cast<long>(idx.size()));
    for (std::size_t k = 0; k < idx.size(); ++k) post[static_cast<long>(k)] = p.post[idx[k]];
    b.geometry_pooled = geometry_test(a, c, g);
    b.geometry_per_neuron = geometry_test_per_neuron(a, c, post, g);
    b.geometry = chosen == standardization::pooled? b.geometry_pooled: b.geometry_per_neuron;
    return b;
}

} // namespace

std::vector<block_members> blocks_of(const run_file& f, const projection_info& p, const std::vector<long>& synapses) {
    const bool pre_net = p.pre_population == "network", post_net = p.post_population == "network";
    if (!pre_net && !post_net) return {};
    std::map<std::pair<std::size_t, std::size_t>, std::vector<long>> members; // (post, pre) positions in populations()
    for (long i: synapses)
        members[{post_net? f.population_index("network", p.post[i]): 0, pre_net? f.population_index("network", p.pre[i]): 0}]
            .push_back(i);
    bool short_names = true;
    for (const auto* list: {&p.pre_populations, &p.post_populations})
        for (auto& n: *list) short_names = short_names && n.size() == 1;
    const auto& pops = f.populations();
    std::vector<block_members> out;
    for (auto& [key, idx]: members) {
        block_members b{"", p.pre_populations, p.post_populations, std::move(idx)};
        if (pre_net) b.pre_populations = {pops[key.second].name};
        if (post_net) b.post_populations = {pops[key.first].name};
        if (!pre_net || !post_net) b.name = pops[post_net? key.first: key.second].name;
        else if (short_names) b.name = pops[key.first].name + pops[key.second].name;
        else b.name = pops[key.second].name + "->" + pops[key.first].name;
        out.push_back(std::move(b));
    }
    return out;
}


const block_report& projection_report::block(const std::string& n) const {
    for (auto& b: blocks) if (b.name == n) return b;
    throw user_error("projection '" + name + "' has no block '" + n + "'");
}

const projection_report& analysis_report::projection(const std::string& n) const {
    for (auto& p: projections) if (p.name == n) return p;
    throw user_error("no plastic projection '" + n + "' in the report");
}

long snapshot_at(const run_file& f, double step) {
    const auto& steps = f.steps();
    for (std::size_t k = 0; k < steps.size(); ++k)
        if (steps[k] == step) return static_cast<long>(k);
    std::string list;
    const std::size_t n = steps.size();
    for (std::size_t k = 0; k < n; ++k) {
        if (n > 8 && k == 4) { list += ", ..."; k = n - 3; }
        list += (list.empty()? "": ", ") + step_text(steps[k]);
    }
    throw user_error("'" + f.path() + "' has no snapshot at learning step " + step_text(step) + "; snapshots are at steps " +
                     list);
}

analysis_report analyze(const run_file& f, const analysis_options& options) {
    if (f.snapshots() < 2)
        throw file_error("'" + f.path() + "' holds " + std::to_string(f.snapshots()) +
                         " snapshot; the analysis compares two (was the run stopped before its first step?)");
    analysis_report r;
    r.path = f.path();
    r.format_version = f.format_version();
    r.software_version = f.attr_text("software_version");
    r.seed = f.attr_int("seed");
    r.trained_geometry = f.trained_geometry();
    r.trained_p = f.trained_p();
    r.n_e = f.n_e();
    r.n_i = f.n_i();
    r.n_in = f.n_in();
    r.n_out = f.n_out();
    r.populations = f.populations();
    r.snapshots = f.snapshots();
    r.bound = f.min_magnitude();
    r.bound_source = f.min_magnitude_from_config()? "config": "default";
    r.geometry = options.geometry;
    r.standardize = options.standardize;
    options.measure.validate();
    r.realism = options.measure.describe();

    // --time-points: the snapshots the experiment has (all of them without it).
    const auto kept = kept_time_points(options.measure.time_points, f.snapshots());
    const long from = options.from_step? snapshot_at(f, *options.from_step): kept.front();
    const long to = options.to_step? snapshot_at(f, *options.to_step): kept.back();
    for (long row: {from, to})
        if (std::find(kept.begin(), kept.end(), row) == kept.end())
            throw user_error("learning step " + step_text(f.steps()[row]) + " is not among the " +
                             std::to_string(kept.size()) + " time points kept by --time-points");
    const auto cells = observed_cells(options.measure, r.n_e + r.n_i);
    if (from >= to)
        throw user_error("--from must name an earlier snapshot than --to (got steps " + step_text(f.steps()[from]) + " and " +
                         step_text(f.steps()[to]) + ")");
    const auto loss = f.snapshot_loss();
    r.from = {from, f.steps()[from], loss[from]};
    r.to = {to, f.steps()[to], loss[to]};

    for (const auto& p: f.projections()) {
        if (!p.plastic) { r.frozen.push_back(p.name); continue; }
        projection_report pr;
        pr.name = p.name;
        pr.pre_population = p.pre_population;
        pr.post_population = p.post_population;
        pr.pre_populations = p.pre_populations;
        pr.post_populations = p.post_populations;
        pr.n_pre = p.n_pre;
        pr.n_post = p.n_post;
        pr.n_synapses = p.size();
        pr.bound = r.bound;
        // The weights a (possibly degraded) measurement sees; without realism options, all of them.
        const auto seen = measure_pair(options.measure, table_of(p), cells, from, f.weights(p.name, from), to,
                                       f.weights(p.name, to));
        const auto block = [&](const block_members& m) {
            return make_block(m, p, seen.from, seen.to, r.bound, r.geometry, r.standardize);
        };
        pr.blocks.push_back(block({"all", p.pre_populations, p.post_populations, seen.synapse}));
        for (const auto& m: blocks_of(f, p, seen.synapse)) pr.blocks.push_back(block(m));
        r.projections.push_back(std::move(pr));
    }
    if (r.projections.empty())
        throw user_error("'" + f.path() + "' has no plastic projection to analyse (frozen: all of them)");
    return r;
}

const projection_report* representative_projection(const analysis_report& r) {
    for (const auto& p: r.projections)
        if (p.name == "recurrent") return &p;
    for (const auto& p: r.projections)
        if (p.pre_population == "network" && p.post_population == "network") return &p;
    return r.projections.empty()? nullptr: &r.projections.front();
}

} // namespace eisim::analysis
