// eisim's own variates (models/random.hpp): each equals its formula on chosen 64-bit words, has
// its distribution (moments by z-scores, the whole CDF by a Kolmogorov–Smirnov bound), and, where
// the standard library is libstdc++, equals libstdc++'s draw for draw, so files written before the
// variates were eisim's own are unchanged.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <boost/math/special_functions/erf.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include "models/random.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {

/// A source of chosen 64-bit words, in order.
struct words {
    using result_type = std::uint64_t;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return UINT64_MAX; }
    std::vector<std::uint64_t> w;
    std::size_t next = 0;
    result_type operator()() { return w.at(next++); }
};

constexpr double two64 = 18446744073709551616.0;

/// The word whose uniform is u (u a multiple of 2^-64 that a double holds).
std::uint64_t word_of(double u) { return static_cast<std::uint64_t>(u*two64); }

/// sup_x |F_n(x) − F(x)| of the sample against the CDF F.
template <class F>
double ks_distance(std::vector<double> x, F cdf) {
    std::sort(x.begin(), x.end());
    const double n = static_cast<double>(x.size());
    double d = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double f = cdf(x[i]);
        d = std::max({d, (i + 1)/n - f, f - i/n});
    }
    return d;
}
/// The KS distance that n draws of the true distribution exceed with probability 10⁻⁶
/// (the asymptotic bound √(ln(2/α)/2n)).
double ks_bound(std::size_t n) { return std::sqrt(std::log(2.0/1e-6)/(2.0*static_cast<double>(n))); }

struct moments {
    double mean = 0, var = 0, m4 = 0; // central
};
moments moments_of(const std::vector<double>& x) {
    moments m;
    for (double v: x) m.mean += v;
    m.mean /= static_cast<double>(x.size());
    for (double v: x) {
        const double d = v - m.mean;
        m.var += d*d;
        m.m4 += d*d*d*d;
    }
    m.var /= static_cast<double>(x.size());
    m.m4 /= static_cast<double>(x.size());
    return m;
}

} // namespace

TEST_CASE("uniform: a word over 2^64, kept below 1", "[variates]") {
    words g{{0, 1ull << 63, 3ull << 62, 12345678901234567ull, UINT64_MAX, UINT64_MAX - 1000}};
    CHECK(uniform(g) == 0.0);
    CHECK(uniform(g) == 0.5);
    CHECK(uniform(g) == 0.75);
    CHECK(uniform(g) == static_cast<double>(12345678901234567ull)/two64);
    // 2^64 − 1 and 2^64 − 1001 round to 2^64 in double precision: the largest double below 1.
    CHECK(uniform(g) == std::nextafter(1.0, 0.0));
    CHECK(uniform(g) == std::nextafter(1.0, 0.0));

    rng s = stream(3, "variates");
    std::vector<double> u(200000);
    for (auto& v: u) v = uniform(s);
    CHECK(*std::max_element(u.begin(), u.end()) < 1.0);
    CHECK(*std::min_element(u.begin(), u.end()) >= 0.0);
    CHECK(ks_distance(u, [](double x) { return x; }) < ks_bound(u.size()));
}

TEST_CASE("normal: Marsaglia's polar method on chosen words", "[variates]") {
    // (x, y) = (0.9, 0.9): r² > 1, rejected; (0, 0): r² = 0, rejected; then (0.5, −0.5):
    // r² = 1/2, m = √(−2 ln(1/2) / (1/2)) = 2√(ln 2): y·m = −√(ln 2) first, x·m = √(ln 2) next.
    words g{{word_of(0.95), word_of(0.95), 1ull << 63, 1ull << 63, word_of(0.75), word_of(0.25)}};
    normal_source z;
    const double m = std::sqrt(-2.0*std::log(0.5)/0.5);
    CHECK(z(g) == -0.5*m);
    CHECK(g.next == 6);
    CHECK(z(g) == 0.5*m); // the pair's second, no word drawn
    CHECK(g.next == 6);
    CHECK(std::abs(m - 2.0*std::sqrt(std::log(2.0))) < test::roundoff);

    // normal() is the first of a fresh pair each time.
    words h{{word_of(0.75), word_of(0.25), word_of(0.75), word_of(0.25)}};
    CHECK(normal(h) == -0.5*m);
    CHECK(normal(h) == -0.5*m);
}

TEST_CASE("normal: N(0, 1) in moments and CDF, from normal() and from a normal_source", "[variates][stats]") {
    const std::size_t n = 200000;
    for (int kind = 0; kind < 2; ++kind) {
        rng s = stream(11, "variates", static_cast<std::uint64_t>(kind));
        normal_source z;
        std::vector<double> x(n);
        for (auto& v: x) v = kind == 0? normal(s): z(s);
        const moments m = moments_of(x);
        const double rn = std::sqrt(static_cast<double>(n));
        CHECK(std::abs(m.mean) <= test::z_tol/rn);
        CHECK(std::abs(m.var - 1.0) <= test::z_tol*std::sqrt(2.0)/rn);
        CHECK(std::abs(m.m4 - 3.0) <= test::z_tol*std::sqrt(96.0)/rn); // Var of z⁴ is 105 − 9 = 96
        CHECK(ks_distance(x, [](double v) { return 0.5*boost::math::erfc(-v/std::sqrt(2.0)); }) < ks_bound(n));
    }
}

