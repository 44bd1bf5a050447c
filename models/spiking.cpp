#include "models/spiking.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/random.hpp"

namespace eisim {

namespace {

// The propagator from a current of time constant τ_p to v over one step h (models/spiking.hpp).
double current_gain(double h, double tau_m, double tau_p) {
    if (tau_p == tau_m) return h/tau_m*std::exp(-h/tau_m);
    return tau_p/(tau_p - tau_m)*(std::exp(-h/tau_p) - std::exp(-h/tau_m));
}

// Synapses grouped by presynaptic cell (counting sort, stable: within a cell, in projection and id order).
struct synapse_entry {
    std::int32_t pre, post, delay;
    std::uint8_t port;
    double w;
};

spiking_network::fanout compress(const std::vector<synapse_entry>& syn, int n_pre) {
    spiking_network::fanout f;
    f.first.assign(static_cast<std::size_t>(n_pre) + 1, 0);
    for (auto& s: syn) ++f.first[static_cast<std::size_t>(s.pre) + 1];
    for (int j = 0; j < n_pre; ++j) f.first[j + 1] += f.first[j];
    std::vector<std::int64_t> next(f.first.begin(), f.first.end() - 1);
    f.post.resize(syn.size());
    f.delay.resize(syn.size());
    f.port.resize(syn.size());
    f.w.resize(syn.size());
    for (auto& s: syn) {
        const auto at = static_cast<std::size_t>(next[s.pre]++);
        f.post[at] = s.post;
        f.delay[at] = s.delay;
        f.port[at] = s.port;
        f.w[at] = s.w;
    }
    return f;
}

} // namespace

spiking_network lower_spiking(const network& net, const circuit_desc& d, double dt_ms) {
    spiking_network s;
    s.dt = dt_ms;
    s.n = net.n();
    s.n_in = net.n_in;
    const int N = s.n;
    s.v_inf.resize(N); s.v_th.resize(N); s.v_reset.resize(N); s.v_rest.resize(N); s.beta.resize(N);
    s.decay_m.resize(N); s.decay_a.resize(N);
    s.n_ref.resize(N);
    s.v_init.resize(N);
    s.input_rate_hz.setZero(net.n_in);
    std::vector<const population_desc*> desc_of(N, nullptr); // each network cell's population
    for (std::size_t k = 0; k < d.populations.size(); ++k) {
        const population_desc& pd = d.populations[k];
        const population& p = net.populations[k];
        if (p.side == side::input) s.input_rate_hz.segment(p.first, p.size).setConstant(pd.keys.real("spike_rate_hz"));
        if (p.side != side::network) continue;
        const parameters& q = pd.keys;
        const bool adaptive = pd.model == "alif";
        for (int i = p.first; i < p.first + p.size; ++i) {
            desc_of[i] = &pd;
            s.v_rest[i] = q.real("v_rest_mV");
            s.v_inf[i] = q.real("v_rest_mV") + q.real("bias_mV");
            s.v_th[i] = q.real("v_th_mV");
            s.v_reset[i] = q.real("v_reset_mV");
            s.beta[i] = adaptive? q.real("beta_mV"): 0.0;
            s.decay_m[i] = std::exp(-dt_ms/q.real("tau_m_ms"));
            s.decay_a[i] = adaptive? std::exp(-dt_ms/q.real("tau_a_ms")): 1.0;
            s.n_ref[i] = static_cast<int>(std::lround(q.real("t_ref_ms")/dt_ms));
            const std::string& init = q.text("v_init");
            s.v_init[i] = init == "uniform"? 0: init == "reset"? 1: 2;
        }
    }
    // Ports: the distinct synaptic time constants, in order of first use.
    std::vector<double> taus;
    const auto port_of = [&](double tau) {
        auto it = std::find(taus.begin(), taus.end(), tau);
        if (it != taus.end()) return static_cast<std::uint8_t>(it - taus.begin());
        if (taus.size() == 255) throw std::logic_error("more than 255 distinct synaptic time constants");
        taus.push_back(tau);
        return static_cast<std::uint8_t>(taus.size() - 1);
    };
    std::vector<synapse_entry> from_net, from_in;
    for (std::size_t k = 0; k < net.projections.size(); ++k) {
        const projection& P = net.projections[k];
        const projection_desc& pd = d.projections[k];
        if (P.kind == product::readout) continue;
        s.max_delay = std::max(s.max_delay, P.delay);
        auto& out = P.kind == product::input? from_in: from_net;
        P.for_each([&](std::size_t, int post, int pre, int sign, double m) {
            const population_desc& X = *desc_of[post];
            const double tau = pd.tau_syn_ms > 0? pd.tau_syn_ms: X.keys.real(sign > 0? "tau_syn_e_ms": "tau_syn_i_ms");
            out.push_back({pre, post, P.delay, port_of(tau), sign*m});
        });
    }
    s.from_network = compress(from_net, N);
    s.from_input = compress(from_in, net.n_in);
    s.ports = static_cast<int>(taus.size());
    s.tau_port = Eigen::Map<const vector>(taus.data(), s.ports);
    s.decay_port = (-dt_ms/s.tau_port.array()).exp().matrix();
    s.gain.resize(N, s.ports);
    for (int i = 0; i < N; ++i)
        for (int p = 0; p < s.ports; ++p) s.gain(i, p) = current_gain(dt_ms, desc_of[i]->keys.real("tau_m_ms"), taus[p]);
    return s;
}

namespace {

// One trial: the state of every cell, the ring buffer of current increments, and the loop.
spiking_trial run_trial(const spiking_network& s, const input_grid& u, int b, std::uint64_t seed) {
    const int N = s.n, P = s.ports, D = s.max_delay + 1, T = u.steps;
    spiking_trial out;
    vector v(N), a = vector::Zero(N);
    matrix I = matrix::Zero(N, std::max(P, 1)); // column p: the current of port p
    matrix arriving = matrix::Zero(static_cast<long>(N)*std::max(P, 1), D); // column k mod D: increments due at step k
    std::vector<int> last_spike(N, -1 << 30);
    auto g0 = stream(seed, "v_init", static_cast<std::uint64_t>(b));
    for (int i = 0; i < N; ++i)
        v[i] = s.v_init[i] == 0? s.v_reset[i] + uniform(g0)*(s.v_th[i] - s.v_reset[i]): s.v_init[i] == 1? s.v_reset[i]: s.v_rest[i];
    out.v0 = v;
    auto gin = stream(seed, "input_spikes", static_cast<std::uint64_t>(b));
    std::vector<std::int32_t> fired, fired_in;
    const auto queue = [&](const spiking_network::fanout& f, int j, int k) {
        for (auto q = f.first[j]; q < f.first[j + 1]; ++q) {
            const long slot = (k + f.delay[q]) % D;
            arriving(static_cast<long>(f.port[q])*N + f.post[q], slot) += f.w[q];
        }
    };
    for (int k = 0; k < T; ++k) {
        // 1. integrate
        for (int i = 0; i < N; ++i) {
            if (k - last_spike[i] >= s.n_ref[i]) {
                double x = s.v_inf[i] + (v[i] - s.v_inf[i])*s.decay_m[i];
                for (int p = 0; p < P; ++p) x += I(i, p)*s.gain(i, p);
                v[i] = x;
            }
            a[i] *= s.decay_a[i];
        }
        for (int p = 0; p < P; ++p) I.col(p) *= s.decay_port[p];
        // 2. threshold
        fired.clear();
        for (int i = 0; i < N; ++i)
            if (k - last_spike[i] >= s.n_ref[i] && v[i] > s.v_th[i] + s.beta[i]*a[i]) fired.push_back(i);
        // 3. arrivals
        const long now = k % D;
        for (int p = 0; p < P; ++p) I.col(p) += arriving.col(now).segment(static_cast<long>(p)*N, N);
        arriving.col(now).setZero();
        // 4. reset
        for (int i: fired) {
            v[i] = s.v_reset[i];
            a[i] += 1.0;
            last_spike[i] = k;
            out.network.step.push_back(k);
            out.network.cell.push_back(i);
        }
        // 5. queue the step's spikes: the network's, then the input channels' (Poisson)
        for (int j: fired) queue(s.from_network, j, k);
        fired_in.clear();
        const auto uk = u.at(k);
        for (int c = 0; c < s.n_in; ++c) {
            const double p_spike = s.input_rate_hz[c]*std::max(uk(c, b), 0.0)*s.dt*1e-3;
            if (uniform(gin) < p_spike) fired_in.push_back(c);
        }
        for (int c: fired_in) {
            queue(s.from_input, c, k);
            out.input.step.push_back(k);
            out.input.cell.push_back(c);
        }
    }
    return out;
}

} // namespace

std::vector<spiking_trial> simulate_spiking(const spiking_network& s, const input_grid& u, std::uint64_t seed) {
    std::vector<spiking_trial> out(static_cast<std::size_t>(u.batch));
    // Trials are independent, each from its own streams: the same result for any thread count.
#pragma omp parallel for schedule(dynamic, 1) if (u.batch > 1)
    for (int b = 0; b < u.batch; ++b) out[static_cast<std::size_t>(b)] = run_trial(s, u, b, seed);
    return out;
}

} // namespace eisim
