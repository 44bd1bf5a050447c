#include "plasticity/local_credit.hpp"

#include <cmath>

#include "models/random.hpp"

namespace eisim {

namespace {

// Sign-concordant random feedback for a transposed weight matrix Wᵀ: B = sign(Wᵀ) ⊙ |ξ| σ with
// ξ ~ N(0, 1) and σ the root-mean-square nonzero entry of W (Liao, Leibo & Poggio 2016). The
// magnitudes are random and fixed; the signs follow Dale's law, so the feedback can align. With
// `every_cell`, the entries without a forward synapse get feedback too, B_ij = ξ σ (either sign): as
// Murray 2019's B, random over all units, so that the cells a readout does not read (the I cells of
// the default circuits) still receive a learning signal. Either way one ξ is drawn per entry, in
// the same order.
matrix sign_concordant_feedback(const matrix& W, rng& g, bool every_cell) {
    const double nnz = static_cast<double>((W.array() != 0.0).count());
    const double rms = nnz > 0? std::sqrt(W.squaredNorm()/nnz): 1.0;
    matrix B = matrix::Zero(W.cols(), W.rows());
    for (long j = 0; j < B.cols(); ++j)
        for (long i = 0; i < B.rows(); ++i) {
            const double xi = normal(g), mag = rms*std::abs(xi);
            if (W(j, i) > 0) B(i, j) = mag;
            else if (W(j, i) < 0) B(i, j) = -mag;
            else if (every_cell) B(i, j) = rms*xi;
        }
    return B;
}

} // namespace

const registry<credit_rule>& credit_registry() {
    static const registry<credit_rule> r("credit rule", {
        {"exact", exact_credit_rule()},
        {"feedback_alignment", feedback_alignment_credit_rule()},
        {"rflo", rflo_credit_rule()},
        {"node_perturbation", node_perturbation_credit_rule()},
        {"eprop", eprop_credit_rule()},
        {"surrogate_bptt", surrogate_bptt_credit_rule()},
    });
    return r;
}

credit_desc::credit_desc(std::string r): rule(std::move(r)) {
    for (auto& name: credit_registry().names()) keys.declare(credit_registry().get(name).keys);
}

credit::credit(const credit_desc& d, const network& net, std::uint64_t seed, const integrator_desc& integ):
    desc_(d), rule_(&credit_registry().get(d.rule)), integ_(integ), seed_(seed) {
    desc_.keys.declare(rule_->keys);
    if (rule_->prepare) rule_->prepare(*this, net);
}

void credit::draw_feedback(const network& net, bool recurrent) {
    auto g = stream(seed_, "feedback");
    const lowered_network low(net);
    B_out_ = sign_concordant_feedback(low.W_out, g, true);
    if (recurrent) B_rec_ = sign_concordant_feedback(low.W_rec, g, false);
}

const credit_rule& credit::info() const { return *rule_; }

gradients credit::operator()(const network& net, const lowered_network& low, const trajectory& tr,
                             const trial_batch& trials, const plastic_set& which, std::uint64_t step) const {
    return rule_->estimate(*this, net, low, tr, trials, which, step);
}

} // namespace eisim
