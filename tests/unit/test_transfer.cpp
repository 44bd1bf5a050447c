// Each transfer function's derivative equals the central finite difference of its value, and the
// batch forms equal the scalar forms.
#include <catch2/catch.hpp>

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
