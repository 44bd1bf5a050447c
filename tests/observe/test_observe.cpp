// eisim observe: the seven statistics against closed forms and an independent computation; the
// probe replays a run's own dynamics (its recorded rates at the final snapshot, to round-off; a
// spiking run's recorded spikes and readouts of its first pass, exactly);
// the table's weight features equal the statistics of the run file's weights block by block; the
// readout's activity change is its closed form; measurement noise adds its variance; at least one
// unit of every population is observed; the kept snapshots; and the refusals that name the run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "analysis/analyze.hpp"
#include "analysis/run_file.hpp"
#include "io/h5.hpp"
#include "models/error.hpp"
#include "models/tasks.hpp"
#include "models/trials.hpp"
#include "observe/observables.hpp"
#include "observe/observe.hpp"
#include "observe/probe.hpp"
#include "sim/config.hpp"
#include "sim/experiment.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t NORM = 0, MEAN = 1, MEDIAN = 2, Q3 = 3, VAR = 4, SKEW = 5, KURT = 6;

// The statistics the slow way: numpy's quantile as (1 − g) x_(j) + g x_(j+1) with j = ⌊q (n−1)⌋,
// raw moments for the central ones.
observe::summary reference(std::vector<double> y) {
    const double n = static_cast<double>(y.size());
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    for (double v: y) s1 += v, s2 += v*v, s3 += v*v*v, s4 += v*v*v*v;
    const double m = s1/n;
    const double m2 = s2/n - m*m;
    const double m4 = s4/n - 4*m*s3/n + 6*m*m*s2/n - 3*m*m*m*m;
    std::sort(y.begin(), y.end());
    const auto q = [&](double p) {
        const double h = p*(n - 1);
        const auto j = static_cast<std::size_t>(h);
        return j + 1 < y.size()? y[j] + (h - static_cast<double>(j))*(y[j + 1] - y[j]): y[j];
    };
    return {std::sqrt(s2), m, q(0.5), q(0.75), m2, 3*(m - q(0.5))/std::sqrt(m2), m4/(m2*m2)};
}

config small_config(int steps, int record_every) {
    config c = load_config(std::string(EISIM_SOURCE_DIR) + "/examples/perceptual_decision.toml");
    for (auto s: {"training.steps=" + std::to_string(steps), "training.record_every=" + std::to_string(record_every),
                  std::string("task.fresh_trials=false"), std::string("training.activity_trials=4")})
        apply_override(c, s, false);
    validate(c);
    return c;
}

std::string train(const config& c, const std::string& name) {
    const std::string path = test::temp_path("." + name + ".h5");
    run_options o;
    o.out = path;
    o.quiet = true;
    learn(c, o);
    return path;
}

observe::observe_options table_options(const std::string& out) {
    observe::observe_options o;
    o.out = out;
    o.quiet = true;
    o.probe_trials = 8;
    o.geometry_test = false;
    return o;
}

struct table_view {
    std::vector<std::string> names, run;
    std::vector<double> values; // row-major
    std::vector<std::int64_t> step;
    long cols = 0;
    double at(long row, const std::string& name) const {
        const auto it = std::find(names.begin(), names.end(), name);
        REQUIRE(it != names.end());
        return values[static_cast<std::size_t>(row*cols + (it - names.begin()))];
    }
    bool has(const std::string& name) const { return std::find(names.begin(), names.end(), name) != names.end(); }
};

table_view read_table(const std::string& path) {
    auto f = h5::open_file(path);
    table_view t;
    t.names = h5::read_strings(f, "features/names");
    t.run = h5::read_strings(f, "rows/run");
    t.values = h5::read_double(f, "features/values");
    t.step = h5::read_int(f, "rows/step");
    t.cols = static_cast<long>(t.names.size());
    return t;
}

} // namespace

