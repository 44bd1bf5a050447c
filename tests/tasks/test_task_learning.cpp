// Small learning runs per task: the accuracy (fraction of correct choices on the fresh trials of
// the final step) rises above chance, and the regression task's R² rises, with the accuracy
// recorded next to the loss in the run file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>

#include "io/h5.hpp"
#include "models/error.hpp"
#include "models/parallel.hpp"
#include "sim/config.hpp"
#include "sim/experiment.hpp"
#include "sim/heldout.hpp"
#include "tests/regression/datasets.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {
const std::string examples = std::string(EISIM_SOURCE_DIR) + "/examples/";

// The example config (100 cells) with fewer steps and fresh trials of 32 each step.
config small(const std::string& kind, int steps) {
    config c = load_config(examples + kind + ".toml");
    for (auto s: {"task.batch=32", "task.fresh_trials=true", "training.activity_trials=1"}) apply_override(c, s, false);
    if (kind == "working_memory") apply_override(c, "task.coherence=1", false); // |f2 − f1| ≥ 1/4: a shorter test
    apply_override(c, "training.steps=" + std::to_string(steps), false);
    validate(c);
    return c;
}

run_summary learn_quietly(const config& c, const std::string& out) {
    // One thread: 100 cells are too few to share, and results are the same for any count.
    struct one_thread {
        int before = threads();
        one_thread() { set_threads(1); }
        ~one_thread() { set_threads(before); }
    } guard;
    run_options opt;
    opt.out = out;
    opt.quiet = true;
    return learn(c, opt);
}
} // namespace

TEST_CASE("decision tasks: learning lifts the choice accuracy above chance", "[tasks][learning][slow]") {
    for (auto [kind, steps]: {std::pair{"perceptual_decision", 60}, {"context_integration", 120}, {"working_memory", 120}}) {
        const config c = small(kind, steps);
        const auto out = test::temp_path(".h5");
        const run_summary s = learn_quietly(c, out);
        auto f = h5::open_file(out);
        const auto acc = h5::read_double(f, "training/accuracy");
        const auto snap = h5::read_double(f, "trajectory/accuracy");
        // The last 10 steps and the final pass each score 32 fresh trials: 352 trials. At chance each is
        // correct with probability ½, so their mean lies within z_tol = 5 sd (√(¼/352) = 0.027) of ½;
        // a mean above ½ + 5 sd is learning, not luck.
        const int n = 11;
        double mean = s.final_accuracy;
        for (int i = 0; i < n - 1; ++i) mean += acc[acc.size() - 1 - i];
        mean /= n;
        const double chance_bound = 0.5 + test::z_tol*std::sqrt(0.25/(n*c.task.batch));
        INFO(kind << ": accuracy " << s.initial_accuracy << " -> " << s.final_accuracy << ", last " << n << " steps " << mean);
        CHECK(mean > chance_bound);
        CHECK(s.final_loss < s.initial_loss);
        CHECK(acc.size() == static_cast<std::size_t>(steps));
        CHECK(snap.size() == static_cast<std::size_t>(steps + 1));
        CHECK(snap.back() == s.final_accuracy);
        for (double a: acc) CHECK((a >= 0.0 && a <= 1.0 && std::abs(a*c.task.batch - std::round(a*c.task.batch)) < 1e-9));
        // The held-out set (512 trials never learned from) agrees: above chance by z_tol standard
        // deviations of 512 trials at chance (√(¼/512) = 0.022).
        const auto heldout = h5::read_double(f, "trajectory/heldout_accuracy");
        INFO("held-out accuracy " << heldout.front() << " -> " << heldout.back());
        CHECK(s.final_heldout_accuracy == heldout.back());
        CHECK(heldout.back() > 0.5 + test::z_tol*std::sqrt(0.25/c.training.heldout_trials));
        std::remove(out.c_str());
    }
}

TEST_CASE("regression task: learning at the fixed point raises R²", "[tasks][learning][regression][slow]") {
    config c = small("regression", 30);
    apply_override(c, "task.fresh_trials=false");
    const auto out = test::temp_path(".h5");
    const run_summary s = learn_quietly(c, out);
    INFO("R² " << s.initial_accuracy << " -> " << s.final_accuracy << ", loss " << s.initial_loss << " -> " << s.final_loss);
    CHECK(s.final_loss < 0.5*s.initial_loss);
    CHECK(s.final_accuracy > s.initial_accuracy);
    auto f = h5::open_file(out);
    CHECK(h5::exists(f, "teacher"));
    const auto loss = h5::read_double(f, "training/loss"), acc = h5::read_double(f, "training/accuracy");
    REQUIRE(acc.size() == loss.size());
    std::remove(out.c_str());
}

