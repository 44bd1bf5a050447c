// The trials of a learning step (models/trials.hpp) against their definition, rebuilt here from
// the named streams: the input generator's inputs and mask, the teacher's outputs on them (with
// its own private noise), the regression task's static patterns and the teacher's readout at a
// fixed point checked here, and the decision tasks' own trials. T agrees with the config's.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "models/integrate.hpp"
#include "models/relax.hpp"
#include "models/trials.hpp"
#include "sim/config.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {

// A small circuit: 16 E + 4 I softplus cells, 3 inputs, 2 outputs, 4 trials of 40 ms.
config small(const std::vector<std::string>& extra = {}) {
    config c = default_config();
    std::vector<std::string> sets{"populations.E.size=16", "populations.I.size=4", "populations.in.size=3",
                                  "populations.*.transfer=softplus", "task.batch=4", "task.duration_ms=40"};
    sets.insert(sets.end(), extra.begin(), extra.end());
    for (auto& s: sets) apply_override(c, s, false);
    validate(c);
    return c;
}

trial_spec spec_of(const config& c) { return trial_spec{c.task, c.input, c.integrator, c.circuit}; }

} // namespace

TEST_CASE("trials: T = round(duration / dt), as the config counts it", "[tasks][trials]") {
    for (auto [dt, duration]: {std::pair{"1", "40"}, {"0.5", "40"}, {"0.1", "0.3"}, {"5", "700"}}) {
        const config c = small({std::string("integrator.dt_ms=") + dt, std::string("task.duration_ms=") + duration});
        CHECK(observation_steps(c.task, c.integrator) == c.observation_steps());
        CHECK(spec_of(c).steps() == c.observation_steps());
    }
}

TEST_CASE("teacher_student trials: the generator's inputs and the teacher's outputs on them", "[tasks][trials]") {
    const config c = small({"task.mask_start_ms=10.5", "network.noise_sigma=0.2"});
    const auto seed = static_cast<std::uint64_t>(c.training.seed), teacher_seed = static_cast<std::uint64_t>(c.task.keys.integer("teacher_seed"));
    const network teacher = build_network(c.circuit, teacher_seed);
    const int T = c.observation_steps(), B = c.task.batch;
    const long index = 3;
    const trial_batch tb = make_trials(spec_of(c), &teacher, seed, index);

    auto g = stream(seed, "trials", index);
    const input_grid u = make_input(c.input, c.integrator.dt_ms, T, B, g);
    CHECK(tb.u.U == u.U);
    CHECK(tb.x0 == matrix::Zero(c.circuit.n(), B));
    REQUIRE(tb.mask.size() == static_cast<std::size_t>(T + 1));
    for (int k = 0; k <= T; ++k) CHECK(tb.mask[k] == (k*c.integrator.dt_ms >= 10.5? 1.0: 0.0));
    // y*_k = W*_out φ(x*_k) on the teacher's trajectory, its noise from its own stream.
    const lowered_network low(teacher);
    auto noise = stream(teacher_seed, "teacher-noise", index);
    const trajectory tr = integrate(teacher, low, u, tb.x0, c.integrator, noise);
    matrix r;
    REQUIRE(tb.target.cols() == static_cast<long>(B)*(T + 1));
    for (int k = 0; k <= T; ++k) {
        teacher.phi.apply(tr.at_obs(k), r);
        CHECK(test::rel_err(tb.target.middleCols(static_cast<long>(k)*B, B), low.W_out*r) <= test::roundoff);
    }
    // Another step: other inputs, other teacher noise.
    const trial_batch other = make_trials(spec_of(c), &teacher, seed, index + 1);
    CHECK(other.u.U != tb.u.U);
    // make_task_inputs: the same inputs and mask, without targets.
    auto g2 = stream(seed, "trials", index);
    const trial_batch inputs = make_task_inputs(spec_of(c), g2);
    CHECK(inputs.u.U == tb.u.U);
    CHECK(inputs.mask == tb.mask);
    CHECK(inputs.target.size() == 0);
}

TEST_CASE("regression trials: static patterns, and the teacher's readout at its fixed point", "[tasks][trials][regression]") {
    const config c = small({"task.kind=regression", "integrator.stepper=rk4", "populations.*.bias=0.1"});
    const auto seed = static_cast<std::uint64_t>(c.training.seed);
    const network teacher = build_network(c.circuit, static_cast<std::uint64_t>(c.task.keys.integer("teacher_seed")));
    const int T = c.observation_steps(), P = c.task.batch;
    const trial_batch tb = make_trials(spec_of(c), &teacher, seed, 0);

    auto g = stream(seed, "trials", 0);
    const matrix U = make_patterns(c.circuit.n_in(), P, g);
    for (int k = 0; k <= T; ++k) CHECK(matrix(tb.u.at(k)) == U);
    for (int k = 0; k <= T; ++k) CHECK(tb.mask[k] == (k == T? 1.0: 0.0));
    // A tighter fixed point than the task's, checked against x* = W_rec φ(x*) + W_in u + b here.
    const lowered_network low(teacher);
    const fixed_point fp = relax(teacher, low, U, matrix::Zero(c.circuit.n(), P), c.integrator, 1e-13, 1e5);
    matrix r;
    teacher.phi.apply(fp.x, r);
    REQUIRE(test::rel_err(fp.x, matrix((low.W_rec*r + low.W_in*U).array().colwise() + teacher.bias.array())) < 1e-10);
    const matrix y = low.W_out*r;
    // The task relaxes to fixed_point_tol = 1e-8 in x; y is within a few times that.
    for (int k = 0; k <= T; ++k) CHECK((tb.target.middleCols(static_cast<long>(k)*P, P) - y).cwiseAbs().maxCoeff() < 1e-6);
}

