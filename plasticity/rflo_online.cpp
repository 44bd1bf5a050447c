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

rflo_traces::rflo_traces(const network& net, plastic_set which, long batch, double dt_ms): which_(which) {
    const vector inv_tau = net.tau.cwiseInverse();
    if (which.recurrent) {
        rec_ = net.recurrent.lists();
        per_synapse(rec_, inv_tau, dt_ms, decay_rec_, alpha_rec_);
        P_rec_ = matrix::Zero(static_cast<long>(net.recurrent.size()), batch);
    }
    if (which.input) {
        in_ = net.input.lists();
        per_synapse(in_, inv_tau, dt_ms, decay_in_, alpha_in_);
        P_in_ = matrix::Zero(static_cast<long>(net.input.size()), batch);
    }
}

gradients rflo_traces::increment(const network& net, const matrix& B_out, const matrix& e, const matrix& r) const {
    gradients g;
    const matrix z = B_out*e; // (B_out e)_ib
    if (which_.recurrent) g.recurrent = contract(rec_, z, P_rec_);
    if (which_.input) g.input = contract(in_, z, P_in_);
    if (which_.readout) net.readout.gather(e*r.transpose(), g.readout);
    return g;
}

void rflo_traces::advance(const network& net, const matrix& x, const matrix& r, const matrix& u) {
    matrix dphi;
    net.phi.derivative(x, dphi);
    if (which_.recurrent) decay_and_add(rec_, decay_rec_, alpha_rec_, dphi, r, P_rec_);
    if (which_.input) decay_and_add(in_, decay_in_, alpha_in_, dphi, u, P_in_);
}

} // namespace eisim
