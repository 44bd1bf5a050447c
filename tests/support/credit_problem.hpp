#pragma once
// The small problem the credit-rule tests share: 24 E + 6 I softplus cells, 4 OU inputs,
// 2 outputs, 4 trials of 60 ms (euler, dt = 1 ms); the targets are 1.5 × the network's own
// outputs, so the error is structured and every projection has credit to assign.
#include "models/input.hpp"
#include "models/network.hpp"
#include "models/task.hpp"
#include "models/integrate.hpp"

namespace eisim::test {

struct credit_problem {
    network net;
    trial_batch trials;
    integrator_desc integ;
};

inline credit_problem make_credit_problem() {
    network_desc d;
    d.n_e = 24; d.n_i = 6; d.n_in = 4; d.n_out = 2;
    d.transfer = "softplus";
    d.spectral_radius = 0.5;
    credit_problem p{build_network(d, 5), {}, {}};
    p.integ.dt_ms = 1.0;
    input_desc in;
    in.n_in = 4;
    rng g(8);
    const int T = 60, B = 4;
    p.trials.u = make_input(in, 1.0, T, B, g);
    p.trials.x0 = matrix::Zero(30, B);
    const lowered_network low(p.net);
    rng noise(1);
    const trajectory tr = integrate(p.net, low, p.trials.u, p.trials.x0, p.integ, noise);
    matrix r;
    p.trials.target.resize(2, B*(T + 1));
    for (int k = 0; k <= T; ++k) {
        p.net.phi.apply(tr.at_obs(k), r);
        p.trials.target.middleCols(k*B, B) = 1.5*low.W_out*r;
    }
    p.trials.mask.assign(T + 1, 1.0);
    return p;
}

} // namespace eisim::test
