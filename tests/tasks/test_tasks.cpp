// The tasks (models/tasks.hpp): trials follow their definition (periods, cues, labels recovered
// from the noisy evidence), the accuracies against independent computations, config validation of
// each task's needs, every example config, and the implicit (fixed-point) gradient against
// central finite differences of the relaxed fixed point's loss.
#include <catch2/catch.hpp>

#include <fstream>

#include <cmath>
#include <filesystem>
#include <map>

#include "io/h5.hpp"
#include "models/error.hpp"
#include "models/tasks.hpp"
#include "plasticity/implicit_credit.hpp"
#include "sim/config.hpp"
#include "sim/experiment.hpp"
#include "models/relax.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {

const std::string exe = EISIM_EXE;
const std::string examples = std::string(EISIM_SOURCE_DIR) + "/examples/";

config decision_config(const std::string& kind) {
    config c = default_config();
    apply_override(c, "task.kind=" + kind, false);
    apply_override(c, std::string("populations.in.size=") + (kind == "context_integration"? "7": "3"), false);
    apply_override(c, "integrator.dt_ms=5", false);
    apply_override(c, "task.duration_ms=700", false);
    apply_override(c, "task.batch=200", false);
    validate(c);
    return c;
}

// Mean of channel ch over [from, to) ms for trial b.
double mean_over(const trial_batch& tb, int ch, long b, double from, double to) {
    double s = 0;
    int n = 0;
    for (int k = 0; k <= tb.steps(); ++k) {
        const double t = k*tb.u.dt;
        if (t >= from && t < to) { s += tb.u.at(k)(ch, b); ++n; }
    }
    return n? s/n: 0.0;
}

} // namespace

TEST_CASE("decision trials: cues, periods, mask and targets follow the definition", "[tasks]") {
    for (auto kind: {"perceptual_decision", "context_integration", "working_memory"}) {
        INFO(kind);
        const config c = decision_config(kind);
        auto g = stream(7, "trials", 0);
        const trial_batch tb = make_decision_trials(c.task, c.integrator.dt_ms, c.observation_steps(), 10, g);
        const long B = tb.batch();
        const double t_d = decision_onset_ms(c.task);
        CHECK(t_d == Approx(std::string(kind) == "working_memory"? 100 + 2*200 + 100: 100 + 200 + 100));
        bool cue_ok = true, mask_ok = true, target_ok = true;
        for (int k = 0; k <= tb.steps(); ++k) {
            const double t = k*c.integrator.dt_ms;
            const bool decision = t >= t_d, fixation = t < c.task.keys.real("fixation_ms");
            for (long b = 0; b < B; ++b) {
                cue_ok = cue_ok && tb.u.at(k)(0, b) == (decision? 0.0: 1.0);
                for (long o = 0; o < 2; ++o)
                    target_ok = target_ok && tb.target(o, k*B + b) == (decision && o == tb.label[b]? 1.0: 0.0);
            }
            mask_ok = mask_ok && tb.mask[k] == (decision || fixation? 1.0: 0.0) && tb.decision[k] == (decision? 1.0: 0.0);
        }
        CHECK(cue_ok);
        CHECK(mask_ok);
        CHECK(target_ok);
        // The label is recoverable from the noisy evidence: the stimulus mean of u₊ − u₋ estimates the
        // strength c with sd σ√2/√n (n = 40 points: 0.022), while |c| ≥ coherence/4 = 0.125 (5.6 sd).
        const double s0 = c.task.keys.real("fixation_ms"), s1 = s0 + c.task.keys.real("stimulus_ms");
        long zeros = 0, agree = 0;
        for (long b = 0; b < B; ++b) {
            double evidence;
            if (std::string(kind) == "perceptual_decision") {
                evidence = mean_over(tb, 1, b, s0, s1) - mean_over(tb, 2, b, s0, s1);
            } else if (std::string(kind) == "context_integration") {
                const int context = tb.u.at(0)(5, b) == 1.0? 0: 1;
                CHECK(tb.u.at(0)(5, b) + tb.u.at(0)(6, b) == 1.0); // one-hot context cue
                evidence = mean_over(tb, 1 + 2*context, b, s0, s1) - mean_over(tb, 2 + 2*context, b, s0, s1);
            } else {
                const double s2 = s1 + c.task.keys.real("delay_ms"), s3 = s2 + c.task.keys.real("stimulus_ms");
                evidence = (mean_over(tb, 1, b, s0, s1) - mean_over(tb, 2, b, s0, s1)) -
                           (mean_over(tb, 1, b, s2, s3) - mean_over(tb, 2, b, s2, s3)); // f1 − f2
                CHECK(mean_over(tb, 1, b, s1, s2) == 0.0); // nothing during the delay
            }
            if ((evidence > 0) == (tb.label[b] == 0)) ++agree;
            if (tb.label[b] == 0) ++zeros;
        }
        CHECK(agree == B);
        // Both choices equally likely: binomial(B, ½).
        CHECK(std::abs(zeros - B/2.0) <= test::z_tol*std::sqrt(B/4.0));
    }
}

