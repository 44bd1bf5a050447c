// The Ornstein–Uhlenbeck input has its stationary mean, variance and autocorrelation e^{−dt/τ}.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/input.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

TEST_CASE("OU input has its stationary mean and variance and lag-1 autocorrelation", "[input][stats]") {
    input_desc d;
    d.n_in = 10;
    const double mean = 20.0, sigma = 2.0, tau = 5.0; // mean far above 0, so rectification never acts
    d.keys.set("mean", mean);
    d.keys.set("sigma", sigma);
    d.keys.set("tau_ms", tau);
    const double dt = 1.0;
    rng g(77);
    const input_grid u = make_input(d, dt, 4000, 5, g);
    double sum = 0, sq = 0, lag = 0;
    long n = 0, nl = 0;
    for (int k = 0; k <= u.steps; ++k)
        for (long i = 0; i < u.U.rows(); ++i)
            for (long b = 0; b < u.batch; ++b) {
                const double v = u.at(k)(i, b) - mean;
                sum += v; sq += v*v; ++n;
                if (k > 0) { lag += v*(u.at(k - 1)(i, b) - mean); ++nl; }
            }
    const double rho = std::exp(-dt/tau);
    // Effective sample size of an AR(1) series: n (1 − ρ)/(1 + ρ).
    const double n_eff = n*(1 - rho)/(1 + rho);
    CHECK(std::abs(sum/n) <= test::z_tol*sigma/std::sqrt(n_eff));
    CHECK(std::abs(sq/n - sigma*sigma) <= test::z_tol*sigma*sigma*std::sqrt(2.0/n_eff));
    CHECK(std::abs(lag/nl/(sq/n) - rho) <= 0.02);
}

TEST_CASE("step and zero inputs", "[input]") {
    input_desc d;
    d.kind = "step";
    d.n_in = 2;
    d.keys.set("amplitude", 3.0);
    d.keys.set("onset_ms", 10.0);
    d.keys.set("offset_ms", 20.0);
    rng g(1);
    const input_grid u = make_input(d, 1.0, 30, 2, g);
    for (int k = 0; k <= 30; ++k) CHECK(u.at(k)(0, 0) == ((k >= 10 && k < 20)? 3.0: 0.0));
    matrix mid;
    u.interpolate(9.5, mid);
    CHECK(mid(1, 1) == Approx(1.5));
    d.kind = "zero";
    CHECK(make_input(d, 1.0, 30, 2, g).U.norm() == 0.0);
}
