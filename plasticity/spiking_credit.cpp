// What the spiking credit rules share (plasticity/spiking_credit.hpp): the forward pass, the loss
// and the firing-rate regulariser, the learning signal through the readout, the readout's exact
// gradient, and the sum over presynaptic spikes that turns a rule's current adjoints into
// gradients. Each rule (credit_eprop.cpp, credit_surrogate_bptt.cpp) supplies its adjoints.
#include <algorithm>
#include <cmath>
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

namespace {

// ∂L/∂w of every synapse from one trial, added to g (by projection, synapse id): mu_I holds the
// adjoint of current p of cell i after step k at [(k·P + p)·N + i]; `e_tilde` is ẽ (n_out × T).
void trial_gradient(const spiking_network& s, const spiking_trial& tr, const input_grid& u, int b, const std::vector<double>& mu_I,
                    const matrix& e_tilde, const std::vector<bool>& plastic, std::vector<vector>& g) {
    const auto n = static_cast<std::size_t>(s.n), P = static_cast<std::size_t>(s.ports);
    const long T = e_tilde.cols();
    // A spike of pre cell (or channel) c in step k reaches synapse e's current in step k + d.
    const auto deliver = [&](const spiking_network::fanout& f, const spike_list& z) {
        for (std::size_t q = 0; q < z.size(); ++q) {
            const int c = z.cell[q];
            for (auto e = f.first[c]; e < f.first[c + 1]; ++e) {
                const long k = z.step[q] + f.delay[e];
                if (k >= T || !plastic[static_cast<std::size_t>(f.projection[e])]) continue;
                g[static_cast<std::size_t>(f.projection[e])][f.synapse[e]] +=
                    mu_I[(static_cast<std::size_t>(k)*P + f.port[e])*n + static_cast<std::size_t>(f.post[e])];
            }
        }
    };
    deliver(s.from_network, tr.network);
    deliver(s.from_input, tr.input);
    // Channels with drive = "current": x_c(k) spikes' worth in every step, sent as a spike is.
    const spiking_network::fanout& in = s.from_input;
    for (int c = 0; c < s.n_in; ++c) {
        if (!s.input_current[static_cast<std::size_t>(c)]) continue;
        for (long k = 0; k < T; ++k) {
            const double x = s.input_drive(c, u.at(static_cast<int>(k))(c, b));
            if (x == 0) continue;
            for (auto e = in.first[c]; e < in.first[c + 1]; ++e) {
                const long at = k + in.delay[e];
                if (at >= T || !plastic[static_cast<std::size_t>(in.projection[e])]) continue;
                g[static_cast<std::size_t>(in.projection[e])][in.synapse[e]] +=
                    x*mu_I[(static_cast<std::size_t>(at)*P + in.port[e])*n + static_cast<std::size_t>(in.post[e])];
            }
        }
    }
    // The readout's exact gradient: a spike of cell j in step k adds ẽ_o(k) to W_oj.
    const spiking_network::fanout& out = s.to_readout;
    for (std::size_t q = 0; q < tr.network.size(); ++q) {
        const int j = tr.network.cell[q];
        const long k = tr.network.step[q];
        for (auto e = out.first[j]; e < out.first[j + 1]; ++e)
            if (plastic[static_cast<std::size_t>(out.projection[e])])
                g[static_cast<std::size_t>(out.projection[e])][out.synapse[e]] += e_tilde(out.post[e], k);
    }
}

} // namespace

spiking_evaluation evaluate_spiking(const network& net, const spiking_network& s, const trial_batch& trials,
                                    const credit& rule, const plastic_set& which, std::uint64_t seed, std::uint64_t step,
                                    bool with_credit) {
    const parameters& keys = rule.keys();
    const auto adjoint = rule.info().spiking_adjoint;
    if (!adjoint) throw std::logic_error("credit rule " + rule.rule() + " does not train spiking circuits");
    const double gamma = keys.real("surrogate_gamma");
    const int T = trials.steps(), B = trials.batch(), N = s.n;
    spiking_evaluation ev;
    ev.trials = simulate_spiking(s, trials.u, seed, step, with_credit? gamma: 0.0);
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
    // Trials in chunks, each trial's gradient in its own buffer, added in trial order: the same
    // sums for any thread count.
    const int chunk = 8;
    std::vector<std::vector<vector>> part(static_cast<std::size_t>(std::min(chunk, B)));
    for (int b0 = 0; b0 < B; b0 += chunk) {
        const int nb = std::min(chunk, B - b0);
#pragma omp parallel for schedule(dynamic, 1) if (nb > 1)
        for (int q = 0; q < nb; ++q) {
            const int b = b0 + q;
            auto& g = part[static_cast<std::size_t>(q)];
            g.resize(plastic.size());
            for (std::size_t k = 0; k < plastic.size(); ++k) if (plastic[k]) g[k].setZero(static_cast<long>(net.projections[k].size()));
            matrix e_tilde = matrix::Zero(s.W_out.rows(), T);
            if (norm > 0)
                for (int k = T - 1; k >= 0; --k) { // ẽ(k) = e(k+1) + κ ⊙ ẽ(k+1)
                    const long col = static_cast<long>(k + 1)*B + b;
                    vector e = (2.0*trials.mask[static_cast<std::size_t>(k + 1)]/norm)*(ev.y.col(col) - trials.target.col(col));
                    if (k + 1 < T) e += s.kappa.cwiseProduct(e_tilde.col(k + 1));
                    e_tilde.col(k) = e;
                }
            matrix L = feedback*e_tilde;
            L.colwise() += reg;
            const spiking_trial& tr = ev.trials[static_cast<std::size_t>(b)];
            std::vector<double> mu_I;
            adjoint(s, tr, L, mu_I);
            trial_gradient(s, tr, trials.u, b, mu_I, e_tilde, plastic, g);
        }
        for (int q = 0; q < nb; ++q)
            for (std::size_t k = 0; k < plastic.size(); ++k) if (plastic[k]) ev.g.projection[k] += part[static_cast<std::size_t>(q)][k];
    }
    // ∂L/∂m = sign · ∂L/∂w.
    for (std::size_t k = 0; k < plastic.size(); ++k) {
        if (!plastic[k]) continue;
        vector& g = ev.g.projection[k];
        net.projections[k].for_each([&](std::size_t id, int, int, int sign, double) { if (sign < 0) g[static_cast<long>(id)] = -g[static_cast<long>(id)]; });
    }
    for (auto& tr: ev.trials) { // the pass keeps its spikes only
        std::vector<double>().swap(tr.psi);
        std::vector<double>().swap(tr.v);
    }
    return ev;
}

} // namespace eisim
