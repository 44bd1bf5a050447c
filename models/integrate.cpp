#include "models/integrate.hpp"

#include <cmath>
#include <sstream>

#include "models/dynamics.hpp"
#include "models/error.hpp"
#include "models/odeint_eigen.hpp"

namespace eisim {

const registry<stepper_info>& stepper_registry() {
    using K = stepper_info::kind;
    static const registry<stepper_info> r("stepper", {
        {"euler", {K::euler, "explicit Euler, fixed step dt_ms, order 1", false}},
        {"rk4", {K::rk4, "classical Runge-Kutta, fixed step dt_ms, order 4", false}},
        {"dopri5", {K::dopri5, "adaptive Dormand-Prince 5(4) with atol/rtol, stepping onto the dt_ms grid", true,
                    {real_key("atol", 1e-6, 0, 1, "dopri5: absolute tolerance", true),
                     real_key("rtol", 1e-6, 0, 1, "dopri5: relative tolerance", true)}}},
    });
    return r;
}

integrator_desc::integrator_desc() {
    for (auto& name: stepper_registry().names()) keys.declare(stepper_registry().get(name).keys);
}

namespace {

void guard(const matrix& x, double t, double max_abs_x) {
    const double m = x.cwiseAbs().maxCoeff(); // NaN propagates as "not finite" below
    if (!std::isfinite(m) || !(m <= max_abs_x)) {
        std::ostringstream os;
        os << "the network diverged at t = " << t << " ms: ";
        if (!x.allFinite()) os << "x is not finite (NaN or Inf)";
        else os << "max |x| = " << m << " exceeds the runaway bound " << max_abs_x;
        throw divergence_error(-1, os.str());
    }
}

template <typename Stepper>
void fixed_steps(Stepper stepper, const rate_dynamics& sys, double noise_sigma, matrix x,
                 const input_grid& u, const integrator_desc& d, rng& noise, trajectory& tr) {
    const int T = u.steps;
    const double h = u.dt;
    tr.x.reserve(T + 1);
    tr.x.push_back(x);
    tr.obs.push_back(0);
    const bool noisy = noise_sigma > 0.0;
    vector noise_scale;
    if (noisy) noise_scale = (2.0*h*sys.inv_tau.array()).sqrt()*noise_sigma;
    for (int k = 0; k < T; ++k) {
        const double t = k*h; // integer grid: never accumulated
        stepper.do_step(sys, x, t, h);
        if (noisy)
            for (long b = 0; b < x.cols(); ++b)
                for (long i = 0; i < x.rows(); ++i) x(i, b) += noise_scale[i]*normal(noise);
        guard(x, (k + 1)*h, d.max_abs_x);
        tr.t.push_back(t);
        tr.h.push_back(h);
        tr.x.push_back(x);
        tr.obs.push_back(tr.x.size() - 1);
    }
}

// dopri5 steps tried (accepted or rejected) allowed between two grid points (a rate network
// takes a few), and rejections in a row.
constexpr int max_adaptive_steps_per_interval = 10000;
constexpr int max_rejections_in_a_row = 500;

void adaptive_steps(const rate_dynamics& sys, matrix x, const input_grid& u, const integrator_desc& d,
                    trajectory& tr) {
    namespace odeint = boost::numeric::odeint;
    auto stepper = odeint::make_controlled(d.keys.real("atol"), d.keys.real("rtol"), odeint_steppers::dopri5<matrix>());
    tr.x.push_back(x);
    tr.obs.push_back(0);
    double h = u.dt;
    for (int k = 0; k < u.steps; ++k) {
        const double t_end = (k + 1)*u.dt;
        double t = k*u.dt;
        int rejected = 0, tried = 0;
        while (t < t_end) {
            // A step budget: tolerances no step can meet (rtol = atol = 1e-300) shrink the steps
            // without end, holding every accepted one in memory and never reaching a point where
            // a signal is honoured. Rejections count too: each accepted step can follow hundreds.
            if (++tried > max_adaptive_steps_per_interval)
                throw divergence_error(-1, "dopri5 took more than " + std::to_string(max_adaptive_steps_per_interval) +
                                               " steps (accepted or rejected) within one dt_ms interval near t = " + std::to_string(t) +
                                               " ms: integrator.atol and rtol are too tight for this network");
            const bool last = t + h >= t_end*(1 - 1e-14);
            double h_try = last? t_end - t: h;
            const double t_start = t;
            if (stepper.try_step(sys, x, t, h_try) == odeint::success) {
                tr.t.push_back(t_start);
                tr.h.push_back(t - t_start);
                if (last) t = t_end; // land exactly on the grid point
                tr.x.push_back(x);
                h = std::max(h_try, 1e-12); // odeint proposes the next step size
                rejected = 0;
            } else {
                h = h_try;
                if (++rejected > max_rejections_in_a_row) throw divergence_error(-1, "dopri5 could not meet the tolerances near t = " + std::to_string(t) + " ms");
            }
        }
        guard(x, t_end, d.max_abs_x);
        tr.obs.push_back(tr.x.size() - 1);
    }
}

} // namespace

bool sparse_products(const integrator_desc& d, const circuit_desc& net) {
    if (d.products != "auto") return d.products == "sparse";
    return net.n() > 0 && expected_density(net) <= d.sparse_below;
}

layout layout_for(const integrator_desc& d, const circuit_desc& net) {
    return sparse_products(d, net)? layout::lists: layout::dense;
}

trajectory integrate(const network& net, const lowered_network& low, const input_grid& u,
                     const matrix& x0, const integrator_desc& d, rng& noise) {
    return integrate(net, low, u, x0, d, noise, net.noise_sigma);
}

trajectory integrate(const network& net, const lowered_network& low, const input_grid& u,
                     const matrix& x0, const integrator_desc& d, rng& noise, double noise_sigma) {
    dynamics_workspace ws;
    const rate_dynamics sys{low.inv_tau, low.W_rec, low.W_in, u, net.phi, net.bias, ws, low.sparse_rec()};
    trajectory tr;
    tr.stepper = d.stepper;
    tr.dt_obs = u.dt;
    switch (stepper_registry().get(d.stepper).type) {
    case stepper_info::kind::euler: fixed_steps(odeint_steppers::euler<matrix>(), sys, noise_sigma, x0, u, d, noise, tr); break;
    case stepper_info::kind::rk4: fixed_steps(odeint_steppers::rk4<matrix>(), sys, noise_sigma, x0, u, d, noise, tr); break;
    case stepper_info::kind::dopri5:
        if (noise_sigma > 0.0) throw user_error("private noise (network.noise_sigma > 0) needs a fixed-step stepper (euler or rk4), not dopri5");
        adaptive_steps(sys, x0, u, d, tr);
        break;
    }
    return tr;
}

} // namespace eisim