TEST_CASE("the seven statistics: closed forms, an independent computation, undefined ones", "[observe][stats]") {
    using observe::function;
    const std::vector<double> x{1, 2, 3, 4};
    const auto s = observe::summarize(x.data(), x.size(), function::identity);
    CHECK(s[NORM] == Approx(std::sqrt(30.0)));
    CHECK(s[MEAN] == Approx(2.5));
    CHECK(s[MEDIAN] == Approx(2.5));
    CHECK(s[Q3] == Approx(3.25));           // numpy: 3 + 0.25 (4 − 3)
    CHECK(s[VAR] == Approx(1.25));          // (1/n) Σ (x − 2.5)²
    CHECK(s[SKEW] == Approx(0.0).margin(1e-15));
    CHECK(s[KURT] == Approx(2.5625/1.5625)); // m₄ = (2·1.5⁴ + 2·0.5⁴)/4

    std::mt19937_64 g(7);
    std::lognormal_distribution<double> ln(0.0, 1.0);
    std::vector<double> w(1001);
    for (auto& v: w) v = (g() % 3 == 0? -1: 1)*ln(g);
    for (auto f: observe::functions) {
        std::vector<double> y;
        for (double v: w) y.push_back(f == function::identity? v: f == function::abs? std::abs(v): v*v);
        const auto got = observe::summarize(w.data(), w.size(), f), want = reference(y);
        for (std::size_t k = 0; k < observe::n_statistics; ++k) CHECK(got[k] == Approx(want[k]).epsilon(1e-10));
    }

    // A Gaussian sample: skew → 0 and kurtosis → 3 (sd of the sample kurtosis √(24/n) = 0.011).
    std::normal_distribution<double> z;
    std::vector<double> gauss(200000);
    for (auto& v: gauss) v = z(g);
    const auto sg = observe::summarize(gauss.data(), gauss.size(), function::identity);
    CHECK(std::abs(sg[KURT] - 3.0) < 5*std::sqrt(24.0/200000));
    CHECK(std::abs(sg[SKEW]) < 5*3*std::sqrt(M_PI/2 - 1)/std::sqrt(200000.0)); // 3(mean − median)/sd: sd ≈ 3·0.756/√n

    // Not finite elements are not elements; undefined statistics are NaN, never filled.
    const std::vector<double> with_nan{1, std::nan(""), 2, 3, 4};
    const auto sn = observe::summarize(with_nan.data(), with_nan.size(), function::identity);
    for (std::size_t k = 0; k < observe::n_statistics; ++k) CHECK(sn[k] == Approx(s[k]));
    const std::vector<double> constant(5, 2.0);
    const auto sc = observe::summarize(constant.data(), constant.size(), function::identity);
    CHECK(sc[MEAN] == 2.0);
    CHECK(sc[VAR] == 0.0);
    CHECK(std::isnan(sc[SKEW]));
    CHECK(std::isnan(sc[KURT]));
    const auto se = observe::summarize(nullptr, 0, function::identity);
    for (double v: se) CHECK(std::isnan(v));

    // Over trials: each trial's statistic, averaged.
    matrix X(3, 2);
    X << 1, 10, 2, 20, 4, 40;
    const auto st = observe::summarize_trials(X, function::identity);
    CHECK(st[MEAN] == Approx((7.0/3 + 70.0/3)/2));
    CHECK(st[MEDIAN] == Approx((2.0 + 20.0)/2));
    const auto rows = observe::summarize_trials(X, function::identity, {0, 2});
    CHECK(rows[MEAN] == Approx((2.5 + 25.0)/2));
}

TEST_CASE("the probe replays the run: its rates at the final snapshot, to round-off", "[observe][probe]") {
    const config c = small_config(4, 2);
    const std::string path = train(c, "probe");
    // The run's fixed trials (task.fresh_trials = false: step 0's), whose first 4 /activity records.
    config four = c;
    four.task.batch = 4;
    const trial_batch trials = make_trials(trial_spec{four.task, four.input, four.integrator, four.circuit}, nullptr,
                                           static_cast<std::uint64_t>(c.training.seed), 0);
    observe::probe pr(c, trials, 1);
    const analysis::run_file f(path);
    for (const auto& p: f.projections()) pr.net().get(p.name).set_magnitudes(f.weights(p.name, f.snapshots() - 1).cwiseAbs());
    const auto got = pr.run();

    auto file = h5::open_file(path);
    const auto shape = h5::shape(file, "activity/step_4/rate"); // [trials × T+1 × N]
    REQUIRE(shape.size() == 3);
    const auto rate = h5::read_double(file, "activity/step_4/rate");
    const long B = static_cast<long>(shape[0]), K = static_cast<long>(shape[1]), N = static_cast<long>(shape[2]);
    REQUIRE(B == 4);
    REQUIRE(N == got.activation.rows());
    double worst = 0;
    for (long b = 0; b < B; ++b)
        for (long i = 0; i < N; ++i) {
            double mean = 0;
            for (long k = 1; k < K; ++k) mean += rate[static_cast<std::size_t>((b*K + k)*N + i)];
            mean /= static_cast<double>(K - 1);
            worst = std::max(worst, std::abs(mean - got.activation(i, b))/std::max(1e-12, std::abs(mean)));
        }
    CHECK(worst < 1e-12);
    fs::remove(path);
}

