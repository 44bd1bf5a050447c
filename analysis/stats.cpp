#include "analysis/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <random>

#include "models/error.hpp"

namespace eisim::analysis {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

double sign_of(double w) { return w > 0? 1.0: (w < 0? -1.0: 0.0); }

} // namespace

double standard_normal_cdf(double x) { return 0.5*std::erfc(-x/std::sqrt(2.0)); }

log_normal_summary summarize_log_normal(const vector& w) {
    std::vector<double> x;
    x.reserve(static_cast<std::size_t>(w.size()));
    for (long i = 0; i < w.size(); ++i) {
        const double m = std::abs(w[i]);
        if (m > 0 && std::isfinite(m)) x.push_back(std::log(m));
    }
    log_normal_summary s;
    s.n = static_cast<long>(x.size());
    s.mean_ln = s.sd_ln = s.skew_ln = s.mu = s.sigma = s.ks = nan;
    if (s.n == 0) return s;
    const double n = static_cast<double>(s.n);
    double sum = 0;
    for (double v: x) sum += v;
    const double mean = sum/n;
    s.mean_ln = s.mu = mean;
    if (s.n < 2) return s;
    double m2 = 0, m3 = 0;
    for (double v: x) {
        const double d = v - mean;
        m2 += d*d;
        m3 += d*d*d;
    }
    s.sd_ln = std::sqrt(m2/(n - 1));
    m2 /= n;
    m3 /= n;
    s.sigma = std::sqrt(m2);
    if (m2 <= 0) return s; // all magnitudes equal: no spread to fit
    s.skew_ln = m3/std::pow(m2, 1.5);
    std::sort(x.begin(), x.end());
    double ks = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double F = standard_normal_cdf((x[i] - s.mu)/s.sigma);
        ks = std::max({ks, (static_cast<double>(i) + 1)/n - F, F - static_cast<double>(i)/n});
    }
    s.ks = ks;
    return s;
}

double geometry::dual(double w) const {
    const double m = std::abs(w);
    // EG: sign(w)(ln|w| + 1); p-norm: sign(w)|w|^(p−1).
    return is_eg()? sign_of(w)*(std::log(m) + 1): sign_of(w)*std::pow(m, p - 1);
}

geometry eg_geometry() { return {"eg", 0}; }

geometry pnorm_geometry(double p) {
    if (!(p > 1)) throw user_error("a p-norm geometry needs p > 1, got " + std::to_string(p));
    char buf[32];
    std::snprintf(buf, sizeof buf, "p=%.1f", p);
    return {buf, p};
}

std::vector<geometry> candidate_geometries() {
    std::vector<geometry> out{eg_geometry()};
    for (int k = 1; k <= 20; ++k) out.push_back(pnorm_geometry((10.0 + k)/10.0));
    return out;
}

double normal_distance(const vector& z, const delta_cdf_grid& grid) {
    const long n = z.size();
    if (n < 1 || !z.allFinite()) return nan;
    // Bin each z_i at the first grid point x_j with x_j > z_i; then #{z_i < x_j} is the running
    // sum of the bins up to j (an O(n) empirical CDF on the grid, no sorting).
    const int G = grid.points;
    const double h = (grid.hi - grid.lo)/(G - 1);
    const auto x_at = [&](int j) { return grid.lo + j*h; };
    std::vector<long> bins(static_cast<std::size_t>(G) + 1, 0);
    for (long i = 0; i < n; ++i) {
        const double zi = z[i];
        double guess = std::floor((zi - grid.lo)/h) + 1;
        int j = static_cast<int>(std::clamp(guess, 0.0, static_cast<double>(G)));
        while (j > 0 && x_at(j - 1) > zi) --j;
        while (j < G && x_at(j) <= zi) ++j;
        ++bins[static_cast<std::size_t>(j)];
    }
    double sum = 0;
    long below = 0;
    for (int j = 0; j < G; ++j) {
        below += bins[static_cast<std::size_t>(j)];
        const double x = x_at(j);
        sum += std::abs(static_cast<double>(below)/static_cast<double>(n) - standard_normal_cdf(x));
    }
    return sum*h;
}

