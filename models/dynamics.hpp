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
// Its products are shared by rows among threads (parallel.hpp) and, for sparse networks, use
// compressed rows (sparse_recurrent); neither changes the equations.
#include <tuple>
#include <vector>

#include "models/error.hpp"
#include "models/input.hpp"
#include "models/network.hpp"
#include "models/parallel.hpp"
#include "models/types.hpp"

namespace eisim {

/// W_rec and W_recᵀ in compressed rows, for networks sparse enough that the products are faster
/// so (bench/ measures the crossover). Row sums run over stored entries in column order, so the
/// results differ from the dense products at round-off only.
struct sparse_recurrent {
    sparse_matrix W, Wt;
    void update(const projection& p, long n) {
        std::vector<Eigen::Triplet<double>> entries(p.size()), transposed(p.size());
        p.for_each([&](std::size_t s, int i, int j, int sign, double m) {
            entries[s] = {i, j, sign*m};
            transposed[s] = {j, i, sign*m};
        });
        W.resize(n, n);
        Wt.resize(n, n);
        W.setFromTriplets(entries.begin(), entries.end());
        Wt.setFromTriplets(transposed.begin(), transposed.end());
    }
};

/// The matrices the hot loop uses, lowered from a network's projections: the signed dense
/// matrices always (a dense-layout projection's own W, no copy; a lists one's lowered copy), and
/// the recurrent weights also in compressed rows when `sparse` products are asked for. It refers
/// to the network it was made from, which must outlive it; update() after the weights change.
struct lowered_network {
private:
    matrix own_rec_, own_in_, own_out_; // copies for lists-layout projections
public:
    const matrix& W_rec;
    const matrix& W_in;
    const matrix& W_out;
    vector inv_tau;
    bool sparse = false;
    sparse_recurrent S_rec;
    explicit lowered_network(const network& net, bool sparse_products = false):
        W_rec(net.recurrent.is_dense()? net.recurrent.W: own_rec_), W_in(net.input.is_dense()? net.input.W: own_in_),
        W_out(net.readout.is_dense()? net.readout.W: own_out_), sparse(sparse_products) { update(net); }
    lowered_network(const lowered_network&) = delete;
    lowered_network& operator=(const lowered_network&) = delete;
    void update(const network& net) {
        for (auto [p, own, used]: {std::tuple{&net.recurrent, &own_rec_, &W_rec}, std::tuple{&net.input, &own_in_, &W_in},
                                    std::tuple{&net.readout, &own_out_, &W_out}}) {
            EISIM_ASSERT(used == (p->is_dense()? &p->W: own)); // the same network, in the same layout
            if (!p->is_dense()) p->dense(*own);
        }
        inv_tau = net.tau.cwiseInverse();
        if (sparse) S_rec.update(net.recurrent, net.n());
    }
    /// The compressed recurrent weights, or nullptr for dense products.
    const sparse_recurrent* sparse_rec() const { return sparse? &S_rec: nullptr; }
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
    const sparse_recurrent* sparse = nullptr; // if given, W_rec's products use it (same values)

    // dx/dt = (−x + W_rec φ(x) + W_in u(t) + b) / τ
    void operator()(const matrix& x, matrix& dxdt, double t) const {
        phi.apply(x, ws.r);
        input.interpolate(t, ws.u);
        dxdt.resize(x.rows(), x.cols());
        const double flops = static_cast<double>(x.rows())*(x.rows() + W_in.cols())*x.cols();
        for_row_shares(x.rows(), flops, [&](row_range s) {
            auto d = dxdt.middleRows(s.begin, s.size);
            if (sparse) d.noalias() = sparse->W.middleRows(s.begin, s.size)*ws.r;
            else d.noalias() = W_rec.middleRows(s.begin, s.size)*ws.r;
            d.noalias() += W_in.middleRows(s.begin, s.size)*ws.u;
            d.array() -= x.middleRows(s.begin, s.size).array() - bias;
            d.array().colwise() *= inv_tau.segment(s.begin, s.size).array();
        });
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
        xi.resize(X.rows(), X.cols());
        for_row_shares(X.rows(), static_cast<double>(X.rows())*X.rows()*X.cols(), [&](row_range s) {
            auto out = xi.middleRows(s.begin, s.size);
            if (B_rec) out.noalias() = B_rec->middleRows(s.begin, s.size)*a;
            else if (sparse) out.noalias() = sparse->Wt.middleRows(s.begin, s.size)*a;
            else out.noalias() = W_rec.middleCols(s.begin, s.size).transpose()*a;
            out.array() *= ws.drive.middleRows(s.begin, s.size).array();
            out -= a.middleRows(s.begin, s.size);
        });
        phi.apply(X, ws.r);
        input.interpolate(t, ws.u);
    }
};

} // namespace eisim
