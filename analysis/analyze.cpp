#include "analysis/analyze.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

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

block_report make_block(const std::string& name, const projection_info& p, const std::vector<long>& idx, const vector& w0,
                        const vector& w1, double bound, const geometry_options& g, standardization chosen) {
    block_report b;
    b.name = name;
    b.n_synapses = static_cast<long>(idx.size());
    const vector a = subset(w0, idx), c = subset(w1, idx);
    b.initial = summarize_log_normal(a);
    b.final = summarize_log_normal(c);
    const double held = bound*(1 + 1e-9);
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

    const auto type_of = [&](long cell) { return cell < r.n_e? 'E': 'I'; };
    for (const auto& p: f.projections()) {
        if (!p.plastic) { r.frozen.push_back(p.name); continue; }
        projection_report pr;
        pr.name = p.name;
        pr.pre_population = p.pre_population;
        pr.post_population = p.post_population;
        pr.n_pre = p.n_pre;
        pr.n_post = p.n_post;
        pr.n_synapses = p.size();
        pr.bound = r.bound;
        // The weights a (possibly degraded) measurement sees; without realism options, all of them.
        const auto seen = measure_pair(options.measure, table_of(p), cells, from, f.weights(p.name, from), to,
                                       f.weights(p.name, to));
        const vector& w0 = seen.from;
        const vector& w1 = seen.to;
        const std::vector<long>& all = seen.synapse;
        pr.blocks.push_back(make_block("all", p, all, w0, w1, r.bound, r.geometry, r.standardize));

        const bool pre_net = p.pre_population == "network", post_net = p.post_population == "network";
        std::vector<std::string> names;
        if (pre_net && post_net) names = {"EE", "EI", "IE", "II"};
        else if (pre_net || post_net) names = {"E", "I"};
        for (const auto& name: names) {
            std::vector<long> idx;
            for (long i: all) {
                std::string key;
                if (post_net) key += type_of(p.post[i]);
                if (pre_net) key += type_of(p.pre[i]);
                if (key == name) idx.push_back(i);
            }
            if (!idx.empty()) pr.blocks.push_back(make_block(name, p, idx, w0, w1, r.bound, r.geometry, r.standardize));
        }
        r.projections.push_back(std::move(pr));
    }
    if (r.projections.empty())
        throw user_error("'" + f.path() + "' has no plastic projection to analyse (frozen: all of them)");
    return r;
}

} // namespace eisim::analysis