TEST_CASE("evidence accumulation trials: cues on one side each, recall and background channels, majority label",
          "[tasks]") {
    config c = default_config();
    for (auto set: {"task.kind=evidence_accumulation", "populations.in.size=8", "integrator.dt_ms=10", "task.duration_ms=2250",
                    "task.batch=400"})
        apply_override(c, set, false);
    validate(c);
    const task_desc& d = c.task;
    const int m = 2, n_cues = static_cast<int>(d.keys.integer("n_cues"));
    const double cue = d.keys.real("cue_ms"), gap = d.keys.real("cue_gap_ms"), p = d.keys.real("cue_prob");
    const double t_d = decision_onset_ms(d);
    CHECK(t_d == Approx(n_cues*(cue + gap) + d.keys.real("memory_ms")));
    auto g = stream(7, "trials", 0);
    const trial_batch tb = make_decision_trials(d, c.integrator.dt_ms, c.observation_steps(), 10, g, 8);
    const long B = tb.batch();
    bool periods_ok = true;
    for (int k = 0; k <= tb.steps(); ++k) {
        const double t = k*c.integrator.dt_ms;
        const bool recall = t >= t_d;
        periods_ok = periods_ok && tb.mask[k] == (recall? 1.0: 0.0) && tb.decision[k] == (recall? 1.0: 0.0);
        for (long b = 0; b < B; ++b)
            for (int i = 0; i < m; ++i) {
                periods_ok = periods_ok && tb.u.at(k)(2*m + i, b) == (recall? 1.0: 0.0);
                periods_ok = periods_ok && tb.u.at(k)(3*m + i, b) == d.keys.real("background");
                for (long o = 0; o < 2; ++o)
                    periods_ok = periods_ok && tb.target(o, k*B + b) == (recall && o == tb.label[b]? 1.0: 0.0);
            }
    }
    CHECK(periods_ok);
    // Each cue lights exactly one side's channels, read at its middle; the label is the side of the majority.
    long cues_right = 0, cues_total = 0, right_labels = 0, one_side = 0;
    double same_as_first = 0; // cues on the side of the trial's first cue, minus 1, over n_cues − 1
    for (long b = 0; b < B; ++b) {
        int right = 0, first = -1, same = 0;
        for (int i = 0; i < n_cues; ++i) {
            const double mid = i*(cue + gap) + gap + cue/2;
            const auto k = static_cast<int>(std::lround(mid/c.integrator.dt_ms));
            const bool L = tb.u.at(k)(0, b) == 1.0 && tb.u.at(k)(1, b) == 1.0, R = tb.u.at(k)(m, b) == 1.0 && tb.u.at(k)(m + 1, b) == 1.0;
            one_side += L != R;
            right += R;
            if (i == 0) first = R; else same += (R? 1: 0) == first;
            // Nothing during the cue's gap.
            const auto kg = static_cast<int>(std::lround((i*(cue + gap) + gap/2)/c.integrator.dt_ms));
            CHECK(tb.u.at(kg).col(b).head(2*m).isZero());
        }
        cues_right += right;
        cues_total += n_cues;
        right_labels += tb.label[b];
        CHECK(tb.label[b] == (2*right > n_cues? 1: 0));
        same_as_first += static_cast<double>(same)/(n_cues - 1);
    }
    CHECK(one_side == B*n_cues);
    // Both sides equally likely overall (binomial of B·n_cues cues, not independent within a trial:
    // the bound uses the trials' count B with per-trial variance n_cues²/4 as the worst case).
    CHECK(std::abs(cues_right - cues_total/2.0) <= test::z_tol*std::sqrt(B*n_cues*n_cues/4.0));
    CHECK(std::abs(right_labels - B/2.0) <= test::z_tol*std::sqrt(B/4.0));
    // Two cues of a trial fall on the same side with probability p² + (1 − p)² (0.58 for p = 0.7),
    // not ½: the trial favours a side. The per-trial fraction lies in [0, 1], so its sd is at most ½.
    const double q = p*p + (1 - p)*(1 - p);
    CHECK(std::abs(same_as_first/B - q) <= test::z_tol*0.5/std::sqrt(static_cast<double>(B)));
    // Config checks: channels in four groups, an odd number of cues.
    config bad = c;
    apply_override(bad, "populations.in.size=6", false);
    CHECK_THROWS_WITH(validate(bad), Catch::Contains("positive multiple of 4"));
    bad = c;
    apply_override(bad, "task.n_cues=6", false);
    CHECK_THROWS_WITH(validate(bad), Catch::Contains("task.n_cues"));
}