TEST_CASE("the probe replays a spiking run: its spikes and readouts of the first pass", "[observe][probe][spiking]") {
    // The study's spiking arm: e-prop in a circuit of LIF and ALIF cells. With the run's own trials
    // of step 0 and its seed as the probe seed, the probe's pass is the run's first forward pass
    // (streams (seed, pass 0, trial)), recorded in /activity/step_0 for the first 4 trials.
    config c = load_config(std::string(EISIM_SOURCE_DIR) + "/examples/spiking_decision.toml");
    for (auto s: {"training.steps=2", "training.record_every=1", "training.activity_trials=4", "training.heldout_trials=0",
                  "plasticity.eprop_feedback=random"})
        apply_override(c, s, false);
    validate(c);
    const std::string path = train(c, "probe_spiking");
    config four = c;
    four.task.batch = 4;
    const trial_batch trials = make_trials(trial_spec{four.task, four.input, four.integrator, four.circuit}, nullptr,
                                           static_cast<std::uint64_t>(c.training.seed), 0);
    observe::probe pr(c, trials, static_cast<std::uint64_t>(c.training.seed));
    const analysis::run_file f(path);
    for (const auto& p: f.projections()) pr.net().get(p.name).set_magnitudes(f.weights(p.name, 0).cwiseAbs());
    const auto got = pr.run();

    auto file = h5::open_file(path);
    const int T = trials.steps();
    const double hz_per_spike = 1000.0/(T*c.integrator.dt_ms);
    matrix want = matrix::Zero(got.activation.rows(), 4);
    long spikes = 0;
    for (const auto& p: pr.net().populations) {
        if (p.side != side::network) continue;
        const auto node = h5::read_int(file, "activity/step_0/spikes/" + p.name + "/node_ids");
        const auto trial = h5::read_int(file, "activity/step_0/spikes/" + p.name + "/trial_ids");
        REQUIRE(node.size() == trial.size());
        for (std::size_t q = 0; q < node.size(); ++q) want(p.first + node[q], trial[q]) += hz_per_spike;
        spikes += static_cast<long>(node.size());
    }
    CHECK(spikes > 100); // the cells fire: the comparison is of something
    CHECK((got.activation - want).cwiseAbs().maxCoeff() == 0.0);
    // The readouts: the mean over the trial's observations k = 1..T of the recorded y(k).
    const auto shape = h5::shape(file, "activity/step_0/output"); // [trials × T+1 × n_out]
    const auto y = h5::read_double(file, "activity/step_0/output");
    REQUIRE(shape.size() == 3);
    const long K = static_cast<long>(shape[1]), O = static_cast<long>(shape[2]);
    REQUIRE(K == T + 1);
    double worst = 0;
    for (long b = 0; b < 4; ++b)
        for (long o = 0; o < O; ++o) {
            double mean = 0;
            for (long k = 1; k < K; ++k) mean += y[static_cast<std::size_t>((b*K + k)*O + o)];
            mean /= static_cast<double>(T);
            worst = std::max(worst, std::abs(mean - got.output(o, b))/std::max(1e-12, std::abs(mean)));
        }
    CHECK(worst < 1e-12);
    // The gain is the trial's mean pseudo-derivative: in [0, γ/D], and positive where cells fire.
    CHECK(got.gain.minCoeff() >= 0.0);
    CHECK(got.gain.maxCoeff() > 0.0);

    // The table of a spiking run: spike rates as activations, the rule's labels.
    const std::string out = test::temp_path(".table_spiking.h5");
    const auto s = observe::observe({path}, table_options(out));
    CHECK(s.rows == 3);
    const table_view t = read_table(out);
    CHECK(t.has("activations/E/identity/mean"));
    CHECK(t.has("activity_change/recurrent/EI/identity/mean"));
    auto tf = h5::open_file(out);
    CHECK(h5::read_strings(tf, "labels/credit").front() == "eprop");
    CHECK(h5::read_int(tf, "labels/size").front() == 50);
    for (auto x: {path, out}) fs::remove(x);
}

