// The objective of one forward pass (plasticity/objective.hpp) against its definition, computed
// here from the trajectory or the fixed point directly: the masked MSE and R² of a trajectory
// task, the choice accuracy of a decision task, and the credit rule's own gradient; for the
// fixed-point task, the loss and R² at a checked fixed point reached from the trajectory's end,
// and the implicit gradient whatever the credit rule. Also the bound counts (plasticity/bounds.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "models/integrate.hpp"
#include "models/relax.hpp"
#include "models/tasks.hpp"
#include "plasticity/bounds.hpp"
#include "plasticity/implicit_credit.hpp"
#include "plasticity/objective.hpp"
#include "tests/support/approx.hpp"
#include "tests/support/credit_problem.hpp"

using namespace eisim;

namespace {

// y_k = W_out φ(x_k) at every observation, block k of n_out × B(T+1).
matrix outputs(const network& net, const lowered_network& low, const trajectory& tr, int B) {
    const int T = static_cast<int>(tr.obs.size()) - 1;
    matrix y(low.W_out.rows(), static_cast<long>(B)*(T + 1)), r;
    for (int k = 0; k <= T; ++k) {
        net.phi.apply(tr.at_obs(k), r);
        y.middleCols(static_cast<long>(k)*B, B) = low.W_out*r;
    }
    return y;
}

// The masked MSE and the mask-weighted R² of y, term by term.
struct by_hand { double loss, r2; };
by_hand masked_fit(const matrix& y, const trial_batch& trials) {
    const long B = trials.batch(), n_out = y.rows();
    double sse = 0, wsum = 0;
    vector mean = vector::Zero(n_out);
    for (int k = 0; k <= trials.steps(); ++k)
        for (long b = 0; b < B; ++b) {
            const long j = k*B + b;
            wsum += trials.mask[k];
            for (long o = 0; o < n_out; ++o) {
                const double d = y(o, j) - trials.target(o, j);
                sse += trials.mask[k]*d*d;
                mean[o] += trials.mask[k]*trials.target(o, j);
            }
        }
    mean /= wsum;
    double sst = 0;
    for (int k = 0; k <= trials.steps(); ++k)
        for (long b = 0; b < B; ++b)
            for (long o = 0; o < n_out; ++o) {
                const double d = trials.target(o, k*B + b) - mean[o];
                sst += trials.mask[k]*d*d;
            }
    return {sse/(n_out*B*trials.mask_sum()), 1.0 - sse/sst};
}

task_desc task_of(const std::string& kind) {
    task_desc t;
    t.kind = kind;
    return t;
}

} // namespace

TEST_CASE("objective of a trajectory task: the masked MSE, R² and the credit rule's own gradient", "[objective][credit]") {
    test::credit_problem p = test::make_credit_problem();
    for (int k = 0; k < 10; ++k) p.trials.mask[k] = 0.0; // a mask that leaves observations out
    const lowered_network low(p.net);
    rng noise(1);
    const trajectory tr = integrate(p.net, low, p.trials.u, p.trials.x0, p.integ, noise);
    const by_hand expect = masked_fit(outputs(p.net, low, tr, p.trials.batch()), p.trials);
    const plastic_set which = plastic_of(p.net, {"recurrent", "readout"}); // the input projection is frozen
    const long input = p.net.index_of("input");
    for (auto rule: {"exact", "feedback_alignment", "rflo", "node_perturbation"}) {
        INFO(rule);
        const credit c(credit_desc{rule}, p.net, 17, p.integ);
        const objective obj(task_of("teacher_student"), c, p.integ, which);
        const evaluation ev = obj.evaluate(p.net, low, tr, p.trials);
        CHECK(ev.g.loss == Approx(expect.loss).epsilon(test::roundoff));
        CHECK(ev.accuracy == Approx(expect.r2).epsilon(test::roundoff));
        for (auto& g: ev.g.projection) CHECK(g.size() == 0); // no credit asked
        const std::uint64_t step = 3;
        const evaluation evc = obj.evaluate_with_credit(p.net, low, tr, p.trials, step);
        const gradients direct = c(p.net, low, tr, p.trials, which, step);
        CHECK(evc.g.loss == Approx(expect.loss).epsilon(test::roundoff));
        CHECK(evc.accuracy == ev.accuracy);
        REQUIRE(evc.g.projection.size() == direct.projection.size());
        for (std::size_t k = 0; k < direct.projection.size(); ++k) {
            REQUIRE(evc.g.projection[k].size() == direct.projection[k].size());
            CHECK(test::rel_err(evc.g.projection[k], direct.projection[k]) <= test::roundoff);
        }
        CHECK(evc.g.projection[static_cast<std::size_t>(input)].size() == 0);
        CHECK(evc.g.of(p.net, "recurrent").norm() > 0);
    }
}

