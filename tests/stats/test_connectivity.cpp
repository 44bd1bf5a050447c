// Connection probabilities and log-normal parameters of each block are recovered within
// statistical tolerance (z-scores against the binomial and normal standard errors).
#include <catch2/catch.hpp>

#include <cmath>

#include "models/network.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

TEST_CASE("block connection probabilities and log-normal magnitudes", "[connectivity][stats]") {
    network_desc d;
    d.n_e = 400; d.n_i = 100;
    d.p_ee = 0.1; d.p_ei = 0.3; d.p_ie = 0.5; d.p_ii = 0.2;
    d.scale_ee = 1.0; d.scale_ei = 2.0; d.scale_ie = 0.5; d.scale_ii = 3.0;
    d.sigma_ln = 0.9355;
    d.spectral_radius = 0.0; // keep the drawn magnitudes
    const network net = build_network(d, 2024);
    const auto& R = net.get("recurrent");

    struct block { const char* name; bool post_e, pre_e; double p, scale; };
    for (auto b: {block{"EE", true, true, d.p_ee, d.scale_ee}, block{"EI", true, false, d.p_ei, d.scale_ei},
                  block{"IE", false, true, d.p_ie, d.scale_ie}, block{"II", false, false, d.p_ii, d.scale_ii}}) {
        const int n_post = b.post_e? d.n_e: d.n_i, n_pre = b.pre_e? d.n_e: d.n_i;
        const double pairs = static_cast<double>(n_post)*n_pre - (b.post_e == b.pre_e? n_post: 0); // no autapses
        std::vector<double> logs;
        for (std::size_t s = 0; s < R.size(); ++s)
            if ((R.post[s] < d.n_e) == b.post_e && (R.pre[s] < d.n_e) == b.pre_e) logs.push_back(std::log(R.m[s]));
        const double n = static_cast<double>(logs.size());
        INFO("block " << b.name);
        // Probability: binomial standard error.
        CHECK(std::abs(n/pairs - b.p) <= test::z_tol*std::sqrt(b.p*(1 - b.p)/pairs));
        // ln m ~ N(ln(scale/(p n_pre)), sigma²): mean and sd against their standard errors.
        double mean = 0, var = 0;
        for (double l: logs) mean += l;
        mean /= n;
        for (double l: logs) var += (l - mean)*(l - mean);
        const double sd = std::sqrt(var/(n - 1));
        const double mu = std::log(b.scale/(b.p*n_pre));
        CHECK(std::abs(mean - mu) <= test::z_tol*d.sigma_ln/std::sqrt(n));
        CHECK(std::abs(sd - d.sigma_ln) <= test::z_tol*d.sigma_ln/std::sqrt(2*(n - 1)));
    }
}
