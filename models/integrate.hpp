#pragma once
// Forward integration of the rate dynamics with Boost.Odeint on the integer observation grid
// t_k = k·dt (ms), k = 0..T. Steppers by name:
//   euler   fixed step dt (order 1)
//   rk4     fixed step dt (order 4)
//   dopri5  adaptive Dormand–Prince 5(4) with error control (atol, rtol); it steps exactly onto
//           every observation time, and inputs are interpolated linearly between grid points.
// Every accepted step is kept (its starting state, time and size) for the exact gradient.
// A runaway guard stops with a divergence_error when x is not finite or |x| exceeds max_abs_x.
#include <string>
#include <vector>

#include "models/dynamics.hpp"
#include "models/parameters.hpp"
#include "models/network.hpp"
#include "models/random.hpp"
#include "models/registry.hpp"
#include "models/task.hpp"
#include "models/trajectory.hpp"

namespace eisim {

struct integrator_desc {
    std::string stepper = "euler";
    double dt_ms = 1.0;
    double max_abs_x = 1e6; // runaway guard on the synaptic input x
    std::string products = "auto"; // recurrent products: dense, sparse, or auto (by density)
    double sparse_below = 0.1;      // auto: sparse when nnz/N² is at most this
    // The steppers' own keys ([integrator]: dopri5's atol and rtol), at their defaults until set.
    parameters keys;
    integrator_desc();
};

/// Whether `products` asks for sparse recurrent products on networks of description `net`
/// (auto: when their expected density, expected_density(net), is at most sparse_below).
bool sparse_products(const integrator_desc& d, const circuit_desc& net);
/// The layout for such networks: lists for sparse products (they build compressed rows from the
/// synapse lists), dense for dense products (the weights held once, in the matrix they use).
layout layout_for(const integrator_desc& d, const circuit_desc& net);
inline bool sparse_products(const integrator_desc& d, const network_desc& net) { return sparse_products(d, ei_circuit(net)); }
inline layout layout_for(const integrator_desc& d, const network_desc& net) { return layout_for(d, ei_circuit(net)); }

/// A stepper, registered by name: the odeint stepper it lowers to, its documentation, whether it
/// adapts its step, and its config keys ([integrator]).
struct stepper_info {
    enum class kind { euler, rk4, dopri5 };
    kind type;
    std::string doc;
    bool adaptive;
    std::vector<key_spec> keys;
};
const registry<stepper_info>& stepper_registry();

/// Integrate one batch of trials from trials.x0 over the input grid. `noise` is the stream for
/// private noise (used only if net.noise_sigma > 0; euler and rk4 only).
trajectory integrate(const network& net, const lowered_network& low, const input_grid& u,
                     const matrix& x0, const integrator_desc& d, rng& noise);
/// The same with private noise of size noise_sigma in place of net.noise_sigma: node
/// perturbation's noisy passes, without a copy of the network.
trajectory integrate(const network& net, const lowered_network& low, const input_grid& u,
                     const matrix& x0, const integrator_desc& d, rng& noise, double noise_sigma);

} // namespace eisim
