#pragma once
// The probe: a run's circuit replayed at one snapshot of its weights on a fixed set of trials,
// giving what an experimenter would record on those trials (docs/identify.md, "Activations" and
// "Activity change"). The circuit is rebuilt from the run's own config (the same build as the run's,
// so the synapses are the run file's, in its order); only the weights change between snapshots.
//
// For a rate circuit, τ_i dx_i/dt = −x_i + Σ_j W_ij φ(x_j) + Σ_c W^in_ic u_c + b_i, r_i = φ(x_i),
// integrated with the run's integrator on the probe trials' observation grid t_k = k·dt,
// k = 0..T (the run's own private noise, if any, from stream(probe_seed, "probe-noise")):
//   activation_i(b) = (1/T) Σ_{k=1..T} r_i(t_k, b)            (the trial's mean rate)
//   gain_i(b)       = (1/T) Σ_{k=1..T} φ'(x_i(t_k, b))        (the trial's mean slope)
//   output_o(b)     = (1/T) Σ_{k=1..T} y_o(t_k, b),  y = W_out r
// For a spiking circuit (models/spiking.hpp), simulated with streams of probe_seed:
//   activation_i(b) = the cell's spikes in the trial / its duration T·dt   (Hz)
//   gain_i(b)       = (1/T) Σ_k ψ_i(k)   (the pseudo-derivative of height γ = surrogate_gamma,
//                                          0.3 when the run's credit rule has none)
//   output_o(b)     = (1/T) Σ_{k=1..T} y_o(k)   (the leaky readouts)
// The probe set is the task's own kind of trials (models/trials.hpp, make_probe_trials), the same
// for every run of a task and every snapshot.
#include <cstdint>

#include "models/network.hpp"
#include "models/task.hpp"
#include "sim/config.hpp"

namespace eisim::observe {

struct probe_result {
    matrix activation; // [N × B] rate cells: mean rate; spiking cells: Hz
    matrix gain;       // [N × B] mean φ'(x) or ψ
    matrix output;     // [n_out × B] mean readout
};

class probe {
public:
    /// The run's circuit (from its config) and `trials` probe trials drawn with `probe_seed`.
    probe(const config& c, int trials, std::uint64_t probe_seed);
    /// The run's circuit and the given trials (tests replay a run's own trials this way).
    probe(const config& c, trial_batch trials, std::uint64_t probe_seed);

    /// The circuit, whose magnitudes the caller sets to a snapshot's before `run`.
    network& net() { return net_; }
    const network& net() const { return net_; }

    /// Replay the probe trials with the circuit's current weights.
    probe_result run() const;

private:
    config c_;
    std::uint64_t seed_;
    layout storage_;
    network net_;
    trial_batch trials_;
    double gamma_ = 0.3;
};

} // namespace eisim::observe
