#include "plasticity/bounds.hpp"

namespace eisim {

bound_counts count_bounds(const projection& p, double min_magnitude, bool bounded) {
    bound_counts n;
    p.for_each([&](std::size_t, int, int, int, double m) {
        if (!(m >= 0.0)) ++n.sign_changes;
        if (m <= min_magnitude && bounded) ++n.held_at_bound;
    });
    return n;
}

} // namespace eisim
