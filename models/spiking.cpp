#include "models/spiking.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
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
    std::int32_t projection;
    std::int64_t synapse;
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
    f.projection.resize(syn.size());
    f.synapse.resize(syn.size());
    for (auto& s: syn) {
        const auto at = static_cast<std::size_t>(next[s.pre]++);
        f.post[at] = s.post;
        f.delay[at] = s.delay;
        f.port[at] = s.port;
        f.w[at] = s.w;
        f.projection[at] = s.projection;
        f.synapse[at] = s.synapse;
    }
    f.same_delay.assign(static_cast<std::size_t>(n_pre), 0);
    for (int j = 0; j < n_pre; ++j) {
        const auto b = f.first[j], e = f.first[j + 1];
        if (b < e && std::all_of(f.delay.begin() + b, f.delay.begin() + e, [&](std::int32_t d) { return d == f.delay[static_cast<std::size_t>(b)]; }))
            f.same_delay[static_cast<std::size_t>(j)] = f.delay[static_cast<std::size_t>(b)];
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
    s.input_rate_hz.setZero(net.n_in);
    s.input_current.assign(static_cast<std::size_t>(net.n_in), 0);
    s.kappa.setZero(net.n_out);
    s.W_out.setZero(net.n_out, N);
    std::vector<const population_desc*> desc_of(N, nullptr); // each network cell's population
    for (std::size_t k = 0; k < d.populations.size(); ++k) {
        const population_desc& pd = d.populations[k];
        const population& p = net.populations[k];
        if (p.side == side::input) {
            s.input_rate_hz.segment(p.first, p.size).setConstant(pd.keys.real("spike_rate_hz"));
            std::fill(s.input_current.begin() + p.first, s.input_current.begin() + p.first + p.size, pd.keys.text("drive") == "current");
        }
        if (p.side == side::output) s.kappa.segment(p.first, p.size).setConstant(std::exp(-dt_ms/pd.keys.real("tau_out_ms")));
        if (p.side != side::network || p.size == 0) continue;
        std::fill(desc_of.begin() + p.first, desc_of.begin() + p.first + p.size, &pd);
        const parameters& q = pd.keys;
        spiking_network::group g;
        g.first = p.first;
        g.size = p.size;
        g.adaptive = pd.model == "alif";
        g.v_rest = q.real("v_rest_mV");
        g.v_inf = g.v_rest + q.real("bias_mV");
        g.v_th = q.real("v_th_mV");
        g.v_reset = q.real("v_reset_mV");
        g.beta = g.adaptive? q.real("beta_mV"): 0.0;
        g.decay_m = std::exp(-dt_ms/q.real("tau_m_ms"));
        g.decay_a = g.adaptive? std::exp(-dt_ms/q.real("tau_a_ms")): 1.0;
        g.n_ref = std::max(std::lround(q.real("t_ref_ms")/dt_ms), 1l);
        g.delta = g.v_th - g.v_reset;
        g.tau_m = q.real("tau_m_ms");
        const std::string& init = q.text("v_init");
        g.v_init = init == "uniform"? 0: init == "reset"? 1: 2;
        s.groups.push_back(std::move(g));
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
    std::vector<synapse_entry> from_net, from_in, readout;
    for (std::size_t k = 0; k < net.projections.size(); ++k) {
        const projection& P = net.projections[k];
        const projection_desc& pd = d.projections[k];
        if (P.kind == product::readout) {
            P.for_each([&](std::size_t id, int post, int pre, int sign, double m) {
                s.W_out(post, pre) += sign*m;
                readout.push_back({pre, post, 0, 0, sign*m, static_cast<std::int32_t>(k), static_cast<std::int64_t>(id)});
            });
            continue;
        }
        s.max_delay = std::max(s.max_delay, P.delay);
        auto& out = P.kind == product::input? from_in: from_net;
        P.for_each([&](std::size_t id, int post, int pre, int sign, double m) {
            const population_desc& X = *desc_of[post];
            const double tau = pd.tau_syn_ms > 0? pd.tau_syn_ms: X.keys.real(sign > 0? "tau_syn_e_ms": "tau_syn_i_ms");
            out.push_back({pre, post, P.delay, port_of(tau), sign*m, static_cast<std::int32_t>(k), static_cast<std::int64_t>(id)});
        });
    }
    s.from_network = compress(from_net, N);
    s.from_input = compress(from_in, net.n_in);
    s.to_readout = compress(readout, N);
    s.ports = static_cast<int>(taus.size());
    s.tau_port = Eigen::Map<const vector>(taus.data(), s.ports);
    s.decay_port = (-dt_ms/s.tau_port.array()).exp().matrix();
    for (auto& g: s.groups)
        for (double tau: taus) g.gain.push_back(current_gain(dt_ms, g.tau_m, tau));
    return s;
}

namespace {

// One step of the cells of one population (their constants shared), in one pass: 1. integrate
// (v from the currents before they decay) and decay the currents, 2. threshold and 4. reset. The
// cells that spiked are written to `fired` (their count returned). A cell's phases read and write
// only its own state, so one pass is the documented order; 3. (arrivals) and 5. (sending) follow
// in run_trial. Arrays are port-major (current p of cell i at p·n + i). Where SSE2 is (every
// x86-64) two cells go at a time, with exact selects (and, andnot, or): the same arithmetic as the
// scalar form. `Ports` > 0: the number of currents, the loop unrolled; 0: any number. With
// `psi` (learning), it also writes every cell's pseudo-derivative ψ (of height `gamma`) into
// psi[i] and the potential it compared with the threshold into v_seen[i].
template <int Ports, bool Adaptive>
int step_group(const spiking_network::group& g, int ports, std::size_t n, double t, double* __restrict v, double* __restrict a,
               double* __restrict ready, double* __restrict I, const double* __restrict decay_port, std::int32_t* __restrict fired,
               double* __restrict psi, double* __restrict v_seen, double gamma) {
    const int P = Ports > 0? Ports: ports;
    int i = g.first, count = 0;
    const int end = g.first + g.size;
#if defined(__SSE2__)
    {
    const __m128d tt = _mm_set1_pd(t), one = _mm_set1_pd(1.0), v_inf = _mm_set1_pd(g.v_inf), decay_m = _mm_set1_pd(g.decay_m),
                  v_th = _mm_set1_pd(g.v_th), v_reset = _mm_set1_pd(g.v_reset), beta = _mm_set1_pd(g.beta),
                  decay_a = _mm_set1_pd(g.decay_a), next = _mm_set1_pd(t + g.n_ref);
    const __m128d zero = _mm_setzero_pd(), sign = _mm_set1_pd(-0.0), delta = _mm_set1_pd(g.delta),
                  height = _mm_set1_pd(gamma/g.delta);
    const auto select = [](__m128d mask, __m128d yes, __m128d no) { return _mm_or_pd(_mm_and_pd(mask, yes), _mm_andnot_pd(mask, no)); };
    constexpr int held = Ports > 0? Ports: 8; // the gains and decays held in registers
    __m128d gain[held], decay[held];
    for (int p = 0; p < std::min(P, held); ++p) {
        gain[p] = _mm_set1_pd(g.gain[static_cast<std::size_t>(p)]);
        decay[p] = _mm_set1_pd(decay_port[p]);
    }
    for (; P <= held && i + 2 <= end; i += 2) {
        const __m128d v0 = _mm_loadu_pd(v + i);
        __m128d x = _mm_add_pd(v_inf, _mm_mul_pd(_mm_sub_pd(v0, v_inf), decay_m));
        for (int p = 0; p < P; ++p) {
            double* Ip = I + static_cast<std::size_t>(p)*n + i;
            const __m128d c = _mm_loadu_pd(Ip);
            x = _mm_add_pd(x, _mm_mul_pd(c, gain[p]));
            _mm_storeu_pd(Ip, _mm_mul_pd(c, decay[p]));
        }
        const __m128d r = _mm_loadu_pd(ready + i);
        const __m128d active = _mm_cmple_pd(r, tt);
        const __m128d vi = select(active, x, v0);
        __m128d fire, A = v_th;
        if constexpr (Adaptive) {
            const __m128d ai = _mm_mul_pd(_mm_loadu_pd(a + i), decay_a);
            A = _mm_add_pd(v_th, _mm_mul_pd(beta, ai));
            fire = _mm_and_pd(active, _mm_cmpgt_pd(vi, A));
            _mm_storeu_pd(a + i, select(fire, _mm_add_pd(ai, one), ai));
        } else {
            fire = _mm_and_pd(active, _mm_cmpgt_pd(vi, v_th));
        }
        if (psi) { // ψ = active? γ/Δ · max(0, 1 − |v − A|/Δ): 0, as below
            const __m128d y = _mm_sub_pd(one, _mm_div_pd(_mm_andnot_pd(sign, _mm_sub_pd(vi, A)), delta));
            _mm_storeu_pd(psi + i, _mm_and_pd(active, _mm_mul_pd(height, _mm_max_pd(y, zero))));
            _mm_storeu_pd(v_seen + i, vi);
        }
        _mm_storeu_pd(v + i, select(fire, v_reset, vi));
        _mm_storeu_pd(ready + i, select(fire, next, r));
        const int m = _mm_movemask_pd(fire);
        fired[count] = i;
        count += m & 1;
        fired[count] = i + 1;
        count += m >> 1;
    }
    }
#endif
    for (; i < end; ++i) {
        double x = g.v_inf + (v[i] - g.v_inf)*g.decay_m;
        for (int p = 0; p < P; ++p) {
            const std::size_t at = static_cast<std::size_t>(p)*n + static_cast<std::size_t>(i);
            x += I[at]*g.gain[static_cast<std::size_t>(p)];
            I[at] *= decay_port[p];
        }
        const bool active = t >= ready[i];
        const double vi = active? x: v[i];
        const double ai = Adaptive? a[i]*g.decay_a: 0.0;
        const double A = g.v_th + (Adaptive? g.beta*ai: 0.0);
        const bool fire = active && vi > A;
        if (psi) {
            psi[i] = active? gamma/g.delta*std::max(0.0, 1.0 - std::abs(vi - A)/g.delta): 0.0;
            v_seen[i] = vi;
        }
        v[i] = fire? g.v_reset: vi;
        if (Adaptive) a[i] = fire? ai + 1.0: ai;
        if (fire) {
            ready[i] = t + g.n_ref;
            fired[count++] = i;
        }
    }
    return count;
}

// One trial: the state of every cell, the spikes in transit, and the loop. A spike sent in step k
// through a synapse of delay d becomes an event (current, weight) of slot (k + d) mod D; slot k's
// events are added to the currents after step k's integration (3), in the order they were sent
// (as Brian2 adds them one by one), so a step costs O(N · ports) plus O(1) per synaptic event.
template <int Ports>
spiking_trial run_trial(const spiking_network& s, const input_grid& u, int b, std::uint64_t seed, std::uint64_t pass, double gamma,
                        spiking_record* reuse) {
    const int N = s.n, P = Ports > 0? Ports: s.ports, D = s.max_delay + 1, T = u.steps;
    const auto n = static_cast<std::size_t>(N), NP = n*static_cast<std::size_t>(P);
    spiking_trial out;
    std::vector<double> v(n), a(n, 0.0), I(NP, 0.0);
    struct event { std::uint32_t at; double w; }; // I[at] += w
    // Slot r's events are due[r][0 .. due_size[r]) (the vectors only grow: no allocation, no
    // capacity check per event).
    std::vector<std::vector<event>> due(static_cast<std::size_t>(D));
    std::vector<std::size_t> due_size(static_cast<std::size_t>(D), 0);
    // A cell integrates and may spike in step k when k ≥ ready[i] (its last spike + n_ref).
    std::vector<double> ready(n, -1e300);
    const std::uint64_t index = (pass << 32) + static_cast<std::uint64_t>(b);
    if (gamma > 0) { // every step writes every cell's
        if (reuse && static_cast<std::size_t>(b) < reuse->psi.size()) {
            out.psi = std::move(reuse->psi[static_cast<std::size_t>(b)]);
            out.v = std::move(reuse->v[static_cast<std::size_t>(b)]);
        }
        out.psi.resize(n*static_cast<std::size_t>(T));
        out.v.resize(n*static_cast<std::size_t>(T));
    }
    auto g0 = stream(seed, "v_init", index);
    for (auto& g: s.groups) // cells in ascending order: one draw per cell of a uniform population
        for (int i = g.first; i < g.first + g.size; ++i)
            v[i] = g.v_init == 0? g.v_reset + uniform(g0)*(g.v_th - g.v_reset): g.v_init == 1? g.v_reset: g.v_rest;
    out.v0 = Eigen::Map<const vector>(v.data(), N);
    auto gin = stream(seed, "input_spikes", index);
    const auto send = [&](const spiking_network::fanout& f, int j, int k, double x = 1.0) { // x: spikes' worth (current drive)
        const auto first = f.first[j], last = f.first[j + 1];
        const auto count = static_cast<std::size_t>(last - first);
        for (std::size_t r = 0; r < due.size(); ++r)
            if (due[r].size() < due_size[r] + count) due[r].resize(std::max(2*due[r].size(), due_size[r] + count));
        const int now = k % D; // slot (k + d) mod D = now + d, less D once (1 ≤ d < D)
        if (const int d = f.same_delay[static_cast<std::size_t>(j)]) { // one slot: the events in a row
            const auto r = static_cast<std::size_t>(now + d >= D? now + d - D: now + d);
            event* e = due[r].data() + due_size[r];
            for (auto q = first; q < last; ++q, ++e) {
                e->at = static_cast<std::uint32_t>(static_cast<std::size_t>(f.port[q])*n + static_cast<std::size_t>(f.post[q]));
                e->w = x*f.w[q];
            }
            due_size[r] += count;
            return;
        }
        for (auto q = first; q < last; ++q) {
            int r = now + f.delay[q];
            if (r >= D) r -= D;
            event& e = due[static_cast<std::size_t>(r)][due_size[static_cast<std::size_t>(r)]++];
            e.at = static_cast<std::uint32_t>(static_cast<std::size_t>(f.port[q])*n + static_cast<std::size_t>(f.post[q]));
            e.w = x*f.w[q];
        }
    };
    std::vector<double> decay_port(s.decay_port.data(), s.decay_port.data() + P);
    std::vector<std::int32_t> fired(n + 2); // the cells of one population that spiked in a step
    for (int k = 0; k < T; ++k) {
        double* psi = gamma > 0? out.psi.data() + static_cast<std::size_t>(k)*n: nullptr;
        double* v_seen = gamma > 0? out.v.data() + static_cast<std::size_t>(k)*n: nullptr;
        for (auto& g: s.groups) {
            const int count = g.adaptive? step_group<Ports, true>(g, P, n, k, v.data(), a.data(), ready.data(), I.data(), decay_port.data(), fired.data(), psi, v_seen, gamma)
                                        : step_group<Ports, false>(g, P, n, k, v.data(), a.data(), ready.data(), I.data(), decay_port.data(), fired.data(), psi, v_seen, gamma);
            // 5. send the step's spikes (into slots k + d, d ≥ 1: never slot k)
            for (int q = 0; q < count; ++q) {
                send(s.from_network, fired[q], k);
                out.network.step.push_back(k);
                out.network.cell.push_back(fired[q]);
            }
        }
        // 3. arrivals
        const auto now = static_cast<std::size_t>(k % D);
        for (std::size_t q = 0; q < due_size[now]; ++q) I[due[now][q].at] += due[now][q].w;
        due_size[now] = 0;
        // 5. the input channels' spikes (Poisson)
        const auto uk = u.at(k);
        for (int c = 0; c < s.n_in; ++c) {
            const double p_spike = s.input_drive(c, uk(c, b));
            if (s.input_current[static_cast<std::size_t>(c)]) { // the mean drive: no draw, no spike
                if (p_spike > 0) send(s.from_input, c, k, p_spike);
                continue;
            }
            if (uniform(gin) < p_spike) {
                send(s.from_input, c, k);
                out.input.step.push_back(k);
                out.input.cell.push_back(c);
            }
        }
    }
    return out;
}

spiking_trial run_trial(const spiking_network& s, const input_grid& u, int b, std::uint64_t seed, std::uint64_t pass, double gamma,
                        spiking_record* reuse) {
    switch (s.ports) {
    case 1: return run_trial<1>(s, u, b, seed, pass, gamma, reuse);
    case 2: return run_trial<2>(s, u, b, seed, pass, gamma, reuse);
    case 3: return run_trial<3>(s, u, b, seed, pass, gamma, reuse);
    default: return run_trial<0>(s, u, b, seed, pass, gamma, reuse);
    }
}

} // namespace

std::vector<spiking_trial> simulate_spiking(const spiking_network& s, const input_grid& u, std::uint64_t seed, std::uint64_t pass,
                                            double gamma, spiking_record* reuse) {
    std::vector<spiking_trial> out(static_cast<std::size_t>(u.batch));
    // Trials are independent, each from its own streams: the same result for any thread count.
#pragma omp parallel for schedule(dynamic, 1) if (u.batch > 1)
    for (int b = 0; b < u.batch; ++b) out[static_cast<std::size_t>(b)] = run_trial(s, u, b, seed, pass, gamma, reuse);
    return out;
}

void keep_record(std::vector<spiking_trial>& trials, spiking_record& keep) {
    keep.psi.resize(trials.size());
    keep.v.resize(trials.size());
    for (std::size_t b = 0; b < trials.size(); ++b) {
        keep.psi[b] = std::move(trials[b].psi);
        keep.v[b] = std::move(trials[b].v);
        trials[b].psi.clear();
        trials[b].v.clear();
    }
}

matrix spiking_readout(const spiking_network& s, const std::vector<spiking_trial>& trials, int T) {
    const long B = static_cast<long>(trials.size()), n_out = s.W_out.rows();
    matrix y = matrix::Zero(n_out, B*(T + 1));
    for (long b = 0; b < B; ++b) {
        const spike_list& z = trials[static_cast<std::size_t>(b)].network;
        vector yk = vector::Zero(n_out);
        std::size_t q = 0;
        for (int k = 1; k <= T; ++k) { // y(k) = κ ⊙ y(k−1) + W_out z(k−1)
            yk = s.kappa.cwiseProduct(yk);
            for (; q < z.size() && z.step[q] == k - 1; ++q) yk += s.W_out.col(z.cell[q]);
            y.col(static_cast<long>(k)*B + b) = yk;
        }
    }
    return y;
}

} // namespace eisim
