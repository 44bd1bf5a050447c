#include "observe/observe.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "analysis/analyze.hpp"
#include "analysis/run_file.hpp"
#include "io/h5.hpp"
#include "models/error.hpp"
#include "models/hash.hpp"
#include "models/random.hpp"
#include "observe/observables.hpp"
#include "observe/probe.hpp"
#include "sim/experiment.hpp"
#include "sweep/sweep_dir.hpp"

namespace eisim::observe {

namespace fs = std::filesystem;

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

struct run_ref {
    std::string name, path;
};

// The run files named by the inputs: files as given, and the done runs of sweep directories.
std::vector<run_ref> list_runs(const std::vector<std::string>& inputs, std::vector<std::string>& left_out) {
    std::vector<run_ref> runs;
    for (const auto& in: inputs) {
        std::error_code ec;
        if (!fs::is_directory(in, ec)) {
            if (!fs::exists(in, ec)) throw user_error("no such run file or sweep directory: '" + in + "'");
            runs.push_back({fs::path(in).stem().string(), in});
            continue;
        }
        if (!fs::is_directory(fs::path(in)/"configs", ec))
            throw user_error("'" + in + "' is a directory but not a sweep directory (it has no configs/; see docs/sweeps.md)");
        std::vector<std::string> ids;
        for (auto& e: fs::directory_iterator(fs::path(in)/"configs"))
            if (e.path().extension() == ".toml") ids.push_back(e.path().stem().string());
        std::sort(ids.begin(), ids.end());
        const sweep::sweep_dir dir(in);
        for (auto& id: ids) {
            const auto status = dir.read_status(id);
            const std::string s = status? status->status: "pending";
            if (s != "done") {
                left_out.push_back(id + ": " + s);
                continue;
            }
            runs.push_back({id, dir.run_file(id)});
        }
    }
    if (runs.empty()) throw user_error("no run to observe" + (left_out.empty()? std::string(): " (" + std::to_string(left_out.size()) +
                                                                  " sweep runs are not done)"));
    return runs;
}

// The labels of a run, from its own config.
struct labels {
    std::string credit, geometry, task;
    double p = nan;
    std::int64_t seed = 0, size = 0;
};

labels labels_of(const config& c) {
    labels l;
    l.credit = c.plasticity.credit;
    l.geometry = c.plasticity.geometry;
    if (l.geometry == "euclidean") l.p = 2;
    else if (l.geometry == "pnorm") l.p = c.plasticity.keys.real("p");
    l.task = c.task.kind;
    l.seed = c.training.seed;
    l.size = c.circuit.n();
    return l;
}

// One run's rows of the table.
struct run_rows {
    std::string name;
    labels label;
    std::vector<std::int64_t> snapshot, step;
    std::vector<double> loss, accuracy;
    std::vector<std::string> names, measure;  // features
    std::vector<std::vector<double>> values;  // [rows][features]
    std::string geometry_best;                // first to second kept snapshot; "" when not run or undefined
    std::string geometry_best_whole;          // first to last kept snapshot
};

// Root-mean-square of the finite values.
double rms(const double* x, std::size_t n) {
    double s = 0;
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (std::isfinite(x[i])) s += x[i]*x[i], ++k;
    return k? std::sqrt(s/static_cast<double>(k)): 0.0;
}

// The measures of one run at one snapshot, appended feature by feature.
class row_builder {
public:
    row_builder(std::vector<std::string>* names, std::vector<std::string>* measure, std::vector<double>& values):
        names_(names), measure_(measure), values_(values) {}
    // The 3 × 7 statistics of `measure`/`where` from `summary_of(f)`.
    template <typename F> void add(const std::string& measure, const std::string& where, F&& summary_of) {
        for (std::size_t f = 0; f < functions.size(); ++f) {
            const summary s = summary_of(functions[f]);
            for (std::size_t k = 0; k < n_statistics; ++k) {
                if (names_) {
                    names_->push_back(measure + "/" + where + "/" + function_names[f] + "/" + statistic_names[k]);
                    measure_->push_back(measure);
                }
                values_.push_back(s[k]);
            }
        }
    }
private:
    std::vector<std::string>* names_;
    std::vector<std::string>* measure_;
    std::vector<double>& values_;
};

// Noise of standard deviation `sd` on the cells × trials block X, one draw per element of all
// `cells` rows (observed or not), from stream(seed, purpose, snapshot).
void add_noise(matrix& X, double sd, std::uint64_t seed, const std::string& purpose, long snapshot) {
    if (sd <= 0) return;
    auto g = stream(seed, purpose, static_cast<std::uint64_t>(snapshot));
    for (long b = 0; b < X.cols(); ++b)
        for (long i = 0; i < X.rows(); ++i) X(i, b) += sd*normal(g);
}

// The rows of `cells` (side indices first..first+size−1) that are observed, as offsets from first.
std::vector<long> observed_rows(long first, long size, const std::vector<bool>& cells) {
    std::vector<long> rows;
    for (long i = 0; i < size; ++i)
        if (cells[static_cast<std::size_t>(first + i)]) rows.push_back(i);
    return rows;
}

run_rows observe_run(const run_ref& ref, const observe_options& options) {
    // Each run is its own experiment: its cells, synapses, noise and time points are drawn from a
    // seed of its own, the realism seed and the run's name hashed together.
    observe_options o = options;
    o.measure = run_realism(options.measure, ref.name);
    const analysis::run_file f(ref.path);
    // Its config, from the file read above (run_file has checked that it is a run file).
    const std::string config_text = f.attr_text("config");
    if (config_text.empty()) throw file_error("'" + ref.path + "': missing attribute 'config'");
    const config c = config_of_run_text(config_text, f.format_version(), ref.path);
    run_rows out;
    out.name = ref.name;
    out.label = labels_of(c);
    const long T = f.snapshots();
    if (T < 2) throw user_error("run '" + ref.name + "' (" + ref.path + ") has " + std::to_string(T) +
                                " snapshot" + (T == 1? "": "s") + "; observe needs at least 2 (record more with training.record_every)");
    const std::vector<long> kept = kept_snapshots(T, o.measure.time_points, o.subsample_period, o.measure.seed, ref.name);

    // The circuit, rebuilt from the run's config, must be the run file's.
    probe pr(c, o.probe_trials, o.probe_seed);
    network& net = pr.net();
    for (const auto& p: f.projections()) {
        const int k = net.index_of(p.name);
        bool same = k >= 0 && static_cast<long>(net.projections[k].size()) == p.size();
        if (same) {
            const auto lists = net.projections[k].lists();
            for (long s = 0; same && s < p.size(); ++s) same = lists.pre[s] == p.pre[s] && lists.post[s] == p.post[s];
        }
        if (!same) throw user_error("run '" + ref.name + "': projection '" + p.name + "' of " + ref.path +
                                    " is not the one its stored config builds (a file made elsewhere? observe replays the config)");
    }

    // Who is observed: the cells (at least one per population) and each projection's synapses.
    std::vector<std::pair<long, long>> groups;
    for (const auto& pop: f.populations())
        if (pop.side == "network") groups.push_back({pop.first, pop.size});
    const long N = f.side_size("network");
    const std::vector<bool> cells = analysis::observed_cells(o.measure, N, groups);
    std::vector<const analysis::projection_info*> plastic;
    std::map<std::string, std::vector<long>> seen;                          // synapse ids per projection
    std::map<std::string, std::vector<analysis::block_members>> blocks;   // "all" first
    for (const auto& p: f.projections()) {
        std::vector<long> all(static_cast<std::size_t>(p.size()));
        for (long s = 0; s < p.size(); ++s) all[static_cast<std::size_t>(s)] = s;
        auto& b = blocks[p.name];
        b.push_back({"all", p.pre_populations, p.post_populations, all});
        for (auto& m: analysis::blocks_of(f, p, all)) b.push_back(std::move(m));
        if (!p.plastic) continue;
        plastic.push_back(&p);
        const analysis::synapse_table table{p.name, p.pre, p.post, p.pre_population == "network", p.post_population == "network"};
        seen[p.name] = analysis::sample_synapses(o.measure, table, cells);
    }

    const auto loss = f.snapshot_loss(), accuracy = f.snapshot_accuracy();
    std::map<std::string, double> scale;       // the noise's reference RMS of each measure (first kept snapshot)
    std::map<std::string, double> weight_sd;   // the additive weight noise of each projection
    for (std::size_t r = 0; r < kept.size(); ++r) {
        const long row = kept[r];
        out.snapshot.push_back(static_cast<std::int64_t>(r));
        out.step.push_back(static_cast<std::int64_t>(std::llround(f.steps()[static_cast<std::size_t>(row)])));
        out.loss.push_back(loss[static_cast<std::size_t>(row)]);
        out.accuracy.push_back(accuracy[static_cast<std::size_t>(row)]);
        out.values.emplace_back();
        row_builder add(r == 0? &out.names: nullptr, r == 0? &out.measure: nullptr, out.values.back());

        // The true weights of every projection at this snapshot, into the circuit.
        std::map<std::string, vector> w;
        for (const auto& p: f.projections()) {
            w[p.name] = f.weights(p.name, row);
            net.get(p.name).set_magnitudes(w[p.name].cwiseAbs());
        }

        // Weights: the measured weights of the observed synapses, block by block.
        for (const auto* p: plastic) {
            if (r == 0) weight_sd[p->name] = std::hypot(o.measure.noise_additive, o.noise*rms(w[p->name].data(), static_cast<std::size_t>(w[p->name].size())));
            analysis::realism m = o.measure;
            m.noise_additive = weight_sd[p->name];
            const auto& ids = seen[p->name];
            const vector measured = analysis::measure(m, p->name, row, w[p->name], ids);
            vector full = vector::Constant(p->size(), nan);
            for (std::size_t k = 0; k < ids.size(); ++k) full[ids[k]] = measured[static_cast<long>(k)];
            for (const auto& b: blocks[p->name]) {
                std::vector<double> x;
                for (long s: b.synapses) x.push_back(full[s]);
                add.add("weights", p->name + "/" + b.name, [&](function fn) { return summarize(x.data(), x.size(), fn); });
            }
        }

        // Activations and activity changes from the probe trials. The run itself did not diverge
        // with these weights: a replay that does holds weights that are not what it computed (a
        // damaged file), or a run on the edge of instability; either way the run's file, not
        // eisim, is named (exit 2).
        const probe_result act = [&] {
            try {
                return pr.run();
            } catch (const divergence_error& e) {
                throw user_error("run '" + ref.name + "' (" + ref.path + "): its weights at snapshot " + std::to_string(row) +
                                 " (step " + std::to_string(std::llround(f.steps()[static_cast<std::size_t>(row)])) +
                                 ") make the network diverge on the probe trials (" + e.what() +
                                 "): the file may be damaged, or the run was on the edge of instability there");
            }
        }();
        for (const auto& pop: f.populations()) {
            if (pop.side == "input") continue; // the stimulus: the experimenter's own, the same for every rule
            const bool cell = pop.side == "network";
            matrix X = (cell? act.activation: act.output).middleRows(pop.first, pop.size);
            const std::string key = "activations." + pop.name;
            if (r == 0) scale[key] = rms(X.data(), static_cast<std::size_t>(X.size()));
            add_noise(X, o.noise*scale[key], o.measure.seed, "observe.noise." + key, row);
            const std::vector<long> rows = cell? observed_rows(pop.first, pop.size, cells): std::vector<long>{};
            add.add("activations", pop.name, [&](function fn) { return summarize_trials(X, fn, rows); });
        }
        for (const auto* p: plastic) {
            const bool post_cells = p->post_population == "network";
            const bool pre_cells = p->pre_population == "network";
            for (const auto& b: blocks[p->name]) {
                // Σ_j W_ij over the observed presynaptic cells of the block, scaled to all of them.
                long pre_total = 0, pre_seen = 0;
                for (auto& name: b.pre_populations) {
                    const auto& pop = f.population(name);
                    pre_total += pop.size;
                    pre_seen += pre_cells? static_cast<long>(observed_rows(pop.first, pop.size, cells).size()): pop.size;
                }
                std::vector<long> post_rows; // side indices of the observed postsynaptic cells (readout units: all)
                for (auto& name: b.post_populations) {
                    const auto& pop = f.population(name);
                    for (long i = 0; i < pop.size; ++i)
                        if (!post_cells || cells[static_cast<std::size_t>(pop.first + i)]) post_rows.push_back(pop.first + i);
                }
                std::vector<double> sum(static_cast<std::size_t>(p->n_post), 0.0);
                for (long s: b.synapses)
                    if (!pre_cells || cells[static_cast<std::size_t>(p->pre[s])]) sum[static_cast<std::size_t>(p->post[s])] += w[p->name][s];
                const double to_all = pre_seen > 0? static_cast<double>(pre_total)/static_cast<double>(pre_seen): 0.0;
                matrix A(static_cast<long>(post_rows.size()), o.probe_trials);
                for (std::size_t k = 0; k < post_rows.size(); ++k) {
                    const long i = post_rows[k];
                    for (long t = 0; t < A.cols(); ++t)
                        A(static_cast<long>(k), t) = (post_cells? act.gain(i, t): 1.0)*sum[static_cast<std::size_t>(i)]*to_all;
                }
                const std::string key = "activity_change." + p->name + "." + b.name;
                if (r == 0) scale[key] = rms(A.data(), static_cast<std::size_t>(A.size()));
                add_noise(A, o.noise*scale[key], o.measure.seed, "observe.noise." + key, row);
                add.add("activity_change", p->name + "/" + b.name, [&](function fn) { return summarize_trials(A, fn); });
            }
        }
    }

    if (o.geometry_test) { // the ΔCDF test from the first kept snapshot to the second and to the last, as analyze measures them
        const auto best = [&](long to) {
            analysis::analysis_options a;
            a.measure = o.measure;
            a.measure.time_points = 0;
            a.from_step = f.steps()[static_cast<std::size_t>(kept.front())];
            a.to_step = f.steps()[static_cast<std::size_t>(to)];
            const auto report = analysis::analyze(f, a);
            const auto* p = analysis::representative_projection(report);
            return p? p->block("all").geometry.best: std::string();
        };
        out.geometry_best = best(kept[1]);
        out.geometry_best_whole = best(kept.back());
    }
    return out;
}

// ---- the table ---------------------------------------------------------------------------------

struct table {
    std::vector<std::string> names, measure; // the features kept
    std::vector<std::size_t> columns;        // their columns in each run's rows
    std::vector<run_rows> runs;
};

// Refuses runs whose snapshots or features differ from the first run's; drops the features
// undefined at some row.
table assemble(std::vector<run_rows> runs, std::vector<std::string>& dropped) {
    table t;
    const run_rows& first = runs.front();
    for (const auto& r: runs) {
        if (r.values.size() != first.values.size())
            throw user_error("run '" + r.name + "' has " + std::to_string(r.values.size()) + " kept snapshots, run '" + first.name +
                             "' " + std::to_string(first.values.size()) + ": a table needs the same number from every run "
                             "(record them alike, or pass --time-points)");
        if (r.names != first.names) {
            std::size_t k = 0;
            while (k < r.names.size() && k < first.names.size() && r.names[k] == first.names[k]) ++k;
            const std::string a = k < r.names.size()? r.names[k]: "(none)", b = k < first.names.size()? first.names[k]: "(none)";
            throw user_error("run '" + r.name + "' has other observables than run '" + first.name + "' (feature " + std::to_string(k + 1) +
                             ": " + a + " against " + b + "): a table holds runs of circuits with the same populations and projections");
        }
    }
    for (std::size_t j = 0; j < first.names.size(); ++j) {
        bool defined = true;
        for (const auto& r: runs)
            for (const auto& row: r.values) defined = defined && std::isfinite(row[j]);
        if (defined) {
            t.columns.push_back(j);
            t.names.push_back(first.names[j]);
            t.measure.push_back(first.measure[j]);
        } else {
            dropped.push_back(first.names[j]);
        }
    }
    t.runs = std::move(runs);
    return t;
}

std::string csv_number(double v) {
    if (!std::isfinite(v)) return "nan";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

void write_csv(const table& t, const std::string& path) {
    std::ofstream os(path);
    os << "run,snapshot,step,loss,accuracy,credit,geometry,p,task,seed,size,geometry_test_best";
    for (auto& n: t.names) os << ',' << n;
    os << '\n';
    for (const auto& r: t.runs)
        for (std::size_t k = 0; k < r.values.size(); ++k) {
            os << r.name << ',' << r.snapshot[k] << ',' << r.step[k] << ',' << csv_number(r.loss[k]) << ',' << csv_number(r.accuracy[k])
               << ',' << r.label.credit << ',' << r.label.geometry << ',' << csv_number(r.label.p) << ',' << r.label.task << ','
               << r.label.seed << ',' << r.label.size << ',' << r.geometry_best;
            for (auto j: t.columns) os << ',' << csv_number(r.values[k][j]);
            os << '\n';
        }
    os.flush();
    if (!os) throw user_error("cannot write '" + path + "'");
}

void write_h5(const table& t, const std::string& path, const observe_options& o, long dropped) {
    auto file = h5::create_file(path);
    h5::write_attr(file, "format", std::string("eisim.observables"));
    h5::write_attr(file, "format_version", std::int64_t{1});
    h5::write_attr(file, "realism", o.measure.describe() + (o.noise > 0? ", noise=" + csv_number(o.noise): std::string()) +
                                        (o.subsample_period > 0? ", subsample_period=" + std::to_string(o.subsample_period): std::string()));
    h5::write_attr(file, "features_dropped", std::int64_t{dropped});
    h5::write_attr(file, "probe_trials", std::int64_t{o.probe_trials});
    h5::write_attr(file, "probe_seed", static_cast<std::int64_t>(o.probe_seed));
    std::vector<std::string> run, credit, geometry, task, gt_run, gt_best, gt_whole;
    std::vector<std::int64_t> snapshot, step, seed, size;
    std::vector<double> loss, accuracy, p, values;
    for (const auto& r: t.runs) {
        gt_run.push_back(r.name);
        gt_best.push_back(r.geometry_best);
        gt_whole.push_back(r.geometry_best_whole);
        for (std::size_t k = 0; k < r.values.size(); ++k) {
            run.push_back(r.name), snapshot.push_back(r.snapshot[k]), step.push_back(r.step[k]);
            loss.push_back(r.loss[k]), accuracy.push_back(r.accuracy[k]);
            credit.push_back(r.label.credit), geometry.push_back(r.label.geometry), task.push_back(r.label.task);
            p.push_back(r.label.p), seed.push_back(r.label.seed), size.push_back(r.label.size);
            for (auto j: t.columns) values.push_back(r.values[k][j]);
        }
    }
    {
        auto g = h5::create_group(file, "rows");
        h5::write(g, "run", run);
        h5::write(g, "snapshot", snapshot);
        h5::write(g, "step", step);
        h5::write(g, "loss", loss);
        h5::write(g, "accuracy", accuracy);
    }
    {
        auto g = h5::create_group(file, "labels");
        h5::write(g, "credit", credit);
        h5::write(g, "geometry", geometry);
        h5::write(g, "task", task);
        h5::write(g, "p", p);
        h5::write(g, "seed", seed);
        h5::write(g, "size", size);
    }
    {
        auto g = h5::create_group(file, "features");
        h5::write(g, "values", values.data(), {static_cast<hsize_t>(run.size()), static_cast<hsize_t>(t.names.size())});
        h5::write(g, "names", t.names);
        h5::write(g, "measure", t.measure);
    }
    {
        auto g = h5::create_group(file, "geometry_test");
        h5::write(g, "run", gt_run);
        h5::write(g, "best", gt_best);
        h5::write(g, "best_whole", gt_whole);
    }
    h5::flush(file);
}

} // namespace

analysis::realism run_realism(const analysis::realism& r, const std::string& run) {
    fnv1a h;
    h.value(r.seed);
    h.text(run);
    analysis::realism own = r;
    own.seed = h.h;
    return own;
}

std::vector<long> kept_snapshots(long T, long K, long P, std::uint64_t seed, const std::string& run) {
    if (P <= 0) {
        if (K > T) throw user_error("run '" + run + "' has " + std::to_string(T) + " snapshots; --time-points " + std::to_string(K) +
                                    " needs as many (record more with training.record_every)");
        return analysis::kept_time_points(K, T);
    }
    const long k = K > 0? K: (T - 1)/P + 1;
    const long span = (k - 1)*P;
    if (span > T - 1)
        throw user_error("run '" + run + "' has " + std::to_string(T) + " snapshots; " + std::to_string(k) + " time points every " +
                         std::to_string(P) + " span " + std::to_string(span + 1));
    fnv1a h;
    h.text(run);
    auto g = stream(seed, "observe.time_start", h.h);
    const long start = std::min(T - 1 - span, static_cast<long>(uniform(g)*static_cast<double>(T - span)));
    std::vector<long> kept;
    for (long j = 0; j < k; ++j) kept.push_back(start + j*P);
    return kept;
}

observe_summary observe(const std::vector<std::string>& inputs, const observe_options& o) {
    o.measure.validate();
    if (!(o.noise >= 0) || !std::isfinite(o.noise)) throw user_error("--noise must be a finite number >= 0");
    if (o.subsample_period < 0) throw user_error("--subsample-period must be >= 1 (0: evenly spaced)");
    if (o.subsample_period > 0 && o.measure.time_points == 1) throw user_error("--time-points must be >= 2");
    if (o.probe_trials < 1) throw user_error("--probe-trials must be >= 1");
    const std::string ext = fs::path(o.out).extension().string();
    if (ext != ".h5" && ext != ".csv") throw user_error("--out '" + o.out + "': the table is written as HDF5 (.h5) or CSV (.csv)");
    std::error_code ec;
    if (fs::exists(o.out, ec) && !o.overwrite) throw user_error("'" + o.out + "' exists (pass --overwrite to replace it)");
    if (fs::exists(o.out, ec) && !fs::is_regular_file(o.out, ec)) throw user_error("'" + o.out + "' is not a regular file");

    observe_summary summary;
    const auto refs = list_runs(inputs, summary.left_out);
    std::vector<run_rows> runs;
    for (std::size_t k = 0; k < refs.size(); ++k) {
        if (!o.quiet) std::fprintf(stderr, "\robserving run %zu of %zu", k + 1, refs.size());
        try {
            runs.push_back(observe_run(refs[k], o));
        } catch (const user_error& e) {
            if (!o.quiet) std::fprintf(stderr, "\n");
            const std::string what = e.what();
            if (what.find(refs[k].name) != std::string::npos || what.find(refs[k].path) != std::string::npos) throw;
            throw user_error("run '" + refs[k].name + "' (" + refs[k].path + "): " + what);
        }
    }
    if (!o.quiet) std::fprintf(stderr, "\n");
    const table t = assemble(std::move(runs), summary.dropped);
    const std::string partial = o.out + ".partial";
    if (ext == ".csv") write_csv(t, partial);
    else write_h5(t, partial, o, static_cast<long>(summary.dropped.size()));
    fs::rename(partial, o.out);
    summary.runs = static_cast<long>(t.runs.size());
    for (auto& r: t.runs) summary.rows += static_cast<long>(r.values.size());
    summary.features = static_cast<long>(t.names.size());
    return summary;
}

} // namespace eisim::observe
