// eisim_bench: the timings bench/run.py collects, one measurement per process (so that the peak
// resident set size belongs to that measurement alone). Each subcommand takes the same config
// overrides as `eisim run --set`, on the built-in defaults or on a config file (`--config`, as
// `eisim run CONFIG.toml`), and prints one JSON object on stdout.
//
//   learn    the real learning loop (sim/experiment.hpp learn()): seconds of each learning step
//            (forward + exact gradient + mirror step + recording + checkpoint), their median, the
//            set-up time, the initial loss and the peak RSS.
//   forward  the forward integration of one batch (models/integrate.hpp), median over repetitions.
//   floor    the dense products one learning step cannot avoid, timed with Eigen on the same
//            shapes and the same row sharing among threads (models/parallel.hpp): per integration
//            stage the forward product W_rec R and the backward product W_recᵀ A (N×N times N×B),
//            and once per step the gradient's accumulation A Rᵀ over every stage of every trial
//            (N × B·T·s times B·T·s × N). Each is timed `--reps` times; the floor of a forward
//            pass is T·s forward products, that of a learning step T·s (forward + backward)
//            products plus the accumulation.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "models/error.hpp"
#include "models/parallel.hpp"
#include "models/random.hpp"
#include "sim/config.hpp"
#include "sim/experiment.hpp"
#include "sim/memory.hpp"
#include "models/integrate.hpp"

namespace {

using namespace eisim;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

double median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2? v[n/2]: 0.5*(v[n/2 - 1] + v[n/2]);
}

// The peak resident set of this process image (VmHWM). getrusage's ru_maxrss would also count the
// memory of the parent that forked us before exec.
double peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6))/1024.0; // kB
    return std::nan("");
}

int stages_of(const std::string& stepper) { return stepper == "rk4"? 4: 1; }

// Times f() `reps` times, after one untimed warm-up call unless reps = 1 (a single long run,
// e.g. a forward pass at N = 4000, needs none); the median in seconds.
template <typename F>
double timed_median(int reps, F&& f) {
    if (reps > 1) f();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = clock_type::now();
        f();
        t.push_back(seconds_since(t0));
    }
    return median(t);
}

// Y = M X with the rows of Y shared among threads as eisim's own products share them.
void shared_product(const matrix& M, const matrix& X, matrix& Y) {
    const double flops = static_cast<double>(M.rows())*M.cols()*X.cols();
    for_row_shares(M.rows(), flops, [&](row_range r) {
        Y.middleRows(r.begin, r.size).noalias() = M.middleRows(r.begin, r.size)*X;
    });
}

void print_json(const std::vector<std::pair<std::string, double>>& fields, const config& c) {
    std::printf("{\"N\": %d, \"batch\": %d, \"steps_per_trial\": %d, \"stepper\": \"%s\", \"threads\": %d", c.circuit.n(),
                c.task.batch, c.observation_steps(), c.integrator.stepper.c_str(), threads());
    for (auto& [k, v]: fields) std::printf(", \"%s\": %.9g", k.c_str(), v);
    std::printf("}\n");
}

int learn_cmd(const config& c, const std::string& out) {
    run_options opt;
    opt.out = out;
    opt.overwrite = true;
    opt.quiet = true;
    const run_summary s = learn(c, opt);
    double loop = 0;
    for (double t: s.step_seconds) loop += t;
    // With training.activity_trials = 0 (as run.py sets it) no step writes /activity: all are alike.
    print_json({{"step_median_s", median(s.step_seconds)},
                {"steps", static_cast<double>(s.step_seconds.size())},
                {"setup_s", s.seconds - loop},
                {"initial_loss", s.initial_loss},
                {"file_mb", static_cast<double>(std::filesystem::file_size(out))/1048576.0},
                {"peak_rss_mb", peak_rss_mb()}},
               c);
    return 0;
}