TEST_CASE("choice accuracy: argmax of the decision-period output against the label", "[tasks]") {
    const config c = decision_config("perceptual_decision");
    auto g = stream(3, "trials", 0);
    const trial_batch tb = make_decision_trials(c.task, c.integrator.dt_ms, c.observation_steps(), 10, g);
    CHECK(task_accuracy(tb.target, tb) == 1.0);
    matrix swapped = tb.target;
    swapped.row(0).swap(swapped.row(1));
    CHECK(task_accuracy(swapped, tb) == 0.0);
    // Random outputs: recount the choices independently (sum over decision-period columns).
    rng r = stream(4, "test");
    matrix y(2, tb.target.cols());
    for (long j = 0; j < y.cols(); ++j) y(0, j) = uniform(r), y(1, j) = uniform(r);
    const long B = tb.batch();
    long correct = 0;
    for (long b = 0; b < B; ++b) {
        double s0 = 0, s1 = 0;
        for (int k = 0; k <= tb.steps(); ++k)
            if (k*c.integrator.dt_ms >= decision_onset_ms(c.task)) s0 += y(0, k*B + b), s1 += y(1, k*B + b);
        correct += (s0 >= s1? 0: 1) == tb.label[b];
    }
    CHECK(task_accuracy(y, tb) == Approx(static_cast<double>(correct)/B));
}

TEST_CASE("R²: 1 for a perfect fit, 0 for the mean, and the weighted formula otherwise", "[tasks]") {
    rng r = stream(5, "test");
    matrix target(3, 40), y(3, 40);
    vector w(40);
    for (long j = 0; j < 40; ++j) {
        w[j] = j % 3 == 0? 0.0: 1.0 + uniform(r);
        for (long o = 0; o < 3; ++o) target(o, j) = normal(r), y(o, j) = target(o, j) + 0.3*normal(r);
    }
    CHECK(r_squared(target, target, w) == Approx(1.0));
    const vector mean = target*w/w.sum();
    CHECK(r_squared(mean.replicate(1, 40), target, w) == Approx(0.0).margin(test::roundoff));
    double sse = 0, sst = 0;
    for (long j = 0; j < 40; ++j)
        for (long o = 0; o < 3; ++o) {
            sse += w[j]*std::pow(y(o, j) - target(o, j), 2);
            sst += w[j]*std::pow(target(o, j) - mean[o], 2);
        }
    CHECK(r_squared(y, target, w) == Approx(1.0 - sse/sst).epsilon(test::roundoff));
    CHECK(std::isnan(r_squared(y, matrix::Ones(3, 40), w))); // targets that do not vary
}

TEST_CASE("the input populations' size sets the network's input width", "[tasks][config]") {
    config c = default_config();
    apply_override(c, "populations.E.size=40");
    apply_override(c, "populations.in.size=3");
    CHECK(c.circuit.n_in() == 3);
    CHECK(c.input.n_in == 3);
    const network net = build_network(c.circuit, 1);
    CHECK(lowered_network(net).W_in.cols() == 3);
}

