// Exponentiated gradient: φ(m) = m ln m, y = ln m + 1, m = e^{y − 1}; the step is multiplicative,
// m ← m · e^{−η g}, so a magnitude never reaches 0 and needs no projection. Weight decay wd adds
// wd to every gradient: a multiplicative decay m ← m e^{−η wd} (wd·sign(w) on the weight w).
#include <cmath>

#include "plasticity/geometry.hpp"

namespace eisim {

namespace {

class eg final: public geometry {
public:
    using geometry::geometry;
    double dual(double m) const override { return std::log(m) + 1.0; }
    double primal(double y) const override { return std::exp(y - 1.0); }
    long step(Eigen::Ref<vector> m, const Eigen::Ref<const vector>& g, double eta) const override {
        m.array() *= (-eta*g.array()).exp();
        return 0;
    }
    void add_weight_decay(Eigen::Ref<vector> g, const Eigen::Ref<const vector>&, double wd) const override { g.array() += wd; }
    bool projected() const override { return false; }
};

} // namespace

geometry_info eg_geometry() {
    return {"exponentiated gradient: multiplicative, m exp(-eta g)", {}, 0.5,
            [](const parameters&, double min_magnitude) -> std::unique_ptr<geometry> { return std::make_unique<eg>(min_magnitude); }};
}

} // namespace eisim
