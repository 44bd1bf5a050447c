#include "plasticity/rflo_online.hpp"

namespace eisim {

namespace {

// Σ_b A(post_s, b) ⊙ P(s, b), times sign_s: the synapse-wise contraction over the batch.
vector contract(const projection::synapse_lists& p, const matrix& A, const matrix& P) {
    const vector sum = (A(p.post, Eigen::all).array()*P.array()).rowwise().sum();
    vector g(sum.size());
    for (long s = 0; s < sum.size(); ++s) g[s] = p.sign[s]*sum[s];
    return g;
}

// p ← (1 − α_post) ⊙ p + α_post ⊙ φ'(x_post) ⊙ q_pre
void decay_and_add(const projection::synapse_lists& p, const vector& decay, const vector& alpha, const matrix& dphi,
                   const matrix& q, matrix& P) {
    P = (P.array().colwise()*decay.array()).matrix();
    P.array() += (dphi(p.post, Eigen::all).array().colwise()*alpha.array())*q(p.pre, Eigen::all).array();
}

void per_synapse(const projection::synapse_lists& p, const vector& inv_tau, double dt, vector& decay, vector& alpha) {
    alpha.resize(static_cast<long>(p.post.size()));
    for (long s = 0; s < alpha.size(); ++s) alpha[s] = dt*inv_tau[p.post[s]];
    decay = vector::Ones(alpha.size()) - alpha;
}

} // namespace

rflo_traces::rflo_traces(const network& net, const plastic_set& which, long batch, double dt_ms): which_(which) {
    const vector inv_tau = net.tau.cwiseInverse();
    for (std::size_t k = 0; k < net.projections.size(); ++k) {
        const projection& P = net.projections[k];
        if (P.kind == product::readout || !which.of(net, k)) continue;
        traced t{k, P.kind == product::input, P.lists(), {}, {}, matrix::Zero(static_cast<long>(P.size()), batch)};
        per_synapse(t.synapses, inv_tau, dt_ms, t.decay, t.alpha);
        traced_.push_back(std::move(t));
    }
}

gradients rflo_traces::increment(const network& net, const matrix& B_out, const matrix& e, const matrix& r) const {
    gradients g;
    g.projection.resize(net.projections.size());
    const matrix z = B_out*e; // (B_out e)_ib
    for (auto& t: traced_) g.projection[t.index] = contract(t.synapses, z, t.P);
    const matrix dW_out = e*r.transpose();
    for (int k: net.of(product::readout))
        if (which_.of(net, static_cast<std::size_t>(k))) net.projections[static_cast<std::size_t>(k)].gather(dW_out, g.projection[static_cast<std::size_t>(k)]);
    return g;
}

void rflo_traces::advance(const network& net, const matrix& x, const matrix& r, const matrix& u) {
    matrix dphi;
    net.phi.derivative(x, dphi);
    for (auto& t: traced_) decay_and_add(t.synapses, t.decay, t.alpha, dphi, t.input? u: r, t.P);
}

} // namespace eisim
