// Euclidean (gradient descent): φ(m) = m²/2, y = m; the step m ← max(m − η g, m_min) is held at
// the projection bound.
#include "plasticity/geometry.hpp"

namespace eisim {

namespace {

class euclidean final: public geometry {
public:
    using geometry::geometry;
    double dual(double m) const override { return m; }
    double primal(double y) const override { return y; }
    long step(Eigen::Ref<vector> m, const Eigen::Ref<const vector>& g, double eta) const override {
        long held = 0;
        for (long s = 0; s < m.size(); ++s) {
            const double v = m[s] - eta*g[s];
            if (v < min_magnitude) { m[s] = min_magnitude; ++held; } else m[s] = v;
        }
        return held;
    }
};

} // namespace

geometry_info euclidean_geometry() {
    return {"gradient descent: m - eta g, held at min_magnitude", {}, 0.02,
            [](const parameters&, double min_magnitude) -> std::unique_ptr<geometry> { return std::make_unique<euclidean>(min_magnitude); }};
}

} // namespace eisim
