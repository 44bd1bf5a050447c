// Mirror maps: primal inverts dual, each step equals its closed form, p = 2 is euclidean, and no
// step ever changes a sign or reaches zero.
#include <catch2/catch.hpp>

#include <cmath>

#include "plasticity/optimizer.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {

// A geometry with its exponent p (a key of pnorm only; the others have no keys).
std::unique_ptr<geometry> geometry_of(const std::string& name, double p = 3.0, double min_magnitude = 1e-8) {
    parameters keys;
    if (name == "pnorm") {
        keys.declare(geometry_registry().get("pnorm").keys);
        keys.set("p", p);
    }
    return make_geometry(name, keys, min_magnitude);
}

} // namespace

TEST_CASE("primal inverts dual", "[geometry]") {
    for (auto [name, p]: {std::pair{"eg", 2.0}, {"euclidean", 2.0}, {"pnorm", 1.5}, {"pnorm", 3.0}}) {
        const auto g = geometry_of(name, p);
        for (double m: {1e-4, 0.03, 0.5, 2.0}) CHECK(g->primal(g->dual(m)) == Approx(m).epsilon(1e-12));
    }
}

TEST_CASE("EG step is multiplicative: m exp(-eta g)", "[geometry]") {
    const auto g = geometry_of("eg");
    vector m(3), grad(3);
    m << 0.1, 1.0, 3.0;
    grad << 2.0, -1.0, 0.5;
    vector expect = m.array()*(-0.3*grad.array()).exp();
    g->step(m, grad, 0.3);
    CHECK(test::rel_err(m, expect) < test::roundoff);
}

TEST_CASE("pnorm with p = 2 is the euclidean step", "[geometry]") {
    vector m = vector::LinSpaced(20, 0.01, 1.0), grad = vector::LinSpaced(20, -1.0, 1.0);
    vector a = m, b = m;
    geometry_of("pnorm", 2.0)->step(a, grad, 0.1);
    geometry_of("euclidean")->step(b, grad, 0.1);
    CHECK(test::rel_err(a, b) < test::roundoff);
}

TEST_CASE("mirror steps follow the dual-space update", "[geometry]") {
    const auto g = geometry_of("pnorm", 3.0);
    vector m = vector::LinSpaced(10, 0.1, 1.0), grad = vector::LinSpaced(10, -0.5, 0.05);
    vector out = m;
    g->step(out, grad, 0.2);
    for (long s = 0; s < m.size(); ++s) CHECK(out[s]*out[s] == Approx(m[s]*m[s] - 0.2*grad[s]).epsilon(1e-12)); // y = m^(p-1) = m^2
}

TEST_CASE("no geometry lets a magnitude reach zero and projected synapses are counted", "[geometry][dale]") {
    vector grad = vector::Constant(5, 100.0); // a huge push towards zero
    for (auto [name, p]: {std::pair{"eg", 2.0}, {"euclidean", 2.0}, {"pnorm", 3.0}}) {
        const auto g = geometry_of(name, p, 1e-8);
        vector m = vector::Constant(5, 0.5);
        const long held = g->step(m, grad, 1.0);
        CHECK((m.array() > 0.0).all());
        CHECK(held == (std::string(name) == "eg"? 0: 5));
        CHECK(g->projected() == (std::string(name) != "eg"));
    }
}

TEST_CASE("momentum buffer and cosine schedule", "[optimizer]") {
    plasticity_desc d;
    d.geometry = "euclidean";
    d.learning_rate = 0.1;
    d.momentum = 0.9;
    d.schedule = "cosine";
    optimizer opt(d, 10);
    CHECK(opt.learning_rate(0) == Approx(0.1));
    CHECK(opt.learning_rate(5) == Approx(0.05));
    vector m = vector::Constant(1, 1.0), g = vector::Constant(1, 1.0);
    opt.apply("w", m, g, 0); // v = 1: m = 1 − 0.1
    opt.apply("w", m, g, 5); // v = 1.9: m −= 0.05·1.9
    CHECK(m[0] == Approx(1.0 - 0.1 - 0.05*1.9).epsilon(1e-12));
}

