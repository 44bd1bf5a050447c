#pragma once
// Relaxation to the fixed point of the rate dynamics under constant input (the regression task):
//
//   x* = W_rec φ(x*) + W_in u + b,   reached by integrating τ ⊙ dx/dt = −x + W_rec φ(x) + W_in u + b
//
// with the configured stepper (euler/rk4 with step dt_ms, dopri5 with dense output on the dt grid)
// until the residual max_{i,p} |−x + W_rec φ(x) + W_in u + b| is at most `tol` (checked every 10
// steps). A relaxation that exceeds `max_ms`, or leaves the runaway bound, throws a divergence_error.
#include "models/network.hpp"
#include "models/integrate.hpp"

namespace eisim {

struct fixed_point {
    matrix x;               // N × P
    double residual = 0.0;  // max |−x + W_rec φ(x) + W_in u + b|
    double relaxed_ms = 0.0;
};

/// Relax every column of x0 under its constant input column of U (n_in × P).
fixed_point relax(const network& net, const lowered_network& low, const matrix& U, const matrix& x0,
                  const integrator_desc& d, double tol, double max_ms);

} // namespace eisim
