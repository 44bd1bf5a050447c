// p-norm: φ(m) = m^p / p (p > 1), y = m^{p−1}, m = [y]₊^{1/(p−1)}; the step is held at the
// projection bound. p = 2 is the euclidean geometry. Key: plasticity.p.
#include <cmath>

#include "plasticity/geometry.hpp"

namespace eisim {

namespace {

class pnorm final: public geometry {
public:
    pnorm(double p, double min_magnitude): geometry(min_magnitude), p_(p) {}
    double dual(double m) const override { return std::pow(m, p_ - 1.0); }
    double primal(double y) const override { return y > 0? std::pow(y, 1.0/(p_ - 1.0)): 0.0; }

private:
    double p_;
};

} // namespace

geometry_info pnorm_geometry() {
    // The default learning rate is small: p > 2 is steep near zero (m = y^{1/(p−1)}).
    return {"p-norm mirror map m^(p-1), p > 1 (p = 2 is euclidean)",
            {real_key("p", 3.0, 1, 100, "pnorm: exponent p > 1 of the mirror map (2 = euclidean)", true)}, 0.0005,
            [](const parameters& keys, double min_magnitude) -> std::unique_ptr<geometry> {
                return std::make_unique<pnorm>(keys.real("p"), min_magnitude);
            }};
}

} // namespace eisim
