// The statistics of analysis/stats.hpp against what they must recover: the true geometry of a
// synthetic dual-space Gaussian change, the 1/√n floor of ΔCDF, the parameters of a log-normal.
#include <catch2/catch.hpp>

#include <limits>

#include <cmath>
#include <random>

#include "analysis/json.hpp"
#include "analysis/report.hpp"
#include "analysis/stats.hpp"
#include "tests/analysis/fixture.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;
using namespace eisim::analysis;

namespace {

vector normal_sample(long n, std::uint64_t seed, double mean = 0, double sd = 1) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> d(mean, sd);
    vector x(n);
    for (long i = 0; i < n; ++i) x[i] = d(rng);
    return x;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// The distance of z from N(0, 1) on the ΔCDF grid, computed by sorting (independent of the
// binning in normal_distance).
double sorted_distance(std::vector<double> z) {
    std::sort(z.begin(), z.end());
    const int G = 1000;
    const double h = 10.0/(G - 1);
    double sum = 0;
    for (int j = 0; j < G; ++j) {
        const double x = -5 + j*h;
        const double F = static_cast<double>(std::lower_bound(z.begin(), z.end(), x) - z.begin())/z.size();
        sum += std::abs(F - 0.5*std::erfc(-x/std::sqrt(2.0)));
    }
    return sum*h;
}

} // namespace

TEST_CASE("the candidates are EG and p = 1.1, 1.2, ..., 3.0 with the contract's names", "[analysis][geometry]") {
    const auto c = candidate_geometries();
    REQUIRE(c.size() == 21);
    CHECK(c[0].name == "eg");
    CHECK(c[0].is_eg());
    CHECK(c[10].name == "p=2.0");
    CHECK(c[10].p == Approx(2.0).epsilon(test::roundoff));
    CHECK(c[20].name == "p=3.0");
    // Dual maps on signed weights.
    const double w = -0.37;
    CHECK(c[0].dual(w) == Approx(-(std::log(0.37) + 1)).epsilon(test::roundoff));
    CHECK(c[10].dual(w) == Approx(w).epsilon(test::roundoff));
    CHECK(c[20].dual(w) == Approx(-0.37*0.37).epsilon(test::roundoff));
    CHECK_THROWS_AS(pnorm_geometry(1.0), user_error);
}

TEST_CASE("the true geometry of a dual-space Gaussian change is the best candidate and consistent", "[analysis][geometry]") {
    const long n = 20000;
    for (const auto& truth: {eg_geometry(), pnorm_geometry(2.0), pnorm_geometry(3.0)}) {
        DYNAMIC_SECTION("trained with " << truth.name) {
            const auto w = test::dual_gaussian_change(truth, n, 42);
            const auto r = geometry_test(w.w0, w.w1);
            CHECK(r.n == n);
            CHECK(r.excluded == 0);
            CHECK(r.best == truth.name);
            CHECK(contains(r.consistent, truth.name));
            // The test tells EG from gradient descent: neither is consistent with the other's change.
            if (truth.is_eg()) CHECK_FALSE(contains(r.consistent, "p=2.0"));
            if (truth.p == 2.0) CHECK_FALSE(contains(r.consistent, "eg"));
            // The true candidate's dual change is the drawn Gaussian: its ΔCDF is within the floor.
            double dcdf_true = 0;
            for (auto& c: r.candidates) if (c.name == truth.name) dcdf_true = c.dcdf;
            CHECK(dcdf_true <= r.floor);
            // The consistent set is the candidates within the floor of the best, by definition.
            double best = 1e300;
            for (auto& c: r.candidates) best = std::min(best, c.dcdf);
            for (auto& c: r.candidates) CHECK(contains(r.consistent, c.name) == (c.dcdf <= best + r.floor));
        }
    }
}

TEST_CASE("relative change is |Δ| / |∇φ(w_from)|", "[analysis][geometry]") {
    const auto w = test::dual_gaussian_change(pnorm_geometry(2.0), 500, 3);
    const auto r = geometry_test(w.w0, w.w1);
    for (auto& c: r.candidates) {
        const auto g = c.p > 0? pnorm_geometry(c.p): eg_geometry();
        vector y0 = w.w0.unaryExpr([&](double x) { return g.dual(x); });
        vector y1 = w.w1.unaryExpr([&](double x) { return g.dual(x); });
        CHECK(c.relative_change == Approx((y1 - y0).norm()/y0.norm()).epsilon(1e-10));
    }
}

