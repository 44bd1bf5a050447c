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
/// results differ from the dense products at round-off only. Synapses of several projections on
/// one pair of cells add up.
struct sparse_recurrent {
    sparse_matrix W, Wt;
    void update(const network& net) {
        std::size_t nnz = 0;
        for (int k: net.of(product::recurrent)) nnz += net.projections[k].size();
        std::vector<Eigen::Triplet<double>> entries, transposed;
        entries.reserve(nnz);
        transposed.reserve(nnz);
        for (int k: net.of(product::recurrent))
            net.projections[k].for_each([&](std::size_t, int i, int j, int sign, double m) {
                entries.emplace_back(i, j, sign*m);
                transposed.emplace_back(j, i, sign*m);
            });
        W.resize(net.n(), net.n());
        Wt.resize(net.n(), net.n());
        W.setFromTriplets(entries.begin(), entries.end());
        Wt.setFromTriplets(transposed.begin(), transposed.end());
    }
};

/// The matrices the hot loop uses, lowered from a network's projections: each product (W_rec,
/// W_in, W_out) is the sum of its projections' signed matrices. A product made of one dense-layout
/// projection is that projection's own W (no copy); any other is a lowered copy. The recurrent
/// weights are also held in compressed rows when `sparse` products are asked for. It refers to the
/// network it was made from, which must outlive it; update() after the weights change.
struct lowered_network {
private:
    matrix own_rec_, own_in_, own_out_; // lowered copies
    static const matrix& product_of(const network& net, product k, const matrix& own) {
        const auto ks = net.of(k);
        return ks.size() == 1 && net.projections[ks[0]].is_dense()? net.projections[ks[0]].W: own;
    }
public:
    const matrix& W_rec;
    const matrix& W_in;
    const matrix& W_out;
    vector inv_tau;
    bool sparse = false;
    sparse_recurrent S_rec;
    explicit lowered_network(const network& net, bool sparse_products = false):
        W_rec(product_of(net, product::recurrent, own_rec_)), W_in(product_of(net, product::input, own_in_)),
        W_out(product_of(net, product::readout, own_out_)), sparse(sparse_products) { update(net); }
    lowered_network(const lowered_network&) = delete;
    lowered_network& operator=(const lowered_network&) = delete;
    void update(const network& net) {
        for (auto [k, own, used, rows, cols]: {std::tuple{product::recurrent, &own_rec_, &W_rec, net.n(), net.n()},
                                               std::tuple{product::input, &own_in_, &W_in, net.n(), net.n_in},
                                               std::tuple{product::readout, &own_out_, &W_out, net.n_out, net.n()}}) {
            EISIM_ASSERT(used == &product_of(net, k, *own)); // the same network, in the same layout
            if (used != own) continue;
            const auto ks = net.of(k);
            if (ks.size() == 1) { net.projections[ks[0]].dense(*own); continue; }
            own->setZero(rows, cols);
            for (int p: ks)
                net.projections[p].for_each([&](std::size_t, int i, int j, int sign, double m) { (*own)(i, j) += sign*m; });
        }
        inv_tau = net.tau.cwiseInverse();
        if (sparse) S_rec.update(net);
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
    const cell_transfer& phi;
    const vector& bias;      // [N] b
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
            d.array() -= x.middleRows(s.begin, s.size).array().colwise() - bias.segment(s.begin, s.size).array();
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
