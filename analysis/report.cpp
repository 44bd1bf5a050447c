#include "analysis/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "models/error.hpp"

namespace eisim::analysis {

namespace {

json number_or_null(double x) { return std::isfinite(x)? json(x): json(); }

json summary_json(const log_normal_summary& s) {
    json j = json::object();
    j["n"] = s.n;
    j["mean_ln"] = number_or_null(s.mean_ln);
    j["sd_ln"] = number_or_null(s.sd_ln);
    j["skew_ln"] = number_or_null(s.skew_ln);
    j["mu"] = number_or_null(s.mu);
    j["sigma"] = number_or_null(s.sigma);
    j["ks"] = number_or_null(s.ks);
    return j;
}

json geometry_json(const geometry_result& g) {
    json j = json::object();
    const bool per_neuron = g.standardize == standardization::per_neuron;
    j["standardize"] = name_of(g.standardize);
    j["n"] = g.n;
    j["excluded"] = g.excluded;
    j["neurons"] = per_neuron? json(g.neurons): json();
    j["neurons_skipped"] = per_neuron? json(g.neurons_skipped): json();
    j["skipped_synapses"] = per_neuron? json(g.skipped_synapses): json();
    j["best"] = g.best.empty()? json(): json(g.best);
    j["consistent"] = json(g.consistent);
    j["floor"] = number_or_null(g.floor);
    json c = json::array();
    for (auto& k: g.candidates) {
        json e = json::object();
        e["name"] = k.name;
        e["p"] = k.p > 0? json(k.p): json();
        e["dcdf"] = number_or_null(k.dcdf);
        e["relative_change"] = number_or_null(k.relative_change);
        c.push_back(e);
    }
    j["candidates"] = c;
    return j;
}

json snapshot_json(const snapshot_ref& s) {
    json j = json::object();
    j["index"] = s.index;
    j["step"] = std::isfinite(s.step)? json(std::llround(s.step)): json(); // a count of learning steps
    j["loss"] = number_or_null(s.loss);
    return j;
}

std::string fmt(const char* f, double x) {
    if (!std::isfinite(x)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, f, x);
    return buf;
}

const candidate_result* find_candidate(const geometry_result& g, const std::string& name) {
    for (auto& c: g.candidates) if (c.name == name) return &c;
    return nullptr;
}

} // namespace

std::string compress_names(const std::vector<std::string>& names) {
    std::string out;
    std::size_t k = 0;
    const auto p_of = [](const std::string& n) { return n.rfind("p=", 0) == 0? std::stod(n.substr(2)): 0.0; };
    while (k < names.size()) {
        std::size_t e = k;
        if (p_of(names[k]) > 0)
            while (e + 1 < names.size() && p_of(names[e + 1]) > 0 &&
                   std::abs(p_of(names[e + 1]) - p_of(names[e]) - 0.1) < 1e-9) ++e;
        if (!out.empty()) out += ", ";
        out += names[k];
        if (e > k) out += ".." + names[e].substr(2);
        k = e + 1;
    }
    return out.empty()? "-": out;
}

json to_json(const analysis_report& r) {
    json j = json::object();
    j["schema"] = "eisim.analysis";
    j["schema_version"] = report_schema_version;

    json run = json::object();
    run["path"] = r.path;
    run["format_version"] = static_cast<long>(r.format_version);
    run["software_version"] = r.software_version.empty()? json(): json(r.software_version);
    run["seed"] = r.seed? json(static_cast<long long>(*r.seed)): json();
    run["trained_geometry"] = r.trained_geometry.empty()? json(): json(r.trained_geometry);
    run["trained_p"] = r.trained_geometry == "pnorm"? json(r.trained_p): json();
    run["snapshots"] = r.snapshots;
    j["run"] = run;

    json net = json::object();
    net["n_e"] = r.n_e;
    net["n_i"] = r.n_i;
    net["n_in"] = r.n_in;
    net["n_out"] = r.n_out;
    json pops = json::array();
    for (auto& q: r.populations) {
        json pj = json::object();
        pj["name"] = q.name;
        pj["model"] = q.model;
        pj["side"] = q.side;
        pj["first"] = q.first;
        pj["size"] = q.size;
        pj["sign"] = static_cast<long>(q.sign);
        pops.push_back(pj);
    }
    net["populations"] = pops;
    j["network"] = net;

    j["from"] = snapshot_json(r.from);
    j["to"] = snapshot_json(r.to);

    json settings = json::object();
    json names = json::array();
    for (auto& g: r.geometry.candidates) names.push_back(g.name);
    settings["candidates"] = names;
    json grid = json::object();
    grid["lo"] = r.geometry.grid.lo;
    grid["hi"] = r.geometry.grid.hi;
    grid["points"] = r.geometry.grid.points;
    settings["grid"] = grid;
    json floor = json::object();
    floor["samples"] = r.geometry.floor.samples;
    floor["quantile"] = r.geometry.floor.quantile;
    floor["seed"] = static_cast<long long>(r.geometry.floor.seed);
    settings["floor"] = floor;
    settings["standardize"] = name_of(r.standardize);
    settings["min_synapses"] = r.geometry.min_synapses;
    settings["bound"] = r.bound;
    settings["bound_source"] = r.bound_source;
    settings["realism"] = r.realism;
    j["settings"] = settings;

    json projs = json::object();
    for (auto& p: r.projections) {
        json pj = json::object();
        pj["pre_population"] = p.pre_population;
        pj["post_population"] = p.post_population;
        pj["pre_populations"] = json(p.pre_populations);
        pj["post_populations"] = json(p.post_populations);
        pj["n_pre"] = p.n_pre;
        pj["n_post"] = p.n_post;
        pj["n_synapses"] = p.n_synapses;
        const auto& all = p.block("all");
        pj["held_at_bound"] = all.held_at_bound;
        pj["sign_changes"] = all.sign_changes;
        pj["dale_violations"] = all.dale_violations;
        json blocks = json::object();
        for (auto& b: p.blocks) {
            json bj = json::object();
            bj["pre_populations"] = json(b.pre_populations);
            bj["post_populations"] = json(b.post_populations);
            bj["n_synapses"] = b.n_synapses;
            bj["held_at_bound"] = b.held_at_bound;
            bj["sign_changes"] = b.sign_changes;
            bj["dale_violations"] = b.dale_violations;
            bj["initial"] = summary_json(b.initial);
            bj["final"] = summary_json(b.final);
            bj["geometry"] = geometry_json(b.geometry);
            bj["geometry_pooled"] = geometry_json(b.geometry_pooled);
            bj["geometry_per_neuron"] = geometry_json(b.geometry_per_neuron);
            blocks[b.name] = bj;
        }
        pj["blocks"] = blocks;
        projs[p.name] = pj;
    }
    j["projections"] = projs;
    j["frozen"] = json(r.frozen);
    return j;
}

void write_json(const analysis_report& r, const std::string& path) {
    std::ofstream f(path);
    if (!f) throw user_error("cannot write the report '" + path + "'");
    f << dump(to_json(r));
    f << '\n';
    if (!f) throw user_error("writing the report '" + path + "' failed");
}

namespace {

// One row of the geometry table: a block under one standardisation (* = the one reported).
void print_geometry_row(std::ostream& os, int width, const std::string& block, const geometry_result& g, bool chosen) {
    char line[512];
    const auto* best = find_candidate(g, g.best);
    const bool per_neuron = g.standardize == standardization::per_neuron;
    const std::string variant = name_of(g.standardize) + (chosen? "*": "");
    std::snprintf(line, sizeof line, "  %-*s %-11s %8ld %7s %5s | %-6s %7s %7s %7s  %s\n", width, block.c_str(), variant.c_str(), g.n,
                  per_neuron? std::to_string(g.neurons).c_str(): "-", per_neuron? std::to_string(g.neurons_skipped).c_str(): "-",
                  g.best.empty()? "-": g.best.c_str(), fmt("%.4f", best? best->dcdf: NAN).c_str(), fmt("%.4f", g.floor).c_str(),
                  fmt("%.2g", best? best->relative_change: NAN).c_str(), compress_names(g.consistent).c_str());
    os << line;
}

std::string verdict(const geometry_result& g) {
    if (g.n == 0 && g.neurons_skipped > 0)
        return "nothing to test (" + std::to_string(g.neurons_skipped) + " neurons skipped)";
    return g.best.empty()? "no change": "best " + g.best + ", consistent " + compress_names(g.consistent);
}

} // namespace

void print_table(std::ostream& os, const analysis_report& r) {
    char line[512];
    os << "run " << r.path;
    if (!r.trained_geometry.empty()) {
        os << " (trained with " << r.trained_geometry;
        if (r.trained_geometry == "pnorm") os << ", p = " << fmt("%g", r.trained_p);
        os << ")";
    }
    os << "\n";
    std::snprintf(line, sizeof line, "snapshots: step %s (loss %s) -> step %s (loss %s), %ld recorded\n",
                  fmt("%g", r.from.step).c_str(), fmt("%.6g", r.from.loss).c_str(), fmt("%g", r.to.step).c_str(),
                  fmt("%.6g", r.to.loss).c_str(), r.snapshots);
    os << line;
    os << "held at bound: |w| <= " << fmt("%g", r.bound) << " (" << r.bound_source << ")\n";
    if (r.realism != "none") os << "measurement realism: " << r.realism << "\n";
    os << "geometry: smallest dCDF of the dual change wins; consistent = within the noise floor of the best;\n"
          "  standardised pooled (one spread for all synapses) and per-neuron (within each postsynaptic neuron,\n"
          "  neurons with < "
       << r.geometry.min_synapses << " synapses or no change skipped); * = the variant reported as .geometry\n";
    for (auto& p: r.projections) {
        const auto& all = p.block("all");
        std::snprintf(line, sizeof line, "\n%s (%s -> %s): %ld synapses, held at bound %ld, sign changes %ld\n", p.name.c_str(),
                      p.pre_population.c_str(), p.post_population.c_str(), p.n_synapses, all.held_at_bound, all.sign_changes);
        os << line;
        int width = 5; // the block column: wide enough for "block" and every block's name
        for (auto& b: p.blocks) width = std::max(width, static_cast<int>(b.name.size()));
        std::snprintf(line, sizeof line, "  %-*s %8s | %-24s | %-24s | %7s\n", width, "block", "n", "before: mean  sd  skew  KS",
                      "after:  mean  sd  skew  KS", "held");
        os << line;
        for (auto& b: p.blocks) {
            std::snprintf(line, sizeof line, "  %-*s %8ld | %7s %5s %5s %5s | %7s %5s %5s %5s | %7ld\n", width, b.name.c_str(),
                          b.n_synapses, fmt("%.3f", b.initial.mean_ln).c_str(), fmt("%.3f", b.initial.sd_ln).c_str(),
                          fmt("%.2f", b.initial.skew_ln).c_str(), fmt("%.3f", b.initial.ks).c_str(),
                          fmt("%.3f", b.final.mean_ln).c_str(), fmt("%.3f", b.final.sd_ln).c_str(),
                          fmt("%.2f", b.final.skew_ln).c_str(), fmt("%.3f", b.final.ks).c_str(), b.held_at_bound);
            os << line;
        }
        std::snprintf(line, sizeof line, "  %-*s %-11s %8s %7s %5s | %-6s %7s %7s %7s  %s\n", width, "block", "standardize", "n",
                      "neurons", "skip", "best", "dCDF", "floor", "rel.chg", "consistent");
        os << line;
        for (auto& b: p.blocks) {
            print_geometry_row(os, width, b.name, b.geometry_pooled, r.standardize == standardization::pooled);
            print_geometry_row(os, width, b.name, b.geometry_per_neuron, r.standardize == standardization::per_neuron);
        }
    }
    if (!r.frozen.empty()) {
        os << "\nfrozen (not analysed):";
        for (auto& n: r.frozen) os << " " << n;
        os << "\n";
    }
    // One line per projection (all synapses), easy to pick out with grep.
    os << "\n";
    for (auto& p: r.projections) {
        const auto& all = p.block("all");
        os << "summary: " << p.name << ": pooled: " << verdict(all.geometry_pooled)
           << "; per-neuron: " << verdict(all.geometry_per_neuron) << "\n";
    }
}

} // namespace eisim::analysis
