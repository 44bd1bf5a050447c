#include "analysis/realism.hpp"

#include <cmath>
#include <sstream>

#include "models/error.hpp"
#include "models/random.hpp"

namespace eisim::analysis {

namespace {

void check_fraction(double f, const char* option) {
    if (!(f > 0 && f <= 1))
        throw user_error(std::string(option) + ": " + std::to_string(f) + " is not a fraction in (0, 1]");
}

void check_nonnegative(double x, const char* option) {
    if (!(x >= 0 && std::isfinite(x)))
        throw user_error(std::string(option) + ": " + std::to_string(x) + " should be finite and >= 0");
}

// n standard normal draws of stream(seed, purpose, snapshot), in synapse order.
vector normals(std::uint64_t seed, const std::string& purpose, long snapshot, long n) {
    auto g = stream(seed, purpose, static_cast<std::uint64_t>(snapshot));
    vector z(n);
    for (long k = 0; k < n; ++k) z[k] = normal(g);
    return z;
}

bool detected(double w, double threshold) { return std::abs(w) >= threshold; }

} // namespace

bool realism::active() const {
    return observe_synapses != 1 || observe_neurons != 1 || noise_multiplicative != 0 || noise_additive != 0 ||
           detection_threshold != 0 || time_points != 0;
}

void realism::validate() const {
    check_fraction(observe_synapses, "--observe-synapses");
    check_fraction(observe_neurons, "--observe-neurons");
    check_nonnegative(noise_multiplicative, "--noise-multiplicative");
    check_nonnegative(noise_additive, "--noise-additive");
    check_nonnegative(detection_threshold, "--detection-threshold");
    if (time_points < 0 || time_points == 1)
        throw user_error("--time-points: " + std::to_string(time_points) +
                         " should be 0 (all snapshots) or at least 2 (the first and the last)");
}

std::string realism::describe() const {
    if (!active()) return "none";
    std::ostringstream os;
    os.precision(6);
    const char* sep = "";
    auto item = [&](const char* name, auto value) { os << sep << name << "=" << value; sep = ", "; };
    if (observe_neurons != 1) item("observe_neurons", observe_neurons);
    if (observe_synapses != 1) item("observe_synapses", observe_synapses);
    if (noise_multiplicative != 0) item("noise_multiplicative", noise_multiplicative);
    if (noise_additive != 0) item("noise_additive", noise_additive);
    if (detection_threshold != 0) item("detection_threshold", detection_threshold);
    if (time_points != 0) item("time_points", time_points);
    item("seed", seed);
    return os.str();
}

std::vector<bool> observed_cells(const realism& r, long n_cells) {
    std::vector<bool> cells(static_cast<std::size_t>(n_cells), true);
    if (r.observe_neurons == 1) return cells;
    auto g = stream(r.seed, "realism.neurons");
    for (long i = 0; i < n_cells; ++i) cells[i] = uniform(g) < r.observe_neurons; // U_i < F
    return cells;
}

std::vector<bool> observed_cells(const realism& r, long n_cells, const std::vector<std::pair<long, long>>& groups) {
    std::vector<bool> cells = observed_cells(r, n_cells);
    if (r.observe_neurons == 1) return cells;
    std::vector<double> u(static_cast<std::size_t>(n_cells));
    auto g = stream(r.seed, "realism.neurons"); // the draws observed_cells compared with F
    for (auto& v: u) v = uniform(g);
    for (auto [first, size]: groups) {
        if (size <= 0) continue;
        EISIM_ASSERT(first >= 0 && first + size <= n_cells);
        long best = first;
        bool any = false;
        for (long i = first; i < first + size; ++i) {
            any = any || cells[static_cast<std::size_t>(i)];
            if (u[static_cast<std::size_t>(i)] < u[static_cast<std::size_t>(best)]) best = i;
        }
        if (!any) cells[static_cast<std::size_t>(best)] = true;
    }
    return cells;
}

std::vector<long> sample_synapses(const realism& r, const synapse_table& table, const std::vector<bool>& cells) {
    const long n = table.size();
    std::vector<long> kept;
    kept.reserve(static_cast<std::size_t>(n));
    auto g = stream(r.seed, "realism.synapses." + table.projection);
    const auto seen = [&](bool is_network, long i) {
        if (!is_network) return true;
        EISIM_ASSERT(i >= 0 && i < static_cast<long>(cells.size()));
        return static_cast<bool>(cells[static_cast<std::size_t>(i)]);
    };
    for (long k = 0; k < n; ++k) {
        // V_k is drawn for every synapse, so that synapse k's draw never depends on the others.
        const bool sampled = r.observe_synapses == 1 || uniform(g) < r.observe_synapses;
        if (sampled && seen(table.pre_is_network, table.pre[k]) && seen(table.post_is_network, table.post[k]))
            kept.push_back(k);
    }
    return kept;
}

vector measure(const realism& r, const std::string& projection, long snapshot, const vector& w,
               const std::vector<long>& synapses) {
    const long n = w.size();
    vector xi, eta;
    if (r.noise_multiplicative > 0) xi = normals(r.seed, "realism.noise_multiplicative." + projection, snapshot, n);
    if (r.noise_additive > 0) eta = normals(r.seed, "realism.noise_additive." + projection, snapshot, n);
    vector out(static_cast<long>(synapses.size()));
    for (std::size_t j = 0; j < synapses.size(); ++j) {
        const long k = synapses[j];
        EISIM_ASSERT(k >= 0 && k < n);
        double x = w[k];
        if (r.noise_multiplicative > 0) x *= std::exp(r.noise_multiplicative*xi[k]); // w · exp(S ξ)
        if (r.noise_additive > 0) x += r.noise_additive*eta[k];                      // + S η
        if (r.detection_threshold > 0 && !detected(x, r.detection_threshold)) x = std::nan("");
        out[static_cast<long>(j)] = x;
    }
    return out;
}

std::vector<long> kept_time_points(long time_points, long T) {
    std::vector<long> rows;
    if (time_points == 0 || time_points >= T) {
        for (long t = 0; t < T; ++t) rows.push_back(t);
        return rows;
    }
    const long K = time_points;
    for (long j = 0; j < K; ++j) // round(j (T−1)/(K−1)); distinct since (T−1)/(K−1) > 1
        rows.push_back(static_cast<long>(std::llround(static_cast<double>(j)*(T - 1)/(K - 1))));
    return rows;
}

observation apply(const realism& r, const synapse_table& table, const std::vector<bool>& cells,
                  const weight_series& series) {
    EISIM_ASSERT(series.w.cols() == table.size());
    EISIM_ASSERT(static_cast<long>(series.snapshot.size()) == series.w.rows());
    observation o;
    const std::vector<long> sampled = sample_synapses(r, table, cells);
    o.rows = kept_time_points(r.time_points, series.w.rows());
    matrix measured(static_cast<long>(o.rows.size()), static_cast<long>(sampled.size()));
    for (std::size_t t = 0; t < o.rows.size(); ++t) {
        const long row = o.rows[t];
        o.snapshot.push_back(series.snapshot[static_cast<std::size_t>(row)]);
        measured.row(static_cast<long>(t)) = measure(r, table.projection, o.snapshot.back(), series.w.row(row).transpose(), sampled).transpose();
    }
    // Drop the synapses never detected (only a detection threshold makes a measurement NaN).
    std::vector<long> cols;
    for (std::size_t j = 0; j < sampled.size(); ++j) {
        const bool seen = r.detection_threshold == 0 || measured.rows() == 0 ||
                          measured.col(static_cast<long>(j)).array().isFinite().any();
        if (seen) cols.push_back(static_cast<long>(j));
    }
    o.w.resize(measured.rows(), static_cast<long>(cols.size()));
    for (std::size_t c = 0; c < cols.size(); ++c) {
        o.synapse.push_back(sampled[static_cast<std::size_t>(cols[c])]);
        o.w.col(static_cast<long>(c)) = measured.col(cols[c]);
    }
    return o;
}

measured_pair measure_pair(const realism& r, const synapse_table& table, const std::vector<bool>& cells,
                           long from_row, const vector& w_from, long to_row, const vector& w_to) {
    weight_series series;
    series.snapshot = {from_row, to_row};
    series.w.resize(2, table.size());
    series.w.row(0) = w_from.transpose();
    series.w.row(1) = w_to.transpose();
    realism two = r;
    two.time_points = 0; // the caller chose the two rows
    const observation o = apply(two, table, cells, series);
    measured_pair m;
    m.synapse = o.synapse;
    m.from = vector::Constant(table.size(), std::nan(""));
    m.to = vector::Constant(table.size(), std::nan(""));
    for (std::size_t j = 0; j < o.synapse.size(); ++j) {
        m.from[o.synapse[j]] = o.w(0, static_cast<long>(j));
        m.to[o.synapse[j]] = o.w(1, static_cast<long>(j));
    }
    return m;
}

} // namespace eisim::analysis
