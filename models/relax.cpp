#include "models/relax.hpp"

#include <cmath>
#include <sstream>

#include "models/dynamics.hpp"
#include "models/error.hpp"
#include "models/odeint_eigen.hpp"

namespace eisim {

fixed_point relax(const network& net, const lowered_network& low, const matrix& U, const matrix& x0,
                  const integrator_desc& d, double tol, double max_ms) {
    namespace odeint = boost::numeric::odeint;
    input_grid u(d.dt_ms, 1, static_cast<int>(U.rows()), static_cast<int>(U.cols()));
    u.at(0) = U;
    u.at(1) = U; // constant in time
    dynamics_workspace ws;
    const rate_dynamics sys{low.inv_tau, low.W_rec, low.W_in, u, net.phi, net.bias, ws, low.sparse_rec()};
    fixed_point fp{x0};
    matrix dxdt;
    const int chunk = 10;
    auto dense = odeint::make_dense_output(d.keys.real("atol"), d.keys.real("rtol"), odeint_steppers::dopri5<matrix>());
    const stepper_info::kind kind = stepper_registry().get(d.stepper).type;
    for (long k = 0;; k += chunk) {
        // residual = τ ⊙ dx/dt = −x + W_rec φ(x) + W_in u + b
        sys(fp.x, dxdt, 0.0);
        fp.residual = (dxdt.array().colwise()*low.inv_tau.cwiseInverse().array()).abs().maxCoeff();
        fp.relaxed_ms = k*d.dt_ms;
        if (!std::isfinite(fp.residual) || !(fp.x.cwiseAbs().maxCoeff() <= d.max_abs_x)) {
            std::ostringstream os;
            os << "the network diverged while relaxing to its fixed point (t = " << fp.relaxed_ms << " ms)";
            throw divergence_error(-1, os.str());
        }
        if (fp.residual <= tol) return fp;
        if (fp.relaxed_ms >= max_ms) {
            std::ostringstream os;
            os << "no fixed point within task.relax_max_ms = " << max_ms << " ms: the residual is still " << fp.residual
               << " > task.fixed_point_tol = " << tol
               << " (the network may oscillate or be too slow; lower network.spectral_radius or raise task.relax_max_ms)";
            throw divergence_error(-1, os.str());
        }
        const double t0 = k*d.dt_ms; // integer grid
        switch (kind) {
        case stepper_info::kind::euler: odeint::integrate_n_steps(odeint_steppers::euler<matrix>(), sys, fp.x, t0, d.dt_ms, chunk); break;
        case stepper_info::kind::rk4: odeint::integrate_n_steps(odeint_steppers::rk4<matrix>(), sys, fp.x, t0, d.dt_ms, chunk); break;
        case stepper_info::kind::dopri5: odeint::integrate_n_steps(dense, sys, fp.x, t0, d.dt_ms, chunk); break;
        }
    }
}

} // namespace eisim
