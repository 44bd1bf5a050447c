// Local credit rules: feedback alignment with the true transposes is the exact gradient; RFLO's
// matrix form equals the literal per-synapse eligibility-trace formula; every rule's estimate
// points along the exact gradient (positive cosine, reported) on a small problem; every rule gives
// credit to every plastic synapse onto every population (E, I and the readout units).
#include <catch2/catch.hpp>

#include "plasticity/local_credit.hpp"
#include "models/integrate.hpp"
#include "tests/support/approx.hpp"
#include "tests/support/credit_problem.hpp"

using namespace eisim;

namespace {

using problem = test::credit_problem;
problem make_problem() { return test::make_credit_problem(); }

trajectory forward(const problem& p, const network& net, rng& noise) {
    return integrate(net, lowered_network(net), p.trials.u, p.trials.x0, p.integ, noise);
}

double cosine(const vector& a, const vector& b) { return a.dot(b)/(a.norm()*b.norm()); }

} // namespace

TEST_CASE("feedback alignment with the true transposes is the exact gradient", "[credit][fa]") {
    const problem p = make_problem();
    const lowered_network low(p.net);
    rng noise(1);
    const trajectory tr = forward(p, p.net, noise);
    const matrix WoutT = low.W_out.transpose(), WrecT = low.W_rec.transpose();
    const gradients exact = exact_gradient(p.net, low, tr, p.trials, plastic_set{});
    const gradients fa = exact_gradient(p.net, low, tr, p.trials, plastic_set{}, feedback_matrices{&WoutT, &WrecT});
    CHECK(test::rel_err(exact.projection[0], fa.projection[0]) < test::roundoff);
    CHECK(test::rel_err(exact.projection[1], fa.projection[1]) < test::roundoff);
}

TEST_CASE("RFLO matrix form equals the literal eligibility-trace formula", "[credit][rflo]") {
    const problem p = make_problem();
    const lowered_network low(p.net);
    rng noise(1);
    const trajectory tr = forward(p, p.net, noise);
    rng g(3);
    matrix Bfb(30, 2);
    for (long i = 0; i < Bfb.size(); ++i) Bfb(i) = normal(g);
    const gradients fast = rflo_gradient(p.net, low, tr, p.trials, plastic_set{}, Bfb);
    // Literal: p_ij(k) = (1 − α_i) p_ij(k−1) + α_i φ'(x_i(k−1)) r_j(k−1);  g_ij = Σ_k (B e_k)_i p_ij(k), per trial.
    const output_errors err = output_error(p.net, low, tr, p.trials);
    const auto& R = p.net.get("recurrent");
    vector slow = vector::Zero(R.size());
    for (long b = 0; b < 4; ++b) {
        vector trace = vector::Zero(R.size());
        for (std::size_t k = 1; k < tr.obs.size(); ++k) {
            const matrix& xprev = tr.at_obs(k - 1);
            const vector Be = Bfb*err.e[k].col(b);
            for (std::size_t s = 0; s < R.size(); ++s) {
                const long i = R.post[s], j = R.pre[s];
                const double alpha = 1.0/p.net.tau[i];
                trace[s] = (1 - alpha)*trace[s] + alpha*p.net.phi.of(i).derivative(xprev(i, b))*p.net.phi.of(j).value(xprev(j, b));
                slow[s] += R.sign[s]*Be[i]*trace[s];
            }
        }
    }
    CHECK(test::rel_err(fast.projection[0], slow) < 1e-10);
}

TEST_CASE("every local rule's estimate points along the exact gradient", "[credit][cosine]") {
    const problem p = make_problem();
    const lowered_network low(p.net);
    rng noise(1);
    const trajectory tr = forward(p, p.net, noise);
    const gradients exact = exact_gradient(p.net, low, tr, p.trials, plastic_set{});
    for (auto rule: {"feedback_alignment", "rflo", "node_perturbation"}) {
        credit_desc d(rule);
        d.keys.set("perturbation_samples", std::int64_t{400});
        d.keys.set("perturbation_sigma", 0.01);
        const credit c(d, p.net, 42, p.integ);
        const gradients g = c(p.net, low, tr, p.trials, plastic_set{}, 0);
        const double cos_rec = cosine(g.projection[0], exact.projection[0]), cos_in = cosine(g.projection[1], exact.projection[1]);
        WARN(rule << ": cosine with the exact gradient, recurrent " << cos_rec << ", input " << cos_in);
        CHECK(g.loss == Approx(exact.loss));
        CHECK(cos_rec > 0.0);
        CHECK(cos_in > 0.0);
        CHECK(cosine(g.projection[2], exact.projection[2]) == Approx(1.0).epsilon(1e-9)); // the readout's delta rule is exact
    }
}

TEST_CASE("every rule's credit reaches every plastic synapse onto every population", "[credit][reach]") {
    // The readout reads the E cells only, so feedback through W_outᵀ alone would leave every
    // synapse onto an I cell without a learning signal (as RFLO had before its B_out reached every cell).
    const problem p = make_problem();
    const lowered_network low(p.net);
    REQUIRE((low.W_out.rightCols(p.net.n_i).array() == 0.0).all());
    rng noise(1);
    const trajectory tr = forward(p, p.net, noise);
    for (auto rule: {"exact", "feedback_alignment", "rflo", "node_perturbation"}) {
        for (bool recurrent_feedback: {false, true}) {
            if (recurrent_feedback && std::string(rule) != "feedback_alignment") continue;
            credit_desc d(rule);
            if (recurrent_feedback) d.keys.set("feedback_recurrent", true);
            const credit c(d, p.net, 42, p.integ);
            const gradients g = c(p.net, low, tr, p.trials, plastic_set{}, 0);
            for (std::size_t k = 0; k < p.net.projections.size(); ++k) {
                const auto& P = p.net.projections[k];
                for (const char* pop: {"E", "I", "out"}) {
                    const auto* target = p.net.find(pop);
                    REQUIRE(target != nullptr);
                    if ((target->side == side::output) != (P.kind == product::readout)) continue;
                    long synapses = 0, with_credit = 0;
                    P.for_each([&](std::size_t s, int post, int, int, double) {
                        if (post < target->first || post >= target->first + target->size) return;
                        ++synapses;
                        with_credit += g.projection[k][static_cast<long>(s)] != 0.0;
                    });
                    INFO(rule << (recurrent_feedback? " (feedback_recurrent)": "") << ": " << P.name << " onto " << pop << ": "
                              << with_credit << " of " << synapses << " synapses have credit");
                    CHECK(synapses > 0);
                    CHECK(with_credit == synapses);
                }
            }
        }
    }
}