TEST_CASE("Adam normalises each synapse's gradient by its own history, then takes the mirror step", "[optimizer][adam]") {
    // An independent re-implementation of Kingma & Ba's algorithm 1 (bias-corrected moments), one
    // synapse at a time, fed the same gradients; the dual step is then the geometry's.
    const double b1 = 0.8, b2 = 0.95, eps = 1e-3, eta = 0.05;
    for (const char* geo: {"eg", "euclidean"}) {
        INFO(geo);
        plasticity_desc d;
        d.geometry = geo;
        d.learning_rate = eta;
        d.normalisation = "adam";
        d.keys.set("adam_beta1", b1);
        d.keys.set("adam_beta2", b2);
        d.keys.set("adam_epsilon", eps);
        optimizer opt(d, 20);
        REQUIRE(opt.adam());
        vector m = vector::Constant(3, 2.0);
        std::vector<double> ref(3, 2.0), a(3, 0.0), b(3, 0.0);
        auto noise = stream(5, "adam-gradients");
        for (long t = 0; t < 20; ++t) {
            vector g(3);
            for (long i = 0; i < 3; ++i) g[i] = (i + 1)*(0.3 + normal(noise)); // scales 1, 2, 3
            opt.apply("w", m, g, t);
            for (std::size_t i = 0; i < 3; ++i) {
                const double gi = g[static_cast<long>(i)];
                a[i] = b1*a[i] + (1 - b1)*gi;
                b[i] = b2*b[i] + (1 - b2)*gi*gi;
                const double ahat = a[i]/(1 - std::pow(b1, t + 1.0)), bhat = b[i]/(1 - std::pow(b2, t + 1.0));
                const double v = ahat/(std::sqrt(bhat) + eps);
                ref[i] = std::string(geo) == "eg"? ref[i]*std::exp(-eta*v): ref[i] - eta*v;
            }
        }
        for (long i = 0; i < 3; ++i) CHECK(m[i] == Approx(ref[static_cast<std::size_t>(i)]).epsilon(1e-12));
        // The moments are the optimizer's state, kept for resuming.
        CHECK(opt.velocity().at("w").size() == 3);
        CHECK(opt.second_moment().at("w")[2] > 0.0);
    }
}

TEST_CASE("under Adam a constant gradient moves EG's ln m by eta per step whatever its scale", "[optimizer][adam]") {
    // With g constant the bias-corrected moments are g and g² exactly: the normalised gradient is
    // g / (|g| + ε), so ln m falls by η |g| / (|g| + ε) per step for g of any size.
    plasticity_desc d;
    d.geometry = "eg";
    d.learning_rate = 0.01;
    d.normalisation = "adam";
    optimizer opt(d, 50);
    vector m = vector::Constant(3, 1.0), g(3);
    g << 1e-4, 1.0, -1e3;
    for (long t = 0; t < 50; ++t) opt.apply("w", m, g, t);
    const double eps = 1e-8;
    for (long i = 0; i < 3; ++i) {
        const double expected = -50*0.01*g[i]/(std::abs(g[i]) + eps);
        CHECK(std::log(m[i]) == Approx(expected).epsilon(1e-10));
    }
    CHECK(std::log(m[0]) == Approx(-0.5).epsilon(1e-3)); // a gradient 10^7 times smaller moves as far
}

TEST_CASE("EG weight decay is multiplicative", "[optimizer]") {
    plasticity_desc d;
    d.geometry = "eg";
    d.learning_rate = 0.5;
    d.weight_decay = 0.2;
    optimizer opt(d, 1);
    vector m = vector::Constant(2, 0.3), g = vector::Zero(2);
    opt.apply("w", m, g, 0);
    CHECK(m[0] == Approx(0.3*std::exp(-0.5*0.2)).epsilon(1e-12));
}

TEST_CASE("the mirror steps give the same magnitudes in either layout and leave non-synapses at 0", "[geometry][layout]") {
    network_desc d;
    d.n_e = 40; d.n_i = 10; d.n_in = 4; d.n_out = 2;
    d.p_ee = 0.7;
    for (const char* geo: {"eg", "euclidean", "pnorm"}) {
        INFO(geo);
        network a = build_network(d, 8), b = build_network(d, 8, layout::dense);
        plasticity_desc pd;
        pd.geometry = geo;
        pd.keys.set("p", 3.0);
        pd.learning_rate = 0.05;
        pd.momentum = 0.5;        // a velocity per synapse, kept per block at the right offset
        pd.weight_decay = 0.01;
        pd.min_magnitude = 0.02;  // Euclidean and p-norm steps hold some synapses at the bound
        optimizer oa(pd, 10), ob(pd, 10);
        auto g = stream(3, "test-gradients");
        for (long t = 0; t < 3; ++t) {
            gradients gr;
            gr.projection.resize(3);
            for (auto* v: {&gr.projection[0], &gr.projection[1], &gr.projection[2]}) {
                const std::size_t n = v == &gr.projection[0]? a.get("recurrent").size(): v == &gr.projection[1]? a.get("input").size(): a.get("readout").size();
                v->resize(static_cast<long>(n));
                for (auto& x: *v) x = 20.0*normal(g);
            }
            const plastic_set all{true, true, true};
            const long held_a = oa.apply(a, gr, all, t), held_b = ob.apply(b, gr, all, t);
            CHECK(held_a == held_b);
            if (std::string(geo) != "eg") CHECK(held_a > 0);
        }
        for (auto name: {"recurrent", "input", "readout"}) {
            INFO(name);
            const vector ma = a.get(name).magnitudes(), mb = b.get(name).magnitudes();
            // EG's exp is vectorised over a block, and the blocks differ (one per column in the
            // dense layout): its last bit may differ; the other steps are elementwise and exact.
            if (std::string(geo) == "eg") CHECK(test::rel_err(ma, mb) <= test::roundoff);
            else CHECK(ma == mb);
            CHECK(b.get(name).W.cwiseAbs().cwiseEqual(0.0).count() ==
                  static_cast<long>(b.get(name).W.size() - b.get(name).size())); // non-synapses stay 0
            CHECK(oa.velocity()[name] == ob.velocity()[name]);
        }
    }
}
