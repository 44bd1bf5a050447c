// Structure of a built network: Dale's law, no autapses, layout of populations, the dense matrix
// and the gather are each other's adjoint, and the spectral radius is what was asked for.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <Eigen/Eigenvalues>
#include <numeric>
#include <set>

#include "models/network.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {
network_desc small() {
    network_desc d;
    d.n_e = 80; d.n_i = 20; d.n_in = 5; d.n_out = 3;
    return d;
}
} // namespace

TEST_CASE("Dale law: every synapse has the sign of its presynaptic cell", "[network][dale]") {
    auto d = small();
    d.readout_from = "all";
    const network net = build_network(d, 7);
    for (auto* p: {&net.get("recurrent"), &net.get("readout")}) {
        REQUIRE(p->size() > 0);
        for (std::size_t s = 0; s < p->size(); ++s) {
            REQUIRE(p->sign[s] == static_cast<int>(net.cell_sign[p->pre[s]]));
            REQUIRE(p->m[s] > 0.0);
        }
    }
    for (std::size_t s = 0; s < net.get("input").size(); ++s) REQUIRE(net.get("input").sign[s] == 1);
    // E first, then I; time constants by population.
    for (int i = 0; i < net.n(); ++i) {
        CHECK(net.cell_sign[i] == (i < d.n_e? 1.0: -1.0));
        CHECK(net.tau[i] == (i < d.n_e? d.tau_e_ms: d.tau_i_ms));
    }
}

TEST_CASE("no autapses and no duplicate synapses", "[network]") {
    const network net = build_network(small(), 3);
    std::set<std::pair<long, long>> seen;
    for (std::size_t s = 0; s < net.get("recurrent").size(); ++s) {
        CHECK(net.get("recurrent").pre[s] != net.get("recurrent").post[s]);
        CHECK(seen.insert({net.get("recurrent").pre[s], net.get("recurrent").post[s]}).second);
    }
}

TEST_CASE("the readout reads E cells by default", "[network]") {
    const network net = build_network(small(), 3);
    CHECK(net.get("readout").size() == static_cast<std::size_t>(80*3));
    for (auto j: net.get("readout").pre) CHECK(j < 80);
}

TEST_CASE("dense and gather are adjoint", "[network]") {
    const network net = build_network(small(), 5);
    const matrix G = matrix::Random(net.n(), net.n());
    vector g;
    net.get("recurrent").gather(G, g);
    const double lhs = (G.array()*net.get("recurrent").dense().array()).sum();
    CHECK(lhs == Approx(g.dot(net.get("recurrent").m)).epsilon(test::roundoff));
}

TEST_CASE("the gather in the gradient's own memory equals the gather from the matrix", "[network]") {
    network net = build_network(small(), 5);
    for (auto* p: {&net.get("recurrent"), &net.get("input"), &net.get("readout")}) {
        const matrix G = matrix::Random(p->n_post, p->n_pre);
        vector expected;
        p->gather(G, expected);
        const vector in_place = p->gather(vector(Eigen::Map<const vector>(G.data(), G.size())));
        CHECK(in_place == expected); // same products, same order: bit-identical
    }
    // Synapses out of column-major order take the copying path and give the same values.
    projection& R = net.get("recurrent");
    std::vector<std::size_t> order(R.size());
    std::iota(order.begin(), order.end(), 0);
    std::reverse(order.begin(), order.end());
    projection shuffled = R;
    for (std::size_t k = 0; k < order.size(); ++k) {
        shuffled.pre[k] = R.pre[order[k]];
        shuffled.post[k] = R.post[order[k]];
        shuffled.sign[k] = R.sign[order[k]];
    }
    const matrix G = matrix::Random(R.n_post, R.n_pre);
    vector g_ordered, g_shuffled;
    R.gather(G, g_ordered);
    g_shuffled = shuffled.gather(vector(Eigen::Map<const vector>(G.data(), G.size())));
    REQUIRE(g_shuffled.size() == g_ordered.size());
    for (std::size_t k = 0; k < order.size(); ++k) CHECK(g_shuffled[static_cast<long>(k)] == g_ordered[static_cast<long>(order[k])]);
}

TEST_CASE("the spectral radius from the real Schur form is the largest eigenvalue modulus", "[network]") {
    // Closed form: a rotation by θ scaled by r has the complex pair r·e^{±iθ}; the diagonal 0.3 adds a real one.
    const double r = 1.7, th = 0.4;
    matrix Q(3, 3);
    Q << r*std::cos(th), -r*std::sin(th), 0, r*std::sin(th), r*std::cos(th), 0, 0, 0, 0.3;
    CHECK(spectral_radius(Q) == Approx(r).epsilon(test::roundoff));
    // An independent implementation: Eigen's EigenSolver, on a non-symmetric E/I matrix and a random one.
    auto d = small();
    d.spectral_radius = 0.0;
    for (const matrix& W: {build_network(d, 9).get("recurrent").dense(), matrix(matrix::Random(150, 150))}) {
        const Eigen::EigenSolver<matrix> es(W, false);
        CHECK(spectral_radius(W) == Approx(es.eigenvalues().cwiseAbs().maxCoeff()).epsilon(1e-12));
    }
}