TEST_CASE("the table: weight features are the statistics of the file's blocks; the readout's activity change; labels",
          "[observe][table]") {
    config c = small_config(4, 1);
    const std::string a = train(c, "table_a");
    apply_override(c, "plasticity.geometry=euclidean");
    apply_override(c, "plasticity.learning_rate=0.02");
    const std::string b = train(c, "table_b");
    const std::string out = test::temp_path(".table.h5");
    auto o = table_options(out);
    o.geometry_test = true;
    const auto s = observe::observe({a, b}, o);
    CHECK(s.runs == 2);
    CHECK(s.rows == 10);
    const table_view t = read_table(out);
    REQUIRE(t.run.size() == 10);

    const analysis::run_file f(a);
    const auto& rec = f.projection("recurrent");
    const auto& readout = f.projection("readout");
    for (long row = 0; row < 5; ++row) {
        const vector w = f.weights("recurrent", row);
        // EI: I → E synapses (post in E, pre in I), identity and square.
        std::vector<double> ei;
        for (long k = 0; k < rec.size(); ++k)
            if (f.population_of("network", rec.post[k]).name == "E" && f.population_of("network", rec.pre[k]).name == "I") ei.push_back(w[k]);
        const auto want = reference(ei);
        CHECK(t.at(row, "weights/recurrent/EI/identity/mean") == Approx(want[MEAN]).epsilon(1e-12));
        CHECK(t.at(row, "weights/recurrent/EI/identity/kurtosis") == Approx(want[KURT]).epsilon(1e-10));
        std::vector<double> sq;
        for (double v: ei) sq.push_back(v*v);
        CHECK(t.at(row, "weights/recurrent/EI/square/q3") == Approx(reference(sq)[Q3]).epsilon(1e-12));
        // The readout's activity change: a_o = Σ_j W_oj (gain 1), the same on every trial.
        const vector wo = f.weights("readout", row);
        std::vector<double> sums(static_cast<std::size_t>(readout.n_post), 0.0);
        for (long k = 0; k < readout.size(); ++k) sums[static_cast<std::size_t>(readout.post[k])] += wo[k];
        CHECK(t.at(row, "activity_change/readout/all/identity/mean") == Approx(reference(sums)[MEAN]).epsilon(1e-12));
        CHECK(t.step[static_cast<std::size_t>(row)] == row);
    }
    // Inputs are the stimulus: not an observable; every other population is.
    CHECK_FALSE(t.has("activations/in/identity/mean"));
    CHECK(t.has("activations/E/identity/mean"));
    CHECK(t.has("activations/I/abs/q3"));
    CHECK(t.has("activations/out/square/var"));
    CHECK(t.has("activity_change/recurrent/IE/identity/mean"));
    CHECK(t.has("activity_change/input/I/identity/mean"));

    auto file = h5::open_file(out);
    CHECK(h5::read_attr_string(file, "format") == "eisim.observables");
    const auto geometry = h5::read_strings(file, "labels/geometry");
    CHECK(geometry.front() == "eg");
    CHECK(geometry.back() == "euclidean");
    const auto p = h5::read_double(file, "labels/p");
    CHECK(std::isnan(p.front()));
    CHECK(p.back() == 2.0);
    CHECK(h5::read_strings(file, "labels/credit").front() == "exact");
    CHECK(h5::read_strings(file, "labels/task").front() == "perceptual_decision");
    CHECK(h5::read_int(file, "labels/size").front() == 100);
    // The geometry test as eisim analyze gives it, from the first snapshot to the second and to the last.
    const auto best = h5::read_strings(file, "geometry_test/best"), whole = h5::read_strings(file, "geometry_test/best_whole");
    REQUIRE(best.size() == 2);
    REQUIRE(whole.size() == 2);
    for (std::size_t k = 0; k < 2; ++k) {
        const analysis::run_file rf(k == 0? a: b);
        for (auto [to, got]: {std::pair{1.0, best[k]}, std::pair{4.0, whole[k]}}) {
            analysis::analysis_options ao;
            ao.from_step = 0.0;
            ao.to_step = to;
            const auto report = analysis::analyze(rf, ao);
            CHECK(got == analysis::representative_projection(report)->block("all").geometry.best);
        }
    }
    CHECK(h5::read_strings(file, "geometry_test/run") == std::vector<std::string>{fs::path(a).stem().string(), fs::path(b).stem().string()});
    for (auto x: {a, b, out}) fs::remove(x);
}

