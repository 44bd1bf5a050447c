#pragma once
// Spiking network populations: leaky integrate-and-fire (`lif`) and adaptive LIF (`alif`, Bellec
// et al. 2018, NeurIPS: "Long short-term memory and learning-to-learn in networks of spiking
// neurons"), with current-based exponential synapses. Units: mV, ms, Hz.
//
// Cell i between spikes (docs/spiking.md):
//   τ_m dv/dt = −(v − E_L) + Σ_p I_p + I_e       I_e: the population's bias_mV
//   τ_p dI_p/dt = −I_p                          one synaptic current per port p (a distinct τ_syn)
//   τ_a da/dt = −a                              alif; the threshold is A = v_th + β a (lif: β = 0)
// A spike of presynaptic cell j through synapse s (weight w_s = sign_s·m_s, mV) adds w_s to the
// current I_p(s) of its post cell d_s ≥ 1 steps later; p(s) is the port of the projection's
// tau_syn_ms, or of the post population's tau_syn_e_ms / tau_syn_i_ms by the pre cell's sign.
//
// The equations are linear between spikes, so each step of h = dt_ms is the exact propagator (as
// NEST's iaf_psc_exp and Brian2's `exact` method):
//   v ← v∞ + (v − v∞) e^{−h/τ_m} + Σ_p I_p · τ_p/(τ_p − τ_m) (e^{−h/τ_p} − e^{−h/τ_m}),   v∞ = E_L + I_e
//       (τ_p = τ_m: I_p · (h/τ_m) e^{−h/τ_m}),
//   I_p ← I_p e^{−h/τ_p},   a ← a e^{−h/τ_a}.
//
// The update order of step k (from t_k = k h to t_{k+1}), that of Brian2's default schedule:
//   1. integrate: every I_p and a decay; a cell not refractory integrates v, a refractory one
//      keeps v = v_reset;
//   2. threshold: a cell not refractory spikes when v > v_th + β a; the spike's time is t_k;
//   3. arrivals: spikes due at step k (from step k − d through a projection of delay d) add their
//      weights to the currents;
//   4. reset: a cell that spiked takes v = v_reset and a ← a + 1, and is refractory in steps
//      k+1 .. k+n_ref−1, n_ref = round(t_ref / h) (no refractory step when n_ref ≤ 1);
//   5. the step's spikes, the network's and the input channels', are queued for step k + d.
// Input channels fire Poisson spikes: channel c spikes in step k with probability
// x_c(k) = spike_rate_hz · [u_c(t_k)]₊ · h / 1000 (one seeded stream per trial); a channel of an
// input population with drive = "current" instead adds its expected spike count x_c(k) times w_s
// to the current of each of its synapses s in step k + d_s (the Poisson drive's mean, without shot
// noise; no spikes are recorded for it). Its synapses' gradients sum x_c(k) where a spiking
// channel's sum its spikes. Initial state: I = a = 0,
// not refractory, v from the population's v_init (uniform in [v_reset, v_th) from a seeded
// stream per trial, v_reset or v_rest).
//
// Spikes propagate as events through compressed synapse lists by presynaptic cell, with a ring
// buffer of per-port current increments over the delays: a step costs O(N · ports + synapses of
// the cells that spiked), never a dense product.
//
// Readouts (the readout populations of a spiking circuit): leaky integrators of the network's
// spikes, as e-prop's (Bellec et al. 2020), with κ_o = e^{−h/τ_out} (the population's tau_out_ms):
//   y_o(0) = 0,   y_o(k) = κ_o y_o(k−1) + Σ_j W_oj z_j(k−1)      (z_j(k) = 1 if cell j spiked in step k)
// so that the observation at t_k reads the spikes of steps 0..k−1.
//
// Learning records the pseudo-derivative of every cell at every step (Bellec et al. 2020, their
// piecewise-linear one, of height γ):
//   ψ_i(k) = (γ/Δ) max(0, 1 − |v_i(k) − A_i(k)|/Δ),   Δ = v_th − v_reset,
// with v_i(k) and A_i(k) = v_th + β a_i(k) the values the threshold compares in step k, and
// ψ_i(k) = 0 in a refractory step.
#include <cstdint>
#include <vector>

#include "models/circuit.hpp"
#include "models/input.hpp"
#include "models/network.hpp"
#include "models/types.hpp"