TEST_CASE("objective of a decision task: the fraction of trials whose decision-period output picks the label", "[objective][tasks]") {
    network_desc d;
    d.n_e = 16; d.n_i = 4; d.n_in = 3; d.n_out = 2;
    d.transfer = "softplus";
    const network net = build_network(d, 3);
    task_desc t = task_of("perceptual_decision");
    t.batch = 24;
    t.keys.set("fixation_ms", 10.0);
    t.keys.set("stimulus_ms", 20.0);
    t.keys.set("delay_ms", 10.0);
    integrator_desc integ;
    rng g(5);
    const trial_batch trials = make_decision_trials(t, integ.dt_ms, 60, net.n(), g);
    const lowered_network low(net);
    rng noise(1);
    const trajectory tr = integrate(net, low, trials.u, trials.x0, integ, noise);
    const matrix y = outputs(net, low, tr, t.batch);
    long correct = 0;
    for (long b = 0; b < t.batch; ++b) {
        vector total = vector::Zero(2);
        for (int k = 0; k <= trials.steps(); ++k) if (trials.decision[k] > 0) total += y.col(k*t.batch + b);
        if ((total[0] >= total[1]? 0: 1) == trials.label[b]) ++correct; // ties: the first output
    }
    const credit c(credit_desc{"exact"}, net, 1, integ);
    const objective obj(t, c, integ, plastic_set{});
    const evaluation ev = obj.evaluate(net, low, tr, trials);
    CHECK(ev.accuracy == static_cast<double>(correct)/t.batch);
    CHECK(ev.g.loss == Approx(masked_fit(y, trials).loss).epsilon(test::roundoff));
}

TEST_CASE("objective of the fixed-point task: loss and R² at the fixed point, and the implicit gradient", "[objective][regression]") {
    network_desc d;
    d.n_e = 16; d.n_i = 4; d.n_in = 5; d.n_out = 2;
    d.transfer = "softplus";
    d.bias = 0.1;
    d.spectral_radius = 0.5;
    d.p_in = 0.6;
    d.readout_from = "all";
    const network net = build_network(d, 11);
    integrator_desc integ;
    integ.stepper = "rk4";
    task_desc t = task_of("regression");
    t.batch = 4;
    t.keys.set("fixed_point_tol", 1e-12);
    t.keys.set("relax_max_ms", 1e5);
    // Static patterns for 30 ms (not long enough to settle: τ_E = 20 ms), targets at every step.
    const int T = 30, P = 4;
    rng g(2);
    const matrix U = make_patterns(d.n_in, P, g);
    trial_batch trials;
    trials.u = input_grid(integ.dt_ms, T, d.n_in, P);
    for (int k = 0; k <= T; ++k) trials.u.at(k) = U;
    trials.x0 = matrix::Zero(net.n(), P);
    trials.mask.assign(T + 1, 0.0);
    trials.mask[T] = 1.0;
    matrix target = matrix::Constant(2, P, 0.5);
    for (long q = 0; q < P; ++q) target(0, q) += 0.2*U(0, q);
    trials.target.resize(2, P*(T + 1));
    for (int k = 0; k <= T; ++k) trials.target.middleCols(k*P, P) = target;
    const lowered_network low(net);
    rng noise(1);
    const trajectory tr = integrate(net, low, trials.u, trials.x0, integ, noise);

    // The fixed point from the trajectory's end, checked against x* = W_rec φ(x*) + W_in u + b here.
    const fixed_point fp = relax(net, low, U, tr.x.back(), integ, t.keys.real("fixed_point_tol"), t.keys.real("relax_max_ms"));
    matrix r;
    net.phi.apply(fp.x, r);
    const matrix rhs = (low.W_rec*r + low.W_in*U).array().colwise() + net.bias.array();
    REQUIRE(test::rel_err(fp.x, rhs) < 1e-10);
    const matrix y = low.W_out*r;
    const double loss = (y - target).squaredNorm()/(2.0*P);
    const double r2 = 1.0 - (y - target).squaredNorm()/(target.colwise() - target.rowwise().mean()).squaredNorm();

    for (auto rule: {"exact", "feedback_alignment"}) { // the rule does not matter at a fixed point
        INFO(rule);
        const credit c(credit_desc{rule}, net, 17, integ);
        const objective obj(t, c, integ, plastic_set{});
        const evaluation ev = obj.evaluate(net, low, tr, trials);
        CHECK(ev.g.loss == Approx(loss).epsilon(test::roundoff));
        CHECK(ev.accuracy == Approx(r2).epsilon(test::roundoff));
        CHECK(std::abs(trajectory_loss(net, low, tr, trials) - loss) > 1e-6*loss); // not the unsettled trajectory's
        const evaluation evc = obj.evaluate_with_credit(net, low, tr, trials, 0);
        const gradients implicit = implicit_gradient(net, low, fp.x, U, target, plastic_set{});
        CHECK(evc.g.loss == Approx(loss).epsilon(test::roundoff));
        REQUIRE(evc.g.projection.size() == implicit.projection.size());
        for (std::size_t k = 0; k < implicit.projection.size(); ++k) {
            CHECK(implicit.projection[k].norm() > 0);
            CHECK(test::rel_err(evc.g.projection[k], implicit.projection[k]) <= test::roundoff);
        }
    }
}

TEST_CASE("bound counts: magnitudes outside [0, ∞) and magnitudes at min_magnitude", "[objective][bounds]") {
    network_desc d;
    d.n_e = 8; d.n_i = 2; d.n_in = 3; d.n_out = 2;
    network net = build_network(d, 4);
    projection& p = net.get("readout");
    vector m = p.magnitudes();
    REQUIRE(m.size() >= 8);
    const double bound = 1e-8;
    m[0] = bound; m[1] = 0.5*bound; m[2] = -0.1; m[3] = std::numeric_limits<double>::quiet_NaN(); m[4] = 0.0;
    p.set_magnitudes(m);
    long below = 0, outside = 0;
    for (long s = 0; s < m.size(); ++s) {
        if (m[s] <= bound) ++below;
        if (!(m[s] >= 0.0)) ++outside;
    }
    const bound_counts held = count_bounds(p, bound, true), free = count_bounds(p, bound, false);
    CHECK(held.sign_changes == outside);
    CHECK(held.held_at_bound == below);
    CHECK(free.sign_changes == outside);
    CHECK(free.held_at_bound == 0);
}
