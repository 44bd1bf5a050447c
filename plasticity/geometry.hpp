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
//
// Each geometry is one file (plasticity/geometry_NAME.cpp: its maps, its keys, its default
// learning rate), registered by name in geometry.cpp.
#include <memory>
#include <string>
#include <vector>

#include "models/parameters.hpp"
#include "models/registry.hpp"
#include "models/types.hpp"

namespace eisim {

class geometry {
public:
    explicit geometry(double min_magnitude): min_magnitude(min_magnitude) {}
    virtual ~geometry() = default;

    virtual double dual(double m) const = 0;
    virtual double primal(double y) const = 0;
    /// m ← (∇φ)⁻¹(∇φ(m) − η g), held at min_magnitude; returns the number of synapses held at the bound.
    virtual long step(Eigen::Ref<vector> m, const Eigen::Ref<const vector>& g, double eta) const;
    /// g ← g + the gradient of weight decay of strength wd: L2 decay wd·m unless the geometry has its own.
    virtual void add_weight_decay(Eigen::Ref<vector> g, const Eigen::Ref<const vector>& m, double wd) const { g += wd*m; }
    /// Whether steps are projected onto [min_magnitude, ∞) (synapses can be held at the bound).
    virtual bool projected() const { return true; }

    const double min_magnitude; // projection bound
};

/// A geometry, registered by name: its documentation, its config keys ([plasticity]), the learning
/// rate used when plasticity.learning_rate = 0, and how to make it from its keys' values.
struct geometry_info {
    std::string doc;
    std::vector<key_spec> keys;
    double default_learning_rate;
    std::unique_ptr<geometry> (*make)(const parameters& keys, double min_magnitude);
};
const registry<geometry_info>& geometry_registry();

/// The geometry `name`, its keys from `keys` (their defaults where not declared there).
std::unique_ptr<geometry> make_geometry(const std::string& name, parameters keys = {}, double min_magnitude = 1e-8);

// The registered geometries (one file each).
geometry_info eg_geometry();
geometry_info euclidean_geometry();
geometry_info pnorm_geometry();

} // namespace eisim