TEST_CASE("realism: noise adds its variance, every population keeps one unit, undefined features are dropped and counted",
          "[observe][realism]") {
    const config c = small_config(2, 1);
    const std::string run = train(c, "realism");
    const std::string clean = test::temp_path(".clean.h5"), noisy = test::temp_path(".noisy.h5"), sparse = test::temp_path(".sparse.h5");
    observe::observe({run}, table_options(clean));
    auto o = table_options(noisy);
    o.noise = 0.5;
    observe::observe({run}, o);
    const table_view t0 = read_table(clean), t1 = read_table(noisy);
    // Additive noise of sd S·rms(w) on n synapses: var(w̃) = var(w) + S² rms² within sampling error
    // (relative sd of a variance estimate of n Gaussian draws: √(2/n)).
    const analysis::run_file f(run);
    const vector w = f.weights("recurrent", 0);
    const double rms = std::sqrt(w.squaredNorm()/static_cast<double>(w.size()));
    const double added = t1.at(0, "weights/recurrent/all/identity/var") - t0.at(0, "weights/recurrent/all/identity/var");
    CHECK(std::abs(added/(0.25*rms*rms) - 1.0) < 5*std::sqrt(2.0/static_cast<double>(w.size())) + 0.05);
    CHECK(t1.at(0, "activations/E/identity/mean") != t0.at(0, "activations/E/identity/mean"));

    // 1 % of the units: at least one cell of each population, the cells of the run's own draw.
    o = table_options(sparse);
    o.measure.observe_neurons = 0.01;
    const auto s = observe::observe({run}, o);
    const table_view ts = read_table(sparse);
    const std::string name = fs::path(run).stem().string();
    const auto cells = analysis::observed_cells(observe::run_realism(o.measure, name), 100, {{0, 80}, {80, 20}});
    std::vector<long> seen_e, seen_i;
    for (long i = 0; i < 100; ++i)
        if (cells[static_cast<std::size_t>(i)]) (i < 80? seen_e: seen_i).push_back(i);
    REQUIRE(!seen_e.empty());
    REQUIRE(!seen_i.empty());
    CHECK(seen_e.size() + seen_i.size() < 10);
    // The table's activations are those of the observed cells: the probe replayed here, by hand.
    observe::probe pr(c, o.probe_trials, o.probe_seed);
    for (const auto& p: f.projections()) pr.net().get(p.name).set_magnitudes(f.weights(p.name, 0).cwiseAbs());
    const auto act = pr.run();
    for (auto [pop, seen]: {std::pair{"E", &seen_e}, std::pair{"I", &seen_i}}) {
        double mean = 0;
        for (long b = 0; b < act.activation.cols(); ++b) {
            double m = 0;
            for (long i: *seen) m += act.activation(i, b);
            mean += m/static_cast<double>(seen->size());
        }
        mean /= static_cast<double>(act.activation.cols());
        CHECK(ts.at(0, std::string("activations/") + pop + "/identity/mean") == Approx(mean).epsilon(1e-12));
        // One cell: no spread over cells, so no skew or kurtosis: dropped and counted.
        const std::string skew = std::string("activations/") + pop + "/identity/skew";
        if (seen->size() == 1) {
            CHECK(ts.at(0, std::string("activations/") + pop + "/identity/var") == 0.0);
            CHECK_FALSE(ts.has(skew));
            CHECK(std::find(s.dropped.begin(), s.dropped.end(), skew) != s.dropped.end());
        }
    }
    CHECK(!s.dropped.empty());
    CHECK(static_cast<long>(s.dropped.size()) + s.features == static_cast<long>(t0.names.size()));
    auto file = h5::open_file(sparse);
    CHECK(h5::read_attr_int(file, "features_dropped") == static_cast<std::int64_t>(s.dropped.size()));
    for (auto x: {run, clean, noisy, sparse}) fs::remove(x);
}