TEST_CASE("a spiking circuit learns the perceptual decision with e-prop and surrogate BPTT under EG and GD, every sign kept",
          "[tasks][learning][spiking][slow]") {
    for (auto rule: {"eprop", "surrogate_bptt"})
    for (auto geometry: {"eg", "euclidean"}) { // each at its rate in the file's learning_rates
        config c = load_config(examples + "spiking_decision.toml");
        apply_override(c, std::string("plasticity.credit=") + rule, false);
        apply_override(c, std::string("plasticity.geometry=") + geometry, false);
        validate(c);
        const auto out = test::temp_path(".h5");
        const run_summary s = learn_quietly(c, out);
        auto f = h5::open_file(out);
        const auto acc = h5::read_double(f, "training/accuracy");
        // The last 25 steps score 25 × 32 fresh trials: at chance their mean lies within z_tol
        // standard deviations (√(¼/800) = 0.018) of ½.
        const int n = 25;
        double mean = 0;
        for (int i = 0; i < n; ++i) mean += acc[acc.size() - 1 - i];
        mean /= n;
        const double chance_bound = 0.5 + test::z_tol*std::sqrt(0.25/(n*c.task.batch));
        INFO(rule << ", " << geometry << ": accuracy " << s.initial_accuracy << " -> " << s.final_accuracy << ", last " << n << " steps " << mean);
        CHECK(mean > chance_bound);
        CHECK(s.final_loss < s.initial_loss);
        for (auto& p: s.final) CHECK(p.sign_changes == 0);
        // The spikes of the first and last steps are recorded, sorted by time.
        for (long step: {0L, static_cast<long>(c.training.steps)}) {
            const auto t = h5::read_double(f, "activity/step_" + std::to_string(step) + "/spikes/E/timestamps");
            CHECK(!t.empty());
            CHECK(std::is_sorted(t.begin(), t.end()));
        }
    }
}

TEST_CASE("pattern generation: a spiking circuit under e-prop and EG with Adam reproduces the sinusoids, a rate circuit learns them too",
          "[tasks][learning][pattern]") {
    {   // The example, 300 of its 1000 steps (2 s): R² = 1 − SSE/SST rises from about 0 (the initial
        // outputs do not follow the target) to well above it; 0.93 here, the bound leaves room for
        // another libm, while an unlearned readout (loss near its initial value) has R² < 0.1.
        config c = load_config(examples + "pattern_generation.toml");
        apply_override(c, "training.steps=300", false);
        validate(c);
        const auto out = test::temp_path(".h5");
        const run_summary s = learn_quietly(c, out);
        INFO("R² " << s.initial_accuracy << " -> " << s.final_accuracy << ", loss " << s.initial_loss << " -> " << s.final_loss);
        CHECK(std::abs(s.initial_accuracy) < 0.2);
        CHECK(s.final_accuracy > 0.8);
        CHECK(s.final_loss < 0.2*s.initial_loss);
        for (auto& p: s.final) CHECK(p.sign_changes == 0);
        auto f = h5::open_file(out);
        CHECK(!h5::exists(f, "teacher")); // the targets are the task's own
        CHECK(s.heldout_trials == 0); // R² tasks have no held-out choice set
        std::remove(out.c_str());
    }
    {   // A rate circuit (default transfer, readout of the E cells) learns it as well.
        config c = default_config();
        for (auto set: {"task.kind=pattern_generation", "task.duration_ms=500", "task.period_ms=500", "populations.E.size=80",
                        "populations.I.size=20", "populations.in.size=20", "populations.out.size=1", "projections.input.p=1",
                        "training.steps=200", "task.batch=1", "training.activity_trials=1", "integrator.dt_ms=5",
                        "plasticity.normalisation=adam", "plasticity.learning_rate=0.02"})
            apply_override(c, set, false);
        validate(c);
        const auto out = test::temp_path(".h5");
        const run_summary s = learn_quietly(c, out);
        INFO("R² " << s.initial_accuracy << " -> " << s.final_accuracy << ", loss " << s.initial_loss << " -> " << s.final_loss);
        CHECK(s.final_accuracy > s.initial_accuracy + 0.5);
        CHECK(s.final_loss < 0.5*s.initial_loss);
        std::remove(out.c_str());
    }
}

