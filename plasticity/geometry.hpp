#pragma once
// Geometries of plasticity: mirror maps on synaptic magnitudes m ≥ 0 (signs are fixed by Dale's
// law; the gradient with respect to m is g = sign·∂L/∂w). One mirror-descent step
// (docs/science.md §3):
//
//   ∇φ(m') = ∇φ(m) − η g
//
//   geometry   potential φ(m)      dual y = ∇φ(m)     primal m = (∇φ)⁻¹(y)     step
//   euclidean  m²/2                y = m              m = y                    m − η g, projected
//   eg         m ln m              y = ln m + 1       m = e^{y − 1}            m · e^{−η g}
//   pnorm      m^p / p (p > 1)     y = m^{p−1}        m = [y]₊^{1/(p−1)}       projected
//
// Projection (euclidean and pnorm): a magnitude that would fall below `min_magnitude` is held at
// min_magnitude (a tiny magnitude of the same sign), so no synapse changes sign or reaches zero,
// and ln|w| stays defined for the analysis; `step` returns how many synapses are held at the bound.
// EG is multiplicative: it never changes sign and never reaches 0 (no projection needed).
#include <string>

#include "models/registry.hpp"
#include "models/types.hpp"

namespace eisim {

struct geometry {
    enum class kind { euclidean, eg, pnorm };
    std::string name;
    kind type = kind::eg;
    double p = 2.0;              // pnorm exponent (> 1); euclidean is p = 2
    double min_magnitude = 1e-8; // projection bound for euclidean and pnorm

    double dual(double m) const;
    double primal(double y) const;
    /// m ← (∇φ)⁻¹(∇φ(m) − η g), projected; returns the number of synapses held at the bound.
    long step(Eigen::Ref<vector> m, const Eigen::Ref<const vector>& g, double eta) const;
};

/// A geometry, registered by name with its documentation.
struct geometry_info {
    geometry::kind type;
    std::string doc;
};
inline const registry<geometry_info>& geometry_registry() {
    using K = geometry::kind;
    static const registry<geometry_info> r("geometry", {
        {"eg", {K::eg, "exponentiated gradient: multiplicative, m exp(-eta g)"}},
        {"euclidean", {K::euclidean, "gradient descent: m - eta g, held at min_magnitude"}},
        {"pnorm", {K::pnorm, "p-norm mirror map m^(p-1), p > 1 (p = 2 is euclidean)"}},
    });
    return r;
}

geometry make_geometry(const std::string& name, double p = 2.0, double min_magnitude = 1e-8);

} // namespace eisim
