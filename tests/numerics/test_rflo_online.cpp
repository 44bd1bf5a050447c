// RFLO's online form (plasticity/rflo_online.hpp, plasticity/online_trial.hpp): with the weights held fixed its
// increments sum to the per-trial gradient (an independent, forward-in-time computation of the same
// formula); with η → 0 the online learning step equals the per-trial mirror step to first order,
// i.e. their difference shrinks in proportion to η.
#include <catch2/catch.hpp>

#include "plasticity/local_credit.hpp"
#include "plasticity/rflo_online.hpp"
#include "plasticity/online_trial.hpp"
#include "tests/support/approx.hpp"
#include "tests/support/credit_problem.hpp"

using namespace eisim;

namespace {

// The shared small problem with its first 10 ms out of the loss, and RFLO's feedback matrix.
struct problem: test::credit_problem {
    matrix B_out;
};

problem make_problem() {
    problem p{test::make_credit_problem(), {}};
    for (int k = 0; k < 10; ++k) p.trials.mask[k] = 0.0;
    p.B_out = credit(credit_desc("rflo"), p.net, 42).feedback_readout();
    return p;
}

vector concat(const network& net) {
    vector v(net.get("recurrent").size() + net.get("input").size() + net.get("readout").size());
    v << net.get("recurrent").m, net.get("input").m, net.get("readout").m;
    return v;
}

} // namespace

TEST_CASE("online RFLO increments with fixed weights sum to the per-trial gradient", "[credit][rflo][online]") {
    const problem p = make_problem();
    const lowered_network low(p.net);
    rng noise(1);
    const trajectory tr = integrate(p.net, low, p.trials.u, p.trials.x0, p.integ, noise);
    const gradients trial = rflo_gradient(p.net, low, tr, p.trials, plastic_set{}, p.B_out);
    const output_errors err = output_error(p.net, low, tr, p.trials);
    rflo_traces traces(p.net, plastic_set{}, p.trials.batch(), p.integ.dt_ms);
    gradients sum;
    sum.projection.resize(3);
    sum.projection[0] = vector::Zero(p.net.get("recurrent").size());
    sum.projection[1] = vector::Zero(p.net.get("input").size());
    sum.projection[2] = vector::Zero(p.net.get("readout").size());
    matrix r;
    for (std::size_t k = 0; k < tr.obs.size(); ++k) {
        p.net.phi.apply(tr.at_obs(k), r);
        const gradients g = traces.increment(p.net, p.B_out, err.e[k], r);
        sum.projection[0] += g.projection[0];
        sum.projection[1] += g.projection[1];
        sum.projection[2] += g.projection[2];
        traces.advance(p.net, tr.at_obs(k), r, p.trials.u.at(static_cast<int>(k)));
    }
    CHECK(test::rel_err(sum.projection[0], trial.projection[0]) < 1e-10);
    CHECK(test::rel_err(sum.projection[1], trial.projection[1]) < 1e-10);
    CHECK(test::rel_err(sum.projection[2], trial.projection[2]) < 1e-10);
}

TEST_CASE("online RFLO with zero learning rate runs the fixed network", "[credit][rflo][online]") {
    problem p = make_problem();
    lowered_network low(p.net);
    rng n1(1), n2(1);
    const trajectory tr = integrate(p.net, low, p.trials.u, p.trials.x0, p.integ, n1);
    plasticity_desc pd;
    pd.geometry = "euclidean";
    pd.learning_rate = 1e-300; // nonzero (0 means the default) but below every increment's effect
    optimizer opt(pd, 1);
    network net = p.net;
    const online_result on = rflo_online_trial(net, low, p.trials, p.integ, n2, p.B_out, plastic_set{}, opt, 0);
    CHECK(on.updates == p.trials.steps() + 1 - 10);
    CHECK(on.loss == Approx(trajectory_loss(p.net, low, tr, p.trials)).epsilon(1e-12));
    REQUIRE(on.tr.obs.size() == tr.obs.size());
    for (std::size_t k = 0; k < tr.obs.size(); ++k) CHECK(test::rel_err(on.tr.at_obs(k), tr.at_obs(k)) < test::roundoff);
}

TEST_CASE("online RFLO matches the per-trial step to first order in the learning rate", "[credit][rflo][online]") {
    const problem p = make_problem();
    for (auto geo: {"euclidean", "eg"}) {
        // η₀ moves no magnitude by more than 1% of itself (eg) or of the smallest ratio m/|g|
        // (euclidean), so no synapse comes near the bound m ≥ 0, where a clipped step is not smooth.
        const lowered_network low0(p.net);
        rng n0(1);
        const trajectory tr = integrate(p.net, low0, p.trials.u, p.trials.x0, p.integ, n0);
        const gradients g = rflo_gradient(p.net, low0, tr, p.trials, plastic_set{}, p.B_out);
        vector gall(concat(p.net).size());
        gall << g.projection[0], g.projection[1], g.projection[2];
        const double eta0 = std::string(geo) == "eg"? 0.01/gall.cwiseAbs().maxCoeff()
                                                      : 0.01*(concat(p.net).array()/gall.array().abs()).minCoeff();
        std::vector<double> gap;
        for (double eta: {eta0, eta0/2, eta0/4}) {
            plasticity_desc pd;
            pd.geometry = geo;
            pd.learning_rate = eta;
            optimizer o1(pd, 1), o2(pd, 1);
            network per_trial = p.net, online = p.net;
            o1.apply(per_trial, g, plastic_set{}, 0);
            lowered_network low(online);
            rng noise(1);
            rflo_online_trial(online, low, p.trials, p.integ, noise, p.B_out, plastic_set{}, o2, 0);
            const vector d_trial = concat(per_trial) - concat(p.net), d_online = concat(online) - concat(p.net);
            gap.push_back(test::rel_err(d_online, d_trial));
        }
        WARN(geo << ": relative gap between online and per-trial steps at eta0, eta0/2, eta0/4: "
                 << gap[0] << ", " << gap[1] << ", " << gap[2]);
        CHECK(gap[0] < 0.1);
        // First order: the gap is O(η), so it halves with η (ratio 2 up to O(η²) terms).
        CHECK(gap[0]/gap[1] == Approx(2.0).epsilon(0.1));
        CHECK(gap[1]/gap[2] == Approx(2.0).epsilon(0.1));
    }
}
