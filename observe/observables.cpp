#include "observe/observables.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace eisim::observe {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

double apply(function f, double x) {
    switch (f) {
    case function::identity: return x;
    case function::abs: return std::abs(x);
    case function::square: return x*x;
    }
    return x;
}

// The q-quantile of sorted values, linear interpolation between order statistics (numpy's default).
double sorted_quantile(const std::vector<double>& y, double q) {
    const double pos = q*static_cast<double>(y.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, y.size() - 1);
    return y[lo] + (pos - static_cast<double>(lo))*(y[hi] - y[lo]);
}

} // namespace

summary summarize(const double* x, std::size_t n, function f) {
    std::vector<double> y;
    y.reserve(n);
    for (std::size_t k = 0; k < n; ++k)
        if (std::isfinite(x[k])) y.push_back(apply(f, x[k]));
    summary s;
    s.fill(nan);
    if (y.empty()) return s;
    const double count = static_cast<double>(y.size());
    double sum = 0, sum_sq = 0;
    for (double v: y) sum += v, sum_sq += v*v;
    const double mean = sum/count;
    double m2 = 0, m4 = 0;
    for (double v: y) {
        const double d = (v - mean)*(v - mean);
        m2 += d, m4 += d*d;
    }
    m2 /= count, m4 /= count;
    std::sort(y.begin(), y.end());
    const double median = sorted_quantile(y, 0.5);
    s[0] = std::sqrt(sum_sq);
    s[1] = mean;
    s[2] = median;
    s[3] = sorted_quantile(y, 0.75);
    s[4] = m2;
    if (m2 > 0) {
        s[5] = 3*(mean - median)/std::sqrt(m2);
        s[6] = m4/(m2*m2);
    }
    return s;
}

summary summarize_trials(const matrix& X, function f, const std::vector<long>& rows) {
    summary total{};
    std::vector<double> column;
    for (long b = 0; b < X.cols(); ++b) {
        column.clear();
        if (rows.empty()) column.assign(X.col(b).data(), X.col(b).data() + X.rows());
        else for (long i: rows) column.push_back(X(i, b));
        const summary s = summarize(column.data(), column.size(), f);
        for (std::size_t k = 0; k < n_statistics; ++k) total[k] += s[k];
    }
    for (auto& v: total) v = X.cols() > 0? v/static_cast<double>(X.cols()): nan;
    return total;
}

} // namespace eisim::observe
