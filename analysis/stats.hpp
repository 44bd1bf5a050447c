#pragma once
// Statistics of synaptic weights: are the magnitudes log-normal, and which geometry of plasticity
// is consistent with how they changed? Pure maths on arrays of signed weights; no files here.
//
// 1. The log-normal summary of the magnitudes (docs/science.md §1). Over the n synapses with
//    0 < |w_i| < ∞, with x_i = ln|w_i| and central moments m_k = (1/n) Σ (x_i − x̄)^k:
//      mean_ln = x̄ = (1/n) Σ x_i
//      sd_ln   = √( Σ (x_i − x̄)² / (n − 1) )              (sample standard deviation)
//      skew_ln = m_3 / m_2^{3/2}                            (sample skewness g₁; 0 for a log-normal)
//      mu, sigma = x̄, √m_2                                  (maximum-likelihood log-normal fit)
//      ks      = sup_x | F̂_n(x) − Φ((ln x − mu)/sigma) |     (Kolmogorov–Smirnov distance to the fit)
//    computed on the sorted x as max_i max(i/n − Φ(u_i), Φ(u_i) − (i−1)/n), u_i = (x_(i) − mu)/sigma.
//
// 2. The geometry test (Pogodin et al., ICLR 2024; docs/science.md §3). A candidate potential φ
//    has a dual map on signed weights:
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
//
// 3. Per-neuron standardisation (the per-neuron variant of the geometry test). Neuron i's incoming
//    synapses learn like a regression of their own: Δ_ij = −η Σ_t δ_i(t) r_j(t) carries a scale
//    (and an offset) that belong to neuron i, so pooling every synapse mixes Gaussians of different
//    widths, which looks heavy-tailed. Group the synapses by postsynaptic neuron g (sizes n_g) and
//    standardise within each group:
//      z_i  = (Δ_i − Δ̄_g) / s_g,  Δ̄_g = (1/n_g) Σ_{i∈g} Δ_i,  s_g = √( Σ_{i∈g} (Δ_i − Δ̄_g)² / (n_g − 1) )
//      ΔCDF = h Σ_j | F̂_z(x_j) − Φ(x_j) |        over the pooled z (no further scaling)
//    Centring as well as scaling makes the null pivotal: if each neuron's Δ is Gaussian with any
//    mean and width, z has one known distribution, so the noise floor is the q-quantile of the
//    same statistic on n iid N(0, 1) draws cut into groups of the same sizes n_g (stream
//    std::mt19937_64(seed + n), as for the pooled floor). Neurons with n_g < min_synapses or whose
//    synapses all kept their weight (w_to = w_from: no change) are skipped and counted.
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
/// h Σ_j |F̂_z(x_j) − Φ(x_j)|: the distance of an already standardised sample z from N(0, 1)
/// (NaN when z is empty or has non-finite entries).
double normal_distance(const vector& z, const delta_cdf_grid& grid = {});
/// ΔCDF of a sample: normal_distance(Δ / s) (NaN for n < 2, a zero or non-finite spread, or
/// non-finite entries).
double delta_cdf(const vector& delta, const delta_cdf_grid& grid = {});
/// Per-neuron z-scores (part 3) of Δ laid out as consecutive groups of the given sizes (which sum
/// to Δ's size). A group with n_g < 2 or a spread s_g that is not > 0 and finite gives NaN z.
vector standardize_groups(const vector& delta, const std::vector<long>& sizes);

/// How the noise floor is estimated.
struct floor_options {
    int samples = 200;         // R Gaussian samples of size n
    double quantile = 0.95;    // q
    std::uint64_t seed = 20240507; // the stream for size n is std::mt19937_64(seed + n)
};
/// The q-quantile of ΔCDF over R samples of n iid N(0, 1). Deterministic in (n, options).
double noise_floor(long n, const floor_options& options = {}, const delta_cdf_grid& grid = {});
/// The per-neuron floor: the q-quantile of normal_distance(standardize_groups(ε, sizes)) over R
/// samples ε of n = Σ sizes iid N(0, 1) (NaN when n < 2). Deterministic in (sizes, options).
double noise_floor_groups(const std::vector<long>& sizes, const floor_options& options = {},
                          const delta_cdf_grid& grid = {});

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
/// How the dual change is standardised before ΔCDF: by one spread over all synapses (the
/// published statistic, part 2) or within each postsynaptic neuron (part 3).
enum class standardization { pooled, per_neuron };
/// "pooled" or "per-neuron" (the names of `eisim analyze --standardize`).
std::string name_of(standardization s);
/// The standardisation with that name; eisim::user_error listing the names otherwise.
standardization standardization_named(const std::string& name);

struct geometry_result {
    standardization standardize = standardization::pooled;
    long n = 0;        // synapses in the test
    long excluded = 0; // synapses left out (0 or not finite at either snapshot)
    // Per-neuron only (0 when pooled): postsynaptic neurons whose synapses are in the test, those
    // skipped (fewer than min_synapses or no change), and the synapses of the skipped ones.
    long neurons = 0, neurons_skipped = 0, skipped_synapses = 0;
    std::vector<candidate_result> candidates;
    std::string best;  // empty when no candidate has a finite ΔCDF (e.g. nothing changed)
    double floor = 0;  // noise floor for n (NaN when n < 2)
    std::vector<std::string> consistent; // dcdf ≤ best + floor, in candidate order
};
struct geometry_options {
    std::vector<geometry> candidates = candidate_geometries();
    delta_cdf_grid grid;
    floor_options floor;
    long min_synapses = 10; // per-neuron: neurons with fewer synapses in the test are skipped
};
/// The geometry test on the same synapses at two snapshots, pooled (part 2).
geometry_result geometry_test(const vector& w_from, const vector& w_to, const geometry_options& options = {});
/// The geometry test standardised per postsynaptic neuron (part 3); post[i] is synapse i's
/// postsynaptic neuron (any labels; groups are taken in increasing label order).
geometry_result geometry_test_per_neuron(const vector& w_from, const vector& w_to, const index_vector& post,
                                         const geometry_options& options = {});

} // namespace eisim::analysis
