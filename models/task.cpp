#include "models/task.hpp"

namespace eisim {

matrix readout_all(const matrix& W_out, const cell_transfer& phi, const std::vector<const matrix*>& x_obs) {
    if (x_obs.empty()) return matrix();
    const long B = x_obs.front()->cols();
    matrix y(W_out.rows(), B*static_cast<long>(x_obs.size()));
    matrix r;
    for (std::size_t k = 0; k < x_obs.size(); ++k) {
        phi.apply(*x_obs[k], r);
        y.middleCols(static_cast<long>(k)*B, B).noalias() = W_out*r;
    }
    return y;
}

double mse_loss(const matrix& y, const trial_batch& trials) {
    const long B = trials.batch();
    double total = 0.0;
    for (int k = 0; k <= trials.steps(); ++k) {
        if (trials.mask[k] == 0.0) continue;
        total += trials.mask[k]*(y.middleCols(static_cast<long>(k)*B, B) - trials.target_at(k)).squaredNorm();
    }
    const double norm = static_cast<double>(y.rows())*B*trials.mask_sum();
    return norm > 0? total/norm: 0.0;
}

} // namespace eisim
