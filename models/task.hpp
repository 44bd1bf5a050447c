#pragma once
// A batch of trials: inputs u on the observation grid, targets y* and a loss mask, and the
// mean-squared-error loss
//
//   L = Σ_k mask_k Σ_{o,b} (y_{k,o,b} − y*_{k,o,b})² / (n_out · B · Σ_k mask_k),   y_k = W_out φ(x_k).
#include <vector>

#include "models/input.hpp"
#include "models/transfer.hpp"
#include "models/types.hpp"

namespace eisim {

struct trial_batch {
    input_grid u;                // n_in × B per grid point
    matrix target;               // n_out × (B·(T+1)), block k as in input_grid
    std::vector<double> mask;    // [T+1] weight of each observation in the loss
    matrix x0;                   // N × B initial state
    std::vector<int> label;      // [B] index of the correct output (decision tasks); empty otherwise
    std::vector<double> decision; // [T+1] 1 in the decision period (decision tasks); empty otherwise

    int batch() const { return u.batch; }
    int steps() const { return u.steps; }
    auto target_at(int k) const { return target.middleCols(static_cast<long>(k)*u.batch, u.batch); }
    double mask_sum() const { double s = 0; for (double m: mask) s += m; return s; }
};

} // namespace eisim

namespace eisim {

/// Readout y_k = W_out φ(x_k) at every observation, n_out × (B·(T+1)) in input_grid's layout.
matrix readout_all(const matrix& W_out, const cell_transfer& phi, const std::vector<const matrix*>& x_obs);

/// The masked mean-squared error of outputs y (n_out × B·(T+1)) against the batch's targets.
double mse_loss(const matrix& y, const trial_batch& trials);

} // namespace eisim
