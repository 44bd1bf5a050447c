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
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/random.hpp"
#include "models/transfer.hpp"
#include "models/types.hpp"

namespace eisim {

/// How a projection holds its synapses. Either way it has the same synapses, ids and values, and
/// every method below works on both.
///   lists  one entry per synapse in pre, post, sign and m (17 bytes a synapse), for sparse
///          networks, whose products use compressed rows built from them.
///   dense  the signed n_post × n_pre matrix W that the dense products use, with 0 where there is no
///          synapse, one bit per entry marking the synapses, one sign per presynaptic cell (Dale's
///          law) and the id of each column's first synapse: 8 bytes an entry. The weights are held
///          once, not once per synapse and once more for the products.
/// Synapse ids follow column-major order in both (pre, then post ascending), as build_network
/// makes them. A lists projection may hold its synapses in another order; a dense one cannot.
enum class layout { lists, dense };

struct projection {
    std::string name;            // "recurrent", "input" or "readout"
    std::string pre_population;  // "network" or "input"
    std::string post_population; // "network" or "output"
    int n_pre = 0, n_post = 0;
    eisim::layout storage = layout::lists;
    // lists layout
    std::vector<std::int32_t> pre, post; // cell indices (stored in files as 64-bit integers)
    std::vector<std::int8_t> sign;
    vector m; // magnitudes ≥ 0, one per synapse
    // dense layout
    matrix W;                              // n_post × n_pre signed weights, 0 where no synapse
    std::vector<bool> present;             // [n_post·n_pre], column-major: entry (i, j) is a synapse
    std::vector<std::int8_t> pre_sign;     // [n_pre] the sign of every synapse from cell j
    std::vector<std::int64_t> first;       // [n_pre + 1] id of column j's first synapse

    bool is_dense() const { return storage == layout::dense; }
    std::size_t size() const { return is_dense()? static_cast<std::size_t>(first.back()): pre.size(); }

    /// f(s, post, pre, sign, m) for every synapse s in [begin, end), in id order.
    template <typename F> void for_each(F&& f, std::size_t begin = 0, std::size_t end = -1) const;

    /// The magnitudes, one per synapse (a copy in either layout); of synapses [begin, begin + n) into out[0..n).
    vector magnitudes() const;
    void magnitudes(std::size_t begin, std::size_t n, double* out) const;
    /// Set every magnitude (m.size() == size()).
    void set_magnitudes(const vector& m);
    /// Multiply every magnitude by c > 0.
    void scale(double c);
    /// Change the magnitudes in blocks of consecutive synapses: f(m_block, first_id) changes
    /// m_block in place and returns a count; returns the sum of the counts. Lists: one block, m
    /// itself; dense: one block per presynaptic cell (its column's synapses).
    long update_magnitudes(const std::function<long(Eigen::Ref<vector>, long)>& f);
    /// The signed weights of synapses [begin, begin + n) into out[0..n).
    void signed_weights(std::size_t begin, std::size_t n, double* out) const;
    vector signed_weights() const;
    /// pre, post and sign lists of every synapse (a dense projection makes them; a lists one copies).
    struct synapse_lists { std::vector<std::int32_t> pre, post; std::vector<std::int8_t> sign; };
    synapse_lists lists() const;

    /// The signed dense weight matrix W (n_post × n_pre): W(post[s], pre[s]) = sign[s]·m[s].
    matrix dense() const;
    void dense(matrix& W) const;
    /// Gradient with respect to magnitudes from a dense gradient G = ∂L/∂W: g[s] = sign[s]·G(post[s], pre[s]).
    void gather(const matrix& G, vector& g) const;
    /// The same gather in G's own memory: G is the column-major n_post × n_pre matrix as a vector,
    /// handed over, and comes back as g (no second copy when the synapses are in column-major
    /// order, pre then post ascending, as build_network makes them; otherwise a new vector).
    vector gather(vector G) const;
};

template <typename F> void projection::for_each(F&& f, std::size_t begin, std::size_t end) const {
    end = std::min(end, size());
    if (begin >= end) return;
    if (!is_dense()) {
        for (std::size_t s = begin; s < end; ++s) f(s, post[s], pre[s], sign[s], m[s]);
        return;
    }
    // The column of synapse `begin`, then its row: skip the column's synapses before it.
    auto j = static_cast<long>(std::upper_bound(first.begin(), first.end(), static_cast<std::int64_t>(begin)) - first.begin()) - 1;
    std::size_t s = static_cast<std::size_t>(first[j]);
    long i = 0;
    for (; s < begin; ++i) s += present[static_cast<std::size_t>(j*n_post + i)];
    for (; s < end; ++j, i = 0) {
        const double sg = pre_sign[j];
        const auto col = static_cast<std::size_t>(j*n_post);
        for (; i < n_post && s < end; ++i)
            if (present[col + i]) { f(s, static_cast<std::int32_t>(i), static_cast<std::int32_t>(j), pre_sign[j], sg*W(i, j)); ++s; }
    }
}

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

/// Build a network from its description, drawing structure and weights from `seed`'s streams. The
/// layout changes how the synapses are held, never which synapses or weights are drawn.
network build_network(const network_desc& d, std::uint64_t seed, layout storage = layout::lists);

/// The expected fraction of the N × N recurrent entries that are synapses (autapses excluded).
double expected_density(const network_desc& d);

/// Spectral radius of a square matrix: exact eigenvalues for n ≤ exact_limit, power iteration above.
double spectral_radius(const matrix& W, int exact_limit = 1024);

/// Normalised SVD entropy H = −(1/ln N) Σ σ̄ ln σ̄, σ̄ = σ/Σσ (Li et al. 2023).
double svd_entropy(const matrix& W);

} // namespace eisim
