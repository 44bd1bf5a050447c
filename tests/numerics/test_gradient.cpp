// The exact gradient (discrete adjoint) against central finite differences of the computed loss,
// for every stepper and every projection: relative error ≤ 1e-6 for fixed steps, and consistent
// with the tolerance for dopri5.
#include <catch2/catch.hpp>

#include "plasticity/exact_credit.hpp"
#include "models/integrate.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {

struct problem {
    network net;
    trial_batch trials;
    integrator_desc integ;
};

// `mixed`: the I population's transfer function is power (k [x]₊², k = 0.5), E's softplus.
problem make_problem(const std::string& stepper, double noise_sigma, double tol, bool mixed = false) {
    network_desc d;
    d.n_e = 8; d.n_i = 4; d.n_in = 3; d.n_out = 2;
    d.transfer = "softplus";
    d.spectral_radius = 0.9;
    d.noise_sigma = noise_sigma;
    d.readout_from = "all";
    d.scale_out = 3.0;
    circuit_desc circuit = ei_circuit(d);
    if (mixed) {
        circuit.populations[1].keys.set("transfer", "power");
        circuit.populations[1].keys.set("transfer_k", 0.5);
        circuit.populations[1].keys.set("transfer_n", 2.0);
    }
    problem p{build_network(circuit, 21), {}, {}};
    p.integ.stepper = stepper;
    p.integ.dt_ms = 0.5;
    p.integ.keys.set("atol", tol);
    p.integ.keys.set("rtol", tol);
    input_desc in;
    in.n_in = 3;
    in.keys.set("tau_ms", 5.0);
    rng g(4);
    const int T = 30, B = 3;
    p.trials.u = make_input(in, p.integ.dt_ms, T, B, g);
    p.trials.x0 = matrix::Random(12, B)*0.5;
    p.trials.target = matrix::Random(2, B*(T + 1));
    p.trials.mask.assign(T + 1, 1.0);
    p.trials.mask[0] = 0.0;
    return p;
}

double loss_of(const problem& p) {
    const lowered_network low(p.net);
    rng noise(99); // the same noise in every evaluation
    const trajectory tr = integrate(p.net, low, p.trials.u, p.trials.x0, p.integ, noise);
    return trajectory_loss(p.net, low, tr, p.trials);
}

// Central differences for every synapse of a projection; relative error of the whole vector.
double fd_error(problem p, const std::string& proj, const vector& exact, double rel_h) {
    vector& m = p.net.get(proj).m;
    vector fd(m.size());
    for (long s = 0; s < m.size(); ++s) {
        const double m0 = m[s], h = rel_h*m0;
        m[s] = m0 + h;
        const double up = loss_of(p);
        m[s] = m0 - h;
        const double down = loss_of(p);
        m[s] = m0;
        fd[s] = (up - down)/(2*h);
    }
    INFO(proj << ": exact " << exact.head(4).transpose() << " fd " << fd.head(4).transpose());
    return test::rel_err(exact, fd);
}

gradients exact_of(const problem& p) {
    const lowered_network low(p.net);
    rng noise(99);
    const trajectory tr = integrate(p.net, low, p.trials.u, p.trials.x0, p.integ, noise);
    return exact_gradient(p.net, low, tr, p.trials, plastic_set{});
}

} // namespace

TEST_CASE("exact gradient equals central finite differences (fixed steps)", "[gradient][fd]") {
    for (auto [stepper, noise]: {std::pair{"euler", 0.0}, {"rk4", 0.0}, {"euler", 0.3}}) {
        const problem p = make_problem(stepper, noise, 1e-6);
        const gradients g = exact_of(p);
        CHECK(g.loss == Approx(loss_of(p)).epsilon(test::roundoff));
        REQUIRE(g.projection[0].size() == static_cast<long>(p.net.get("recurrent").size())); // one entry per existing synapse
        for (auto [proj, grad]: {std::pair{"recurrent", &g.projection[0]}, {"input", &g.projection[1]}, {"readout", &g.projection[2]}}) {
            INFO(stepper << " noise " << noise << " " << proj);
            CHECK(grad->norm() > 0.0);
            CHECK(fd_error(p, proj, *grad, 1e-5) < test::fd_fixed);
        }
    }
}

TEST_CASE("exact gradient with a transfer function per population equals central finite differences", "[gradient][fd][circuit]") {
    const problem p = make_problem("rk4", 0.0, 1e-6, true);
    REQUIRE(p.net.phi.pieces.size() == 2);
    const gradients g = exact_of(p);
    for (auto [proj, grad]: {std::pair{"recurrent", &g.projection[0]}, {"input", &g.projection[1]}, {"readout", &g.projection[2]}}) {
        INFO(proj);
        CHECK(grad->norm() > 0.0);
        CHECK(fd_error(p, proj, *grad, 1e-5) < test::fd_fixed);
    }
    // Not the gradient of the uniform network: the I cells' function matters.
    const gradients u = exact_of(make_problem("rk4", 0.0, 1e-6, false));
    CHECK(test::rel_err(g.projection[0], u.projection[0]) > 1e-3);
}

TEST_CASE("exact gradient for dopri5 is consistent with its tolerance", "[gradient][fd]") {
    const problem p = make_problem("dopri5", 0.0, 1e-12);
    const gradients g = exact_of(p);
    for (auto [proj, grad]: {std::pair{"recurrent", &g.projection[0]}, {"input", &g.projection[1]}, {"readout", &g.projection[2]}}) {
        INFO(proj);
        CHECK(fd_error(p, proj, *grad, 1e-4) < 1e-5);
    }
}

TEST_CASE("frozen projections get no gradient", "[gradient]") {
    const problem p = make_problem("euler", 0.0, 1e-6);
    const lowered_network low(p.net);
    rng noise(99);
    const trajectory tr = integrate(p.net, low, p.trials.u, p.trials.x0, p.integ, noise);
    const gradients g = exact_gradient(p.net, low, tr, p.trials, plastic_set{false, true, false});
    CHECK(g.projection[0].size() == 0);
    CHECK(g.projection[2].size() == 0);
    CHECK(g.projection[1].size() == static_cast<long>(p.net.get("input").size()));
}