TEST_CASE("the held-out set: the same trials at every measurement, never the training ones, measured at its steps", "[tasks][heldout]") {
    for (auto kind: {"perceptual_decision", "spiking_decision"}) {
        config c = load_config(examples + std::string(kind) + ".toml");
        // 50 trials in chunks of 32 and 18; measured at steps 0, 2, 4, 6 (record_every 1).
        for (auto o: {"task.batch=32", "task.fresh_trials=true", "training.steps=6", "training.record_every=1", "training.heldout_trials=50",
                       "training.heldout_every=2"})
            apply_override(c, o, false);
        validate(c);
        config frozen = c; // no plastic synapse: the weights never change
        for (auto& q: frozen.circuit.projections) q.plastic = false;
        for (const config* run: {&c, &frozen}) {
            const auto out = test::temp_path(".h5");
            const run_summary s = learn_quietly(*run, out);
            auto f = h5::open_file(out);
            const auto acc = h5::read_double(f, "trajectory/heldout_accuracy");
            const auto loss = h5::read_double(f, "trajectory/heldout_loss");
            const auto train_loss = h5::read_double(f, "trajectory/loss");
            INFO(kind << (run == &frozen? ", frozen": ", learning"));
            REQUIRE(acc.size() == 7);
            for (long k = 0; k <= 6; ++k) {
                INFO("snapshot " << k);
                CHECK(std::isnan(acc[k]) == (k % 2 == 1));
                CHECK(std::isnan(loss[k]) == (k % 2 == 1));
                if (k % 2) continue;
                CHECK(std::abs(acc[k]*50 - std::round(acc[k]*50)) < 1e-9); // a fraction of the 50 trials
                CHECK(loss[k] != train_loss[k]); // other trials than the step's own
            }
            CHECK(s.heldout_trials == 50);
            CHECK(s.final_heldout_accuracy == acc[6]);
            if (run == &frozen) { // the same weights on the same trials, spikes and noise: the same numbers
                for (long k: {2, 4, 6}) {
                    CHECK(loss[k] == loss[0]);
                    CHECK(acc[k] == acc[0]);
                }
            } else {
                CHECK(loss[6] != loss[0]);
            }
            std::remove(out.c_str());
        }
    }
}

TEST_CASE("held-out measurements: every 8 · trials / batch steps, rounded up to a snapshot, unless given", "[tasks][heldout][config]") {
    config c = default_config();
    struct row { int trials, batch, record_every, every; long expected; };
    for (auto r: {row{512, 32, 1, 0, 128}, row{512, 64, 100, 0, 100}, row{100, 32, 7, 0, 28}, row{512, 32, 10, 30, 30}, row{1, 32, 1, 0, 1}}) {
        c.training.heldout_trials = r.trials, c.task.batch = r.batch, c.training.record_every = r.record_every, c.training.heldout_every = r.every;
        INFO(r.trials << " trials, batch " << r.batch << ", record_every " << r.record_every << ", heldout_every " << r.every);
        CHECK(heldout_interval(c) == r.expected);
    }
    c.training.record_every = 10;
    CHECK_THROWS_WITH(apply_override(c, "training.heldout_every=15"), Catch::Contains("not a multiple of training.record_every = 10"));
    // Only decision tasks have a set; 0 trials: none.
    CHECK(heldout_set(default_config(), 1).empty());
    config pd = load_config(examples + "perceptual_decision.toml");
    CHECK(heldout_set(pd, 1).trials() == 512);
    apply_override(pd, "training.heldout_trials=0");
    CHECK(heldout_set(pd, 1).empty());
}

TEST_CASE("a run stopped and resumed measures the held-out set as the uninterrupted run does", "[tasks][heldout][resume]") {
    config c = load_config(examples + "perceptual_decision.toml");
    for (auto o: {"training.steps=8", "training.heldout_trials=40", "training.heldout_every=2"}) apply_override(c, o, false);
    validate(c);
    const auto full = test::temp_path(".h5"), stopped = test::temp_path(".h5");
    learn_quietly(c, full);
    run_options opt;
    opt.out = stopped, opt.quiet = true, opt.own_signal_handlers = false;
    int steps_done = 0;
    opt.stop_requested = [&] { return ++steps_done == 3? SIGTERM: 0; }; // after learning step 3
    CHECK_THROWS_AS(learn(c, opt), interrupted);
    opt.stop_requested = nullptr, opt.resume = true;
    const run_summary s = learn(config_of_run(stopped), opt);
    auto a = h5::open_file(full), b = h5::open_file(stopped);
    for (auto name: {"trajectory/heldout_accuracy", "trajectory/heldout_loss", "trajectory/step"}) {
        INFO(name);
        CHECK(test::same_values(h5::read_double(b, name), h5::read_double(a, name)));
    }
    const auto acc = h5::read_double(a, "trajectory/heldout_accuracy");
    CHECK(std::isnan(acc[3]));
    CHECK(!std::isnan(acc[4]));
    CHECK(s.initial_heldout_accuracy == acc[0]);
    CHECK(s.final_heldout_accuracy == acc[8]);
    for (auto p: {full, stopped}) std::remove(p.c_str());
}
