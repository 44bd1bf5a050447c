#pragma once
// A Dale's-law circuit lowered for simulation: populations as index ranges of one state, and
// projections, each a fixed set of synapses (docs/circuits.md describes the circuit).
//
// Sides: the rate cells of every rate population form the state x (N cells, the populations in
// their description's order); input populations form the channels u (n_in), readout
// populations the outputs y (n_out). cell_sign = +1 (excitatory) or −1 (inhibitory), τ_i the
// population's tau_ms (ms), b_i its bias.
//
// A projection is a fixed set of synapses s = 0..nnz−1 with presynaptic index pre[s] and
// postsynaptic index post[s] on its sides, and sign[s] (the sign of the presynaptic population:
// Dale's law). Its plastic parameters are the magnitudes m[s] ≥ 0; the signed weight is
// w[s] = sign[s]·m[s]. The synapse id s never changes during a run. Projections are lowered into
// three products (dynamics.hpp): W_rec (network → network), W_in (input → network) and W_out
// (network → output), each the sum of its projections.
//
// Connectivity rules and initial magnitudes per block (post X, pre Y) are those of
// docs/circuits.md: e.g. log-normal, ln m ~ N(ln(median), sigma_ln²) with median =
// scale_XY / (p_XY · n_Y), so that `scale` is the summed median input of a block (Song et al.
// 2005: sigma_ln = 0.9355). If spectral_radius > 0 the signed matrix of the rescaled projections is
// then multiplied by one factor to that spectral radius (exact eigenvalues for N ≤ 1024, power
// iteration above).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/circuit.hpp"
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

/// Which side of the lowered network a population's cells are on: the state (rate cells), the
/// input channels, or the readout units. Each side is indexed from 0 over its populations in order.
enum class side { network, input, output };
/// The product a projection is lowered into, by its sides: W_rec (network → network), W_in
/// (input → network) or W_out (network → output).
enum class product { recurrent, input, readout };

struct projection {
    std::string name;
    std::string pre_population;  // the pre side: "network" or "input"
    std::string post_population; // the post side: "network" or "output"
    std::vector<std::string> pre_populations, post_populations; // the populations, in order
    eisim::product kind = product::recurrent;
    std::string connectivity;
    int delay = 0;
    bool plastic = true;
    int n_pre = 0, n_post = 0; // the sizes of the pre and post sides; pre, post index them
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
    void gather(const Eigen::Ref<const matrix>& G, vector& g) const;
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

struct population {
    std::string name, model; // model: rate, input or readout
    eisim::side side = side::network;
    int first = 0, size = 0; // cells first..first+size−1 of its side
    int sign = 1;            // +1 excitatory, −1 inhibitory, 0 (readout: no outgoing synapses)
    double tau_ms = 0.0, bias = 0.0; // rate only
};

struct network {
    std::vector<population> populations;
    std::vector<projection> projections; // in the description's order
    int n_e = 0, n_i = 0;    // rate cells of each sign
    int n_in = 0, n_out = 0; // input channels, readout units
    vector tau;       // [N] ms
    vector cell_sign; // [N] +1 E, −1 I
    vector bias;      // [N] constant input b
    eisim::cell_transfer phi; // each rate population's transfer function on its rows
    double noise_sigma = 0.0;

    int n() const { return n_e + n_i; }
    /// The projection by name; an unknown name lists the known ones.
    projection& get(const std::string& name);
    const projection& get(const std::string& name) const;
    /// The index of a projection in `projections`, or −1.
    int index_of(const std::string& name) const;
    const population* find(const std::string& name) const;
    /// The projections lowered into product `k`, by index.
    std::vector<int> of(product k) const;
};

/// Build a network from its (validated) description, drawing structure and weights from `seed`'s
/// streams (one per projection, named after it). The layout changes how synapses are held, never
/// which synapses or weights are drawn; a dense layout is used only for a projection alone in its
/// product whose synapses are in column-major order (others hold lists).
network build_network(const circuit_desc& d, std::uint64_t seed, layout storage = layout::lists);
inline network build_network(const network_desc& d, std::uint64_t seed, layout storage = layout::lists) {
    return build_network(ei_circuit(d), seed, storage);
}
inline double expected_density(const network_desc& d) { return expected_density(ei_circuit(d)); }

/// Spectral radius of a square matrix: exact eigenvalues for n ≤ exact_limit, power iteration above.
double spectral_radius(const matrix& W, int exact_limit = 1024);

/// Normalised SVD entropy H = −(1/ln N) Σ σ̄ ln σ̄, σ̄ = σ/Σσ (Li et al. 2023).
double svd_entropy(const matrix& W);

} // namespace eisim
