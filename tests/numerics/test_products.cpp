// How the products are computed changes the speed, never the equations. Threads never change the
// numbers: the row-shared products (models/parallel.hpp) are bit-identical for 1, 2 and 3 threads
// and agree with the unshared formula to round-off. Sparse products (compressed rows) agree with
// the dense ones to round-off, and are themselves bit-identical for any thread count.
#include <catch2/catch.hpp>

#include "models/dynamics.hpp"
#include "models/parallel.hpp"
#include "plasticity/exact_credit.hpp"
#include "plasticity/outer_accumulator.hpp"
#include "sim/config.hpp"
#include "models/integrate.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {

// Restores the thread count when a test ends.
struct thread_guard {
    int saved = threads();
    ~thread_guard() { set_threads(saved); }
};

bool identical(const matrix& a, const matrix& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

network make_network(int n_e, int n_i, int n_in, double p = 0.2, double spectral_radius = 0.9) {
    network_desc d;
    d.p_ee = d.p_ei = d.p_ie = d.p_ii = p;
    d.n_e = n_e; d.n_i = n_i; d.n_in = n_in; d.n_out = 2;
    d.transfer = "softplus";
    d.spectral_radius = spectral_radius;
    d.readout_from = "all";
    return build_network(d, 5);
}

} // namespace

TEST_CASE("row shares tile the rows with boundaries on the granule", "[parallel]") {
    for (long rows: {1L, 47L, 48L, 49L, 250L, 1000L, 4001L})
        for (int parts = 1; parts <= 5; ++parts) {
            long next = 0;
            for (int p = 0; p < parts; ++p) {
                const row_range r = row_share(rows, p, parts);
                if (r.size == 0) continue;
                CHECK(r.begin == next);
                CHECK(r.begin % row_granule == 0);
                next = r.begin + r.size;
            }
            CHECK(next == rows);
        }
}

TEST_CASE("the dynamics and its vector-Jacobian product are bit-identical for any thread count", "[parallel]") {
    thread_guard guard;
    for (int n_e: {40, 200, 241, 800}) {
        // Not rescaled to a spectral radius (0: the weights as drawn): one evaluation at a random
        // state checks the products, whatever the weights' scale, and the exact spectral radius of
        // the 1000-cell network (its real Schur form) was most of this test's time.
        const network net = make_network(n_e, n_e/4, 3, 0.2, 0.0);
        const lowered_network low(net);
        const long N = net.n();
        for (long B: {1L, 3L, 16L}) {
            input_desc in;
            in.n_in = 3;
            rng g(7);
            const input_grid u = make_input(in, 1.0, 4, B, g);
            const matrix x = matrix::Random(N, B), kappa = matrix::Random(N, B);
            matrix f[3], a[3], xi[3];
            for (int t = 1; t <= 3; ++t) {
                set_threads(t);
                dynamics_workspace ws;
                const rate_dynamics sys{low.inv_tau, low.W_rec, low.W_in, u, net.phi, net.bias, ws};
                sys(x, f[t - 1], 1.5);
                sys.vjp(x, 1.5, kappa, a[t - 1], xi[t - 1]);
            }
            INFO("N = " << N << ", B = " << B);
            CHECK(identical(f[0], f[1]));
            CHECK(identical(f[0], f[2]));
            CHECK(identical(xi[0], xi[1]));
            CHECK(identical(xi[0], xi[2]));

            // The shared rows compute the textbook formula (independent, unshared expression).
            matrix r, d, uu;
            net.phi.apply(x, r);
            net.phi.derivative(x, d);
            u.interpolate(1.5, uu);
            const matrix f_ref = (((low.W_rec*r + low.W_in*uu).array() - x.array()).colwise() + net.bias.array()).colwise()*low.inv_tau.array();
            const matrix a_ref = kappa.array().colwise()*low.inv_tau.array();
            const matrix xi_ref = (low.W_rec.transpose()*a_ref).cwiseProduct(d) - a_ref;
            CHECK(test::rel_err(f[1], f_ref) <= test::roundoff);
            CHECK(test::rel_err(xi[1], xi_ref) <= test::roundoff);
        }
    }
}

TEST_CASE("the gradient's outer-product sums are bit-identical for any thread count", "[parallel]") {
    thread_guard guard;
    const long N = 300, M = 250, B = 16, pairs = 70; // 70 pairs: eight full chunks of 8 and a partial one
    std::vector<matrix> A, R;
    for (long k = 0; k < pairs; ++k) { A.push_back(matrix::Random(N, B)); R.push_back(matrix::Random(M, B)); }
    matrix sums[3];
    for (int t = 1; t <= 3; ++t) {
        set_threads(t);
        outer_accumulator acc(N, M, B);
        for (long k = 0; k < pairs; ++k) acc.add(A[k], R[k]);
        const vector sum = acc.take();
        sums[t - 1] = Eigen::Map<const matrix>(sum.data(), N, M);
    }
    CHECK(identical(sums[0], sums[1]));
    CHECK(identical(sums[0], sums[2]));
    matrix ref = matrix::Zero(N, M);
    for (long k = 0; k < pairs; ++k) ref += A[k]*R[k].transpose();
    CHECK(test::rel_err(sums[1], ref) <= test::roundoff);
}

