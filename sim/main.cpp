// The eisim command line. Every user error exits with code 2 and a message naming the problem;
// a diverging run exits with 3.
#include <algorithm>
#include <CLI/CLI.hpp>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <iostream>
#include <optional>

#include <sys/stat.h>

#include "analysis/export_csv.hpp"
#include "analysis/export_sonata.hpp"
#include "analysis/run_file.hpp"
#include "analysis/analyze.hpp"
#include "analysis/figures.hpp"
#include "analysis/report.hpp"
#include "models/error.hpp"
#include "models/parallel.hpp"
#include "observe/observe.hpp"
#include "sim/config.hpp"
#include "sim/experiment.hpp"
#include "sim/memory.hpp"
#include "sim/recorder.hpp"
#include "sim/signals.hpp"
#include "sweep/engine.hpp"
#include "sweep/plan.hpp"
#include "sweep/summary.hpp"

namespace {

using namespace eisim;

// What reading a config had to tell the user (e.g. SONATA delays left out), on stderr.
void print_notes(const config& c) {
    for (auto& n: c.notes) std::fprintf(stderr, "eisim: note: %s\n", n.c_str());
}

struct config_args {
    std::string file, circuit;
    std::vector<std::string> sets;
    void add_to(CLI::App* app) {
        app->add_option("config", file, "TOML configuration (built-in defaults when omitted)");
        app->add_option("--circuit", circuit, "import a SONATA circuit (circuit_config.json): its node and edge populations become "
                                              "populations and projections (docs/circuits.md, 'SONATA in')");
        app->add_option("--set", sets, "override a key: section.key=value (repeatable)");
    }
    config resolve() const {
        config c = load_config(file, circuit);
        for (auto& s: sets) apply_override(c, s, false);
        validate(c); // once, after all of them: task.kind and the input population size may change together
        for (auto& n: inert_settings(c)) c.notes.push_back(n);
        print_notes(c);
        return c;
    }
};

// The realism transforms (analysis/realism.hpp), shared by export and analyze.
struct realism_args {
    analysis::realism r;
    void add_to(CLI::App* app) {
        app->add_option("--observe-synapses", r.observe_synapses, "observe each synapse with probability F (0 < F <= 1)");
        app->add_option("--observe-neurons", r.observe_neurons,
                        "observe each cell with probability F; only synapses among observed cells are seen");
        app->add_option("--noise-multiplicative", r.noise_multiplicative, "log-normal measurement noise: w*exp(S*xi)");
        app->add_option("--noise-additive", r.noise_additive, "additive measurement noise: w + S*eta");
        app->add_option("--detection-threshold", r.detection_threshold, "measured weights with |w| < T are not detected");
        app->add_option("--time-points", r.time_points, "keep K evenly spaced snapshots (K >= 2; 0 = all)");
        app->add_option("--realism-seed", r.seed, "seed of the realism transforms' random streams")->capture_default_str();
    }
};

// ---- an output is never an input ------------------------------------------------------------
// "The same file": the same device and inode where both exist (hard links and symlinks included),
// else the same lexically normal absolute path.

namespace fs = std::filesystem;

struct named_path {
    std::string option; // as the user named it: --out, CONFIG, RUN, ...
    std::string path;
    std::string as;     // for an output: "" (the path itself) or what else it is ("its temporary file")
};

fs::path normal_absolute(const std::string& p) {
    std::error_code ec;
    fs::path a = fs::absolute(p, ec).lexically_normal();
    if (!a.has_filename() && a.has_parent_path()) a = a.parent_path(); // "dir/" is "dir"
    return a;
}

bool same_file(const fs::path& a, const fs::path& b) {
    struct stat sa{}, sb{};
    if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return normal_absolute(a.string()) == normal_absolute(b.string());
}

// Whether `file` is directory `dir` or lies anywhere under it (through the path as given, or the
// file it resolves to).
bool within(const std::string& dir, const std::string& file) {
    std::error_code ec;
    for (fs::path p: {normal_absolute(file), fs::weakly_canonical(normal_absolute(file), ec)}) {
        for (;;) {
            if (same_file(p, dir)) return true;
            if (!p.has_relative_path()) break;
            p = p.parent_path();
        }
    }
    return false;
}

std::string quoted(const named_path& p) { return p.option + " '" + p.path + "'"; }

/// Refuse (exit 2) an output file that is an input, and an output directory that holds one.
void refuse_inputs_as_outputs(const std::vector<named_path>& inputs, const std::vector<named_path>& files,
                              const std::vector<named_path>& dirs = {}) {
    for (auto& in: inputs) {
        if (in.path.empty()) continue;
        for (auto& out: files) {
            if (out.path.empty() || !same_file(out.path, in.path)) continue;
            throw user_error((out.as.empty()? quoted(out): out.option + ": " + out.as + " '" + out.path + "'") + " and " +
                             quoted(in) + " are the same file: an input is never overwritten (choose another " + out.option + ")");
        }
        for (auto& out: dirs)
            if (!out.path.empty() && within(out.path, in.path))
                throw user_error(quoted(out) + (same_file(out.path, in.path)? " is ": " contains ") + quoted(in) +
                                 ": an output directory never holds an input (choose another " + out.option + ")");
    }
}

// What a simulation or learning run reads: the config, the circuit, the synapse lists.
std::vector<named_path> inputs_of(const config_args& a, const config& c) {
    std::vector<named_path> in{{"CONFIG", a.file, ""}, {"--circuit", a.circuit, ""}};
    if (c.import.active()) in.push_back({"the SONATA circuit (circuit.sonata)", c.import.sonata, ""});
    for (auto& q: c.circuit.projections) {
        if (q.file.empty()) continue;
        const auto at = q.file.find(":/edges/"); // a SONATA edge population: its file
        in.push_back({std::string(at == std::string::npos? "the synapse list": "the edges file") + " of projection '" + q.name + "'",
                      q.file.substr(0, at), ""});
    }
    return in;
}

// A run file and the files written beside it while it is written.
std::vector<named_path> run_file_outputs(const std::string& out) {
    if (out.empty()) return {};
    const std::string target = write_target(out);
    return {{"--out", out, ""}, {"--out", target + ".partial", "its temporary file"}, {"--out", target + ".lock", "its lock file"}};
}

void print_summary(const run_summary& s) {
    std::printf("loss: initial %.6g, final %.6g (%.1f%% of initial) after %ld steps in %.1f s\n", s.initial_loss,
                s.final_loss, s.initial_loss > 0? 100.0*s.final_loss/s.initial_loss: 0.0, s.steps, s.seconds);
    std::printf("accuracy (%s): initial %.4g, final %.4g\n", s.accuracy_measure.c_str(), s.initial_accuracy, s.final_accuracy);
    if (s.heldout_trials > 0)
        std::printf("held-out accuracy (%s of %d trials never learned from): initial %.4g, final %.4g (standard error %.2g)\n",
                    s.accuracy_measure.c_str(), s.heldout_trials, s.initial_heldout_accuracy, s.final_heldout_accuracy,
                    std::sqrt(s.final_heldout_accuracy*(1 - s.final_heldout_accuracy)/s.heldout_trials));
    if (std::isnan(s.initial_accuracy) || std::isnan(s.final_accuracy))
        std::fprintf(stderr, "eisim: warning: the accuracy (%s) is undefined (NaN)%s: the targets do not vary across the trials "
                             "(R^2 needs a target variance), or no trial was scored; the loss is still recorded\n",
                     s.accuracy_measure.c_str(), std::isnan(s.initial_accuracy) && std::isnan(s.final_accuracy)? "": " at one end");
    int width = 10; // the column of projection names: as wide as the longest
    for (auto& b: s.final) width = std::max(width, static_cast<int>(b.name.size()));
    std::printf("%-*s %8s %22s %22s %6s %8s\n", width, "projection", "synapses", "ln|w| mean/sd before", "ln|w| mean/sd after",
                "held", "signflip");
    for (std::size_t i = 0; i < s.final.size(); ++i) {
        const auto& a = s.initial[i];
        const auto& b = s.final[i];
        std::printf("%-*s %8ld %12.3f / %6.3f  %12.3f / %6.3f  %6ld %8ld\n", width, b.name.c_str(), b.n, a.mean_ln, a.sd_ln,
                    b.mean_ln, b.sd_ln, b.held_at_bound, b.sign_changes);
    }
    for (auto& b: s.final)
        if (b.zero > 0)
            std::printf("%s: %ld synapse%s of magnitude 0 (multiplicative steps underflowed), left out of ln|w|\n", b.name.c_str(), b.zero,
                        b.zero == 1? "": "s");
}

// `eisim sweep plan`: the number of runs, what was merged, and the first few.
void print_plan(const sweep::sweep_plan& p, std::size_t show) {
    std::printf("%s: %zu combination%s", p.file.c_str(), p.combinations, p.combinations == 1? "": "s");
    if (!p.swept_keys.empty()) {
        std::printf(" of");
        for (std::size_t i = 0; i < p.swept_keys.size(); ++i) std::printf("%s %s", i? ",": "", p.swept_keys[i].c_str());
    }
    std::printf("\nbase: %s\n", p.base.empty()? "the built-in defaults": p.base.c_str());
    for (auto& s: p.sets) std::printf("set: %s\n", s.c_str());
    std::printf("%zu run%s", p.points.size(), p.points.size() == 1? "": "s");
    if (p.merged.empty()) std::printf(" (no two combinations resolve to the same config)\n");
    else std::printf(": %zu combination%s resolve to the config of an earlier one and %s run once with it\n", p.merged.size(),
                     p.merged.size() == 1? "": "s", p.merged.size() == 1? "is": "are");
    for (std::size_t i = 0; i < p.merged.size() && i < show; ++i)
        std::printf("  combination %zu is run as combination %zu\n", p.merged[i].combination, p.merged[i].same_as);
    for (auto& n: p.notes) std::printf("note: %s\n", n.c_str());
    for (std::size_t i = 0; i < p.points.size() && i < show; ++i)
        std::printf("  %s  %s\n", p.points[i].id.c_str(), p.describe(p.points[i]).c_str());
    if (p.points.size() > show) std::printf("  ... and %zu more\n", p.points.size() - show);
}

// OpenMP threads that wait for work spin (libgomp: 300000 turns, then they sleep), and a spinning
// thread takes a core another process needs: two runs of the N = 250 problem with two threads
// each on two shared cores took 13x longer side by side than alone (bench/shared_cores.py).
// Never spinning (OMP_WAIT_POLICY=PASSIVE) costs a run alone 2x at N = 250: its threads sleep
// and wake between the products of every time step. A short spin, 3000 turns, keeps the speed
// alone (BENCHMARKS.md, "Shared cores"; with parallel_min_flops, models/parallel.hpp, the two
// runs side by side take 1.1x the time of one alone). libgomp reads the setting once, when it
// loads, so eisim starts itself again with GOMP_SPINCOUNT=3000 unless the user chose a wait
// policy or a spin count.
void wait_briefly(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return; // the user's (or the sweep's) choice
    if (::setenv("GOMP_SPINCOUNT", "3000", 1) != 0) return;
    ::execv("/proc/self/exe", argv); // returns only when it fails: then go on as we are
}

// --shard I/N
void parse_shard(const std::string& text, sweep::sweep_run_options& o) {
    int i = 0, n = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 1 || i > n)
        throw user_error("--shard '" + text + "': expected I/N with 1 <= I <= N (the I-th of N slices, e.g. 3/10)");
    o.shard = i;
    o.shards = n;
}

} // namespace

