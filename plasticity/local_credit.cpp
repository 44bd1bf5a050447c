#include "plasticity/local_credit.hpp"

#include <cmath>

#include "models/butcher.hpp"
#include "models/dynamics.hpp"
#include "models/error.hpp"
#include "models/random.hpp"
#include "plasticity/outer_accumulator.hpp"

namespace eisim {

namespace {

// Sign-concordant random feedback for a transposed weight matrix Wᵀ: B = sign(Wᵀ) ⊙ |ξ| σ with
// ξ ~ N(0, 1) and σ the root-mean-square nonzero entry of W (Liao, Leibo & Poggio 2016). The
// magnitudes are random and fixed; the signs follow Dale's law, so the feedback can align.
matrix sign_concordant_feedback(const matrix& W, rng& g) {
    const double nnz = static_cast<double>((W.array() != 0.0).count());
    const double rms = nnz > 0? std::sqrt(W.squaredNorm()/nnz): 1.0;
    matrix B = matrix::Zero(W.cols(), W.rows());
    for (long j = 0; j < B.cols(); ++j)
        for (long i = 0; i < B.rows(); ++i) {
            const double mag = rms*std::abs(normal(g));
            if (W(j, i) > 0) B(i, j) = mag;
            else if (W(j, i) < 0) B(i, j) = -mag;
        }
    return B;
}

// The deterministic step of the tableau from x at t (to recover the injected noise).
matrix rk_step(const rate_dynamics& f, const butcher_tableau& tab, const matrix& x, double t, double h) {
    std::vector<matrix> K(tab.stages());
    matrix out = x;
    for (int i = 0; i < tab.stages(); ++i) {
        matrix X = x;
        for (int j = 0; j < i; ++j) if (tab.a[i][j] != 0.0) X += (h*tab.a[i][j])*K[j];
        f(X, K[i], t + tab.c[i]*h);
        out += (h*tab.b[i])*K[i];
    }
    return out;
}

gradients node_perturbation(const credit& c, const network& net, const lowered_network& low, const trajectory& clean,
                            const trial_batch& trials, const plastic_set& which, std::uint64_t step) {
    const double sigma = c.desc().perturbation_sigma;
    const int samples = c.desc().perturbation_samples;
    const long N = net.n(), B = trials.batch();
    const output_errors base = output_error(net, low, clean, trials);
    dynamics_workspace ws;
    const rate_dynamics f{low.inv_tau, low.W_rec, low.W_in, trials.u, net.phi, net.bias, ws, low.sparse_rec()};
    const auto tab = tableau_for(clean.stepper);
    outer_accumulator dW_rec(which.recurrent? N: 0, which.recurrent? N: 0, B), dW_in(which.input? N: 0, which.input? net.n_in: 0, B);
    matrix dW_out = matrix::Zero(net.n_out, N);
    matrix a, r, u;
    for (int s = 0; s < samples; ++s) {
        // The noisy pass of this sample: noise of sd sigma (as network.noise_sigma) from its own stream.
        auto g = stream(c.seed(), "perturbation", step*static_cast<std::uint64_t>(samples) + static_cast<std::uint64_t>(s));
        const trajectory tr = integrate(net, low, trials.u, trials.x0, c.integrator(), g, sigma);
        const output_errors pert = output_error(net, low, tr, trials);
        vector dL(B);
        for (long b = 0; b < B; ++b) dL[b] = (pert.loss_per_trial[b] - base.loss_per_trial[b])/samples;
        for (std::size_t n = 0; n < tr.steps(); ++n) {
            const double h = tr.h[n];
            const matrix zeta = tr.x[n + 1] - rk_step(f, tab, tr.x[n], tr.t[n], h);
            // a_ib = ΔL_b ζ_ib / c_i² · h/τ_i  with c_i² = 2σ² h/τ_i  ⇒  a = ΔL_b ζ_ib / (2σ²)
            a = zeta*dL.asDiagonal()/(2.0*sigma*sigma);
            net.phi.apply(tr.x[n], r);
            if (which.recurrent) dW_rec.add(a, r);
            if (which.input) { trials.u.interpolate(tr.t[n], u); dW_in.add(a, u); }
        }
        if (which.readout) // the readout sees its own error: the local delta rule
            for (std::size_t k = 0; k < clean.obs.size(); ++k) {
                net.phi.apply(clean.at_obs(k), r);
                dW_out.noalias() += base.e[k]*r.transpose()/samples;
            }
    }
    return gather_gradients(net, which, base.loss, dW_rec, dW_in, dW_out);
}

} // namespace

gradients rflo_gradient(const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials,
                        const plastic_set& which, const matrix& B_out) {
    const long N = net.n(), B = trials.batch();
    const output_errors err = output_error(net, low, tr, trials);
    const std::size_t T = tr.obs.size() - 1;
    const vector alpha = tr.dt_obs*low.inv_tau;
    const vector decay = vector::Ones(N) - alpha;
    outer_accumulator dW_rec(which.recurrent? N: 0, which.recurrent? N: 0, B), dW_in(which.input? N: 0, which.input? net.n_in: 0, B);
    matrix dW_out = matrix::Zero(net.n_out, N);
    matrix z = matrix::Zero(N, B), dphi, r, q;
    for (std::size_t k = T + 1; k-- > 0;) {
        const matrix& xk = tr.at_obs(k);
        net.phi.apply(xk, r);
        if (which.readout) dW_out.noalias() += err.e[k]*r.transpose();
        if (k == T) continue; // z(T) = 0
        // z(k) = B e_{k+1} + (1 − α) ⊙ z(k+1)
        z = (B_out*err.e[k + 1]) + (z.array().colwise()*decay.array()).matrix();
        net.phi.derivative(xk, dphi);
        q = (dphi.array()*z.array()).colwise()*alpha.array();
        if (which.recurrent) dW_rec.add(q, r);
        if (which.input) dW_in.add(q, trials.u.at(static_cast<int>(k)));
    }
    return gather_gradients(net, which, err.loss, dW_rec, dW_in, dW_out);
}

namespace {

gradients exact_rule(const credit&, const network& net, const lowered_network& low, const trajectory& tr,
                     const trial_batch& trials, const plastic_set& which, std::uint64_t) {
    return exact_gradient(net, low, tr, trials, which);
}

gradients feedback_alignment_rule(const credit& c, const network& net, const lowered_network& low, const trajectory& tr,
                                  const trial_batch& trials, const plastic_set& which, std::uint64_t) {
    feedback_matrices fb;
    fb.readout = &c.feedback_readout();
    if (c.desc().feedback_recurrent) fb.recurrent = &c.feedback_recurrent();
    return exact_gradient(net, low, tr, trials, which, fb);
}

gradients rflo_rule(const credit& c, const network& net, const lowered_network& low, const trajectory& tr,
                    const trial_batch& trials, const plastic_set& which, std::uint64_t) {
    return rflo_gradient(net, low, tr, trials, which, c.feedback_readout());
}

} // namespace

const registry<credit_rule>& credit_registry() {
    static const registry<credit_rule> r("credit rule", {
        {"exact", {"the exact gradient: the discrete adjoint (BPTT) of the integrator's steps", exact_rule}},
        {"feedback_alignment", {"the exact backward pass with fixed sign-concordant random feedback (Lillicrap et al. 2016)",
                                feedback_alignment_rule}},
        {"rflo", {"random-feedback local online learning: eligibility traces and random feedback (Murray 2019)", rflo_rule}},
        {"node_perturbation", {"noise injected into every cell, correlated with the change of each trial's loss", node_perturbation}},
    });
    return r;
}

credit::credit(const credit_desc& d, const network& net, std::uint64_t seed, const integrator_desc& integ):
    desc_(d), rule_(&credit_registry().get(d.rule)), integ_(integ), seed_(seed) {
    auto g = stream(seed, "feedback");
    if (d.rule == "feedback_alignment" || d.rule == "rflo") {
        const lowered_network low(net);
        B_out_ = sign_concordant_feedback(low.W_out, g);
        if (d.feedback_recurrent) B_rec_ = sign_concordant_feedback(low.W_rec, g);
    }
}

gradients credit::operator()(const network& net, const lowered_network& low, const trajectory& tr,
                             const trial_batch& trials, const plastic_set& which, std::uint64_t step) const {
    return rule_->estimate(*this, net, low, tr, trials, which, step);
}

} // namespace eisim
