// The integrators against the closed form of a linear network, their convergence orders, the
// Butcher tableaux the gradient uses against odeint's own steps, and Eigen against std::vector.
#include <catch2/catch.hpp>

#include <cmath>
#include <unsupported/Eigen/MatrixFunctions>

#include "models/butcher.hpp"
#include "models/dynamics.hpp"
#include "models/integrate.hpp"
#include "models/odeint_eigen.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {

struct linear_problem {
    network net;
    input_grid u;
    matrix x0;
    double T;
};

// A linear (identity-transfer) network driven by a constant bias b:
//   τ dx/dt = −x + W x + b  ⇒  dx/dt = A x + c,  A = D(W − I), c = D b 1, D = diag(1/τ)
linear_problem make_linear(double dt, double T) {
    network_desc d;
    d.n_e = 8; d.n_i = 4; d.n_in = 2; d.n_out = 1;
    d.transfer = "linear";
    d.bias = 0.5;
    d.spectral_radius = 0.7;
    linear_problem p{build_network(d, 17), input_grid(dt, static_cast<int>(std::llround(T/dt)), 2, 3), matrix(), T};
    p.x0 = matrix::NullaryExpr(12, 3, [](Eigen::Index i, Eigen::Index b) { return std::sin(1.0 + i + 3.0*b); });
    return p;
}

matrix closed_form(const linear_problem& p) {
    const matrix D = p.net.tau.cwiseInverse().asDiagonal();
    const matrix A = D*(p.net.get("recurrent").dense() - matrix::Identity(12, 12));
    const vector c = D*p.net.bias;
    const vector xstar = -A.partialPivLu().solve(c);
    const matrix E = (A*p.T).exp();
    return xstar.replicate(1, 3) + E*(p.x0 - xstar.replicate(1, 3));
}

matrix integrate_linear(const linear_problem& p, const std::string& stepper, double tol = 1e-6) {
    integrator_desc d;
    d.stepper = stepper;
    d.dt_ms = p.u.dt;
    d.keys.set("atol", tol);
    d.keys.set("rtol", tol);
    rng noise(1);
    const lowered_network low(p.net);
    return integrate(p.net, low, p.u, p.x0, d, noise).x.back();
}

double error_at(const std::string& stepper, double dt) {
    const auto p = make_linear(dt, 20.0);
    return test::rel_err(integrate_linear(p, stepper), closed_form(p));
}

} // namespace

TEST_CASE("linear network: every stepper matches x* + exp(At)(x0 - x*)", "[integrator][closed-form]") {
    CHECK(error_at("euler", 0.002) < 1e-3);
    CHECK(error_at("rk4", 0.1) < 1e-8);
    auto p = make_linear(1.0, 20.0);
    CHECK(test::rel_err(integrate_linear(p, "dopri5", 1e-11), closed_form(p)) < 1e-8);
}

TEST_CASE("convergence orders: euler 1 and rk4 4", "[integrator][order]") {
    for (auto [stepper, order, dt]: {std::tuple{"euler", 1.0, 0.05}, {"rk4", 4.0, 0.8}}) {
        const double e1 = error_at(stepper, dt), e2 = error_at(stepper, dt/2), e3 = error_at(stepper, dt/4);
        INFO(stepper << ": errors " << e1 << ", " << e2 << ", " << e3);
        CHECK(std::log2(e1/e2) == Approx(order).margin(0.15));
        CHECK(std::log2(e2/e3) == Approx(order).margin(0.1));
    }
}

TEST_CASE("dopri5 steps exactly onto the observation grid and meets its tolerance", "[integrator]") {
    auto p = make_linear(2.0, 20.0);
    integrator_desc d;
    d.stepper = "dopri5";
    d.dt_ms = 2.0;
    d.keys.set("atol", 1e-8);
    d.keys.set("rtol", 1e-8);
    rng noise(1);
    const trajectory tr = integrate(p.net, lowered_network(p.net), p.u, p.x0, d, noise);
    REQUIRE(tr.obs.size() == 11);
    for (std::size_t n = 0; n + 1 < tr.t.size(); ++n) CHECK(tr.t[n] + tr.h[n] == Approx(tr.t[n + 1]).epsilon(1e-12));
    CHECK(tr.t.back() + tr.h.back() == Approx(20.0).epsilon(1e-12));
    CHECK(test::rel_err(tr.x.back(), closed_form(p)) < 1e-6);
}

