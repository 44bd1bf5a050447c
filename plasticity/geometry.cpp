#include "plasticity/geometry.hpp"

#include <algorithm>
#include <cmath>

namespace eisim {

geometry make_geometry(const std::string& name, double p, double min_magnitude) {
    geometry g{name, geometry_registry().get(name).type, p, min_magnitude};
    if (g.type == geometry::kind::euclidean) g.p = 2.0;
    return g;
}

double geometry::dual(double m) const {
    switch (type) {
    case kind::euclidean: return m;
    case kind::eg: return std::log(m) + 1.0;
    case kind::pnorm: return std::pow(m, p - 1.0);
    }
    return m;
}

double geometry::primal(double y) const {
    switch (type) {
    case kind::euclidean: return y;
    case kind::eg: return std::exp(y - 1.0);
    case kind::pnorm: return y > 0? std::pow(y, 1.0/(p - 1.0)): 0.0;
    }
    return y;
}

long geometry::step(Eigen::Ref<vector> m, const Eigen::Ref<const vector>& g, double eta) const {
    long held = 0;
    switch (type) {
    case kind::eg:
        // m ← m · exp(−η g)
        m.array() *= (-eta*g.array()).exp();
        break;
    case kind::euclidean:
        // m ← max(m − η g, m_min)
        for (long s = 0; s < m.size(); ++s) {
            const double v = m[s] - eta*g[s];
            if (v < min_magnitude) { m[s] = min_magnitude; ++held; } else m[s] = v;
        }
        break;
    case kind::pnorm:
        // m ← [m^{p−1} − η g]₊^{1/(p−1)}, at least m_min
        for (long s = 0; s < m.size(); ++s) {
            const double v = primal(dual(m[s]) - eta*g[s]);
            if (v < min_magnitude) { m[s] = min_magnitude; ++held; } else m[s] = v;
        }
        break;
    }
    return held;
}

} // namespace eisim