TEST_CASE("synapses at zero are left out of the geometry test", "[analysis][geometry]") {
    auto w = test::dual_gaussian_change(eg_geometry(), 1000, 5);
    w.w1[3] = 0;
    w.w0[7] = 0;
    const auto r = geometry_test(w.w0, w.w1);
    CHECK(r.n == 998);
    CHECK(r.excluded == 2);
    for (auto& c: r.candidates) CHECK(std::isfinite(c.dcdf));
}

TEST_CASE("no change gives no best candidate", "[analysis][geometry]") {
    const auto w = test::dual_gaussian_change(eg_geometry(), 100, 5);
    const auto r = geometry_test(w.w0, w.w0);
    CHECK(r.best.empty());
    CHECK(r.consistent.empty());
}

TEST_CASE("ΔCDF matches its definition computed by sorting", "[analysis][dcdf]") {
    // Independent computation: sort z, F̂(x_j) = #{z < x_j}/n by binary search.
    const vector d = normal_sample(777, 9, 0.3, 2.0);
    const double mean = d.mean();
    const double s = std::sqrt((d.array() - mean).square().sum()/(d.size() - 1));
    std::vector<double> z(d.data(), d.data() + d.size());
    for (auto& v: z) v /= s;
    CHECK(delta_cdf(d) == Approx(sorted_distance(z)).epsilon(1e-12));
    // Scale-invariant, not shift-invariant (z is not centred).
    CHECK(delta_cdf(3.0*d) == Approx(delta_cdf(d)).epsilon(1e-12));
    CHECK(delta_cdf((d.array() + 5.0).matrix()) > delta_cdf(d) + 0.1);
}

TEST_CASE("ΔCDF of exact N(0,1) samples shrinks like 1/sqrt(n)", "[analysis][dcdf]") {
    // Mean ΔCDF over R samples at n = 1000·4^k: the slope of ln E[ΔCDF] against ln n is −1/2.
    const int R = 100;
    std::vector<double> ln_n, ln_d;
    for (long n: {1000L, 4000L, 16000L, 64000L}) {
        double sum = 0;
        for (int r = 0; r < R; ++r) sum += delta_cdf(normal_sample(n, 1000*n + r));
        ln_n.push_back(std::log(static_cast<double>(n)));
        ln_d.push_back(std::log(sum/R));
    }
    const double mx = (ln_n[0] + ln_n[1] + ln_n[2] + ln_n[3])/4, my = (ln_d[0] + ln_d[1] + ln_d[2] + ln_d[3])/4;
    double sxy = 0, sxx = 0;
    for (int k = 0; k < 4; ++k) {
        sxy += (ln_n[k] - mx)*(ln_d[k] - my);
        sxx += (ln_n[k] - mx)*(ln_n[k] - mx);
    }
    CHECK(sxy/sxx == Approx(-0.5).margin(0.05));
    // Each quadrupling of n halves it.
    for (int k = 1; k < 4; ++k) CHECK(std::exp(ln_d[k - 1] - ln_d[k]) == Approx(2.0).margin(0.2));
    // The noise floor (95th percentile) lies above the mean and shrinks the same way.
    const double f1 = noise_floor(1000), f4 = noise_floor(16000);
    CHECK(f1 > std::exp(ln_d[0]));
    CHECK(f1/f4 == Approx(4.0).margin(0.6));
}

TEST_CASE("the noise floor is deterministic and its samples are standard normal", "[analysis][dcdf]") {
    CHECK(noise_floor(500) == noise_floor(500));
    const long n = 200000;
    const vector z = standard_normal_sample(n, 17);
    const double mean = z.mean(), var = (z.array() - mean).square().sum()/(n - 1);
    CHECK(std::abs(mean) <= test::z_tol/std::sqrt(double(n)));
    CHECK(std::abs(var - 1) <= test::z_tol*std::sqrt(2.0/n));
    CHECK(quantile({1, 2, 3, 4, 5}, 0.95) == Approx(4.8).epsilon(test::roundoff));
}

