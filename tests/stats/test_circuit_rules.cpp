// Each connectivity rule and magnitude distribution of a circuit's projections draws what it
// says: counts against their exact or binomial values, and magnitudes against the distribution's
// mean and variance (z-scores against the standard errors, test::z_tol).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "models/network.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {

population_desc rate(const std::string& name, int size, const char* sign = "excitatory") {
    population_desc p;
    p.name = name;
    p.size = size;
    p.sign = sign;
    return p;
}

// Two rate populations A (600, E) and B (400, I), an input and a readout; `p` joins them.
circuit_desc with(projection_desc p) {
    circuit_desc c;
    population_desc in = rate("u", 5), out = rate("y", 1);
    in.model = "input";
    out.model = "readout";
    c.populations = {rate("A", 600), rate("B", 400, "inhibitory"), in, out};
    projection_desc readout;
    readout.name = "readout";
    readout.pre = {"A"};
    readout.post = {"y"};
    readout.connectivity = "all_to_all";
    p.name = "p";
    c.projections = {p, readout};
    c.spectral_radius = 0.0; // the drawn magnitudes, unscaled
    validate_circuit(c);
    return c;
}

struct moments { double n = 0, mean = 0, var = 0; };
template <typename F>
moments of(const projection& P, F&& value) {
    moments m;
    std::vector<double> v;
    P.for_each([&](std::size_t, int i, int j, int, double mag) { v.push_back(value(i, j, mag)); });
    m.n = static_cast<double>(v.size());
    for (double x: v) m.mean += x;
    m.mean /= m.n;
    for (double x: v) m.var += (x - m.mean)*(x - m.mean);
    m.var /= m.n - 1;
    return m;
}

} // namespace

TEST_CASE("bernoulli: every block's probability, no autapses", "[circuit][connectivity][stats]") {
    projection_desc d;
    d.pre = {"A", "B"};
    d.post = {"A", "B"};
    d.p = block_values(std::vector<std::vector<double>>{{0.1, 0.3}, {0.05, 0.2}});
    const network net = build_network(with(d), 11);
    const projection& P = net.get("p");
    long counts[2][2] = {{0, 0}, {0, 0}};
    long autapses = 0;
    P.for_each([&](std::size_t, int i, int j, int, double) {
        ++counts[i >= 600][j >= 600];
        autapses += i == j;
    });
    CHECK(autapses == 0);
    const double n[2] = {600, 400};
    for (int x = 0; x < 2; ++x)
        for (int y = 0; y < 2; ++y) {
            const double pairs = n[x]*n[y] - (x == y? n[x]: 0.0), p = d.p.at(x, y);
            INFO("block " << x << y);
            CHECK(std::abs(counts[x][y]/pairs - p) <= test::z_tol*std::sqrt(p*(1 - p)/pairs));
        }
}

TEST_CASE("fixed_indegree: exactly k distinct partners per cell, each candidate equally likely", "[circuit][connectivity][stats]") {
    projection_desc d;
    d.pre = {"B"};
    d.post = {"A", "B"};
    d.connectivity = "fixed_indegree";
    d.k = block_values(std::vector<std::vector<double>>{{7}, {3}});
    const network net = build_network(with(d), 5);
    std::vector<std::vector<int>> partners(1000);
    std::vector<double> chosen(1000, 0.0); // per pre cell, by post cells of A
    net.get("p").for_each([&](std::size_t, int i, int j, int, double) {
        partners[static_cast<std::size_t>(i)].push_back(j);
        if (i < 600) chosen[static_cast<std::size_t>(j)] += 1;
    });
    for (int i = 0; i < 1000; ++i) {
        auto v = partners[static_cast<std::size_t>(i)];
        CHECK(v.size() == (i < 600? 7u: 3u));
        std::sort(v.begin(), v.end());
        CHECK(std::adjacent_find(v.begin(), v.end()) == v.end());
        CHECK(std::find(v.begin(), v.end(), i) == v.end()); // no autapse
        for (int j: v) CHECK((j >= 600 && j < 1000));
    }
    // Each of B's 400 cells is a partner of an A cell with probability 7/400: the counts are
    // Binomial(600, 7/400), so their mean and variance match.
    moments m;
    for (int j = 600; j < 1000; ++j) m.mean += chosen[static_cast<std::size_t>(j)]/400;
    for (int j = 600; j < 1000; ++j) m.var += std::pow(chosen[static_cast<std::size_t>(j)] - m.mean, 2)/399;
    const double q = 7.0/400, var = 600*q*(1 - q);
    CHECK(m.mean == Approx(600*q).epsilon(1e-12)); // exactly 7 × 600 partners in all
    CHECK(std::abs(m.var - var) <= test::z_tol*var*std::sqrt(2.0/399));
}