TEST_CASE("each task's needs are validated with the key and the required value", "[tasks][config]") {
    auto fails = [](std::vector<std::string> sets, const std::string& key, const std::string& needed) {
        config c = default_config();
        for (auto& s: sets) apply_override(c, s, false);
        INFO(key);
        try {
            validate(c);
            FAIL("no error");
        } catch (const config_error& e) {
            CHECK(e.key == key);
            CHECK_THAT(e.what(), Catch::Contains(needed));
        }
    };
    fails({"populations.in.size=20", "task.kind=perceptual_decision"}, "populations[2].size", "needs 3"); // a size given is kept
    fails({"task.kind=context_integration", "populations.in.size=3"}, "populations[2].size", "needs 7");
    fails({"task.kind=working_memory", "populations.in.size=3", "populations.out.size=1"}, "populations[3].size", "needs 2");
    fails({"task.kind=perceptual_decision", "populations.in.size=3", "task.duration_ms=400"}, "task.duration_ms", "400");
    fails({"task.kind=regression", "plasticity.credit=rflo"}, "plasticity.credit", "exact");
    fails({"task.kind=regression", "network.noise_sigma=0.1"}, "network.noise_sigma", "fixed point");
    // At the command line: exit 2 naming the key; overrides in any order are validated together.
    auto r = test::run(exe + " config --set task.kind=working_memory"); // its channels adopted, its 600 ms not
    CHECK(r.code == 2);
    CHECK_THAT(r.output, Catch::Contains("task.duration_ms") && Catch::Contains("600"));
    CHECK(test::run(exe + " config --set task.kind=working_memory --set populations.in.size=3 --set task.duration_ms=700").code == 0);
    // regression: fewer patterns than plastic synapses (here 2 outputs × 16 E cells = 32 readout synapses).
    const auto out = test::temp_path(".h5");
    r = test::run(exe + " run -q --set task.kind=regression --set populations.E.size=16 --set populations.I.size=4 --set task.batch=40"
                        " --set projections.recurrent.plastic=false --set projections.input.plastic=false --set training.steps=1 --out " + out);
    CHECK(r.code == 2);
    CHECK_THAT(r.output, Catch::Contains("task.batch") && Catch::Contains("32"));
    std::remove(out.c_str());
    r = test::run(exe + " config --set task.kind=maze");
    CHECK(r.code == 2);
    CHECK_THAT(r.output, Catch::Contains("regression") && Catch::Contains("perceptual_decision"));
}

TEST_CASE("a task brings its own channel counts to the input and readout sizes the user did not give", "[tasks][config]") {
    for (auto kind: {"perceptual_decision", "context_integration", "working_memory"}) {
        const task_info& t = task_registry().get(kind);
        config c = default_config();
        apply_override(c, std::string("task.kind=") + kind, false);
        INFO(kind);
        CHECK(c.circuit.find("in")->size == t.n_in);
        CHECK(c.circuit.find("out")->size == t.n_out);
        CHECK(c.input.n_in == t.n_in);
        // The same from a TOML file that leaves the circuit to the defaults.
        const config f = parse_config(std::string("[task]\nkind = \"") + kind + "\"\nduration_ms = 800.0\n", "test", default_config());
        CHECK(f.circuit.find("in")->size == t.n_in);
        CHECK(f.circuit.find("out")->size == t.n_out);
    }
    // On the defaults the decision task then trains.
    const auto out = test::temp_path(".h5");
    auto r = test::run(exe + " run -q --set task.kind=perceptual_decision --set populations.E.size=16 --set populations.I.size=4"
                             " --set task.batch=4 --set training.steps=1 --set training.heldout_trials=8 --out " + out);
    INFO(r.output);
    CHECK(r.code == 0);
    std::remove(out.c_str());
    // A size the user gave, by --set before or after the task or in [[populations]], is never changed.
    config c = default_config();
    apply_override(c, "task.kind=perceptual_decision", false);
    apply_override(c, "populations.in.size=5", false);
    CHECK(c.circuit.find("in")->size == 5);
    CHECK_THROWS_WITH(validate(c), Catch::Contains("populations[2].size") && Catch::Contains("needs 3"));
    const config listed = parse_config("[network]\nspectral_radius = 0.0\n[task]\nkind = \"perceptual_decision\"\n\n[[populations]]\nname = \"E\"\nsize = 8\n\n"
                                       "[[populations]]\nname = \"in\"\nmodel = \"input\"\nsize = 3\n\n"
                                       "[[populations]]\nname = \"out\"\nmodel = \"readout\"\nsize = 2\n\n"
                                       "[[projections]]\nname = \"input\"\npre = \"in\"\npost = \"E\"\n\n"
                                       "[[projections]]\nname = \"readout\"\npre = \"E\"\npost = \"out\"\n", "test", default_config());
    config relisted = listed;
    apply_override(relisted, "task.kind=context_integration", false); // needs 7 channels: the file gave 3
    CHECK(relisted.circuit.find("in")->size == 3);
    CHECK_THROWS_WITH(validate(relisted), Catch::Contains("needs 7"));
    // The printed config gives every size: read back, the sizes are the user's.
    config printed = parse_config(to_toml(listed), "printed", default_config());
    apply_override(printed, "task.kind=context_integration", false);
    CHECK(printed.circuit.find("in")->size == 3);
}