TEST_CASE("the log-normal fit recovers mu and sigma", "[analysis][lognormal]") {
    // Song et al. 2005: mu = −0.702, sigma = 0.9355 (ln of EPSP amplitudes in mV).
    const double mu = -0.702, sigma = 0.9355;
    const long n = 20000;
    const vector x = normal_sample(n, 2005, mu, sigma);
    vector w = x.array().exp().matrix();
    for (long i = 0; i < n; i += 5) w[i] = -w[i]; // inhibitory synapses: magnitudes count
    const auto s = summarize_log_normal(w);
    CHECK(s.n == n);
    CHECK(std::abs(s.mu - mu) <= test::z_tol*sigma/std::sqrt(double(n)));
    CHECK(std::abs(s.sigma - sigma) <= test::z_tol*sigma/std::sqrt(2.0*n));
    CHECK(s.mean_ln == s.mu);
    CHECK(s.sd_ln == Approx(s.sigma*std::sqrt(double(n)/(n - 1))).epsilon(test::roundoff));
    CHECK(std::abs(s.skew_ln) <= test::z_tol*std::sqrt(6.0/n));
    // KS distance to the fit: below the 1% critical value of the KS test with known parameters
    // (1.63/√n), which bounds the smaller one with fitted parameters.
    CHECK(s.ks < 1.63/std::sqrt(double(n)));

    // Magnitudes that are not log-normal (uniform on (0, 1]: ln|w| is minus an exponential,
    // skewness −2) are told apart.
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(1e-12, 1);
    vector v(n);
    for (long i = 0; i < n; ++i) v[i] = u(rng);
    const auto t = summarize_log_normal(v);
    CHECK(t.ks > 10/std::sqrt(double(n)));
    CHECK(t.skew_ln == Approx(-2).margin(test::z_tol*std::sqrt(6.0*(1 + 4.5)/n) + 0.2));
}

TEST_CASE("the log-normal summary skips zeros and handles tiny samples", "[analysis][lognormal]") {
    vector w(4);
    w << 0, 1, std::exp(2.0), -std::exp(4.0);
    const auto s = summarize_log_normal(w);
    CHECK(s.n == 3);
    CHECK(s.mu == Approx(2.0).epsilon(test::roundoff));
    CHECK(s.sd_ln == Approx(2.0).epsilon(test::roundoff));
    CHECK(s.skew_ln == Approx(0.0).margin(test::roundoff));
    // KS against N(2, 8/3) at the three points, by hand.
    const double sg = std::sqrt(8.0/3), F0 = standard_normal_cdf(-2/sg);
    CHECK(s.ks == Approx(std::max(1.0/3 - F0, F0)).epsilon(1e-12));
    const auto one = summarize_log_normal(vector::Constant(1, 2.0));
    CHECK(one.n == 1);
    CHECK(std::isnan(one.sigma));
}

TEST_CASE("the report's JSON: non-finite numbers as null, order kept, bad UTF-8 replaced, dotted paths", "[analysis][json]") {
    json j = json::object();
    j["z"] = 0.1; // insertion order, not alphabetical
    j["a"] = std::nan("");
    j["inf"] = -std::numeric_limits<double>::infinity();
    j["path"] = std::string("run\xff.h5"); // a file name that is not UTF-8
    j["nested"] = json::object();
    j["nested"]["list"] = json::array({1.5e-300, true, nullptr});
    const std::string text = dump(j, -1);
    CHECK(text == "{\"z\":0.1,\"a\":null,\"inf\":null,\"path\":\"run\xef\xbf\xbd.h5\",\"nested\":{\"list\":[1.5e-300,true,null]}}");
    const auto back = json::parse(dump(j)); // indented text reads back to the same values
    CHECK(back.at("z").get<double>() == 0.1);
    CHECK(at_path(back, "nested.list")[0].get<double>() == 1.5e-300);
    CHECK(at_path(back, "nested.list").size() == 3);
    CHECK_THROWS_WITH(at_path(back, "nested.missing.x"), Catch::Contains("nested.missing"));
    CHECK_THROWS_WITH(at_path(back, "z.x"), Catch::Contains("z.x"));
}

TEST_CASE("consistent sets are listed compactly", "[analysis][report]") {
    CHECK(compress_names({"eg", "p=1.1", "p=1.2", "p=1.3", "p=2.0"}) == "eg, p=1.1..1.3, p=2.0");
    CHECK(compress_names({}) == "-");
}

