#pragma once
// A forward trajectory as the integrator produced it: every accepted step's starting state, time
// and size, and which states fall on the observation grid t_k = k·dt_obs. The exact gradient
// replays these steps backwards with the stepper's tableau.
#include <cstddef>
#include <string>
#include <vector>

#include "models/types.hpp"

namespace eisim {

struct trajectory {
    std::string stepper;          // name of the tableau ("euler", "rk4", "dopri5")
    std::vector<matrix> x;        // states x_0 .. x_S (N × B each)
    std::vector<double> t, h;     // step n goes from t[n] to t[n] + h[n] (n < S)
    std::vector<std::size_t> obs; // index into x of observation k = 0..T
    double dt_obs = 1.0;

    std::size_t steps() const { return h.size(); }
    const matrix& at_obs(std::size_t k) const { return x[obs[k]]; }
};

} // namespace eisim