TEST_CASE("all_to_all and one_to_one", "[circuit][connectivity]") {
    projection_desc d;
    d.pre = {"A"};
    d.post = {"A", "B"};
    d.connectivity = "all_to_all";
    CHECK(build_network(with(d), 1).get("p").size() == 600u*599 + 600u*400);
    d.autapses = true;
    CHECK(build_network(with(d), 1).get("p").size() == 600u*600 + 600u*400);
    circuit_desc c = with(d);
    c.populations[1].size = 600;
    c.projections[0].connectivity = "one_to_one";
    c.projections[0].autapses = false;
    const projection P = build_network(c, 1).get("p");
    CHECK(P.size() == 600u); // A -> A is all autapses; A -> B one each
    P.for_each([&](std::size_t, int i, int j, int, double) { CHECK(i == j + 600); });
}

TEST_CASE("magnitude distributions: lognormal by median or mean, gamma, constant; scale by in-degree", "[circuit][weights][stats]") {
    projection_desc d;
    d.pre = {"A"};
    d.post = {"B"};
    d.p = 0.5;
    const double n = 0.5*600*400;
    SECTION("lognormal sized by scale: median scale/(p n_pre)") {
        d.scale = 3.0;
        d.sigma_ln = 0.8;
        const moments m = of(build_network(with(d), 2).get("p"), [](int, int, double x) { return std::log(x); });
        CHECK(std::abs(m.mean - std::log(3.0/(0.5*600))) <= test::z_tol*0.8/std::sqrt(n));
        CHECK(std::abs(std::sqrt(m.var) - 0.8) <= test::z_tol*0.8/std::sqrt(2*n));
    }
    SECTION("lognormal sized by its mean") {
        d.size_by = "mean";
        d.mean = 0.2;
        d.sigma_ln = 0.5;
        const moments m = of(build_network(with(d), 3).get("p"), [](int, int, double x) { return x; });
        const double sd = 0.2*std::sqrt(std::exp(0.25) - 1); // sd of a log-normal of that mean
        CHECK(std::abs(m.mean - 0.2) <= test::z_tol*sd/std::sqrt(m.n));
    }
    SECTION("gamma: mean and variance mean^2/shape") {
        d.weights = "gamma";
        d.size_by = "mean";
        d.mean = 0.4;
        d.shape = 2.0;
        const moments m = of(build_network(with(d), 4).get("p"), [](int, int, double x) { return x; });
        const double var = 0.4*0.4/2.0;
        CHECK(std::abs(m.mean - 0.4) <= test::z_tol*std::sqrt(var/m.n));
        // Var of the sample variance of a gamma: (mu4 − var²)/n, mu4 = 3 var² (1 + 2/shape).
        CHECK(std::abs(m.var - var) <= test::z_tol*std::sqrt((3*var*var*(1 + 2/2.0) - var*var)/m.n));
    }
    SECTION("constant, sized by scale over the in-degree") {
        d.weights = "constant";
        d.scale = 6.0;
        const projection P = build_network(with(d), 5).get("p");
        P.for_each([&](std::size_t, int, int, int sign, double x) {
            CHECK(x == 6.0/(0.5*600));
            CHECK(sign == 1);
        });
    }
}

TEST_CASE("each projection draws from its own stream: changing one leaves the others", "[circuit][random]") {
    projection_desc d;
    d.pre = {"A"};
    d.post = {"B"};
    d.p = 0.1;
    circuit_desc a = with(d), b = with(d);
    b.projections[0].p = 0.3;
    const network na = build_network(a, 8), nb = build_network(b, 8);
    CHECK(na.get("p").size() != nb.get("p").size());
    CHECK(na.get("readout").magnitudes() == nb.get("readout").magnitudes());
}