// ---- Per-neuron standardisation: the per-neuron geometry test (stats.hpp part 3) ----

namespace {

// Per-group z-scores by explicit loops: z = (Δ − mean)/sd with the n − 1 sd.
std::vector<double> z_by_loops(const vector& d, const std::vector<long>& sizes) {
    std::vector<double> z;
    long start = 0;
    for (long n: sizes) {
        double mean = 0, ss = 0;
        for (long i = start; i < start + n; ++i) mean += d[i]/n;
        for (long i = start; i < start + n; ++i) ss += (d[i] - mean)*(d[i] - mean);
        const double sd = std::sqrt(ss/(n - 1));
        for (long i = start; i < start + n; ++i) z.push_back((d[i] - mean)/sd);
        start += n;
    }
    return z;
}

double dcdf_of(const geometry_result& r, const std::string& name) {
    for (auto& c: r.candidates) if (c.name == name) return c.dcdf;
    return std::nan("");
}

} // namespace

TEST_CASE("per-neuron z-scores are centred and scaled within each neuron", "[analysis][per-neuron]") {
    const vector d = normal_sample(60, 4, 0.7, 3.0);
    const std::vector<long> sizes{10, 25, 25};
    const vector z = standardize_groups(d, sizes);
    const auto expect = z_by_loops(d, sizes);
    for (long i = 0; i < d.size(); ++i) CHECK(z[i] == Approx(expect[static_cast<std::size_t>(i)]).epsilon(1e-12));
    // Each group's z has mean 0 and sample sd 1 whatever the group's offset and width.
    vector shifted = d;
    shifted.segment(10, 25) = 100.0 + 1e-3*d.segment(10, 25).array();
    const vector z2 = standardize_groups(shifted, sizes);
    CHECK(z2.segment(10, 25).mean() == Approx(0).margin(1e-12));
    CHECK(std::sqrt(z2.segment(10, 25).squaredNorm()/24) == Approx(1).epsilon(1e-9));
    // A group without a spread (or of one synapse) has no z.
    vector flat = d;
    flat.segment(0, 10).setConstant(2.0);
    CHECK(std::isnan(standardize_groups(flat, sizes)[0]));
    CHECK(std::isnan(standardize_groups(d.head(3), {1, 2})[0]));
    // normal_distance is the ΔCDF sum; delta_cdf is it on Δ/s.
    const std::vector<double> zs(z.data(), z.data() + z.size());
    CHECK(normal_distance(z) == Approx(sorted_distance(zs)).epsilon(1e-12));
    const double s = std::sqrt((d.array() - d.mean()).square().sum()/(d.size() - 1));
    CHECK(delta_cdf(d) == Approx(normal_distance(d/s)).epsilon(1e-12));
}

TEST_CASE("the per-neuron noise floor is the quantile of the same statistic on Gaussian groups", "[analysis][per-neuron]") {
    // Independent recomputation of the documented procedure: stream mt19937_64(seed + n), R samples
    // of n = Σ n_g draws, z-scores per group by loops, distance by sorting, 95th percentile.
    const std::vector<long> sizes{40, 12, 80, 40, 28};
    const long n = 200;
    floor_options o;
    o.samples = 50;
    std::mt19937_64 seeds(o.seed + n);
    std::vector<double> d;
    for (int r = 0; r < o.samples; ++r) d.push_back(sorted_distance(z_by_loops(standard_normal_sample(n, seeds()), sizes)));
    CHECK(noise_floor_groups(sizes, o) == Approx(quantile(d, 0.95)).epsilon(1e-12));
    CHECK(noise_floor_groups(sizes, o) == noise_floor_groups(sizes, o));
    // Small groups cost precision: centring and scaling by n_g − 1 values shrinks the z (their
    // variance is (n_g − 1)/n_g), so the same n in groups of 10 has a higher floor than in one group.
    const std::vector<long> one{4000}, small(400, 10);
    CHECK(noise_floor_groups(small) > noise_floor_groups(one));
    CHECK(std::isnan(noise_floor_groups({1})));
}

