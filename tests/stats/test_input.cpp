// The Ornstein–Uhlenbeck input has its stationary mean, variance and autocorrelation e^{−dt/τ}.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/input.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

TEST_CASE("OU input has its stationary mean and variance and lag-1 autocorrelation", "[input][stats]") {
    input_desc d;
    d.n_in = 10;
    d.mean = 20.0; // far above 0, so rectification never acts
    d.sigma = 2.0;
    d.tau_ms = 5.0;
    const double dt = 1.0;
    rng g(77);
    const input_grid u = make_input(d, dt, 4000, 5, g);
    double sum = 0, sq = 0, lag = 0;
    long n = 0, nl = 0;
    for (int k = 0; k <= u.steps; ++k)
        for (long i = 0; i < u.U.rows(); ++i)
            for (long b = 0; b < u.batch; ++b) {
                const double v = u.at(k)(i, b) - d.mean;
                sum += v; sq += v*v; ++n;
                if (k > 0) { lag += v*(u.at(k - 1)(i, b) - d.mean); ++nl; }
            }
    const double rho = std::exp(-dt/d.tau_ms);
    // Effective sample size of an AR(1) series: n (1 − ρ)/(1 + ρ).
    const double n_eff = n*(1 - rho)/(1 + rho);
    CHECK(std::abs(sum/n) <= test::z_tol*d.sigma/std::sqrt(n_eff));
    CHECK(std::abs(sq/n - d.sigma*d.sigma) <= test::z_tol*d.sigma*d.sigma*std::sqrt(2.0/n_eff));
    CHECK(std::abs(lag/nl/(sq/n) - rho) <= 0.02);
}

TEST_CASE("step and zero inputs", "[input]") {
    input_desc d;
    d.kind = "step";
    d.n_in = 2;
    d.amplitude = 3.0;
    d.onset_ms = 10;
    d.offset_ms = 20;
    rng g(1);
    const input_grid u = make_input(d, 1.0, 30, 2, g);
    for (int k = 0; k <= 30; ++k) CHECK(u.at(k)(0, 0) == ((k >= 10 && k < 20)? 3.0: 0.0));
    matrix mid;
    u.interpolate(9.5, mid);
    CHECK(mid(1, 1) == Approx(1.5));
    d.kind = "zero";
    CHECK(make_input(d, 1.0, 30, 2, g).U.norm() == 0.0);
}
