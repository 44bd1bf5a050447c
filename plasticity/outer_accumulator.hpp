#pragma once
#include <algorithm>

#include "models/parallel.hpp"
#include "models/types.hpp"

namespace eisim {

// Accumulates Σ a_i b_iᵀ over many (a_i, b_i) pairs of N × B blocks as chunked GEMMs: one product
// of N × (B·K) by (B·K) × M every K pairs instead of K thin products, its rows shared among the
// threads (parallel.hpp: the sum is the same for any thread count). K is the largest number of
// pairs that fit `columns` (default 128) chunk columns: measured in bench/ as fast as 512 columns,
// with a quarter of the two chunk buffers' memory.
//
// The sum is kept in a column-major vector so that take() can hand its memory over whole (the
// exact gradient gathers its synapses in that same memory: projection::gather(vector)).
class outer_accumulator {
public:
    outer_accumulator(long rows, long cols, long batch, long columns = 128):
        sum_(vector::Zero(rows*cols)), rows_(rows), cols_(cols), batch_(batch),
        chunk_(std::max(1L, columns/std::max(1L, batch))), A_(rows, batch*chunk_), R_(cols, batch*chunk_) {}
    template <typename DA, typename DB>
    void add(const Eigen::MatrixBase<DA>& a, const Eigen::MatrixBase<DB>& b) {
        A_.middleCols(used_*batch_, batch_) = a;
        R_.middleCols(used_*batch_, batch_) = b;
        if (++used_ == chunk_) flush();
    }
    /// The sum (rows × cols) as its column-major storage, handed over; the chunk buffers are
    /// released with it, so the accumulator is empty afterwards.
    vector take() {
        flush();
        A_ = matrix();
        R_ = matrix();
        return std::move(sum_);
    }

private:
    void flush() {
        if (used_ == 0) return;
        const long n = used_*batch_;
        Eigen::Map<matrix> sum(sum_.data(), rows_, cols_);
        for_row_shares(rows_, static_cast<double>(rows_)*cols_*n, [&](row_range s) {
            sum.middleRows(s.begin, s.size).noalias() += A_.middleRows(s.begin, s.size).leftCols(n)*R_.leftCols(n).transpose();
        });
        used_ = 0;
    }
    vector sum_;
    long rows_, cols_, batch_, chunk_;
    matrix A_, R_;
    long used_ = 0;
};

} // namespace eisim