TEST_CASE("neuron-specific widths fool the pooled test, not the per-neuron test", "[analysis][per-neuron][geometry]") {
    // Each neuron's dual change is Gaussian with its own width (two decades) and offset: the
    // pooled change is a scale mixture, heavy-tailed, so even the true geometry's ΔCDF lies far
    // above the pooled floor; standardised per neuron, the true geometry is within its floor,
    // is the best candidate, and EG and gradient descent are told apart.
    const long neurons = 200, per_neuron = 100;
    for (const auto& truth: {eg_geometry(), pnorm_geometry(2.0), pnorm_geometry(3.0)}) {
        DYNAMIC_SECTION("trained with " << truth.name) {
            const auto w = test::per_neuron_gaussian_change(truth, neurons, per_neuron, 77);
            const auto pooled = geometry_test(w.w0, w.w1);
            const auto per = geometry_test_per_neuron(w.w0, w.w1, w.post);
            CHECK(pooled.standardize == standardization::pooled);
            CHECK(per.standardize == standardization::per_neuron);
            CHECK(per.n == neurons*per_neuron);
            CHECK(per.neurons == neurons);
            CHECK(per.neurons_skipped == 0);
            CHECK(dcdf_of(pooled, truth.name) > 3*pooled.floor);
            CHECK(dcdf_of(per, truth.name) <= per.floor);
            CHECK(per.best == truth.name);
            CHECK(contains(per.consistent, truth.name));
            if (truth.is_eg()) CHECK_FALSE(contains(per.consistent, "p=2.0"));
            if (truth.p == 2.0) CHECK_FALSE(contains(per.consistent, "eg"));
            // The consistent set is the candidates within the floor of the best, by definition.
            double best = 1e300;
            for (auto& c: per.candidates) best = std::min(best, c.dcdf);
            for (auto& c: per.candidates) CHECK(contains(per.consistent, c.name) == (c.dcdf <= best + per.floor));
        }
    }
}

TEST_CASE("per-neuron: small and unchanged neurons are skipped and counted", "[analysis][per-neuron]") {
    auto w = test::per_neuron_gaussian_change(eg_geometry(), 30, 20, 8);
    // Neuron 0: unchanged. Neuron 1: 12 of its 20 synapses at zero, leaving 8 < 10 testable.
    // Neuron 2: one synapse at zero (19 left, kept).
    for (long i = 0; i < 20; ++i) w.w1[i] = w.w0[i];
    for (long i = 20; i < 32; ++i) w.w1[i] = 0;
    w.w0[45] = 0;
    const auto r = geometry_test_per_neuron(w.w0, w.w1, w.post);
    CHECK(r.excluded == 13);
    CHECK(r.neurons_skipped == 2);
    CHECK(r.skipped_synapses == 20 + 8);
    CHECK(r.neurons == 28);
    CHECK(r.n == 600 - 13 - 28);
    CHECK(r.n == 27*20 + 19);
    for (auto& c: r.candidates) CHECK(std::isfinite(c.dcdf));
    // Labels need not be 0..N−1 nor sorted: the same groups give the same answer.
    index_vector relabelled = (w.post.array()*7 + 1000).matrix();
    const auto r2 = geometry_test_per_neuron(w.w0, w.w1, relabelled);
    CHECK(r2.best == r.best);
    CHECK(dcdf_of(r2, "eg") == Approx(dcdf_of(r, "eg")).epsilon(1e-12));
    // A larger minimum skips more.
    geometry_options o;
    o.min_synapses = 20;
    const auto r3 = geometry_test_per_neuron(w.w0, w.w1, w.post, o);
    CHECK(r3.neurons_skipped == 3);
    // Nothing left to test: no best, no floor.
    o.min_synapses = 1000;
    const auto none = geometry_test_per_neuron(w.w0, w.w1, w.post, o);
    CHECK(none.n == 0);
    CHECK(none.best.empty());
    CHECK(std::isnan(none.floor));
}

TEST_CASE("standardizations are named pooled and per-neuron", "[analysis][per-neuron]") {
    CHECK(name_of(standardization::pooled) == "pooled");
    CHECK(name_of(standardization::per_neuron) == "per-neuron");
    CHECK(standardization_named("per-neuron") == standardization::per_neuron);
    CHECK(standardization_named("pooled") == standardization::pooled);
    try {
        standardization_named("per_neuron");
        FAIL("no error");
    } catch (const user_error& e) {
        CHECK(std::string(e.what()).find("known: pooled, per-neuron") != std::string::npos);
    }
}
