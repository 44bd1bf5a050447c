#pragma once
// The aggregate statistics of an observable, as Nayebi et al. (NeurIPS 2020, "Identifying Learning
// Rules From Neural Network Observables"; code neuroailab/lr-identify) summarise a layer's weights,
// activations and activity changes. Pure maths on arrays; no files, no simulator.
//
// An observable is a set of n elements x_1..x_n (the signed weights of a block, the rates of a
// population's cells on one probe trial, ...). Each of three functions f ∈ {identity, abs, square}
// is applied to every element, y_k = f(x_k), and y is summarised by seven statistics:
//
//   norm      ‖y‖₂ = √(Σ y_k²)
//   mean      ȳ = (1/n) Σ y_k
//   median    the 0.5-quantile of y, linear interpolation between order statistics (numpy's default)
//   q3        the 0.75-quantile, the same way
//   var       m₂ = (1/n) Σ (y_k − ȳ)²                       (population variance, as tf.nn.moments)
//   skew      3 (ȳ − median) / √m₂                           (Pearson's second skewness coefficient)
//   kurtosis  m₄ / m₂², m₄ = (1/n) Σ (y_k − ȳ)⁴              (non-excess: 3 for a Gaussian)
//
// Elements that are not finite (NaN: a weight not detected) are not elements: they are left out.
// A statistic is undefined (NaN) when it has no value: every statistic for n = 0, skew and kurtosis
// for m₂ = 0 (all elements equal). Undefined statistics are never filled in: eisim observe drops
// the feature and counts it (docs/identify.md).
//
// A measure over trials (activations, activity changes: a cells × trials matrix X) is summarised
// trial by trial over its cells and the statistic averaged over the B trials, as lr-identify
// reduces over the units of each example and averages over the batch:
//   S_f(X) = (1/B) Σ_b S_f(X[:, b])       (NaN if any trial's is NaN)
#include <array>
#include <cstddef>

#include "models/types.hpp"

namespace eisim::observe {

enum class function { identity, abs, square };
constexpr std::array<function, 3> functions{function::identity, function::abs, function::square};
constexpr std::array<const char*, 3> function_names{"identity", "abs", "square"};

constexpr std::size_t n_statistics = 7;
constexpr std::array<const char*, n_statistics> statistic_names{"norm", "mean", "median", "q3", "var", "skew", "kurtosis"};

/// The seven statistics, in statistic_names' order.
using summary = std::array<double, n_statistics>;

/// The statistics of f(x_k) over the finite x_k, k = 0..n−1.
summary summarize(const double* x, std::size_t n, function f);

/// The statistics of f over the cells of each column (trial) of X, averaged over the columns.
/// `rows` are the cells summarised (all of them when empty).
summary summarize_trials(const matrix& X, function f, const std::vector<long>& rows = {});

} // namespace eisim::observe
