#include "observe/probe.hpp"

#include <optional>

#include "models/integrate.hpp"
#include "models/random.hpp"
#include "models/spiking.hpp"
#include "models/tasks.hpp"
#include "models/trials.hpp"

namespace eisim::observe {

probe::probe(const config& c, trial_batch trials, std::uint64_t probe_seed):
    c_(c), seed_(probe_seed), storage_(layout_for(c.integrator, c.circuit)),
    net_(build_network(c_.circuit, static_cast<std::uint64_t>(c_.training.seed), storage_)), trials_(std::move(trials)) {
    c_.task.batch = trials_.batch();
    if (c_.plasticity.keys.has("surrogate_gamma")) gamma_ = c_.plasticity.keys.real("surrogate_gamma");
}

probe::probe(const config& c, int trials, std::uint64_t probe_seed): probe(c, trial_batch{}, probe_seed) {
    c_.task.batch = trials;
    std::optional<network> teacher;
    if (task_registry().get(c_.task.kind).teacher)
        teacher = build_network(c_.circuit, static_cast<std::uint64_t>(c_.task.keys.integer("teacher_seed")), storage_);
    trials_ = make_probe_trials(trial_spec{c_.task, c_.input, c_.integrator, c_.circuit}, teacher? &*teacher: nullptr, probe_seed);
}

probe_result probe::run() const {
    const int T = trials_.steps(), B = trials_.batch(), N = net_.n();
    probe_result r;
    r.activation = matrix::Zero(N, B);
    r.gain = matrix::Zero(N, B);
    r.output = matrix::Zero(net_.n_out, B);
    if (T == 0) return r;
    if (c_.circuit.spiking()) {
        const spiking_network s = lower_spiking(net_, c_.circuit, c_.integrator.dt_ms);
        const auto out = simulate_spiking(s, trials_.u, seed_, 0, gamma_);
        const double hz_per_spike = 1000.0/(T*c_.integrator.dt_ms);
        for (int b = 0; b < B; ++b) {
            for (int i: out[b].network.cell) r.activation(i, b) += hz_per_spike;
            const auto& psi = out[b].psi;
            for (int k = 0; k < T; ++k)
                for (int i = 0; i < N; ++i) r.gain(i, b) += psi[static_cast<std::size_t>(k)*N + i];
        }
        r.gain /= T;
        const matrix y = spiking_readout(s, out, T); // n_out × B·(T+1), block k = observation k
        for (int k = 1; k <= T; ++k) r.output += y.middleCols(static_cast<long>(k)*B, B);
        r.output /= T;
        return r;
    }
    const lowered_network low(net_, sparse_products(c_.integrator, c_.circuit));
    auto noise = stream(seed_, "probe-noise");
    const trajectory tr = integrate(net_, low, trials_.u, trials_.x0, c_.integrator, noise);
    matrix rate, slope;
    for (int k = 1; k <= T; ++k) {
        const matrix& x = tr.at_obs(static_cast<std::size_t>(k));
        net_.phi.apply(x, rate);
        net_.phi.derivative(x, slope);
        r.activation += rate;
        r.gain += slope;
        if (net_.n_out > 0) r.output.noalias() += low.W_out*rate;
    }
    r.activation /= T;
    r.gain /= T;
    r.output /= T;
    return r;
}

} // namespace eisim::observe
