#include "plasticity/rflo_online.hpp"

namespace eisim {

namespace {

// Σ_b A(post_s, b) ⊙ P(s, b), times sign_s: the synapse-wise contraction over the batch.
vector contract(const projection& p, const matrix& A, const matrix& P) {
    const vector sum = (A(p.post, Eigen::all).array()*P.array()).rowwise().sum();
    vector g(p.size());
    for (std::size_t s = 0; s < p.size(); ++s) g[s] = p.sign[s]*sum[s];
    return g;
}

// p ← (1 − α_post) ⊙ p + α_post ⊙ φ'(x_post) ⊙ q_pre
void decay_and_add(const projection& p, const vector& decay, const vector& alpha, const matrix& dphi,
                   const matrix& q, matrix& P) {
    P = (P.array().colwise()*decay.array()).matrix();
    P.array() += (dphi(p.post, Eigen::all).array().colwise()*alpha.array())*q(p.pre, Eigen::all).array();
}

void per_synapse(const projection& p, const vector& inv_tau, double dt, vector& decay, vector& alpha) {
    alpha.resize(static_cast<long>(p.size()));
    for (std::size_t s = 0; s < p.size(); ++s) alpha[s] = dt*inv_tau[p.post[s]];
    decay = vector::Ones(alpha.size()) - alpha;
}

} // namespace

rflo_traces::rflo_traces(const network& net, plastic_set which, long batch, double dt_ms): which_(which) {
    const vector inv_tau = net.tau.cwiseInverse();
    if (which.recurrent) {
        per_synapse(net.recurrent, inv_tau, dt_ms, decay_rec_, alpha_rec_);
        P_rec_ = matrix::Zero(static_cast<long>(net.recurrent.size()), batch);
    }
    if (which.input) {
        per_synapse(net.input, inv_tau, dt_ms, decay_in_, alpha_in_);
        P_in_ = matrix::Zero(static_cast<long>(net.input.size()), batch);
    }
}

gradients rflo_traces::increment(const network& net, const matrix& B_out, const matrix& e, const matrix& r) const {
    gradients g;
    const matrix z = B_out*e; // (B_out e)_ib
    if (which_.recurrent) g.recurrent = contract(net.recurrent, z, P_rec_);
    if (which_.input) g.input = contract(net.input, z, P_in_);
    if (which_.readout) net.readout.gather(e*r.transpose(), g.readout);
    return g;
}

void rflo_traces::advance(const network& net, const matrix& x, const matrix& r, const matrix& u) {
    matrix dphi;
    net.phi.derivative(x, dphi);
    if (which_.recurrent) decay_and_add(net.recurrent, decay_rec_, alpha_rec_, dphi, r, P_rec_);
    if (which_.input) decay_and_add(net.input, decay_in_, alpha_in_, dphi, u, P_in_);
}

} // namespace eisim
