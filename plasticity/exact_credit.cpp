#include "plasticity/exact_credit.hpp"

#include <cmath>

#include "models/butcher.hpp"
#include "plasticity/outer_accumulator.hpp"

namespace eisim {

namespace {

std::vector<const matrix*> observed(const trajectory& tr) {
    std::vector<const matrix*> x;
    for (auto i: tr.obs) x.push_back(&tr.x[i]);
    return x;
}

} // namespace

const vector& gradients::of(const network& net, const std::string& name) const {
    return projection.at(static_cast<std::size_t>(net.index_of(name)));
}

bool gradients::finite() const {
    if (!std::isfinite(loss)) return false;
    for (auto& g: projection) if (g.size() > 0 && !g.allFinite()) return false;
    return true;
}

bool plastic_set::of(const network& net, std::size_t k) const {
    if (!projection.empty()) return projection[k];
    switch (net.projections[k].kind) {
    case product::recurrent: return recurrent;
    case product::input: return input;
    default: return readout;
    }
}

plastic_set plastic_of(const network& net, const std::vector<std::string>& names) {
    plastic_set p{false, false, false, std::vector<bool>(net.projections.size(), false)};
    for (auto& name: names) {
        const int k = net.index_of(name);
        if (k < 0) net.get(name); // throws, listing the known projections
        p.projection[static_cast<std::size_t>(k)] = true;
        switch (net.projections[static_cast<std::size_t>(k)].kind) {
        case product::recurrent: p.recurrent = true; break;
        case product::input: p.input = true; break;
        case product::readout: p.readout = true; break;
        }
    }
    return p;
}

namespace {

const matrix& of_product(product k, const matrix& rec, const matrix& in, const matrix& out) {
    return k == product::recurrent? rec: k == product::input? in: out;
}

} // namespace

gradients gather_gradients(const network& net, const plastic_set& which, double loss, const matrix& dW_rec,
                           const matrix& dW_in, const matrix& dW_out) {
    gradients g;
    g.loss = loss;
    g.projection.resize(net.projections.size());
    for (std::size_t k = 0; k < net.projections.size(); ++k) {
        const eisim::projection& P = net.projections[k];
        if (which.of(net, k)) P.gather(of_product(P.kind, dW_rec, dW_in, dW_out), g.projection[k]);
    }
    return g;
}

gradients gather_gradients(const network& net, const plastic_set& which, double loss, outer_accumulator& dW_rec,
                           outer_accumulator& dW_in, const matrix& dW_out) {
    gradients g;
    g.loss = loss;
    g.projection.resize(net.projections.size());
    for (product kind: {product::recurrent, product::input}) {
        const auto ks = net.of(kind);
        std::vector<int> learning;
        for (int k: ks) if (which.of(net, static_cast<std::size_t>(k))) learning.push_back(k);
        if (learning.empty()) continue;
        outer_accumulator& acc = kind == product::recurrent? dW_rec: dW_in;
        if (ks.size() == 1) { // the product is this projection: gather in the sum's own memory
            g.projection[static_cast<std::size_t>(ks[0])] = net.projections[static_cast<std::size_t>(ks[0])].gather(acc.take());
            continue;
        }
        const vector G = acc.take();
        const auto& P0 = net.projections[static_cast<std::size_t>(ks[0])];
        const Eigen::Map<const matrix> dW(G.data(), P0.n_post, P0.n_pre);
        for (int k: learning) net.projections[static_cast<std::size_t>(k)].gather(dW, g.projection[static_cast<std::size_t>(k)]);
    }
    for (int k: net.of(product::readout))
        if (which.of(net, static_cast<std::size_t>(k))) net.projections[static_cast<std::size_t>(k)].gather(dW_out, g.projection[static_cast<std::size_t>(k)]);
    return g;
}

double trajectory_loss(const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials) {
    return mse_loss(readout_all(low.W_out, net.phi, observed(tr)), trials);
}

output_errors output_error(const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials) {
    output_errors out;
    const long B = trials.batch();
    const matrix y = readout_all(low.W_out, net.phi, observed(tr));
    out.loss = mse_loss(y, trials);
    const double norm = static_cast<double>(net.n_out)*B*trials.mask_sum();
    out.loss_per_trial.assign(B, 0.0);
    for (std::size_t k = 0; k < tr.obs.size(); ++k) {
        const matrix diff = y.middleCols(static_cast<long>(k)*B, B) - trials.target_at(static_cast<int>(k));
        out.e.push_back(norm > 0? matrix((2.0*trials.mask[k]/norm)*diff): matrix(matrix::Zero(diff.rows(), diff.cols())));
        if (norm > 0)
            for (long b = 0; b < B; ++b) out.loss_per_trial[b] += trials.mask[k]*diff.col(b).squaredNorm()/norm;
    }
    return out;
}

gradients exact_gradient(const network& net, const lowered_network& low, const trajectory& tr,
                         const trial_batch& trials, const plastic_set& which, feedback_matrices feedback) {
    const long N = net.n(), B = trials.batch();
    const auto tab = tableau_for(tr.stepper);
    const int s = tab.stages();

    gradients out;
    const matrix y = readout_all(low.W_out, net.phi, observed(tr));
    out.loss = mse_loss(y, trials);
    const double norm = static_cast<double>(net.n_out)*B*trials.mask_sum();

    dynamics_workspace ws;
    const rate_dynamics f{low.inv_tau, low.W_rec, low.W_in, trials.u, net.phi, net.bias, ws, low.sparse_rec()};

    outer_accumulator dW_rec(which.recurrent? N: 0, which.recurrent? N: 0, B);
    outer_accumulator dW_in(which.input? N: 0, which.input? net.n_in: 0, B);
    matrix dW_out = matrix::Zero(net.n_out, N);

    // ∂L/∂x_k from the loss at observation k (and the readout's gradient).
    matrix e, dphi, r;
    auto add_loss_term = [&](std::size_t k, matrix& lambda) {
        if (trials.mask[k] == 0.0 || norm == 0.0) return;
        const matrix& xk = tr.at_obs(k);
        e = (2.0*trials.mask[k]/norm)*(y.middleCols(static_cast<long>(k)*B, B) - trials.target_at(static_cast<int>(k)));
        net.phi.apply(xk, r);
        if (which.readout) dW_out.noalias() += e*r.transpose();
        net.phi.derivative(xk, dphi);
        if (feedback.readout) lambda.noalias() += ((*feedback.readout)*e).cwiseProduct(dphi);
        else lambda.noalias() += (low.W_out.transpose()*e).cwiseProduct(dphi);
    };

    // Map state index → observation index (or −1).
    std::vector<long> obs_of(tr.x.size(), -1);
    for (std::size_t k = 0; k < tr.obs.size(); ++k) obs_of[tr.obs[k]] = static_cast<long>(k);

    matrix lambda = matrix::Zero(N, B);
    if (obs_of.back() >= 0) add_loss_term(static_cast<std::size_t>(obs_of.back()), lambda);

    std::vector<matrix> X(s), K(s), xi(s);
    matrix kappa, a;
    for (long n = static_cast<long>(tr.steps()) - 1; n >= 0; --n) {
        const double t = tr.t[n], h = tr.h[n];
        // Recompute the stages of step n.
        X[0] = tr.x[n];
        for (int i = 0; i < s; ++i) {
            if (i > 0) {
                X[i] = tr.x[n];
                for (int j = 0; j < i; ++j) if (tab.a[i][j] != 0.0) X[i].noalias() += (h*tab.a[i][j])*K[j];
            }
            if (i + 1 < s) f(X[i], K[i], t + tab.c[i]*h); // the last stage's k is not needed
        }
        // Backwards over the stages.
        for (int i = s - 1; i >= 0; --i) {
            kappa = (h*tab.b[i])*lambda;
            for (int l = i + 1; l < s; ++l) if (tab.a[l][i] != 0.0) kappa.noalias() += (h*tab.a[l][i])*xi[l];
            f.vjp(X[i], t + tab.c[i]*h, kappa, a, xi[i], feedback.recurrent);
            if (which.recurrent) dW_rec.add(a, ws.r);
            if (which.input) dW_in.add(a, ws.u);
        }
        for (int i = 0; i < s; ++i) lambda += xi[i];
        if (obs_of[n] >= 0) add_loss_term(static_cast<std::size_t>(obs_of[n]), lambda);
    }

    return gather_gradients(net, which, out.loss, dW_rec, dW_in, dW_out);
}

} // namespace eisim
