// Each transfer function's derivative equals the central finite difference of its value, and the
// batch forms equal the scalar forms; a network's cells take their own population's function.
#include <catch2/catch.hpp>

#include "models/network.hpp"
#include "models/transfer.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

TEST_CASE("transfer derivatives match central finite differences", "[transfer]") {
    for (auto name: transfer_registry().names()) {
        const transfer phi = make_transfer(name, 0.7, 2.5);
        for (double x: {-2.0, -0.3, 0.2, 0.9, 3.0}) {
            const double h = 1e-6;
            const double fd = (phi.value(x + h) - phi.value(x - h))/(2*h);
            INFO(name << " at x = " << x);
            CHECK(phi.derivative(x) == Approx(fd).epsilon(1e-6).margin(1e-9));
        }
    }
}

TEST_CASE("batch transfer equals scalar transfer", "[transfer]") {
    matrix x = matrix::Random(7, 3)*3.0;
    for (auto name: transfer_registry().names()) {
        const transfer phi = make_transfer(name, 0.5, 3.0);
        matrix r, d;
        phi.apply(x, r);
        phi.derivative(x, d);
        for (long i = 0; i < x.size(); ++i) {
            CHECK(r(i) == phi.value(x(i)));
            CHECK(d(i) == phi.derivative(x(i)));
        }
    }
}

TEST_CASE("unknown transfer names list the known ones", "[transfer][registry]") {
    try {
        make_transfer("sigmoidal");
        FAIL("no error");
    } catch (const user_error& e) {
        const std::string msg = e.what();
        CHECK(msg.find("sigmoidal") != std::string::npos);
        for (auto n: transfer_registry().names()) CHECK(msg.find(n) != std::string::npos);
    }
}

TEST_CASE("each rate population's cells take its transfer function", "[transfer][circuit]") {
    network_desc d;
    d.n_e = 6; d.n_i = 3; d.n_in = 2; d.n_out = 1;
    circuit_desc c = ei_circuit(d);
    c.populations[0].keys.set("transfer", "softplus");
    c.populations[1].keys.set("transfer", "power");
    c.populations[1].keys.set("transfer_k", 0.5);
    c.populations[1].keys.set("transfer_n", 3.0);
    const network net = build_network(c, 3);
    REQUIRE(net.phi.pieces.size() == 2);
    CHECK(net.phi.name() == "softplus+power");
    const transfer E = make_transfer("softplus"), I = make_transfer("power", 0.5, 3.0);
    const matrix x = matrix::Random(9, 4)*2.0;
    matrix r, dr;
    net.phi.apply(x, r);
    net.phi.derivative(x, dr);
    for (long i = 0; i < 9; ++i)
        for (long b = 0; b < 4; ++b) {
            const transfer& phi = i < 6? E: I;
            CHECK(r(i, b) == phi.value(x(i, b)));
            CHECK(dr(i, b) == phi.derivative(x(i, b)));
        }
    // One function for every population: one piece, the whole state.
    c.populations[1].keys.set("transfer", "softplus"); // its k and n are power's: no difference
    const network uniform = build_network(c, 3);
    REQUIRE(uniform.phi.pieces.size() == 1);
    CHECK(uniform.phi.name() == "softplus");
}