int forward_cmd(const config& c, int reps) {
    const auto seed = static_cast<std::uint64_t>(c.training.seed);
    const network net = build_network(c.circuit, seed, layout_for(c.integrator, c.circuit));
    auto g = stream(seed, "trials", 0);
    const input_grid u = make_input(c.input, c.integrator.dt_ms, c.observation_steps(), c.task.batch, g);
    const matrix x0 = matrix::Zero(c.circuit.n(), c.task.batch);
    const lowered_network low(net, sparse_products(c.integrator, c.circuit));
    const double t = timed_median(reps, [&] {
        auto noise = stream(seed, "noise", 0);
        const trajectory tr = integrate(net, low, u, x0, c.integrator, noise);
        if (tr.x.empty()) throw std::logic_error("empty trajectory");
    });
    print_json({{"forward_median_s", t}, {"sparse_products", low.sparse? 1.0: 0.0}, {"peak_rss_mb", peak_rss_mb()}}, c);
    return 0;
}

int floor_cmd(const config& c, int reps) {
    const long N = c.circuit.n(), B = c.task.batch;
    const long T = c.observation_steps(), s = stages_of(c.integrator.stepper);
    const long K = B*T*s;
    rng g(7);
    std::normal_distribution<double> z;
    auto random = [&](long rows, long cols) {
        matrix m(rows, cols);
        for (long j = 0; j < cols; ++j)
            for (long i = 0; i < rows; ++i) m(i, j) = z(g);
        return m;
    };
    const matrix W = random(N, N), Wt = W.transpose(), R = random(N, B), A = random(N, B);
    matrix Y(N, B);
    const double fwd = timed_median(reps, [&] { shared_product(W, R, Y); });
    const double bwd = timed_median(reps, [&] { shared_product(Wt, A, Y); });
    double grad = 0;
    {
        const matrix As = random(N, K), Rst = random(K, N);
        matrix G = matrix::Zero(N, N); // touched: page faults are not the product's time
        grad = timed_median(std::max(1, reps/10), [&] { shared_product(As, Rst, G); });
    }
    const double products = static_cast<double>(T*s);
    print_json({{"forward_product_s", fwd},
                {"backward_product_s", bwd},
                {"gradient_accumulation_s", grad},
                {"floor_forward_s", products*fwd},
                {"floor_step_s", products*(fwd + bwd) + grad},
                {"peak_rss_mb", peak_rss_mb()}},
               c);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    eisim::keep_freed_memory(); // as the eisim executable does (sim/memory.hpp)
    CLI::App app{"eisim_bench: one benchmark measurement as JSON (bench/run.py runs them all)"};
    app.require_subcommand(1);
    std::vector<std::string> sets;
    int threads = 0, reps = 5;
    std::string out = "bench_learn.h5", config_file;
    auto* learn_app = app.add_subcommand("learn", "time the learning loop (training.steps steps)");
    learn_app->add_option("--out", out, "run file to write (replaced)")->capture_default_str();
    auto* forward_app = app.add_subcommand("forward", "time the forward integration of one batch");
    auto* floor_app = app.add_subcommand("floor", "time the dense products a learning step cannot avoid");
    for (auto* a: {learn_app, forward_app, floor_app}) {
        a->add_option("--config", config_file, "config file the overrides apply to (default: the built-in defaults)");
        a->add_option("--set", sets, "override a config key: section.key=value (repeatable)");
        a->add_option("--threads", threads, "threads for the products (default: OpenMP's)")->check(CLI::Range(1, 1024));
    }
    for (auto* a: {forward_app, floor_app}) a->add_option("--reps", reps, "timed repetitions")->check(CLI::Range(1, 1000))->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0? 0: 2;
    }
    try {
        if (threads > 0) set_threads(threads);
        config c = config_file.empty()? default_config(): load_config(config_file);
        for (auto& s: sets) apply_override(c, s, false);
        validate(c);
        if (*learn_app) return learn_cmd(c, out);
        if (*forward_app) return forward_cmd(c, reps);
        return floor_cmd(c, reps);
    } catch (const user_error& e) { // a bad key or value, an unwritable file
        std::fprintf(stderr, "eisim_bench: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "eisim_bench: %s\n", e.what());
        return 1;
    }
}