TEST_CASE("pattern generation trials: clock bumps in, each output's sum of sinusoids out, the same on every trial", "[tasks][trials][pattern]") {
    const config c = small({"task.kind=pattern_generation", "task.duration_ms=1200", "populations.in.size=6", "task.n_sinusoids=3",
                            "task.period_ms=400", "task.amplitude=2"});
    const auto seed = static_cast<std::uint64_t>(c.training.seed);
    const trial_batch tb = make_trials(spec_of(c), nullptr, seed, 0);
    const int T = c.observation_steps(), B = c.task.batch, n_out = c.circuit.n_out();
    const double dt = c.integrator.dt_ms, duration = T*dt, sigma = duration/6;
    // The targets from the documented draws: output by output, harmonic by harmonic, amplitude then phase.
    auto g = stream(static_cast<std::uint64_t>(c.task.keys.integer("pattern_seed")), "pattern");
    std::vector<std::vector<double>> a(n_out, std::vector<double>(3)), phi = a;
    for (int o = 0; o < n_out; ++o)
        for (int k = 0; k < 3; ++k) a[o][k] = 0.5 + 0.5*uniform(g), phi[o][k] = 2*M_PI*uniform(g);
    double peak = 0;
    for (int k = 0; k <= T; ++k) {
        const double t = k*dt;
        CHECK(tb.mask[k] == 1.0);
        for (int i = 0; i < 6; ++i) {
            const double c_i = (i + 0.5)*duration/6;
            for (int b = 0; b < B; ++b) CHECK(tb.u.at(k)(i, b) == Approx(std::exp(-(t - c_i)*(t - c_i)/(2*sigma*sigma))).epsilon(1e-14));
        }
        for (int o = 0; o < n_out; ++o) {
            double y = 0, sum = 0;
            for (int h = 0; h < 3; ++h) y += a[o][h]*std::sin(2*M_PI*(h + 1)*t/400 + phi[o][h]), sum += a[o][h];
            for (int b = 0; b < B; ++b) CHECK(tb.target(o, static_cast<long>(k)*B + b) == Approx(2*y/sum).margin(1e-12));
            peak = std::max(peak, std::abs(2*y/sum));
        }
    }
    CHECK(peak <= 2.0);
    CHECK(peak > 0.5); // not flat
    // Periodic in the period P (400 ms = 400 steps), and of zero mean over a period.
    for (int o = 0; o < n_out; ++o) {
        double mean = 0;
        for (int k = 0; k < 400; ++k) {
            CHECK(tb.target(o, static_cast<long>(k)*B) == Approx(tb.target(o, static_cast<long>(k + 400)*B)).margin(1e-12));
            mean += tb.target(o, static_cast<long>(k)*B)/400;
        }
        CHECK(std::abs(mean) < 1e-12);
    }
    // The same targets and inputs at every learning step (no draw from the trials' streams), another pattern_seed another target.
    const trial_batch later = make_trials(spec_of(c), nullptr, seed + 7, 12);
    CHECK(later.u.U == tb.u.U);
    CHECK(later.target == tb.target);
    config d = c;
    apply_override(d, "task.pattern_seed=2");
    CHECK((make_trials(spec_of(d), nullptr, seed, 0).target - tb.target).cwiseAbs().maxCoeff() > 0.1);
    auto g2 = stream(seed, "trials", 0);
    CHECK(make_task_inputs(spec_of(c), g2).u.U == tb.u.U);
}

TEST_CASE("decision trials of a learning step are the task's own, from the step's stream", "[tasks][trials]") {
    const config c = small({"task.kind=perceptual_decision", "task.fixation_ms=10", "task.stimulus_ms=10", "task.delay_ms=10"});
    const auto seed = static_cast<std::uint64_t>(c.training.seed);
    const trial_batch tb = make_trials(spec_of(c), nullptr, seed, 5);
    auto g = stream(seed, "trials", 5);
    const trial_batch direct = make_decision_trials(c.task, c.integrator.dt_ms, c.observation_steps(), c.circuit.n(), g);
    CHECK(tb.u.U == direct.u.U);
    CHECK(tb.target == direct.target);
    CHECK(tb.mask == direct.mask);
    CHECK(tb.label == direct.label);
    auto g2 = stream(seed, "trials", 5);
    CHECK(make_task_inputs(spec_of(c), g2).u.U == direct.u.U);
}