double delta_cdf(const vector& delta, const delta_cdf_grid& grid) {
    const long n = delta.size();
    if (n < 2 || !delta.allFinite()) return nan;
    const double mean = delta.mean();
    const double s = std::sqrt((delta.array() - mean).square().sum()/static_cast<double>(n - 1));
    if (!(s > 0) || !std::isfinite(s)) return nan;
    return normal_distance(delta/s, grid); // z = Δ/s: scaled, not centred
}

vector standardize_groups(const vector& delta, const std::vector<long>& sizes) {
    vector z(delta.size());
    long start = 0;
    for (long n_g: sizes) {
        EISIM_ASSERT(start + n_g <= delta.size());
        const auto d = delta.segment(start, n_g);
        const double mean = n_g > 0? d.mean(): nan;
        const double s = n_g > 1? std::sqrt((d.array() - mean).square().sum()/static_cast<double>(n_g - 1)): nan;
        // z_i = (Δ_i − Δ̄_g)/s_g; a group without a spread has no z.
        if (s > 0 && std::isfinite(s)) z.segment(start, n_g) = (d.array() - mean)/s;
        else z.segment(start, n_g).setConstant(nan);
        start += n_g;
    }
    EISIM_ASSERT(start == delta.size());
    return z;
}

vector standard_normal_sample(long n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    // u in (0, 1]: 53 random bits, shifted away from 0 so that ln u is finite.
    const auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 1.0)*0x1.0p-53; };
    vector z(n);
    const double two_pi = 2*std::acos(-1.0);
    for (long i = 0; i < n; i += 2) {
        // Box–Muller: r = √(−2 ln u₁), z = r cos(2π u₂), r sin(2π u₂).
        const double r = std::sqrt(-2*std::log(uniform()));
        const double a = two_pi*uniform();
        z[i] = r*std::cos(a);
        if (i + 1 < n) z[i + 1] = r*std::sin(a);
    }
    return z;
}