int main(int argc, char** argv) {
    // A file-size limit (ulimit -f) makes a write fail with EFBIG, which is reported (exit 4),
    // instead of killing the process with SIGXFSZ and no word.
    std::signal(SIGXFSZ, SIG_IGN);
    keep_freed_memory(); // sim/memory.hpp: no page faults for each pass's trajectory
    sweep::follow_sweep_parent(); // a run started by `eisim sweep run` dies with it
    wait_briefly(argv);
    // identify is a python tool with its own options (observe/identify.py): everything after the
    // word goes to it, --help included.
    if (argc >= 2 && std::string(argv[1]) == "identify") {
        try {
            return analysis::run_python_tool({"identify", "scikit-learn, matplotlib, numpy and h5py",
                                              "python3-sklearn python3-matplotlib python3-h5py", ""},
                                             EISIM_IDENTIFY_SCRIPT, std::vector<std::string>(argv + 2, argv + argc));
        } catch (const user_error& e) {
            std::cerr << "eisim: error: " << e.what() << "\n";
            return 2;
        }
    }
    CLI::App app{"eisim: learning in Dale's-law E/I rate networks"};
    app.set_version_flag("--version", std::string("eisim ") + software_version + " (" + git_revision + ")");
    app.require_subcommand(1);
    app.fallthrough(); // --threads also after the subcommand: eisim run --threads 1 ...
    int threads = 0;
    app.add_option("--threads", threads, "threads for the network's products (default: OMP_NUM_THREADS or every core; "
                                         "results are identical for any count); for sweep run: of each run (default 1)")
        ->check(CLI::Range(1, 1024));

    run_options opts;
    config_args sim_args, run_args, cfg_args;

    auto* sim = app.add_subcommand("simulate", "simulate a batch of trials of the network (no learning)");
    sim_args.add_to(sim);
    sim->add_option("--out", opts.out, "run file to write (HDF5)")->required();
    sim->add_flag("--overwrite", opts.overwrite, "replace an existing output file");

    auto* run = app.add_subcommand("run", "train the network and record every synaptic weight over learning");
    run_args.add_to(run);
    std::string resume_path;
    run->add_option("--out", opts.out, "run file to write (HDF5)");
    run->add_option("--resume", resume_path, "continue a stopped run file (its own config is used)");
    run->add_flag("--overwrite", opts.overwrite, "replace an existing output file");
    run->add_flag("--quiet,-q", opts.quiet, "no progress output");

    auto* cfg = app.add_subcommand("config", "print the fully resolved configuration (TOML with a comment per key)");
    cfg_args.add_to(cfg);

    auto* exp = app.add_subcommand("export", "export a run file's connectome (see analysis/EXPORT.md)");
    exp->require_subcommand(1);
    std::string export_run;
    analysis::sonata_export_options sonata_opts;
    auto* sonata = exp->add_subcommand("sonata", "write a SONATA circuit: nodes.h5, edges.h5, type tables, circuit_config.json");
    sonata->add_option("run", export_run, "run file (HDF5)")->required();
    sonata->add_option("--out", sonata_opts.out_dir, "output directory (created if missing)")->required();
    sonata->add_option("--step", sonata_opts.step, "weights at: first, last or a learning step N")->capture_default_str();
    sonata->add_flag("--trajectory", sonata_opts.trajectory, "also write the weight trajectory as SONATA reports");
    sonata->add_flag("--overwrite", sonata_opts.overwrite, "replace existing files of the same names");
    realism_args sonata_realism;
    sonata_realism.add_to(sonata);
    analysis::csv_export_options csv_opts;
    auto* csv = exp->add_subcommand("csv", "write one row per synapse: pre, post, sign, initial and final weight");
    csv->add_option("run", export_run, "run file (HDF5)")->required();
    csv->add_option("--out", csv_opts.out, "CSV file to write")->required();
    csv->add_flag("--overwrite", csv_opts.overwrite, "replace an existing output file");
    realism_args csv_realism;
    csv_realism.add_to(csv);

    // analyze: the experimental predictions tested on a run file (analysis/README.md).
    auto* ana = app.add_subcommand("analyze", "test log-normal weights and the geometry of plasticity on a run file");
    std::string ana_file, ana_json, ana_figures;
    double ana_from = 0, ana_to = 0;
    ana->add_option("run", ana_file, "run file (HDF5)")->required();
    ana->add_option("--json", ana_json, "write the report as JSON to this file");
    ana->add_option("--figures", ana_figures, "draw PNG figures into this directory (needs matplotlib, h5py)");
    auto* ana_from_opt = ana->add_option("--from", ana_from, "learning step of the earlier snapshot (default: the first)");
    auto* ana_to_opt = ana->add_option("--to", ana_to, "learning step of the later snapshot (default: the last)");
    std::string ana_standardize = "per-neuron";
    ana->add_option("--standardize", ana_standardize,
                    "pooled|per-neuron: the dual change standardised over all synapses or within each postsynaptic "
                    "neuron, reported as .geometry (both are computed)")
        ->capture_default_str();
    realism_args ana_realism;
    ana_realism.add_to(ana);

    // sweep: many runs from one sweep file (docs/sweeps.md).
    auto* swp = app.add_subcommand("sweep", "run many networks from one sweep file: every combination of its axes (docs/sweeps.md)");
    swp->require_subcommand(1);
    std::string sweep_file, sweep_out, sweep_shard;
    std::size_t sweep_show = 10;
    sweep::sweep_run_options sweep_opts;
    auto* swp_plan = swp->add_subcommand("plan", "print how many runs a sweep file makes (after merging equal configs) and the first few");
    swp_plan->add_option("sweep", sweep_file, "sweep file (TOML)")->required();
    swp_plan->add_option("--show", sweep_show, "runs to list")->capture_default_str();
    auto* swp_run = swp->add_subcommand("run", "run a sweep into a directory; again, it skips what is done, resumes what was stopped "
                                               "and retries what failed");
    swp_run->add_option("sweep", sweep_file, "sweep file (TOML)")->required();
    swp_run->add_option("--out", sweep_out, "the sweep's directory: runs/, status/, logs/, manifest.csv")->required();
    swp_run->add_option("--jobs,-j", sweep_opts.jobs, "runs at once on this machine (default: one per core; 1 per rank under mpirun)")
        ->check(CLI::Range(1, 4096));
    swp_run->add_option("--shard", sweep_shard, "run only the I-th of N disjoint slices (I/N, e.g. for SLURM --array)");
    swp_run->add_option("--max-attempts", sweep_opts.max_attempts, "starts of a failing run before it is left failed")
        ->capture_default_str()->check(CLI::Range(1, 1000));
    swp_run->add_flag("--quiet,-q", sweep_opts.quiet, "no line per finished run");
    std::string summary_dir;
    sweep::summary_options summary_opts;
    bool summary_no_figure = false;
    auto* swp_sum = swp->add_subcommand("summary", "outcomes per swept value (mean and sd over seeds): a table, DIR/summary.csv "
                                                   "and DIR/summary.png");
    swp_sum->add_option("dir", summary_dir, "the sweep's directory (sweep run --out)")->required();
    swp_sum->add_flag("--analyze", summary_opts.analyze, "also run the geometry test on every done run and tabulate identified "
                                                         "against trained geometry (DIR/identification.csv)");
    swp_sum->add_flag("--no-figure", summary_no_figure, "write no DIR/summary.png (it needs matplotlib)");

    // observe and identify: which learning rule? (docs/identify.md)
    auto* obs = app.add_subcommand("observe", "the observables of runs (weights, activations, activity changes) at every kept "
                                              "snapshot: one table of features and labels (docs/identify.md)");
    std::vector<std::string> obs_inputs;
    observe::observe_options obs_opts;
    obs->add_option("runs", obs_inputs, "run files (RUN.h5) or sweep directories (their done runs)")->required();
    obs->add_option("--out", obs_opts.out, "the table: TABLE.h5 (HDF5) or TABLE.csv")->required();
    obs->add_flag("--overwrite", obs_opts.overwrite, "replace an existing table");
    obs->add_option("--noise", obs_opts.noise, "Gaussian noise on every measured element: S times the measure's RMS at the first "
                                               "kept snapshot");
    obs->add_option("--subsample-period", obs_opts.subsample_period,
                    "with --time-points K: K snapshots P apart from a random first one (0: evenly spaced)");
    obs->add_option("--probe-trials", obs_opts.probe_trials, "trials of the probe set (the same for every run of a task and every "
                                                             "snapshot)")->capture_default_str();
    obs->add_option("--probe-seed", obs_opts.probe_seed, "seed of the probe trials")->capture_default_str();
    bool obs_no_geometry = false;
    obs->add_flag("--no-geometry-test", obs_no_geometry, "skip the ΔCDF geometry test of each run (/geometry_test)");
    obs->add_flag("--quiet,-q", obs_opts.quiet, "no progress line");
    realism_args obs_realism;
    obs_realism.add_to(obs);
    auto* idf = app.add_subcommand("identify", "classify the learning rule from an observables table: random forest and linear SVM, "
                                               "held out by seed or task (docs/identify.md; 'eisim identify --help' lists its options)");
    (void)idf; // run before parsing (main's first lines); listed here for --help

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "eisim: error: " << e.what() << "\n(run 'eisim --help' for usage)\n";
        return 2;
    }

    if (threads > 0) set_threads(threads);
    try {
        if (*sim) {
            const config c = sim_args.resolve();
            refuse_inputs_as_outputs(inputs_of(sim_args, c), run_file_outputs(opts.out));
            simulate(c, opts);
            std::printf("wrote %s\n", opts.out.c_str());
        } else if (*run) {
            if (!resume_path.empty()) {
                if (!opts.out.empty() || !run_args.file.empty() || !run_args.circuit.empty() || !run_args.sets.empty())
                    throw user_error("--resume takes the run file alone (its config is stored in it)");
                opts.out = resume_path;
                opts.resume = true;
            } else if (opts.out.empty()) {
                throw user_error("run needs --out FILE.h5 (or --resume FILE.h5)");
            }
            config c;
            std::optional<output_lock> resume_lock; // learn() takes it again: one writer from here on
            if (opts.resume) {
                const std::string partial = write_target(opts.out) + ".partial";
                const auto missing = [&] {
                    std::error_code ec;
                    return user_error("cannot resume '" + opts.out + "': no such file" +
                                      (fs::exists(partial, ec)? " ('" + partial + "' is a run stopped before its first "
                                                                "checkpoint; start it again, which replaces it)": std::string()));
                };
                std::error_code ec;
                if (!fs::exists(opts.out, ec) && !fs::is_directory(fs::path(write_target(opts.out)).parent_path(), ec)) throw missing();
                resume_lock.emplace(opts.out); // a writer that is creating it is named
                if (!fs::exists(opts.out, ec)) throw missing();
                c = config_of_run(opts.out);
                print_notes(c);
            } else {
                c = run_args.resolve();
                refuse_inputs_as_outputs(inputs_of(run_args, c), run_file_outputs(opts.out));
            }
            const auto summary = learn(c, opts);
            print_summary(summary);
            std::printf("wrote %s\n", opts.out.c_str());
        } else if (*ana) {
            refuse_inputs_as_outputs({{"RUN", ana_file, ""}}, {{"--json", ana_json, ""}}, {{"--figures", ana_figures, ""}});
            analysis::analysis_options o;
            if (ana_from_opt->count()) o.from_step = ana_from;
            if (ana_to_opt->count()) o.to_step = ana_to;
            o.measure = ana_realism.r;
            o.standardize = analysis::standardization_named(ana_standardize);
            const auto report = analysis::analyze(analysis::run_file(ana_file), o);
            analysis::print_table(std::cout, report);
            std::cout.flush();
            // The figures read the report: without --json it goes next to them.
            const std::string json_path = !ana_json.empty() || ana_figures.empty()? ana_json: ana_figures + "/report.json";
            if (!ana_figures.empty()) {
                std::error_code ec;
                std::filesystem::create_directories(ana_figures, ec);
                if (!std::filesystem::is_directory(ana_figures))
                    throw user_error("--figures: cannot create the directory '" + ana_figures + "'");
            }
            if (!json_path.empty()) {
                analysis::write_json(report, json_path);
                std::printf("wrote %s\n", json_path.c_str());
            }
            if (!ana_figures.empty()) {
                analysis::make_figures(ana_file, json_path, ana_figures);
                std::printf("wrote figures to %s\n", ana_figures.c_str());
            }
        } else if (*swp && *swp_plan) {
            print_plan(sweep::read_sweep(sweep_file), sweep_show);
        } else if (*swp && *swp_run) {
            if (!sweep_shard.empty()) parse_shard(sweep_shard, sweep_opts);
            if (threads > 0) sweep_opts.threads = threads;
            refuse_inputs_as_outputs({{"SWEEP", sweep_file, ""}}, {}, {{"--out", sweep_out, ""}});
            const auto plan = sweep::read_sweep(sweep_file);
            if (!plan.base.empty()) refuse_inputs_as_outputs({{"the base config", plan.base, ""}}, {}, {{"--out", sweep_out, ""}});
            return sweep::run_sweep(plan, sweep_out, sweep_opts);
        } else if (*swp && *swp_sum) {
            const auto summary = sweep::summarize_sweep(summary_dir, summary_opts);
            sweep::print_sweep_summary(std::cout, summary);
            std::cout.flush();
            for (auto& f: sweep::write_sweep_summary(summary_dir, summary)) std::printf("wrote %s\n", f.c_str());
            if (!summary_no_figure) {
                sweep::draw_sweep_figure(summary_dir);
                std::printf("wrote %s/summary.png\n", summary_dir.c_str());
            }
        } else if (*obs) {
            std::vector<named_path> ins;
            for (auto& in: obs_inputs) ins.push_back({"RUN", in, ""});
            refuse_inputs_as_outputs(ins, {{"--out", obs_opts.out, ""}, {"--out", obs_opts.out + ".partial", "its temporary file"}});
            obs_opts.measure = obs_realism.r;
            obs_opts.geometry_test = !obs_no_geometry;
            const auto s = observe::observe(obs_inputs, obs_opts);
            for (auto& l: s.left_out) std::fprintf(stderr, "eisim: note: left out %s\n", l.c_str());
            std::printf("%ld runs, %ld rows, %ld features; %zu features dropped (undefined at some row)%s\n", s.runs, s.rows, s.features,
                        s.dropped.size(), s.dropped.empty()? "": ":");
            for (std::size_t k = 0; k < s.dropped.size() && k < 20; ++k) std::printf("  %s\n", s.dropped[k].c_str());
            if (s.dropped.size() > 20) std::printf("  ... and %zu more\n", s.dropped.size() - 20);
            std::printf("wrote %s\n", obs_opts.out.c_str());
        } else if (*cfg) {
            std::cout << to_toml(cfg_args.resolve());
        } else if (*exp && *sonata) {
            refuse_inputs_as_outputs({{"RUN", export_run, ""}}, {}, {{"--out", sonata_opts.out_dir, ""}});
            sonata_opts.measure = sonata_realism.r;
            const auto s = analysis::export_sonata(analysis::run_file(export_run), sonata_opts);
            std::printf("learning step %.17g (snapshot %ld):", s.step, s.snapshot);
            for (auto& [pop, n]: s.edges) std::printf(" %s %ld edges;", pop.c_str(), n);
            std::printf("\n");
            for (auto& f: s.files) std::printf("wrote %s\n", f.c_str());
        } else if (*exp && *csv) {
            refuse_inputs_as_outputs({{"RUN", export_run, ""}},
                                     {{"--out", csv_opts.out, ""}, {"--out", csv_opts.out + ".partial", "its temporary file"}});
            csv_opts.measure = csv_realism.r;
            const long rows = analysis::export_csv(analysis::run_file(export_run), csv_opts);
            std::printf("wrote %s (%ld synapses)\n", csv_opts.out.c_str(), rows);
        }
    } catch (const interrupted& e) {
        std::cerr << "eisim: stopped by " << e.what() << "\n";
        return e.exit_code();
    } catch (const divergence_error& e) {
        std::cerr << "eisim: diverged: " << e.what() << "\n";
        return 3;
    } catch (const storage_error& e) {
        std::cerr << "eisim: error: " << e.what() << std::endl;
        std::cout.flush();
        // Not through exit(): HDF5 1.10's atexit clean-up crashes (SIGSEGV in H5F__close_cb) on a
        // file whose close failed for want of space; everything that could be written is.
        std::_Exit(4);
    } catch (const user_error& e) {
        std::cerr << "eisim: error: " << e.what() << "\n";
        return 2;
    } catch (const std::bad_alloc&) {
        std::cerr << "eisim: error: out of memory; reduce the network size, batch or duration\n";
        return 2;
    }
    return 0;
}
