// What the spiking credit rules share (plasticity/spiking_credit.hpp): the forward pass, the loss
// and the firing-rate regulariser, the learning signal through the readout, the readout's exact
// gradient, and the sum over presynaptic spikes that turns a rule's current adjoints into
// gradients. Each rule (credit_eprop.cpp, credit_surrogate_bptt.cpp) supplies its adjoints.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "models/task.hpp"
#include "models/tasks.hpp"
#include "plasticity/spiking_credit.hpp"

namespace eisim {

std::vector<key_spec> spiking_credit_keys() {
    return {real_key("surrogate_gamma", 0.3, 0, 1e3, "eprop, surrogate_bptt: height gamma of the pseudo-derivative "
                                                     "psi = (gamma/D) max(0, 1 - |v - A|/D), D = v_th - v_reset (Bellec et al. 2020: 0.3)", true),
            real_key("rate_reg", 0.0, 0, 1e12, "eprop, surrogate_bptt: weight c of the firing-rate regulariser (c/2) sum_j (f_j - f_0)^2, "
                                               "f in Hz (0: none)"),
            real_key("rate_target_hz", 10.0, 0, 1e4, "eprop, surrogate_bptt: target rate f_0 of the firing-rate regulariser (Hz)")};
}

void add_sent_gradient(const spiking_network::fanout& f, const std::int32_t* offset, const double* x, const std::uint8_t* any,
                       int sources, const double* X, double* g) {
    constexpr std::size_t W = spiking_lanes;
    for (int c = 0; c < sources; ++c) {
        if (!any[c]) continue;
        const lanes xc = load_lanes(x + static_cast<std::size_t>(c)*W);
        for (auto e = f.first[c]; e < f.first[c + 1]; ++e) {
            double* ge = g + static_cast<std::size_t>(e)*W; // g_{e,l} += x_{c,l} X_{e,l}
            store_lanes(ge, load_lanes(ge) + xc*load_lanes(X + offset[e]));
        }
    }
}

namespace {

// The readout's exact gradient from one trial, added to g: a spike of cell j in step k adds ẽ_o(k)
// to W_oj (`e_tilde`: ẽ, n_out × T).
void readout_gradient(const spiking_network& s, const spiking_trial& tr, const matrix& e_tilde, const std::vector<bool>& plastic,
                      std::vector<vector>& g) {
    const spiking_network::fanout& out = s.to_readout;
    for (std::size_t q = 0; q < tr.network.size(); ++q) {
        const int j = tr.network.cell[q];
        const long k = tr.network.step[q];
        for (auto e = out.first[j]; e < out.first[j + 1]; ++e)
            if (plastic[static_cast<std::size_t>(out.projection[e])])
                g[static_cast<std::size_t>(out.projection[e])][out.synapse[e]] += e_tilde(out.post[e], k);
    }
}

// n doubles whose first is aligned to 64 bytes (a row of lanes is one cache line), zero.
struct lane_array {
    std::vector<double> store;
    double* p = nullptr;
    explicit lane_array(std::size_t n): store(n + 8, 0.0) {
        auto at = reinterpret_cast<std::uintptr_t>(store.data());
        p = store.data() + ((64 - at%64)%64)/sizeof(double);
    }
};

// Every fan-out entry's row in the ring's window: (d·ports·N + port·N + post)·W.
std::vector<std::int32_t> lane_offsets(const spiking_network& s, const spiking_network::fanout& f) {
    const auto slot = static_cast<std::int64_t>(s.ports)*s.n*spiking_lanes;
    if (slot*(s.max_delay + 1) > std::numeric_limits<std::int32_t>::max())
        throw std::length_error("spiking credit: ports x cells x (max delay + 1) too large for the backward pass's offsets");
    std::vector<std::int32_t> off(f.post.size());
    for (std::size_t e = 0; e < off.size(); ++e)
        off[e] = static_cast<std::int32_t>(f.delay[e]*slot + (static_cast<std::int64_t>(f.port[e])*s.n + f.post[e])*spiking_lanes);
    return off;
}

// What every block of the backward pass shares.
struct backward_job {
    const spiking_network& s;
    const spiking_evaluation& ev;
    const trial_batch& trials;
    const matrix& feedback; // N × n_out
    const vector& reg;      // N: the regulariser's part of L
    double norm;            // e_o's denominator (0: no task loss)
    void (*step)(const spiking_backward_step&);
    std::vector<std::int32_t> off_network, off_input;
    const std::vector<bool>& plastic;
};

// ẽ of trial b (n_out × T): ẽ(k) = e(k+1) + κ ⊙ ẽ(k+1).
matrix filtered_error(const backward_job& job, int b) {
    const int T = job.trials.steps(), B = job.trials.batch();
    matrix e_tilde = matrix::Zero(job.s.W_out.rows(), T);
    if (job.norm > 0)
        for (int k = T - 1; k >= 0; --k) {
            const long col = static_cast<long>(k + 1)*B + b;
            vector e = (2.0*job.trials.mask[static_cast<std::size_t>(k + 1)]/job.norm)*(job.ev.y.col(col) - job.trials.target.col(col));
            if (k + 1 < T) e += job.s.kappa.cwiseProduct(e_tilde.col(k + 1));
            e_tilde.col(k) = e;
        }
    return e_tilde;
}

// The backward pass of trials b0 .. b0 + nb − 1 (nb ≤ W, one per lane; spiking_credit.hpp): every
// synapse's gradient from these trials, added to g (by projection, synapse id).
void backward_block(const backward_job& job, int b0, int nb, std::vector<vector>& g) {
    constexpr int W = spiking_lanes;
    const spiking_network& s = job.s;
    const int T = job.trials.steps(), P = s.ports, S = s.max_delay + 1;
    const long n_out = s.W_out.rows();
    const auto n = static_cast<std::size_t>(s.n), nW = n*W, n_in = static_cast<std::size_t>(s.n_in);
    // ẽ of every lane, [k][o][lane]; the lanes' spikes and refractory steps as bits, [k][cell].
    std::vector<double> et(static_cast<std::size_t>(T)*static_cast<std::size_t>(n_out)*W, 0.0);
    std::vector<std::uint8_t> fired(static_cast<std::size_t>(T)*n, 0), resting(static_cast<std::size_t>(T)*n, 0),
                              sent(static_cast<std::size_t>(T)*n_in, 0);
    std::vector<long> n_ref(n, 1);
    for (auto& grp: s.groups)
        for (int i = grp.first; i < grp.first + grp.size; ++i) n_ref[static_cast<std::size_t>(i)] = static_cast<long>(grp.n_ref);
    for (int l = 0; l < nb; ++l) {
        const spiking_trial& tr = job.ev.trials[static_cast<std::size_t>(b0 + l)];
        const matrix e_tilde = filtered_error(job, b0 + l);
        for (int k = 0; k < T; ++k)
            for (long o = 0; o < n_out; ++o) et[(static_cast<std::size_t>(k)*static_cast<std::size_t>(n_out) + static_cast<std::size_t>(o))*W + static_cast<std::size_t>(l)] = e_tilde(o, k);
        readout_gradient(s, tr, e_tilde, job.plastic, g);
        const auto bit = static_cast<std::uint8_t>(1u << l);
        for (std::size_t q = 0; q < tr.network.size(); ++q) {
            const long k = tr.network.step[q];
            const auto i = static_cast<std::size_t>(tr.network.cell[q]);
            fired[static_cast<std::size_t>(k)*n + i] |= bit;
            for (long r = k + 1; r < std::min<long>(T, k + n_ref[i]); ++r) resting[static_cast<std::size_t>(r)*n + i] |= bit;
        }
        for (std::size_t q = 0; q < tr.input.size(); ++q)
            sent[static_cast<std::size_t>(tr.input.step[q])*n_in + static_cast<std::size_t>(tr.input.cell[q])] |= bit;
    }
    // Step k's rows, [cell][lane] (lanes ≥ nb stay 0, active 1); the ring of X; the rule's state.
    lane_array psi(nW), v(nW), L(nW), z(nW), active(nW), x_in(n_in*W), ring(static_cast<std::size_t>(2*S*P)*nW), mu_v(nW), mu_a(nW), q(nW);
    lane_array bits(256*W); // the lanes of byte x: bit l of x
    for (std::size_t x = 0; x < 256; ++x)
        for (std::size_t l = 0; l < W; ++l) bits.p[x*W + l] = (x >> l) & 1u? 1.0: 0.0;
    lanes used = {}; // 1 in the lanes used
    for (int l = 0; l < nb; ++l) used[l] = 1.0;
    std::vector<std::uint8_t> any_in(n_in);
    lane_array g_network(job.off_network.size()*W), g_input(job.off_input.size()*W); // [entry][lane]
    spiking_backward_step st;
    st.s = &s;
    st.psi = psi.p;
    st.v = v.p;
    st.L = L.p;
    st.z = z.p;
    st.active = active.p;
    st.offset = job.off_network.data();
    st.g_network = g_network.p;
    st.mu_v = mu_v.p;
    st.mu_a = mu_a.p;
    st.q = q.p;
    const double* F = job.feedback.data(); // column-major N × n_out
    for (long k = T - 1; k >= 0; --k) {
        st.k = k;
        const std::size_t slot = static_cast<std::size_t>(P)*nW;
        const double* X = ring.p + static_cast<std::size_t>(k%S)*slot; // X(k + d) at X + d·slot
        st.X = X;
        const std::size_t row = static_cast<std::size_t>(k)*n;
        for (int l = 0; l < nb; ++l) {
            const spiking_trial& tr = job.ev.trials[static_cast<std::size_t>(b0 + l)];
            const double* __restrict psi_k = tr.psi.data() + row;
            const double* __restrict v_k = tr.v.data() + row;
            for (std::size_t j0 = 0; j0 < n; j0 += 8) {
                // The trials' rows are read backwards in time, 2W streams that the hardware
                // prefetcher misses: fetch step k − 2's.
                if (k >= 2) {
                    __builtin_prefetch(psi_k - 2*n + j0);
                    __builtin_prefetch(v_k - 2*n + j0);
                }
                for (std::size_t j = j0; j < std::min(n, j0 + 8); ++j) {
                    psi.p[j*W + static_cast<std::size_t>(l)] = psi_k[j];
                    v.p[j*W + static_cast<std::size_t>(l)] = v_k[j];
                }
            }
        }
        const double* etk = et.data() + static_cast<std::size_t>(k)*static_cast<std::size_t>(n_out)*W;
        for (std::size_t j = 0; j < n; ++j) {
            lanes Lj = job.reg[static_cast<long>(j)]*used; // L = B ẽ + the regulariser's, in the lanes used
            for (long o = 0; o < n_out; ++o) Lj += F[static_cast<std::size_t>(o)*n + j]*load_lanes(etk + static_cast<std::size_t>(o)*W);
            store_lanes(L.p + j*W, Lj);
            store_lanes(z.p + j*W, load_lanes(bits.p + fired[row + j]*W)); // z_l = bit l of fired
            store_lanes(active.p + j*W, 1.0 - load_lanes(bits.p + resting[row + j]*W));
        }
        st.fired = fired.data() + row;
        for (std::size_t c = 0; c < n_in; ++c) { // what each channel sent in step k: spikes, or its current's x_c(k)
            double* xc = x_in.p + c*W;
            bool any = false;
            for (int l = 0; l < nb; ++l) {
                xc[l] = s.input_current[c]? s.input_drive(static_cast<int>(c), job.trials.u.at(static_cast<int>(k))(static_cast<long>(c), b0 + l))
                                          : ((sent[static_cast<std::size_t>(k)*n_in + c] >> l) & 1u? 1.0: 0.0);
                any = any || xc[l] != 0.0;
            }
            any_in[c] = any;
        }
        job.step(st);
        add_sent_gradient(s.from_input, job.off_input.data(), x_in.p, any_in.data(), s.n_in, X, g_input.p);
        if (k == 0) break;
        // X(k−1) = e^{−h/τ_p} X(k) + gain_p q(k), into the two slots of X(k + max_delay), which no
        // later step reads.
        double* next = ring.p + static_cast<std::size_t>((k - 1)%S)*slot;
        for (int p = 0; p < P; ++p) {
            const double decay = s.decay_port[p];
            const std::size_t at = static_cast<std::size_t>(p)*nW;
            for (auto& grp: s.groups) {
                const double gain = grp.gain[static_cast<std::size_t>(p)];
                double* __restrict out = next + at;
                double* __restrict twin = next + static_cast<std::size_t>(S)*slot + at;
                const double* __restrict now = X + at;
                const double* __restrict qq = q.p;
                for (std::size_t i = static_cast<std::size_t>(grp.first)*W; i < static_cast<std::size_t>(grp.first + grp.size)*W; ++i)
                    out[i] = twin[i] = decay*now[i] + gain*qq[i];
            }
        }
    }
    const auto scatter = [&](const spiking_network::fanout& f, const double* ge) { // Σ over the lanes, into g
        for (std::size_t e = 0; e < f.post.size(); ++e)
            if (job.plastic[static_cast<std::size_t>(f.projection[e])])
                g[static_cast<std::size_t>(f.projection[e])][f.synapse[e]] += lane_sum(ge + e*W);
    };
    scatter(s.from_network, g_network.p);
    scatter(s.from_input, g_input.p);
}

} // namespace

spiking_evaluation evaluate_spiking(const network& net, const spiking_network& s, const trial_batch& trials,
                                    const credit& rule, const plastic_set& which, std::uint64_t seed, std::uint64_t step,
                                    bool with_credit, spiking_record* record) {
    const parameters& keys = rule.keys();
    const auto adjoint_step = rule.info().spiking_step;
    if (!adjoint_step) throw std::logic_error("credit rule " + rule.rule() + " does not train spiking circuits");
    const double gamma = keys.real("surrogate_gamma");
    const int T = trials.steps(), B = trials.batch(), N = s.n;
    spiking_evaluation ev;
    ev.trials = simulate_spiking(s, trials.u, seed, step, with_credit? gamma: 0.0, record);
    ev.y = spiking_readout(s, ev.trials, T);
    ev.task_loss = mse_loss(ev.y, trials);
    ev.accuracy = task_accuracy(ev.y, trials);
    // The firing-rate regulariser on the batch's rates f̄_j (Hz).
    const double c_reg = keys.real("rate_reg"), f0 = keys.real("rate_target_hz");
    const double per_spike = 1000.0/(static_cast<double>(B)*T*s.dt); // Hz per spike of the batch
    vector f = vector::Zero(N);
    for (auto& tr: ev.trials) for (int j: tr.network.cell) f[j] += per_spike;
    ev.rate_loss = c_reg > 0? 0.5*c_reg*(f.array() - f0).square().sum(): 0.0;
    ev.g.loss = ev.task_loss + ev.rate_loss;
    if (!with_credit) return ev;

    // e_o(k) and ẽ_o(k) per trial; the learning signal L = B ẽ + the regulariser's, with B the
    // rule's fixed random feedback where it drew one, else W_outᵀ.
    const double norm = static_cast<double>(s.W_out.rows())*B*trials.mask_sum();
    const matrix feedback = rule.feedback_readout().size() > 0? rule.feedback_readout(): matrix(s.W_out.transpose());
    const vector reg = c_reg > 0? vector(c_reg*(f.array() - f0)*per_spike): vector(vector::Zero(N));
    std::vector<bool> plastic(net.projections.size());
    for (std::size_t k = 0; k < plastic.size(); ++k) plastic[k] = which.of(net, k);
    ev.g.projection.resize(net.projections.size());
    for (std::size_t k = 0; k < plastic.size(); ++k)
        if (plastic[k]) ev.g.projection[k].setZero(static_cast<long>(net.projections[k].size()));
    // Blocks of W trials side by side, each block's gradient in its own buffer, added in block
    // order: the same sums for any thread count.
    const backward_job job{s, ev, trials, feedback, reg, norm, adjoint_step, lane_offsets(s, s.from_network), lane_offsets(s, s.from_input), plastic};
    const int blocks = (B + spiking_lanes - 1)/spiking_lanes;
    std::vector<std::vector<vector>> part(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1)
    for (int q = 0; q < blocks; ++q) {
        auto& g = part[static_cast<std::size_t>(q)];
        g.resize(plastic.size());
        for (std::size_t k = 0; k < plastic.size(); ++k) if (plastic[k]) g[k].setZero(static_cast<long>(net.projections[k].size()));
        backward_block(job, q*spiking_lanes, std::min(spiking_lanes, B - q*spiking_lanes), g);
    }
    for (auto& g: part)
        for (std::size_t k = 0; k < plastic.size(); ++k) if (plastic[k]) ev.g.projection[k] += g[k];
    // ∂L/∂m = sign · ∂L/∂w.
    for (std::size_t k = 0; k < plastic.size(); ++k) {
        if (!plastic[k]) continue;
        vector& g = ev.g.projection[k];
        net.projections[k].for_each([&](std::size_t id, int, int, int sign, double) { if (sign < 0) g[static_cast<long>(id)] = -g[static_cast<long>(id)]; });
    }
    if (record) keep_record(ev.trials, *record); // the pass keeps its spikes only
    else
        for (auto& tr: ev.trials) {
            std::vector<double>().swap(tr.psi);
            std::vector<double>().swap(tr.v);
        }
    return ev;
}

} // namespace eisim