TEST_CASE("every example config parses, validates and names its task", "[tasks][examples]") {
    int found = 0;
    for (auto kind: task_registry().names()) {
        const std::string path = examples + kind + ".toml";
        INFO(path);
        REQUIRE(std::filesystem::exists(path));
        const config c = load_config(path);
        CHECK(c.task.kind == kind);
        ++found;
    }
    CHECK(found == 7);
}

TEST_CASE("every circuit example parses, validates and builds its circuit", "[tasks][examples]") {
    // The examples that are circuits rather than tasks (examples/README.md), then every config.
    for (auto name: {"v1_four_populations", "two_areas", "feedforward_layers", "cuba", "spiking_decision"})
        CHECK(std::filesystem::exists(examples + name + ".toml"));
    int found = 0;
    for (auto& entry: std::filesystem::directory_iterator(examples)) {
        if (entry.path().extension() != ".toml") continue;
        const std::string path = entry.path().string();
        INFO(path);
        const config c = load_config(path);
        CHECK(task_registry().contains(c.task.kind));
        const network net = build_network(c.circuit, static_cast<std::uint64_t>(c.training.seed));
        CHECK(net.projections.size() == c.circuit.projections.size());
        ++found;
    }
    CHECK(found == 12);
}

namespace {
// A small regression problem: 16 E + 4 I cells, 5 inputs, 2 outputs, 4 patterns.
struct fixed_point_problem {
    config c = default_config();
    network net;
    matrix U, target;
    fixed_point_problem() {
        for (auto s: {"populations.E.size=16", "populations.I.size=4", "populations.in.size=5", "populations.out.size=2", "projections.readout.pre=[\"E\", \"I\"]",
                      "projections.input.p=0.6", "populations.*.transfer=softplus", "integrator.stepper=rk4", "task.kind=regression",
                      "populations.*.bias=0.1"})
            apply_override(c, s, false);
        validate(c);
        net = build_network(c.circuit, 11);
        auto g = stream(11, "patterns");
        U = make_patterns(5, 4, g);
        target = matrix::Constant(2, 4, 0.5);
        for (long p = 0; p < 4; ++p) target(0, p) += 0.2*U(0, p);
    }
    double loss() const {
        const lowered_network low(net);
        const fixed_point fp = relax(net, low, U, matrix::Zero(net.n(), 4), c.integrator, 1e-13, 1e5);
        return fixed_point_loss(net, low, fp.x, target);
    }
};
} // namespace

