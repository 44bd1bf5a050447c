#pragma once
// Inputs on a time grid, and the generators that fill them.
//
// An input_grid holds u_k (n_in × B) at t_k = k·dt, k = 0..steps; between grid points u(t) is
// interpolated piecewise-linearly (adaptive steppers evaluate it anywhere).
//
// Generators (units: rates, dimensionless; times in ms):
//   ou    u = [v]₊,  τ_u dv = (μ − v) dt + σ √(2 τ_u) dW   (rectified Ornstein–Uhlenbeck; started
//         from its stationary law and advanced with the exact update
//         v_{k+1} = μ + (v_k − μ) e^{−dt/τ_u} + σ √(1 − e^{−2dt/τ_u}) ξ_k)
//   step  u = amplitude for onset_ms ≤ t < offset_ms, else 0, on every channel
//   zero  u = 0
#include <string>
#include <vector>

#include "models/parameters.hpp"
#include "models/random.hpp"
#include "models/registry.hpp"
#include "models/types.hpp"

namespace eisim {

struct input_grid {
    double dt = 1.0;  // ms
    int steps = 0;    // grid points k = 0..steps
    int n_in = 0, batch = 0;
    matrix U;         // n_in × (batch·(steps+1)); block k is columns [k·batch, (k+1)·batch)

    input_grid() = default;
    input_grid(double dt_, int steps_, int n_in_, int batch_):
        dt(dt_), steps(steps_), n_in(n_in_), batch(batch_), U(matrix::Zero(n_in_, batch_*(steps_ + 1))) {}

    auto at(int k) { return U.middleCols(static_cast<long>(k)*batch, batch); }
    auto at(int k) const { return U.middleCols(static_cast<long>(k)*batch, batch); }

    /// u(t) by linear interpolation into `out` (n_in × B); t is clamped to the grid.
    void interpolate(double t, matrix& out) const {
        double s = t/dt;
        if (s <= 0) { out = at(0); return; }
        if (s >= steps) { out = at(steps); return; }
        int k = static_cast<int>(s);
        double alpha = s - k;
        if (alpha < 1e-12) { out = at(k); return; }
        out = (1.0 - alpha)*at(k) + alpha*at(k + 1);
    }
};

/// The generator by name, the channel count, and the values of the generators' own keys
/// ([input]: tau_ms, mean, sigma, ...; every registered generator's, at its default until set).
struct input_desc {
    std::string kind = "ou";
    int n_in = 20;
    parameters keys;
    input_desc();
};

/// An input generator, registered by name: its documentation, its config keys ([input]) and how it
/// fills a grid (u is zero on entry; g is the stream for its noise).
struct input_kind {
    std::string doc;
    std::vector<key_spec> keys;
    void (*fill)(input_grid& u, const parameters& keys, rng& g);
};
const registry<input_kind>& input_registry();

/// Fill a grid of `steps`+1 points with `batch` trials of input; the stream gives the noise.
input_grid make_input(const input_desc& d, double dt, int steps, int batch, rng& g);

} // namespace eisim
