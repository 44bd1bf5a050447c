#pragma once
// Statistics of synaptic weights: are the magnitudes log-normal, and which geometry of plasticity
// is consistent with how they changed? Pure maths on arrays of signed weights; no files here.
//
// 1. The log-normal summary of the magnitudes (SCIENCE.md §1). Over the n synapses with
//    0 < |w_i| < ∞, with x_i = ln|w_i| and central moments m_k = (1/n) Σ (x_i − x̄)^k:
//      mean_ln = x̄ = (1/n) Σ x_i
//      sd_ln   = √( Σ (x_i − x̄)² / (n − 1) )              (sample standard deviation)
//      skew_ln = m_3 / m_2^{3/2}                            (sample skewness g₁; 0 for a log-normal)
//      mu, sigma = x̄, √m_2                                  (maximum-likelihood log-normal fit)
//      ks      = sup_x | F̂_n(x) − Φ((ln x − mu)/sigma) |     (Kolmogorov–Smirnov distance to the fit)
//    computed on the sorted x as max_i max(i/n − Φ(u_i), Φ(u_i) − (i−1)/n), u_i = (x_(i) − mu)/sigma.
//
// 2. The geometry test (Pogodin et al., ICLR 2024; SCIENCE.md §3). A candidate potential φ has a
//    dual map on signed weights:
//      EG (negative entropy)  ∇φ(w) = sign(w) (ln|w| + 1)
//      p-norm (p > 1)         ∇φ(w) = sign(w) |w|^(p−1)        (p = 2: Euclidean)
//    The dual change of synapse i is Δ_i = ∇φ(w_to,i) − ∇φ(w_from,i). Its ΔCDF, as in the
//    published code:
//      z_i  = Δ_i / s,  s = √( Σ (Δ_i − Δ̄)² / (n − 1) )      (scaled, NOT centred)
//      ΔCDF = h Σ_{j=0}^{G−1} | F̂_z(x_j) − Φ(x_j) |,  x_j = lo + j h,  h = (hi − lo)/(G − 1),
//             F̂_z(x) = #{ i : z_i < x } / n,  lo = −5, hi = 5, G = 1000,
//    a Riemann sum of ∫_{−5}^{5} |F̂_z − Φ| dx: the 1-Wasserstein distance between z and N(0, 1).
//      relative change = ‖Δ‖₂ / ‖∇φ(w_from)‖₂
//    Candidates: EG and p ∈ {1.1, 1.2, …, 3.0}. Under the true geometry Δ is close to Gaussian,
//    so the best candidate is the one with the smallest ΔCDF. Even exact Gaussian samples have
//    ΔCDF > 0 (it shrinks like 1/√n), so the answer is a set: the noise floor for n synapses is
//    the q-quantile (q = 0.95, linear interpolation) of ΔCDF over R = 200 samples of n iid N(0, 1)
//    drawn from a seeded stream, and the candidates with ΔCDF ≤ best + floor are consistent.
//    Synapses that are 0 or not finite at either snapshot have no EG dual; they are left out of
//    the geometry test for every candidate (and counted).
#include <cstdint>
#include <string>
#include <vector>

#include "models/types.hpp"

namespace eisim::analysis {

/// Φ(x), the standard normal cumulative distribution function.
double standard_normal_cdf(double x);

/// The log-normal summary of |w| over synapses with 0 < |w| < ∞ (fields NaN when undefined:
/// n < 2 for sd, sigma, skew and ks; n = 0 for the means).
struct log_normal_summary {
    long n = 0;
    double mean_ln, sd_ln, skew_ln, mu, sigma, ks;
};
log_normal_summary summarize_log_normal(const vector& w);

/// A candidate geometry: EG (p = 0 marks it) or the p-norm with exponent p > 1.
struct geometry {
    std::string name; // "eg" or "p=<p with one decimal>", e.g. "p=2.0"
    double p = 0;     // 0 for EG
    bool is_eg() const { return p == 0; }
    /// ∇φ(w) on a signed weight.
    double dual(double w) const;
};
geometry eg_geometry();
geometry pnorm_geometry(double p);
/// EG, then p = 1.1, 1.2, …, 3.0 (p = (10 + k)/10, k = 1..20).
std::vector<geometry> candidate_geometries();

/// The grid of the ΔCDF integral.
struct delta_cdf_grid {
    double lo = -5, hi = 5;
    int points = 1000;
};
/// ΔCDF of a sample (NaN for n < 2, a zero or non-finite spread, or non-finite entries).
double delta_cdf(const vector& delta, const delta_cdf_grid& grid = {});

/// How the noise floor is estimated.
struct floor_options {
    int samples = 200;         // R Gaussian samples of size n
    double quantile = 0.95;    // q
    std::uint64_t seed = 20240507; // the stream for size n is std::mt19937_64(seed + n)
};
/// The q-quantile of ΔCDF over R samples of n iid N(0, 1). Deterministic in (n, options).
double noise_floor(long n, const floor_options& options = {}, const delta_cdf_grid& grid = {});

/// n iid N(0, 1) draws from std::mt19937_64(seed) by the Box–Muller transform (portable: the
/// same numbers on every platform, unlike std::normal_distribution).
vector standard_normal_sample(long n, std::uint64_t seed);

/// Empirical quantile with linear interpolation between order statistics (numpy's default).
double quantile(std::vector<double> values, double q);

struct candidate_result {
    std::string name;
    double p = 0;              // 0 for EG
    double dcdf = 0;           // ΔCDF of the dual change
    double relative_change = 0; // ‖Δ‖ / ‖∇φ(w_from)‖
};
struct geometry_result {
    long n = 0;        // synapses in the test
    long excluded = 0; // synapses left out (0 or not finite at either snapshot)
    std::vector<candidate_result> candidates;
    std::string best;  // empty when no candidate has a finite ΔCDF (e.g. nothing changed)
    double floor = 0;  // noise floor for n (NaN when n < 2)
    std::vector<std::string> consistent; // dcdf ≤ best + floor, in candidate order
};
struct geometry_options {
    std::vector<geometry> candidates = candidate_geometries();
    delta_cdf_grid grid;
    floor_options floor;
};
/// The geometry test on the same synapses at two snapshots.
geometry_result geometry_test(const vector& w_from, const vector& w_to, const geometry_options& options = {});

} // namespace eisim::analysis