double quantile(std::vector<double> values, double q) {
    if (values.empty()) return nan;
    std::sort(values.begin(), values.end());
    const double pos = q*static_cast<double>(values.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (pos - static_cast<double>(lo))*(values[hi] - values[lo]);
}

namespace {

// The q-quantile of statistic(ε) over R samples ε of n iid N(0, 1) from the stream for n.
template <class Statistic>
double floor_of(long n, const floor_options& options, Statistic statistic) {
    if (n < 2) return nan;
    std::vector<double> d;
    d.reserve(static_cast<std::size_t>(options.samples));
    std::mt19937_64 seeds(options.seed + static_cast<std::uint64_t>(n));
    for (int r = 0; r < options.samples; ++r) d.push_back(statistic(standard_normal_sample(n, seeds())));
    return quantile(d, options.quantile);
}

} // namespace

double noise_floor(long n, const floor_options& options, const delta_cdf_grid& grid) {
    return floor_of(n, options, [&](const vector& e) { return delta_cdf(e, grid); });
}

double noise_floor_groups(const std::vector<long>& sizes, const floor_options& options, const delta_cdf_grid& grid) {
    long n = 0;
    for (long n_g: sizes) n += n_g;
    return floor_of(n, options, [&](const vector& e) { return normal_distance(standardize_groups(e, sizes), grid); });
}

std::string name_of(standardization s) { return s == standardization::pooled? "pooled": "per-neuron"; }

standardization standardization_named(const std::string& name) {
    for (auto s: {standardization::pooled, standardization::per_neuron})
        if (name == name_of(s)) return s;
    throw user_error("--standardize: unknown standardization '" + name + "'; known: pooled, per-neuron");
}

namespace {

// The synapses every candidate has a dual for: finite and non-zero at both snapshots.
bool testable(double a, double b) { return a != 0 && b != 0 && std::isfinite(a) && std::isfinite(b); }

// The candidate loop shared by both variants: for each candidate, the dual change of the
// synapses `keep` (in that order), scored by `score(Δ)`; then the best and the consistent set.
template <class Score>
void score_candidates(geometry_result& out, const vector& w_from, const vector& w_to, const std::vector<long>& keep,
                      const geometry_options& options, Score score) {
    const long n = static_cast<long>(keep.size());
    vector delta(n), y0(n);
    double best = nan;
    for (const auto& g: options.candidates) {
        for (long k = 0; k < n; ++k) {
            const long i = keep[static_cast<std::size_t>(k)];
            y0[k] = g.dual(w_from[i]);
            delta[k] = g.dual(w_to[i]) - y0[k];
        }
        candidate_result c;
        c.name = g.name;
        c.p = g.p;
        c.dcdf = score(delta);
        const double base = y0.norm();
        c.relative_change = n > 0 && base > 0? delta.norm()/base: nan;
        if (std::isfinite(c.dcdf) && !(c.dcdf >= best)) { // strict: ties keep the earlier candidate
            best = c.dcdf;
            out.best = c.name;
        }
        out.candidates.push_back(c);
    }
    if (!out.best.empty()) {
        const double tol = std::isfinite(out.floor)? out.floor: 0.0;
        for (const auto& c: out.candidates)
            if (std::isfinite(c.dcdf) && c.dcdf <= best + tol) out.consistent.push_back(c.name);
    }
}

} // namespace

geometry_result geometry_test(const vector& w_from, const vector& w_to, const geometry_options& options) {
    EISIM_ASSERT(w_from.size() == w_to.size());
    geometry_result out;
    out.standardize = standardization::pooled;
    std::vector<long> keep;
    keep.reserve(static_cast<std::size_t>(w_from.size()));
    for (long i = 0; i < w_from.size(); ++i)
        if (testable(w_from[i], w_to[i])) keep.push_back(i);
    out.n = static_cast<long>(keep.size());
    out.excluded = static_cast<long>(w_from.size()) - out.n;
    out.floor = noise_floor(out.n, options.floor, options.grid);
    score_candidates(out, w_from, w_to, keep, options, [&](const vector& d) { return delta_cdf(d, options.grid); });
    return out;
}

geometry_result geometry_test_per_neuron(const vector& w_from, const vector& w_to, const index_vector& post,
                                         const geometry_options& options) {
    EISIM_ASSERT(w_from.size() == w_to.size() && post.size() == w_from.size());
    geometry_result out;
    out.standardize = standardization::per_neuron;
    // The testable synapses by postsynaptic neuron, in increasing label order.
    std::map<long, std::vector<long>> by_neuron;
    for (long i = 0; i < w_from.size(); ++i)
        if (testable(w_from[i], w_to[i])) by_neuron[post[i]].push_back(i);
        else ++out.excluded;
    // Kept neurons' synapses laid out group after group, as standardize_groups expects.
    std::vector<long> keep, sizes;
    for (const auto& [neuron, members]: by_neuron) {
        const bool changed = std::any_of(members.begin(), members.end(), [&](long i) { return w_to[i] != w_from[i]; });
        if (static_cast<long>(members.size()) < options.min_synapses || !changed) {
            ++out.neurons_skipped;
            out.skipped_synapses += static_cast<long>(members.size());
            continue;
        }
        keep.insert(keep.end(), members.begin(), members.end());
        sizes.push_back(static_cast<long>(members.size()));
    }
    out.neurons = static_cast<long>(sizes.size());
    out.n = static_cast<long>(keep.size());
    out.floor = noise_floor_groups(sizes, options.floor, options.grid);
    score_candidates(out, w_from, w_to, keep, options,
                     [&](const vector& d) { return normal_distance(standardize_groups(d, sizes), options.grid); });
    return out;
}

} // namespace eisim::analysis
