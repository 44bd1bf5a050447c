// Small learning runs per task: the accuracy (fraction of correct choices on the fresh trials of
// the final step) rises above chance, and the regression task's R² rises, with the accuracy
// recorded next to the loss in the run file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "io/h5.hpp"
#include "models/parallel.hpp"
#include "sim/config.hpp"
#include "sim/experiment.hpp"
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
    for (auto [geometry, rate]: {std::pair{"eg", "2.0"}, {"euclidean", "0.5"}}) {
        config c = load_config(examples + "spiking_decision.toml");
        apply_override(c, std::string("plasticity.credit=") + rule, false);
        apply_override(c, std::string("plasticity.geometry=") + geometry, false);
        apply_override(c, std::string("plasticity.learning_rate=") + rate, false);
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
