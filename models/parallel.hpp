#pragma once
// Both cores, the same numbers. The hot products (W φ(x), Wᵀ a and the gradient's Σ a rᵀ) are split
// by rows of their result among OpenMP threads. Each thread computes whole rows with Eigen's
// single-threaded GEMM over the full inner dimension, so every output element is summed in the
// same order whatever the thread count — provided the row boundaries fall on the same positions
// of Eigen's register blocking. Boundaries are therefore multiples of `row_granule` (48: a multiple
// of the GEMM micro-kernel height for SSE2, AVX and AVX-512 doubles, 6, 12 and 24 rows), and the
// results are bit-identical for 1, 2, … threads (tests/numerics/test_products.cpp checks it).
//
// Eigen's own OpenMP products are switched off (EIGEN_DONT_PARALLELIZE): their blocking changes
// with the thread count and so would the rounding.
#include <algorithm>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace eisim {

constexpr long row_granule = 48;
/// Below this many multiply–adds a product stays on one thread. A parallel region costs µs, and
/// its waiting threads take cores from other processes (they spin, then sleep): at N = 250, B = 16
/// (1e6 multiply–adds a product) sharing rows gained little alone and made two processes on two
/// cores 2.7x slower than one alone; with 2e6 the step of a run alone is as fast (bench, 0.025 s
/// against 0.027 s) and the two processes take 1.1x (BENCHMARKS.md, "Shared cores").
constexpr double parallel_min_flops = 2e6;

/// Threads the hot products use (OpenMP's count: OMP_NUM_THREADS or the cores, or set_threads).
inline int threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/// Sets the thread count for this process (n ≥ 1). Results do not depend on it.
inline void set_threads(int n) {
#ifdef _OPENMP
    omp_set_num_threads(std::max(1, n));
#else
    (void)n;
#endif
}

/// Rows [begin, begin + size) of part `part` of `parts`: contiguous, boundaries on row_granule.
struct row_range {
    long begin = 0, size = 0;
};
inline row_range row_share(long rows, int part, int parts) {
    const long granules = (rows + row_granule - 1)/row_granule;
    auto edge = [&](int p) { return std::min(rows, granules*p/parts*row_granule); };
    const long b = edge(part), e = part + 1 == parts? rows: edge(part + 1);
    return {b, std::max(0L, e - b)};
}

/// Calls f(row_range) on disjoint row ranges covering [0, rows), in parallel when the work
/// (`flops` multiply–adds in all) is worth it. f must only write the rows it is given.
template <typename F>
void for_row_shares(long rows, double flops, F&& f) {
    const int parts = static_cast<int>(std::min<long>(threads(), (rows + row_granule - 1)/row_granule));
    if (parts <= 1 || flops < parallel_min_flops) {
        f(row_range{0, rows});
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(parts) schedule(static, 1)
#endif
    for (int p = 0; p < parts; ++p) {
        const row_range r = row_share(rows, p, parts);
        if (r.size > 0) f(r);
    }
}

} // namespace eisim