namespace eisim {

/// A trial's spikes, in the order of their steps (and cells within a step).
struct spike_list {
    std::vector<std::int32_t> step, cell;
    std::size_t size() const { return step.size(); }
};

/// A network of lif/alif populations lowered for simulation on the grid of step h.
struct spiking_network {
    double dt = 1.0;              // h (ms)
    int n = 0, n_in = 0, ports = 0;
    vector tau_port;              // [ports] τ_syn (ms)
    vector decay_port;            // [ports] e^{−h/τ_p}
    // Each network population's constants (its cells first .. first+size−1 share them).
    struct group {
        int first = 0, size = 0;
        bool adaptive = false;    // alif
        double v_inf, v_th, v_reset, v_rest, beta; // mV; v∞ = E_L + I_e; lif: β = 0
        double decay_m, decay_a;  // e^{−h/τ_m}, e^{−h/τ_a} (lif: 1)
        double n_ref;             // refractory steps after a spike, at least 1 (as a number)
        int v_init;               // 0 uniform, 1 reset, 2 rest
        std::vector<double> gain; // [ports] the propagator from I_p to v over one step
        double delta;             // Δ = v_th − v_reset, the pseudo-derivative's width (mV)
        double tau_m;             // ms
    };
    std::vector<group> groups;
    // Fan-out by presynaptic cell: synapses first[j] .. first[j+1]−1 of cell j.
    struct fanout {
        std::vector<std::int64_t> first;
        std::vector<std::int32_t> post;
        std::vector<std::int32_t> delay;
        std::vector<std::uint8_t> port;
        std::vector<double> w;
        // Each entry's projection (index in network::projections) and synapse id in it.
        std::vector<std::int32_t> projection;
        std::vector<std::int64_t> synapse;
        // [presynaptic cell] the delay of all of its synapses where they share one, else 0.
        std::vector<std::int32_t> same_delay;
    };
    fanout from_network, from_input;
    fanout to_readout;            // the readout synapses by presynaptic cell (post: the readout unit; delay, port unused)
    int max_delay = 1;
    vector input_rate_hz;         // [n_in] spike_rate_hz of each channel's population
    std::vector<char> input_current; // [n_in] 1: the channel drives by its mean (drive = "current"), 0: Poisson spikes
    /// x_c(k): channel c's expected spikes in a step at value u (a spike's worth of current per unit).
    double input_drive(int c, double u) const { return input_rate_hz[c]*(u > 0? u: 0.0)*dt*1e-3; }
    // The leaky readouts: κ_o per readout unit and the signed readout weights (n_out × n).
    vector kappa;
    matrix W_out;
};

/// Lower the spiking populations of `net` (built from `d`) for steps of `dt_ms`.
spiking_network lower_spiking(const network& net, const circuit_desc& d, double dt_ms);

/// One trial's result: the network's and the input channels' spikes, and the initial potentials.
struct spiking_trial {
    spike_list network, input;
    vector v0;
    std::vector<double> psi; // [T × n] ψ_i(k) at psi[k·n + i], when asked for (learning)
    std::vector<double> v;   // [T × n] v_i(k), the potential the threshold compares in step k (with psi)
};

/// Storage for the ψ and v of a batch's trials, kept from one pass to the next (learning): a pass
/// that takes fresh memory for them pays a page fault per 4 KiB of it, as much as the backward pass
/// of surrogate BPTT at N = 1000 (BENCHMARKS.md, "Spiking learning").
struct spiking_record {
    std::vector<std::vector<double>> psi, v; // [trial]
};

/// Simulate steps k = 0..u.steps−1 of every trial b of the input grid (u: n_in × B per grid
/// point), each from its own streams: stream(seed, "v_init", i), stream(seed, "input_spikes", i)
/// with i = pass·2³² + b (pass: the learning step; 0 for `eisim simulate`). With gamma > 0 every
/// trial also records ψ of height γ = gamma and the potentials v_i(k), in the storage of `reuse`
/// where given (taken from it: give it back with keep_record).
std::vector<spiking_trial> simulate_spiking(const spiking_network& s, const input_grid& u, std::uint64_t seed,
                                            std::uint64_t pass = 0, double gamma = 0.0, spiking_record* reuse = nullptr);

/// Moves the trials' ψ and v into `keep` for the next pass (the trials keep their spikes).
void keep_record(std::vector<spiking_trial>& trials, spiking_record& keep);

/// The leaky readouts y (n_out × B·(T+1), input_grid's layout) of the trials' network spikes.
matrix spiking_readout(const spiking_network& s, const std::vector<spiking_trial>& trials, int T);

} // namespace eisim
