#pragma once
// Rate dynamics of a batch of B trials, one N×B state matrix (Dayan & Abbott ch. 7):
//
//   τ ⊙ dx/dt = −x + W_rec φ(x) + W_in u(t) + b,     r = φ(x),     y = W_out r
//
// x: synaptic input (dimensionless), τ: membrane time constants (ms), t in ms, b: bias.
// Optional private noise, applied after each deterministic step of length h (Euler–Maruyama):
//   x ← x + σ √(2h/τ) ξ,  ξ ~ N(0, 1)   (stationary variance σ² for the linear leak).
//
// rate_dynamics is the small const odeint system. It allocates nothing per call: its scratch
// buffers are a workspace owned by the caller and overwritten on every call (no state survives).
#include "models/input.hpp"
#include "models/network.hpp"
#include "models/types.hpp"

namespace eisim {

/// The dense matrices the hot loop uses, lowered from a network's projections.
struct lowered_network {
    matrix W_rec, W_in, W_out;
    vector inv_tau;
    explicit lowered_network(const network& net) { update(net); }
    void update(const network& net) {
        net.recurrent.dense(W_rec);
        net.input.dense(W_in);
        net.readout.dense(W_out);
        inv_tau = net.tau.cwiseInverse();
    }
};

/// Scratch buffers for rate_dynamics; contents are meaningless between calls.
struct dynamics_workspace {
    matrix r, u, drive;
};

struct rate_dynamics {
    const vector& inv_tau;   // [N] 1/τ (1/ms)
    const matrix& W_rec;     // N × N signed
    const matrix& W_in;      // N × n_in
    const input_grid& input; // u(t)
    const transfer& phi;
    double bias;
    dynamics_workspace& ws;

    // dx/dt = (−x + W_rec φ(x) + W_in u(t) + b) / τ
    void operator()(const matrix& x, matrix& dxdt, double t) const {
        phi.apply(x, ws.r);
        input.interpolate(t, ws.u);
        dxdt.resize(x.rows(), x.cols());
        dxdt.noalias() = W_rec*ws.r;
        dxdt.noalias() += W_in*ws.u;
        dxdt.array() -= x.array() - bias;
        dxdt.array().colwise() *= inv_tau.array();
    }

    /// Vector–Jacobian product at state X, time t, for a cotangent κ of dx/dt:
    ///   ξ = (∂f/∂x)ᵀ κ = −κ/τ + φ'(X) ⊙ (W_recᵀ (κ/τ))
    /// and the pieces of the parameter gradients: a = κ/τ, so that
    ///   ∂/∂W_rec += a φ(X)ᵀ,   ∂/∂W_in += a u(t)ᵀ.
    /// On return ws.r = φ(X) and ws.u = u(t), a and ξ are written. `B_rec` (N × N), if given,
    /// replaces W_recᵀ (feedback alignment).
    void vjp(const matrix& X, double t, const matrix& kappa, matrix& a, matrix& xi, const matrix* B_rec = nullptr) const {
        a = kappa.array().colwise()*inv_tau.array();
        phi.derivative(X, ws.drive);
        if (B_rec) xi.noalias() = (*B_rec)*a;
        else xi.noalias() = W_rec.transpose()*a;
        xi.array() *= ws.drive.array();
        xi -= a;
        phi.apply(X, ws.r);
        input.interpolate(t, ws.u);
    }
};

} // namespace eisim
