// The realism transforms keep what they claim: sampled fractions within binomial error, the
// neuron rule exactly (only synapses among observed cells), noise of the stated size, the
// detection threshold respected, K evenly spaced time points; and with an option off, nothing
// changes. Expectations are computed from the definitions in analysis/realism.hpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "analysis/realism.hpp"
#include "models/error.hpp"
#include "models/random.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;
using namespace eisim::analysis;

namespace {

constexpr long n_cells = 2000, n_synapses = 20000, n_snapshots = 5;

// A random projection among n_cells cells with log-normal weights, E (+) or I (−) by the pre cell.
synapse_table make_table(const std::string& name = "recurrent", bool pre_is_network = true) {
    synapse_table t;
    t.projection = name;
    t.pre_is_network = pre_is_network;
    t.pre.resize(n_synapses);
    t.post.resize(n_synapses);
    auto g = stream(99, "test.table");
    for (long k = 0; k < n_synapses; ++k) {
        t.pre[k] = static_cast<long>(uniform(g)*n_cells);
        t.post[k] = static_cast<long>(uniform(g)*n_cells);
    }
    return t;
}

weight_series make_series(const synapse_table& t) {
    weight_series s;
    s.w.resize(n_snapshots, t.size());
    auto g = stream(99, "test.weights");
    for (long k = 0; k < t.size(); ++k) {
        const double sign = t.pre[k] < n_cells*4/5? 1.0: -1.0;
        double ln = -2 + normal(g);
        for (long r = 0; r < n_snapshots; ++r) {
            s.w(r, k) = sign*std::exp(ln);
            ln += 0.1*normal(g);
        }
    }
    for (long r = 0; r < n_snapshots; ++r) s.snapshot.push_back(r);
    return s;
}

std::vector<long> all_of(long n) {
    std::vector<long> v(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
    return v;
}

// The measured weights of the kept synapses equal the true ones, bit for bit.
void check_weights_exact(const observation& o, const weight_series& s) {
    for (std::size_t t = 0; t < o.rows.size(); ++t)
        for (std::size_t j = 0; j < o.synapse.size(); ++j)
            REQUIRE(o.w(static_cast<long>(t), static_cast<long>(j)) == s.w(o.rows[t], o.synapse[j]));
}

// |estimate − truth| ≤ z_tol · standard error of a binomial fraction.
void check_fraction(double kept, double n, double f) {
    INFO("kept " << kept << " of " << n << ", expected fraction " << f);
    CHECK(std::abs(kept/n - f) <= test::z_tol*std::sqrt(f*(1 - f)/n));
}

// Sample mean 0 and sample sd S of x, within z_tol standard errors (S/√n, S/√(2(n−1))).
void check_normal(const std::vector<double>& x, double S) {
    const double n = static_cast<double>(x.size());
    double mean = 0;
    for (double v: x) mean += v;
    mean /= n;
    double ss = 0;
    for (double v: x) ss += (v - mean)*(v - mean);
    const double sd = std::sqrt(ss/(n - 1));
    INFO("n " << n << ", mean " << mean << ", sd " << sd << ", stated S " << S);
    CHECK(std::abs(mean) <= test::z_tol*S/std::sqrt(n));
    CHECK(std::abs(sd - S) <= test::z_tol*S/std::sqrt(2*(n - 1)));
}

} // namespace

TEST_CASE("every transform off is exactly the identity", "[realism]") {
    const auto t = make_table();
    const auto s = make_series(t);
    realism r;
    CHECK(!r.active());
    CHECK(r.describe() == "none");
    const auto o = apply(r, t, observed_cells(r, n_cells), s);
    CHECK(o.synapse == all_of(n_synapses));
    CHECK(o.rows == all_of(n_snapshots));
    CHECK(o.snapshot == s.snapshot);
    REQUIRE(o.w.rows() == s.w.rows());
    REQUIRE(o.w.cols() == s.w.cols());
    CHECK((o.w.array() == s.w.array()).all());
}

TEST_CASE("option --observe-synapses keeps a binomial fraction and changes no weight", "[realism]") {
    const auto t = make_table();
    const auto s = make_series(t);
    for (double f: {0.1, 0.5, 0.9}) {
        realism r;
        r.observe_synapses = f;
        r.seed = 11;
        const auto o = apply(r, t, observed_cells(r, n_cells), s);
        check_fraction(static_cast<double>(o.synapse.size()), n_synapses, f);
        CHECK(std::is_sorted(o.synapse.begin(), o.synapse.end()));
        CHECK(o.rows == all_of(n_snapshots));
        check_weights_exact(o, s);
        // Seeded: the same seed gives the same synapses, another seed others.
        CHECK(apply(r, t, observed_cells(r, n_cells), s).synapse == o.synapse);
        r.seed = 12;
        CHECK(apply(r, t, observed_cells(r, n_cells), s).synapse != o.synapse);
    }
}

TEST_CASE("option --observe-neurons keeps exactly the synapses among observed cells", "[realism]") {
    realism r;
    r.observe_neurons = 0.3;
    r.seed = 5;
    const auto cells = observed_cells(r, n_cells);
    long seen = 0;
    for (bool c: cells) seen += c;
    check_fraction(static_cast<double>(seen), n_cells, 0.3);

    for (bool pre_is_network: {true, false}) { // recurrent; input (channels are always known)
        const auto t = make_table(pre_is_network? "recurrent": "input", pre_is_network);
        const auto s = make_series(t);
        const auto o = apply(r, t, cells, s);
        std::vector<long> expected;
        for (long k = 0; k < t.size(); ++k)
            if ((!pre_is_network || cells[t.pre[k]]) && cells[t.post[k]]) expected.push_back(k);
        CHECK(o.synapse == expected);
        check_weights_exact(o, s);
        // The expected fraction of synapses: F² for two observed ends, F for one (for synapses
        // whose ends differ), with the realised cell fraction; a loose check of the same rule.
        const double fc = static_cast<double>(seen)/n_cells, f = pre_is_network? fc*fc: fc;
        CHECK(std::abs(static_cast<double>(o.synapse.size())/n_synapses - f) < 0.05);
    }
}

TEST_CASE("option --noise-multiplicative is log-normal of the stated size and keeps the sign", "[realism]") {
    const auto t = make_table();
    const auto s = make_series(t);
    realism r;
    r.noise_multiplicative = 0.25;
    const auto o = apply(r, t, observed_cells(r, n_cells), s);
    CHECK(o.synapse == all_of(n_synapses));
    CHECK(o.rows == all_of(n_snapshots));
    std::vector<double> log_ratio0, log_ratio1;
    for (long k = 0; k < n_synapses; ++k) {
        REQUIRE(std::signbit(o.w(0, k)) == std::signbit(s.w(0, k)));
        log_ratio0.push_back(std::log(o.w(0, k)/s.w(0, k)));
        log_ratio1.push_back(std::log(o.w(1, k)/s.w(1, k)));
    }
    check_normal(log_ratio0, 0.25);
    // Independent across snapshots: the correlation of the two noise samples is within z_tol/√n of 0.
    double c = 0;
    for (long k = 0; k < n_synapses; ++k) c += log_ratio0[k]*log_ratio1[k];
    c /= n_synapses*0.25*0.25;
    CHECK(std::abs(c) <= test::z_tol/std::sqrt(static_cast<double>(n_synapses)));
}

TEST_CASE("option --noise-additive is Gaussian of the stated size", "[realism]") {
    const auto t = make_table();
    const auto s = make_series(t);
    realism r;
    r.noise_additive = 0.02;
    const auto o = apply(r, t, observed_cells(r, n_cells), s);
    CHECK(o.synapse == all_of(n_synapses));
    std::vector<double> diff;
    for (long k = 0; k < n_synapses; ++k) diff.push_back(o.w(2, k) - s.w(2, k));
    check_normal(diff, 0.02);
}

TEST_CASE("the noise on a synapse does not depend on which others are observed", "[realism]") {
    const auto t = make_table();
    const auto s = make_series(t);
    realism all, some;
    all.noise_multiplicative = some.noise_multiplicative = 0.3;
    all.noise_additive = some.noise_additive = 0.01;
    some.observe_synapses = 0.4;
    const auto a = apply(all, t, observed_cells(all, n_cells), s);
    const auto b = apply(some, t, observed_cells(some, n_cells), s);
    REQUIRE(!b.synapse.empty());
    for (std::size_t j = 0; j < b.synapse.size(); ++j)
        for (long row = 0; row < n_snapshots; ++row)
            REQUIRE(b.w(row, static_cast<long>(j)) == a.w(row, b.synapse[j]));
}

TEST_CASE("option --detection-threshold hides exactly the weights below it", "[realism]") {
    const auto t = make_table();
    const auto s = make_series(t);
    const double T = std::exp(-2.0); // about the median magnitude
    realism r;
    r.detection_threshold = T;
    const auto o = apply(r, t, observed_cells(r, n_cells), s);
    std::vector<long> expected; // detected at one snapshot or more
    for (long k = 0; k < n_synapses; ++k)
        if ((s.w.col(k).array().abs() >= T).any()) expected.push_back(k);
    CHECK(o.synapse == expected);
    CHECK(o.synapse.size() < static_cast<std::size_t>(n_synapses));
    for (std::size_t j = 0; j < o.synapse.size(); ++j)
        for (long row = 0; row < n_snapshots; ++row) {
            const double truth = s.w(row, o.synapse[j]), seen = o.w(row, static_cast<long>(j));
            if (std::abs(truth) >= T) REQUIRE(seen == truth);
            else REQUIRE(std::isnan(seen));
        }
    // After noise, the threshold acts on the measured weight.
    r.noise_multiplicative = 0.5;
    const auto noisy = apply(r, t, observed_cells(r, n_cells), s);
    for (long row = 0; row < noisy.w.rows(); ++row)
        for (long j = 0; j < noisy.w.cols(); ++j)
            if (!std::isnan(noisy.w(row, j))) REQUIRE(std::abs(noisy.w(row, j)) >= T);
}

TEST_CASE("option --time-points keeps K evenly spaced snapshots with both ends", "[realism]") {
    for (long T: {2L, 5L, 21L, 100L})
        for (long K: {2L, 3L, 4L, 7L, 21L}) {
            INFO("T = " << T << ", K = " << K);
            const auto rows = kept_time_points(K, T);
            if (K >= T) {
                CHECK(rows == all_of(T));
                continue;
            }
            REQUIRE(static_cast<long>(rows.size()) == K);
            CHECK(rows.front() == 0);
            CHECK(rows.back() == T - 1);
            for (long j = 0; j < K; ++j) {
                CHECK(std::abs(rows[j] - static_cast<double>(j)*(T - 1)/(K - 1)) <= 0.5);
                if (j > 0) CHECK(rows[j] > rows[j - 1]);
            }
        }
    CHECK(kept_time_points(0, 7) == all_of(7));
    // In apply: the weights of the kept rows are unchanged, and the snapshot ids follow the rows.
    const auto t = make_table();
    auto s = make_series(t);
    for (auto& id: s.snapshot) id += 10;
    realism r;
    r.time_points = 3;
    const auto o = apply(r, t, observed_cells(r, n_cells), s);
    CHECK(o.rows == std::vector<long>{0, 2, 4});
    CHECK(o.snapshot == std::vector<long>{10, 12, 14});
    CHECK(o.synapse == all_of(n_synapses));
    check_weights_exact(o, s);
}

TEST_CASE("invalid realism options are user errors naming the option", "[realism][errors]") {
    struct bad { realism r; std::string option; };
    std::vector<bad> cases;
    auto add = [&](auto set, const char* option) { realism r; set(r); cases.push_back({r, option}); };
    add([](realism& r) { r.observe_synapses = 0; }, "--observe-synapses");
    add([](realism& r) { r.observe_synapses = 1.5; }, "--observe-synapses");
    add([](realism& r) { r.observe_neurons = -0.1; }, "--observe-neurons");
    add([](realism& r) { r.observe_neurons = std::nan(""); }, "--observe-neurons");
    add([](realism& r) { r.noise_multiplicative = -1; }, "--noise-multiplicative");
    add([](realism& r) { r.noise_additive = INFINITY; }, "--noise-additive");
    add([](realism& r) { r.detection_threshold = -0.5; }, "--detection-threshold");
    add([](realism& r) { r.time_points = 1; }, "--time-points");
    add([](realism& r) { r.time_points = -3; }, "--time-points");
    for (auto& c: cases) {
        INFO(c.option);
        try {
            c.r.validate();
            FAIL("no error");
        } catch (const user_error& e) {
            CHECK(std::string(e.what()).find(c.option) != std::string::npos);
        }
    }
    CHECK_NOTHROW(realism{}.validate());
}

TEST_CASE("measure_pair gives the analysis the same measurement as apply", "[realism]") {
    const auto t = make_table();
    const auto s = make_series(t);
    const vector w1 = s.w.row(1).transpose(), w3 = s.w.row(3).transpose();
    // Off: the true weights, every synapse.
    realism off;
    const auto m0 = measure_pair(off, t, observed_cells(off, n_cells), 1, w1, 3, w3);
    CHECK(m0.synapse == all_of(n_synapses));
    CHECK((m0.from.array() == w1.array()).all());
    CHECK((m0.to.array() == w3.array()).all());
    // On: the observed synapses and their measured values are apply's; the others are NaN.
    realism r;
    r.observe_synapses = 0.5;
    r.noise_multiplicative = 0.1;
    r.detection_threshold = std::exp(-2.5);
    const auto cells = observed_cells(r, n_cells);
    const auto m = measure_pair(r, t, cells, 1, w1, 3, w3);
    const auto o = apply(r, t, cells, s);
    std::set<long> seen(m.synapse.begin(), m.synapse.end());
    std::size_t j = 0;
    for (long k = 0; k < n_synapses; ++k) {
        if (!seen.count(k)) {
            REQUIRE(std::isnan(m.from[k]));
            REQUIRE(std::isnan(m.to[k]));
            continue;
        }
        while (o.synapse[j] < k) ++j; // o observes a superset (detected at any of 5 rows)
        REQUIRE(o.synapse[j] == k);
        for (auto [row, value]: {std::pair<long, double>{1, m.from[k]}, {3, m.to[k]}}) {
            const double expected = o.w(row, static_cast<long>(j));
            REQUIRE(((std::isnan(expected) && std::isnan(value)) || expected == value));
        }
    }
}