TEST_CASE("one step of each Butcher tableau equals one step of odeint's stepper", "[integrator][tableau]") {
    network_desc d;
    d.n_e = 6; d.n_i = 2; d.n_in = 3; d.n_out = 1;
    d.transfer = "softplus";
    const network net = build_network(d, 5);
    const lowered_network low(net);
    input_desc in;
    in.n_in = d.n_in; // the network's input width (W_in is 8 × 3)
    rng g(3);
    const input_grid u = make_input(in, 0.5, 10, 2, g);
    dynamics_workspace ws;
    const rate_dynamics f{low.inv_tau, low.W_rec, low.W_in, u, net.phi, net.bias, ws};
    const matrix x0 = matrix::Random(8, 2);
    const double t = 1.0, h = 0.5;

    auto tableau_step = [&](const butcher_tableau& tab) {
        std::vector<matrix> K(tab.stages());
        matrix x1 = x0;
        for (int i = 0; i < tab.stages(); ++i) {
            matrix X = x0;
            for (int j = 0; j < i; ++j) X += h*tab.a[i][j]*K[j];
            f(X, K[i], t + tab.c[i]*h);
            x1 += h*tab.b[i]*K[i];
        }
        return x1;
    };
    matrix a = x0, b = x0, c = x0;
    odeint_steppers::euler<matrix>().do_step(f, a, t, h);
    odeint_steppers::rk4<matrix>().do_step(f, b, t, h);
    odeint_steppers::dopri5<matrix>().do_step(f, c, t, h);
    CHECK(test::rel_err(a, tableau_step(euler_tableau())) < test::roundoff);
    CHECK(test::rel_err(b, tableau_step(rk4_tableau())) < test::roundoff);
    CHECK(test::rel_err(c, tableau_step(dopri5_tableau())) < test::roundoff);
}

TEST_CASE("an Eigen state and a std::vector state give the same answer", "[integrator][odeint]") {
    network_desc d;
    d.n_e = 8; d.n_i = 2; d.n_in = 2; d.n_out = 1;
    d.transfer = "tanh";
    d.bias = 0.3;
    const network net = build_network(d, 9);
    const lowered_network low(net);
    const input_grid u(1.0, 50, 2, 1); // zero input
    dynamics_workspace ws;
    const rate_dynamics f{low.inv_tau, low.W_rec, low.W_in, u, net.phi, net.bias, ws};

    using vec = std::vector<double>;
    auto g = [&](const vec& x, vec& dxdt, double) { // the same formula, written with loops
        const int N = net.n();
        dxdt.assign(N, 0.0);
        for (int i = 0; i < N; ++i) {
            double s = -x[i] + net.bias[i];
            for (int j = 0; j < N; ++j) s += low.W_rec(i, j)*net.phi.of(j).value(x[j]);
            dxdt[i] = s*low.inv_tau[i];
        }
    };
    matrix xe = matrix::Constant(10, 1, 0.2);
    vec xv(10, 0.2);
    namespace odeint = boost::numeric::odeint;
    odeint::runge_kutta4<vec> rk_v;
    odeint_steppers::rk4<matrix> rk_e;
    for (int k = 0; k < 50; ++k) {
        rk_e.do_step(f, xe, k*0.5, 0.5);
        rk_v.do_step(g, xv, k*0.5, 0.5);
    }
    for (int i = 0; i < 10; ++i) CHECK(xe(i, 0) == Approx(xv[i]).epsilon(1e-12));
}

TEST_CASE("private noise is Euler-Maruyama of variance 2 h sigma^2 / tau, and a sigma given to integrate replaces the network's",
          "[integrator][noise]") {
    // One Euler step from the same state with and without noise differs by sqrt(2 h/τ_i) σ ξ,
    // ξ ~ N(0, 1): the standardised differences have mean 0 and variance 1.
    auto p = make_linear(0.5, 0.5);
    const long B = 2000;
    const double sigma = 0.3;
    p.u = input_grid(0.5, 1, 2, B);
    const matrix x0 = matrix::NullaryExpr(12, B, [](Eigen::Index i, Eigen::Index b) { return std::sin(0.3*i + 0.01*b); });
    integrator_desc d;
    d.stepper = "euler";
    d.dt_ms = 0.5;
    const lowered_network low(p.net);
    rng quiet(1), loud(2);
    const matrix clean = integrate(p.net, low, p.u, x0, d, quiet).x.back();
    const matrix noisy = integrate(p.net, low, p.u, x0, d, loud, sigma).x.back();
    double sum = 0.0, sum2 = 0.0;
    for (long b = 0; b < B; ++b)
        for (long i = 0; i < 12; ++i) {
            const double z = (noisy(i, b) - clean(i, b))/(std::sqrt(2.0*0.5/p.net.tau[i])*sigma);
            sum += z;
            sum2 += z*z;
        }
    const double n = 12.0*B, mean = sum/n, var = sum2/n - mean*mean;
    CHECK(std::abs(mean) < test::z_tol/std::sqrt(n));
    CHECK(std::abs(var - 1.0) < test::z_tol*std::sqrt(2.0/n));

    // The override and a network that carries the same σ draw the same path from the same stream.
    network carrying = p.net;
    carrying.noise_sigma = sigma;
    rng again(2);
    CHECK(integrate(carrying, low, p.u, x0, d, again).x.back() == noisy);
}