TEST_CASE("implicit gradient at the fixed point equals central finite differences", "[tasks][regression][gradient][slow]") {
    fixed_point_problem pr;
    const lowered_network low(pr.net);
    const fixed_point fp = relax(pr.net, low, pr.U, matrix::Zero(pr.net.n(), 4), pr.c.integrator, 1e-13, 1e5);
    // It is a fixed point: x* = W_rec φ(x*) + W_in u + b, checked independently of relax's residual.
    matrix r;
    pr.net.phi.apply(fp.x, r);
    CHECK(test::rel_err(fp.x, matrix((low.W_rec*r + low.W_in*pr.U).array().colwise() + pr.net.bias.array())) < 1e-12);
    const gradients g = implicit_gradient(pr.net, low, fp.x, pr.U, pr.target, plastic_set{});
    CHECK(g.loss == Approx(pr.loss()).epsilon(test::roundoff));
    for (auto name: {"recurrent", "input", "readout"}) {
        const vector& analytic = std::string(name) == "recurrent"? g.projection[0]: std::string(name) == "input"? g.projection[1]: g.projection[2];
        const long n = static_cast<long>(pr.net.get(name).size());
        vector fd(n);
        for (long s = 0; s < n; ++s) {
            const double m = pr.net.get(name).m[s], h = 1e-5*std::max(m, 1e-3);
            pr.net.get(name).m[s] = m + h;
            const double up = pr.loss();
            pr.net.get(name).m[s] = m - h;
            const double down = pr.loss();
            pr.net.get(name).m[s] = m;
            fd[s] = (up - down)/(2*h);
        }
        INFO(name << ": |analytic| = " << analytic.norm());
        CHECK(analytic.norm() > 0);
        CHECK(test::rel_err(analytic, fd) < 1e-6);
    }
}

TEST_CASE("no fixed point: divergence or too little relaxation stop with a clear message", "[tasks][regression]") {
    fixed_point_problem pr;
    const lowered_network low(pr.net);
    // Too little time to relax to 1e-13 from rest.
    CHECK_THROWS_WITH(relax(pr.net, low, pr.U, matrix::Zero(pr.net.n(), 4), pr.c.integrator, 1e-13, 5.0),
                      Catch::Contains("task.relax_max_ms"));
    // An unstable linear network runs away: exit 3 at the command line.
    const auto out = test::temp_path(".h5");
    // (E cells only: by Perron–Frobenius the spectral radius 1.5 is a real eigenvalue, so x grows.)
    const auto e_only = test::temp_path(".toml");
    std::ofstream(e_only) << "[[populations]]\nname = \"E\"\nsize = 16\ntransfer = \"linear\"\n"
                             "[[populations]]\nname = \"in\"\nmodel = \"input\"\nsize = 5\n"
                             "[[populations]]\nname = \"out\"\nmodel = \"readout\"\nsize = 2\n"
                             "[[projections]]\nname = \"recurrent\"\npre = \"E\"\npost = \"E\"\np = 0.2\n"
                             "[[projections]]\nname = \"input\"\npre = \"in\"\npost = \"E\"\np = 0.2\n"
                             "[[projections]]\nname = \"readout\"\npre = \"E\"\npost = \"out\"\nconnectivity = \"all_to_all\"\n";
    auto r = test::run(exe + " run -q " + e_only + " --set task.kind=regression --set network.spectral_radius=1.5 --set task.batch=4"
                             " --set training.steps=1 --out " + out);
    INFO(r.output);
    CHECK(r.code == 3);
    CHECK_THAT(r.output, Catch::Contains("fixed point"));
    std::remove(out.c_str());
}

TEST_CASE("simulate drives a decision task with the task's own inputs", "[tasks]") {
    const auto out = test::temp_path(".h5");
    auto r = test::run(exe + " simulate " + examples + "working_memory.toml --set populations.E.size=20 --set populations.I.size=5 --out " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    auto f = h5::open_file(out);
    const auto shape = h5::shape(f, "activity/step_0/input"); // trials × T+1 × n_in
    REQUIRE(shape.size() == 3);
    CHECK(shape[2] == 3);
    const auto u = h5::read_double(f, "activity/step_0/input");
    const hsize_t T1 = shape[1];
    CHECK(u[0] == 1.0);               // fixation cue on at t = 0
    CHECK(u[(T1 - 1)*3] == 0.0);      // off in the decision period
    CHECK(u[1] == 0.0);               // no evidence during fixation
    std::remove(out.c_str());
}