TEST_CASE("the kept snapshots: evenly spaced, or K every P from a random start", "[observe][time]") {
    CHECK(observe::kept_snapshots(21, 0, 0, 1, "r") == std::vector<long>(analysis::kept_time_points(0, 21)));
    CHECK(observe::kept_snapshots(21, 3, 0, 1, "r") == std::vector<long>{0, 10, 20});
    CHECK(observe::kept_snapshots(21, 21, 0, 1, "r").size() == 21);
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        const auto k = observe::kept_snapshots(21, 4, 3, seed, "run" + std::to_string(seed));
        REQUIRE(k.size() == 4);
        CHECK(k.front() >= 0);
        CHECK(k.back() <= 20);
        for (std::size_t j = 1; j < k.size(); ++j) CHECK(k[j] - k[j - 1] == 3);
    }
    CHECK_THROWS_WITH(observe::kept_snapshots(5, 21, 0, 1, "short"), Catch::Contains("run 'short' has 5 snapshots"));
    CHECK_THROWS_WITH(observe::kept_snapshots(21, 5, 6, 1, "r"), Catch::Contains("span 25"));
}

TEST_CASE("observe refuses what it cannot tabulate, naming the run", "[observe][errors]") {
    const std::string short_run = train(small_config(3, 1), "four_snapshots");   // 4 snapshots
    const std::string long_run = train(small_config(4, 1), "five_snapshots");    // 5
    const std::string one = train(small_config(0, 1), "one_snapshot");          // 1
    const std::string out = test::temp_path(".refused.h5");
    CHECK_THROWS_WITH(observe::observe({one}, table_options(out)), Catch::Contains("one_snapshot") && Catch::Contains("at least 2"));
    CHECK_THROWS_WITH(observe::observe({long_run, short_run}, table_options(out)),
                      Catch::Contains("four_snapshots") && Catch::Contains("4 kept snapshots"));
    auto o = table_options(out);
    o.measure.time_points = 5;
    CHECK_THROWS_WITH(observe::observe({long_run, short_run}, o), Catch::Contains("four_snapshots") && Catch::Contains("4 snapshots"));
    o.measure.time_points = 4; // both give 4
    CHECK_NOTHROW(observe::observe({long_run, short_run}, o));
    CHECK_THROWS_WITH(observe::observe({long_run}, o), Catch::Contains("exists"));
    CHECK_THROWS_WITH(observe::observe({long_run}, table_options(test::temp_path(".table.txt"))), Catch::Contains(".h5") && Catch::Contains(".csv"));
    CHECK_THROWS_WITH(observe::observe({"/nonexistent/run.h5"}, table_options(test::temp_path(".x.h5"))), Catch::Contains("/nonexistent/run.h5"));
    CHECK_THROWS_AS(observe::observe({out}, table_options(test::temp_path(".y.h5"))), user_error); // a table is not a run file
    // Another circuit: other observables.
    config other = small_config(4, 1);
    apply_override(other, "projections.input.plastic=false");
    const std::string frozen_input = train(other, "frozen_input");
    CHECK_THROWS_WITH(observe::observe({long_run, frozen_input}, table_options(test::temp_path(".z.h5"))),
                      Catch::Contains("frozen_input") && Catch::Contains("other observables"));
    // Weights that make the replay diverge (here the recurrent weights of the last snapshot times
    // 1e150, as flipped exponent bits make them): named as the run's, exit 2, not a divergence.
    const std::string blown = train(small_config(4, 1), "blown_up");
    {
        auto f = h5::open_file(blown, true);
        const auto dims = h5::shape(f, "trajectory/recurrent/weight");
        std::vector<double> w = h5::read_rows(f, "trajectory/recurrent/weight", dims[0] - 1, 1);
        for (double& x: w) x *= 1e150;
        h5::handle ds(H5Dopen2(f, "trajectory/recurrent/weight", H5P_DEFAULT), H5Dclose);
        h5::handle space(H5Dget_space(ds), H5Sclose);
        const hsize_t start[2] = {dims[0] - 1, 0}, count[2] = {1, dims[1]};
        H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
        h5::handle mem(H5Screate_simple(2, count, nullptr), H5Sclose);
        REQUIRE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, w.data()) >= 0);
    }
    try {
        observe::observe({blown}, table_options(test::temp_path(".w.h5")));
        FAIL("observed");
    } catch (const divergence_error&) {
        FAIL("a divergence (exit 3), not the run's file named");
    } catch (const user_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("blown_up") && Catch::Contains("diverge") && Catch::Contains("damaged"));
    }
    for (auto x: {short_run, long_run, one, out, frozen_input, blown}) fs::remove(x);
}