TEST_CASE("gamma: Marsaglia and Tsang's method has the Gamma(k, θ) distribution", "[variates][stats]") {
    const std::size_t n = 100000;
    for (double k: {0.3, 0.7, 1.0, 2.0, 2.5, 10.0}) {
        const double theta = 1.7;
        rng s = stream(5, "gamma", static_cast<std::uint64_t>(k*10));
        std::vector<double> x(n);
        for (auto& v: x) v = gamma_variate(k, theta, s);
        CAPTURE(k);
        CHECK(*std::min_element(x.begin(), x.end()) > 0.0);
        const moments m = moments_of(x);
        const double rn = std::sqrt(static_cast<double>(n));
        // Var x = kθ²; Var of (x − kθ)² = μ4 − σ⁴ = (3k² + 6k)θ⁴ − k²θ⁴.
        CHECK(std::abs(m.mean - k*theta) <= test::z_tol*std::sqrt(k)*theta/rn);
        CHECK(std::abs(m.var - k*theta*theta) <= test::z_tol*std::sqrt(2*k*k + 6*k)*theta*theta/rn);
        CHECK(ks_distance(x, [&](double v) { return boost::math::gamma_p(k, v/theta); }) < ks_bound(n));
    }
}

TEST_CASE("uniform_index: Lemire's multiply-and-reject on chosen words, and uniform", "[variates][stats]") {
    // s = 3: the draw is ⌊w·3 / 2^64⌋; w = 0 leaves a low word 0 below 2^64 mod 3 = 1: drawn again.
    words g{{1ull << 63, UINT64_MAX, 0, 5, (1ull << 63) + (1ull << 62)}};
    CHECK(uniform_index(2, g) == 1);                 // 3·2^63 = 2^64 + 2^63
    CHECK(uniform_index(2, g) == 2);                 // 3·(2^64 − 1) = 2·2^64 + (2^64 − 3)
    CHECK(uniform_index(2, g) == 0);                 // 0 rejected, then 15 / 2^64
    CHECK(g.next == 4);
    CHECK(uniform_index(2, g) == 2);                 // 3·(3·2^62) = 2·2^64 + 2^62
    words one{{UINT64_MAX}};
    CHECK(uniform_index(0, one) == 0);

    // Exactly uniform: χ² over r + 1 = 7 values (6 degrees of freedom; 35 is exceeded with
    // probability below 10⁻⁵), and over a range that rejects about half the words (s = 2^63 + 1).
    rng s = stream(9, "index");
    std::vector<long> count(7, 0);
    const long n = 70000;
    for (long i = 0; i < n; ++i) ++count.at(uniform_index(6, s));
    double chi2 = 0;
    for (long c: count) chi2 += (c - n/7.0)*(c - n/7.0)/(n/7.0);
    CHECK(chi2 < 35.0);
    // s = 3·2^62: 2^64 / s = 4/3, so without the rejection (a quarter of the words) the values
    // v ≡ 0 (mod 3) would have two words each and the others one: probability 1/2, not 1/3.
    const std::uint64_t r = 3*(1ull << 62) - 1;
    long zero_mod_3 = 0;
    const long m = 20000;
    for (long i = 0; i < m; ++i) {
        const std::uint64_t v = uniform_index(r, s);
        REQUIRE(v <= r);
        zero_mod_3 += v % 3 == 0;
    }
    CHECK(std::abs(zero_mod_3/double(m) - 1.0/3.0) <= test::z_tol*std::sqrt(2.0/9.0/m));
}

#ifdef __GLIBCXX__
TEST_CASE("each variate equals libstdc++'s, draw for draw", "[variates]") {
    // The files eisim wrote while it drew from the standard library (GCC's) stay as they were.
    const int n = 100000;
    rng a = stream(21, "libstdc++"), b = a;
    long differ = 0;
    for (int i = 0; i < n; ++i) differ += uniform(a) != std::uniform_real_distribution<double>(0.0, 1.0)(b);
    CHECK(differ == 0);
    for (int i = 0; i < n; ++i) differ += normal(a) != std::normal_distribution<double>(0.0, 1.0)(b);
    CHECK(differ == 0);
    normal_source z;
    std::normal_distribution<double> nd;
    for (int i = 0; i < n; ++i) differ += z(a) != nd(b);
    CHECK(differ == 0);
    for (double k: {0.3, 0.7, 1.0, 2.0, 2.5, 10.0})
        for (int i = 0; i < n/10; ++i) differ += gamma_variate(k, 0.37, a) != std::gamma_distribution<double>(k, 0.37)(b);
    CHECK(differ == 0);
    for (std::uint64_t r: {0ull, 1ull, 6ull, 99ull, 2147483646ull, (1ull << 40) + 3, 3*(1ull << 62) - 1})
        for (int i = 0; i < n/10; ++i) differ += uniform_index(r, a) != std::uniform_int_distribution<std::uint64_t>(0, r)(b);
    CHECK(differ == 0);
    for (int r: {0, 5, 99, 1000}) // network.cpp's Floyd sampling drew ints
        for (int i = 0; i < n/10; ++i)
            differ += static_cast<int>(uniform_index(static_cast<std::uint64_t>(r), a)) != std::uniform_int_distribution<int>(0, r)(b);
    CHECK(differ == 0);
    CHECK(a == b); // the same words consumed
}
#endif
