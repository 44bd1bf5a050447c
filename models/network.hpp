#pragma once
// A Dale's-law E/I rate network: populations, projections and their initial weights.
//
// Populations: N = n_e + n_i cells, E first (indices 0..n_e−1), then I; cell_sign = +1 (E), −1 (I).
// Time constants τ_i = tau_e_ms or tau_i_ms (ms).
//
// A projection is a fixed set of synapses s = 0..nnz−1 with presynaptic cell pre[s], postsynaptic
// cell post[s] and sign[s] (the sign of the presynaptic cell: Dale's law). Its plastic parameters
// are the magnitudes m[s] ≥ 0; the signed weight is w[s] = sign[s]·m[s]. The synapse id s never
// changes during a run.
//
//   recurrent  N → N      Bernoulli per block, no autapses. Block XY means post X, pre Y
//                         (p_ei: probability that an I cell projects to an E cell).
//   input      n_in → N   excitatory afferents, Bernoulli(p_in).
//   readout    N → n_out  reads the E cells (or all cells), all-to-all.
//
// Initial magnitudes are log-normal per block: ln m ~ N(ln(median), sigma_ln²) with
// median = scale_XY / (p_XY · n_Y), so that `scale` is the summed median input of a block
// (Song et al. 2005: sigma_ln = 0.9355). If spectral_radius > 0 the signed recurrent matrix is then
// rescaled to that spectral radius (exact eigenvalues for N ≤ 2000, power iteration above).
#include <cstdint>
#include <string>
#include <vector>

#include "models/random.hpp"
#include "models/transfer.hpp"
#include "models/types.hpp"

namespace eisim {

struct projection {
    std::string name;            // "recurrent", "input" or "readout"
    std::string pre_population;  // "network" or "input"
    std::string post_population; // "network" or "output"
    int n_pre = 0, n_post = 0;
    std::vector<std::int32_t> pre, post; // cell indices (stored in files as 64-bit integers)
    std::vector<std::int8_t> sign;
    vector m; // magnitudes ≥ 0, one per synapse

    std::size_t size() const { return pre.size(); }
    /// The signed dense weight matrix W (n_post × n_pre): W(post[s], pre[s]) = sign[s]·m[s].
    matrix dense() const;
    void dense(matrix& W) const;
    /// Gradient with respect to magnitudes from a dense gradient G = ∂L/∂W: g[s] = sign[s]·G(post[s], pre[s]).
    void gather(const matrix& G, vector& g) const;
    /// The same gather in G's own memory: G is the column-major n_post × n_pre matrix as a vector,
    /// handed over, and comes back as g (no second copy when the synapses are in column-major
    /// order, pre then post ascending, as build_network makes them; otherwise a new vector).
    vector gather(vector G) const;
    vector signed_weights() const;
};

/// Description of a network: plain numbers, validated by the config layer.
struct network_desc {
    int n_e = 800, n_i = 200, n_in = 20, n_out = 2;
    double tau_e_ms = 20.0, tau_i_ms = 10.0;
    std::string transfer = "relu";
    double transfer_k = 1.0, transfer_n = 2.0;
    double bias = 0.0;
    double spectral_radius = 0.8;   // 0 = no rescaling
    double noise_sigma = 0.0;       // private noise on x (Euler–Maruyama)
    // connectivity
    double p_ee = 0.2, p_ei = 0.4, p_ie = 0.4, p_ii = 0.4;
    double scale_ee = 1.0, scale_ei = 1.2, scale_ie = 1.0, scale_ii = 1.2;
    double sigma_ln = 0.9355;
    double p_in = 0.2, scale_in = 1.0;
    std::string readout_from = "e"; // "e" or "all"
    double scale_out = 1.0;
    int n() const { return n_e + n_i; }
};

struct network {
    int n_e = 0, n_i = 0, n_in = 0, n_out = 0;
    vector tau;       // [N] ms
    vector cell_sign; // [N] +1 E, −1 I
    eisim::transfer phi;
    double bias = 0.0;
    double noise_sigma = 0.0;
    projection recurrent, input, readout;

    int n() const { return n_e + n_i; }
    /// The projection by name ("recurrent", "input", "readout").
    projection& get(const std::string& name);
    const projection& get(const std::string& name) const;
};

/// Build a network from its description, drawing structure and weights from `seed`'s streams.
network build_network(const network_desc& d, std::uint64_t seed);

/// Spectral radius of a square matrix: exact eigenvalues for n ≤ exact_limit, power iteration above.
double spectral_radius(const matrix& W, int exact_limit = 1024);

/// Normalised SVD entropy H = −(1/ln N) Σ σ̄ ln σ̄, σ̄ = σ/Σσ (Li et al. 2023).
double svd_entropy(const matrix& W);

} // namespace eisim
