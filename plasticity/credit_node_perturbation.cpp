// node_perturbation: reward-based credit. A second pass with noise ζ injected into every cell
// (x_{k+1} = step(x_k) + ζ_k, ζ ~ N(0, c²), c_i² = 2σ² h/τ_i, σ = plasticity.perturbation_sigma);
// with the change of each trial's loss ΔL_b,
//   g_ij = Σ_b Σ_k (ΔL_b / c_i²) ζ_ib(k) (h/τ_i) r_jb(k),
// averaged over plasticity.perturbation_samples perturbations (first order in ζ: E[g] = ∂L/∂W).
// The readout learns by its local delta rule e_k r_kᵀ. The noisy passes call the integrator.
#include "models/butcher.hpp"
#include "models/dynamics.hpp"
#include "models/random.hpp"
#include "plasticity/local_credit.hpp"
#include "plasticity/outer_accumulator.hpp"

namespace eisim {

namespace {

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
    const double sigma = c.keys().real("perturbation_sigma");
    const int samples = static_cast<int>(c.keys().integer("perturbation_samples"));
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

credit_rule node_perturbation_credit_rule() {
    return {"noise injected into every cell, correlated with the change of each trial's loss",
            {real_key("perturbation_sigma", 0.05, 0, 1e3, "node_perturbation: sd of the noise injected into every cell", true),
             integer_key("perturbation_samples", 4, 1, 10000, "node_perturbation: perturbed passes averaged per learning step")},
            nullptr, node_perturbation};
}

} // namespace eisim
