#include "models/input.hpp"

#include <cmath>

namespace eisim {

namespace {

// ou: v_{k+1} = μ + (v_k − μ) e^{−dt/τ_u} + σ √(1 − e^{−2dt/τ_u}) ξ_k from the stationary law; u = [v]₊.
void fill_ou(input_grid& u, const parameters& keys, rng& g) {
    const double tau = keys.real("tau_ms"), mean = keys.real("mean"), sigma = keys.real("sigma");
    const double decay = std::exp(-u.dt/tau);
    const double kick = sigma*std::sqrt(1.0 - decay*decay);
    matrix v(u.n_in, u.batch);
    for (long b = 0; b < u.batch; ++b)
        for (long c = 0; c < u.n_in; ++c) v(c, b) = mean + sigma*normal(g);
    for (int k = 0; k <= u.steps; ++k) {
        if (k > 0)
            for (long b = 0; b < u.batch; ++b)
                for (long c = 0; c < u.n_in; ++c) v(c, b) = mean + (v(c, b) - mean)*decay + kick*normal(g);
        u.at(k) = v.cwiseMax(0.0);
    }
}

// step: u = amplitude for onset_ms ≤ t < offset_ms on every channel.
void fill_step(input_grid& u, const parameters& keys, rng&) {
    const double onset = keys.real("onset_ms"), offset = keys.real("offset_ms"), amplitude = keys.real("amplitude");
    for (int k = 0; k <= u.steps; ++k) {
        const double t = k*u.dt;
        if (t >= onset && t < offset) u.at(k).setConstant(amplitude);
    }
}

} // namespace

const registry<input_kind>& input_registry() {
    static const registry<input_kind> r("input kind", {
        {"ou", {"rectified Ornstein-Uhlenbeck",
                {real_key("tau_ms", 50.0, 0, 1e7, "ou: correlation time (ms)", true),
                 real_key("mean", 0.5, -1e6, 1e6, "ou: mean before rectification"),
                 real_key("sigma", 1.0, 0, 1e6, "ou: stationary sd before rectification")},
                fill_ou}},
        {"step", {"a constant amplitude on every channel from onset to offset",
                  {real_key("amplitude", 1.0, -1e6, 1e6, "step: amplitude on every channel"),
                   real_key("onset_ms", 100.0, 0, 1e9, "step: onset time (ms)"),
                   real_key("offset_ms", 400.0, 0, 1e9, "step: offset time (ms)")},
                  fill_step}},
        {"zero", {"no input", {}, [](input_grid&, const parameters&, rng&) {}}},
    });
    return r;
}

input_desc::input_desc() {
    for (auto& name: input_registry().names()) keys.declare(input_registry().get(name).keys);
}

input_grid make_input(const input_desc& d, double dt, int steps, int batch, rng& g) {
    input_grid u(dt, steps, d.n_in, batch);
    const input_kind& kind = input_registry().get(d.kind);
    parameters keys = d.keys;
    keys.declare(kind.keys);
    kind.fill(u, keys, g);
    return u;
}

} // namespace eisim