TEST_CASE("rescaling reaches the requested spectral radius", "[network]") {
    auto d = small();
    d.spectral_radius = 0.9;
    const network net = build_network(d, 11);
    CHECK(spectral_radius(net.get("recurrent").dense()) == Approx(0.9).epsilon(1e-10));
}

TEST_CASE("power iteration agrees with exact eigenvalues", "[network]") {
    auto d = small();
    d.n_e = 240; d.n_i = 60;
    d.spectral_radius = 0.0;
    const matrix W = build_network(d, 2).get("recurrent").dense();
    const double exact = spectral_radius(W, 2000);
    const double power = spectral_radius(W, 10);
    CHECK(power == Approx(exact).epsilon(0.05));
}

TEST_CASE("same seed gives the same network and another seed another", "[network][determinism]") {
    const network a = build_network(small(), 42), b = build_network(small(), 42), c = build_network(small(), 43);
    CHECK(a.get("recurrent").pre == b.get("recurrent").pre);
    CHECK(a.get("recurrent").m == b.get("recurrent").m);
    CHECK(a.get("recurrent").pre != c.get("recurrent").pre);
}

// The two layouts (network.hpp) hold the same synapses: what is built, read, gathered and
// changed through either is the same, value for value.
namespace {
network_desc mixed() {
    auto d = small();
    d.readout_from = "all";   // readout columns of both signs
    d.p_ee = 0.6; d.p_ii = 0.0; // a block with no synapses, and columns of I cells without I targets
    return d;
}
} // namespace

TEST_CASE("a dense-layout network holds exactly the synapses and weights of the lists layout", "[network][layout]") {
    const network a = build_network(mixed(), 21), b = build_network(mixed(), 21, layout::dense);
    for (auto name: {"recurrent", "input", "readout"}) {
        INFO(name);
        const projection &L = a.get(name), &D = b.get(name);
        REQUIRE_FALSE(L.is_dense());
        REQUIRE(D.is_dense());
        CHECK(D.pre.empty());
        CHECK(D.m.size() == 0);
        REQUIRE(D.size() == L.size());
        const auto lists = D.lists();
        CHECK(lists.pre == L.pre);
        CHECK(lists.post == L.post);
        CHECK(lists.sign == L.sign);
        CHECK(D.magnitudes() == L.m);          // bit for bit: the same draws, the same rescaling
        CHECK(D.signed_weights() == L.signed_weights());
        CHECK(D.dense() == L.dense());
        CHECK(D.W == L.dense()); // the matrix the products use; 0 where there is no synapse
        // Any range of synapse ids, read through either.
        const std::size_t n = L.size();
        for (std::size_t begin: {std::size_t{0}, std::size_t{1}, n/3, n - 1})
            for (std::size_t count: {std::size_t{1}, std::size_t{17}, n/2}) {
                const std::size_t c = std::min(count, n - begin);
                std::vector<double> x(c), y(c);
                L.signed_weights(begin, c, x.data());
                D.signed_weights(begin, c, y.data());
                CHECK(x == y);
                L.magnitudes(begin, c, x.data());
                D.magnitudes(begin, c, y.data());
                CHECK(x == y);
            }
    }
    CHECK(b.get("recurrent").size() < static_cast<std::size_t>(b.n())*b.n()); // absent entries exist
}

TEST_CASE("the gathers and the magnitude updates agree between the layouts", "[network][layout]") {
    network a = build_network(mixed(), 22), b = build_network(mixed(), 22, layout::dense);
    for (auto name: {"recurrent", "input", "readout"}) {
        INFO(name);
        projection &L = a.get(name), &D = b.get(name);
        const matrix G = matrix::Random(L.n_post, L.n_pre);
        vector gl, gd;
        L.gather(G, gl);
        D.gather(G, gd);
        CHECK(gl == gd);
        CHECK(D.gather(vector(Eigen::Map<const vector>(G.data(), G.size()))) == gl);
        // set_magnitudes, then an update that sees every synapse once, with its id.
        const vector m = vector::Random(static_cast<long>(L.size())).cwiseAbs();
        L.set_magnitudes(m);
        D.set_magnitudes(m);
        CHECK(D.magnitudes() == m);
        std::vector<int> seen(L.size(), 0);
        const long counted = D.update_magnitudes([&](Eigen::Ref<vector> block, long s0) {
            for (long k = 0; k < block.size(); ++k) {
                ++seen[static_cast<std::size_t>(s0 + k)];
                CHECK(block[k] == m[s0 + k]);
                block[k] = 2.0*block[k] + 1.0;
            }
            return block.size();
        });
        CHECK(counted == static_cast<long>(L.size()));
        CHECK(std::all_of(seen.begin(), seen.end(), [](int k) { return k == 1; }));
        CHECK(D.magnitudes() == (2.0*m.array() + 1.0).matrix());
        // Entries without a synapse were not touched: W is 0 wherever the lists layout's is.
        const matrix Wl = [&] { L.set_magnitudes((2.0*m.array() + 1.0).matrix()); return L.dense(); }();
        CHECK(D.W == Wl);
        D.scale(0.5);
        L.scale(0.5);
        CHECK(D.W == L.dense());
    }
}
