#pragma once
#include "models/parallel.hpp"
#include "models/types.hpp"

namespace eisim {

// Accumulates Σ a_i b_iᵀ over many (a_i, b_i) pairs of N × B blocks as chunked GEMMs:
// one product of N × (B·K) by (B·K) × M every K pairs instead of K thin products, its rows shared
// among the threads (parallel.hpp: the sum is the same for any thread count).
class outer_accumulator {
public:
    outer_accumulator(long rows, long cols, long batch, long chunk = 32):
        sum_(matrix::Zero(rows, cols)), A_(rows, batch*chunk), R_(cols, batch*chunk), batch_(batch), chunk_(chunk) {}
    template <typename DA, typename DB>
    void add(const Eigen::MatrixBase<DA>& a, const Eigen::MatrixBase<DB>& b) {
        A_.middleCols(used_*batch_, batch_) = a;
        R_.middleCols(used_*batch_, batch_) = b;
        if (++used_ == chunk_) flush();
    }
    const matrix& result() { flush(); return sum_; }

private:
    void flush() {
        if (used_ == 0) return;
        const long n = used_*batch_;
        for_row_shares(sum_.rows(), static_cast<double>(sum_.rows())*sum_.cols()*n, [&](row_range s) {
            sum_.middleRows(s.begin, s.size).noalias() += A_.middleRows(s.begin, s.size).leftCols(n)*R_.leftCols(n).transpose();
        });
        used_ = 0;
    }
    matrix sum_, A_, R_;
    long batch_, chunk_, used_ = 0;
};

} // namespace eisim
