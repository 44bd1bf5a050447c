#include "plasticity/implicit_credit.hpp"

#include <Eigen/LU>

namespace eisim {

double fixed_point_loss(const network& net, const lowered_network& low, const matrix& X, const matrix& target) {
    matrix r;
    net.phi.apply(X, r);
    return (low.W_out*r - target).squaredNorm()/(static_cast<double>(target.rows())*target.cols());
}

gradients implicit_gradient(const network& net, const lowered_network& low, const matrix& X, const matrix& U,
                            const matrix& target, const plastic_set& which) {
    const long N = net.n(), P = X.cols();
    matrix r, dphi;
    net.phi.apply(X, r);
    net.phi.derivative(X, dphi);
    const matrix dY = low.W_out*r - target;
    const double norm = static_cast<double>(target.rows())*P;
    const double loss = dY.squaredNorm()/norm;
    const matrix E = dY*(2.0/norm); // e_p
    matrix Lambda(N, P);
    if (which.recurrent || which.input) {
        const matrix Wt = low.W_rec.transpose();
        for (long p = 0; p < P; ++p) {
            // (I − W D)ᵀ = I − D Wᵀ;  rhs = D W_outᵀ e_p
            matrix A = -(dphi.col(p).asDiagonal()*Wt);
            A.diagonal().array() += 1.0;
            const vector rhs = dphi.col(p).cwiseProduct(low.W_out.transpose()*E.col(p));
            Lambda.col(p) = A.partialPivLu().solve(rhs);
        }
    }
    const matrix dW_rec = which.recurrent? matrix(Lambda*r.transpose()): matrix();
    const matrix dW_in = which.input? matrix(Lambda*U.transpose()): matrix();
    const matrix dW_out = E*r.transpose();
    return gather_gradients(net, which, loss, dW_rec, dW_in, dW_out);
}

} // namespace eisim