TEST_CASE("a forward pass and its exact gradient are bit-identical for 1 and 2 threads", "[parallel]") {
    thread_guard guard;
    const network net = make_network(400, 100, 3);
    const lowered_network low(net);
    input_desc in;
    in.n_in = 3;
    rng g(3);
    trial_batch trials;
    const int T = 20, B = 8;
    trials.u = make_input(in, 1.0, T, B, g);
    trials.x0 = matrix::Zero(net.n(), B);
    trials.target = matrix::Random(2, B*(T + 1));
    trials.mask.assign(T + 1, 1.0);
    for (const char* stepper: {"euler", "rk4"}) {
        integrator_desc integ;
        integ.stepper = stepper;
        gradients grad[2];
        matrix last[2];
        for (int t = 1; t <= 2; ++t) {
            set_threads(t);
            REQUIRE(threads() == t);
            rng noise(1);
            const trajectory tr = integrate(net, low, trials.u, trials.x0, integ, noise);
            last[t - 1] = tr.x.back();
            grad[t - 1] = exact_gradient(net, low, tr, trials, plastic_set{true, true, true});
        }
        INFO("stepper " << stepper);
        CHECK(identical(last[0], last[1]));
        CHECK(grad[0].loss == grad[1].loss);
        CHECK(identical(grad[0].projection[0], grad[1].projection[0]));
        CHECK(identical(grad[0].projection[1], grad[1].projection[1]));
        CHECK(identical(grad[0].projection[2], grad[1].projection[2]));
    }
}

TEST_CASE("sparse recurrent products agree with the dense ones, for any thread count", "[parallel][sparse]") {
    thread_guard guard;
    for (double p: {0.02, 0.1, 0.5}) {
        const network net = make_network(240, 60, 2, p);
        const lowered_network dense(net), sparse(net, true);
        REQUIRE(sparse.sparse_rec() != nullptr);
        REQUIRE(sparse.S_rec.W.nonZeros() == static_cast<long>(net.get("recurrent").size()));
        input_desc in;
        in.n_in = 2;
        rng g(2);
        const long B = 16;
        const input_grid u = make_input(in, 1.0, 4, B, g);
        const matrix x = matrix::Random(net.n(), B), kappa = matrix::Random(net.n(), B);
        matrix f_dense, a, xi_dense, f[2], xi[2];
        dynamics_workspace ws;
        const rate_dynamics d{dense.inv_tau, dense.W_rec, dense.W_in, u, net.phi, net.bias, ws};
        d(x, f_dense, 2.0);
        d.vjp(x, 2.0, kappa, a, xi_dense);
        for (int t = 1; t <= 2; ++t) {
            set_threads(t);
            const rate_dynamics s{sparse.inv_tau, sparse.W_rec, sparse.W_in, u, net.phi, net.bias, ws, sparse.sparse_rec()};
            s(x, f[t - 1], 2.0);
            s.vjp(x, 2.0, kappa, a, xi[t - 1]);
        }
        INFO("p = " << p);
        CHECK(test::rel_err(f[0], f_dense) <= test::roundoff);
        CHECK(test::rel_err(xi[0], xi_dense) <= test::roundoff);
        CHECK(identical(f[0], f[1]));
        CHECK(identical(xi[0], xi[1]));
    }
}

TEST_CASE("products = auto chooses sparse products below the density threshold", "[sparse]") {
    network_desc thin, thick;
    thin.n_e = thick.n_e = 80;
    thin.n_i = thick.n_i = 20;
    thin.p_ee = thin.p_ei = thin.p_ie = thin.p_ii = 0.05;
    thick.p_ee = thick.p_ei = thick.p_ie = thick.p_ii = 0.5;
    // Expected density without autapses: p (N² − N)/N².
    CHECK(expected_density(thin) == Approx(0.05*(100.0*100 - 100)/(100.0*100)).epsilon(1e-14));
    CHECK(expected_density(thin) == Approx(static_cast<double>(build_network(thin, 5).get("recurrent").size())/1e4).epsilon(0.1));
    integrator_desc d;
    d.products = "auto";
    d.sparse_below = 0.1;
    CHECK(sparse_products(d, thin));
    CHECK_FALSE(sparse_products(d, thick));
    CHECK(layout_for(d, thin) == layout::lists);
    CHECK(layout_for(d, thick) == layout::dense);
    d.products = "dense";
    CHECK_FALSE(sparse_products(d, thin));
    CHECK(layout_for(d, thin) == layout::dense);
    d.products = "sparse";
    CHECK(sparse_products(d, thick));
    CHECK(layout_for(d, thick) == layout::lists);
    config c = default_config();
    CHECK_THROWS_AS(apply_override(c, "integrator.products=csr"), config_error);
}

TEST_CASE("the products use a dense-layout network's own matrices, and see its changes", "[layout]") {
    network_desc d;
    d.n_e = 40; d.n_i = 10; d.n_in = 3;
    network lists = build_network(d, 4), dense = build_network(d, 4, layout::dense);
    const lowered_network low_l(lists), low_d(dense);
    CHECK(&low_d.W_rec == &dense.get("recurrent").W); // no copy of the weights
    CHECK(&low_d.W_in == &dense.get("input").W);
    CHECK(&low_d.W_out == &dense.get("readout").W);
    CHECK(low_d.W_rec == low_l.W_rec);
    CHECK(low_d.W_in == low_l.W_in);
    CHECK(low_d.W_out == low_l.W_out);
    // The same change of magnitudes through either layout, then the products' matrices again.
    const auto doubled = [](Eigen::Ref<vector> m, long) { m *= 2.0; return 0L; };
    lists.get("recurrent").update_magnitudes(doubled);
    dense.get("recurrent").update_magnitudes(doubled);
    lowered_network after(lists);
    CHECK(low_d.W_rec == after.W_rec);
    CHECK(low_d.W_rec == 2.0*low_l.W_rec); // the old copy of the lists layout is stale
}
