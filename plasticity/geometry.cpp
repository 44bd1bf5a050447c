#include "plasticity/geometry.hpp"

namespace eisim {

const registry<geometry_info>& geometry_registry() {
    static const registry<geometry_info> r("geometry", {
        {"eg", eg_geometry()},
        {"euclidean", euclidean_geometry()},
        {"pnorm", pnorm_geometry()},
    });
    return r;
}

std::unique_ptr<geometry> make_geometry(const std::string& name, parameters keys, double min_magnitude) {
    const geometry_info& info = geometry_registry().get(name);
    keys.declare(info.keys);
    return info.make(keys, min_magnitude);
}

long geometry::step(Eigen::Ref<vector> m, const Eigen::Ref<const vector>& g, double eta) const {
    // m ← (∇φ)⁻¹(∇φ(m) − η g), at least m_min
    long held = 0;
    for (long s = 0; s < m.size(); ++s) {
        const double v = primal(dual(m[s]) - eta*g[s]);
        if (v < min_magnitude) { m[s] = min_magnitude; ++held; } else m[s] = v;
    }
    return held;
}

} // namespace eisim
