#pragma once
// Explicit seeded random streams. Every random quantity in eisim is drawn from a stream derived
// from the run's seed and a fixed purpose tag, so that adding draws to one component never shifts
// another's numbers, and the same config and seed give bit-identical files.
#include <cmath>
#include <cstdint>
#include <random> // std::mt19937_64, whose output the standard fixes
#include <string_view>

namespace eisim {

using rng = std::mt19937_64;

/// splitmix64 finaliser: a good 64-bit mix for deriving independent seeds.
inline std::uint64_t mix64(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// A stream for (seed, purpose, index), e.g. stream(seed, "connectivity") or
/// stream(seed, "trials", step).
inline rng stream(std::uint64_t seed, std::string_view purpose, std::uint64_t index = 0) {
    std::uint64_t h = 1469598103934665603ull; // FNV-1a of the purpose tag
    for (unsigned char c: purpose) { h ^= c; h *= 1099511628211ull; }
    return rng(mix64(mix64(seed) ^ h ^ mix64(index + 0x632be59bd9b4e019ull)));
}

// The variates: eisim's own algorithms on the streams' raw 64-bit words, not the standard
// library's distributions, whose algorithms the C++ standard leaves to each library (libc++ and
// MSVC draw other numbers from the same engine). With these the same config and seed give the
// same file whichever standard library built eisim. Each is the algorithm libstdc++ (GCC 12) uses,
// operation for operation, so the files eisim wrote before are unchanged
// (tests/stats/test_variates.cpp checks both: the formulas on raw words, the distributions, and
// equality with libstdc++'s where that is the library).

// Each takes any source of 64-bit words g (g() uniform on 0 … 2^64 − 1): eisim's streams (rng),
// or in the tests a source of chosen words.
template <class Words>
constexpr bool full_64_bit_words = Words::min() == 0 && Words::max() == UINT64_MAX;

/// U[0, 1): one 64-bit word w as w / 2^64 in double precision (rounded to nearest), and the
/// largest double below 1 where that rounds up to 1.
template <class Words>
double uniform(Words& g) {
    static_assert(full_64_bit_words<Words>, "a source of 64-bit words");
    const double u = static_cast<double>(g())/18446744073709551616.0; // 2^64
    return u < 1.0? u: std::nextafter(1.0, 0.0);
}

/// N(0, 1) by Marsaglia's polar method (Marsaglia & Bray 1964): x, y uniform on [−1, 1) until
/// 0 < r² = x² + y² ≤ 1, then y·m and x·m with m = √(−2 ln r² / r²) are two independent standard
/// normals. A normal_source returns y·m and keeps x·m for its next call.
class normal_source {
public:
    template <class Words>
    double operator()(Words& g) {
        if (saved_) {
            saved_ = false;
            return value_;
        }
        double x, y, r2;
        do {
            x = 2.0*uniform(g) - 1.0;
            y = 2.0*uniform(g) - 1.0;
            r2 = x*x + y*y;
        } while (r2 > 1.0 || r2 == 0.0);
        const double m = std::sqrt(-2.0*std::log(r2)/r2);
        value_ = x*m;
        saved_ = true;
        return y*m;
    }

private:
    bool saved_ = false;
    double value_ = 0;
};

/// One N(0, 1) draw: the first of a fresh polar pair, the second dropped (so that each draw is a
/// whole number of words on the stream, as in every file eisim has written).
template <class Words>
double normal(Words& g) { return normal_source()(g); }

/// Gamma(shape k > 0, scale θ > 0), density x^{k−1} e^{−x/θ} / (Γ(k) θ^k), mean kθ: Marsaglia &
/// Tsang (2000, ACM TOMS 26:363). With a = k (or k + 1 when k < 1), d = a − 1/3, c = 1/√(9d):
/// draw n ~ N(0, 1) (one normal_source per call) until v = (1 + c·n)³ > 0 is accepted by
/// u < 1 − 0.0331 n⁴ or ln u < n²/2 + d(1 − v + ln v), u ~ U[0, 1); the draw is d·v·θ, times
/// u'^{1/k} (u' ~ U(0, 1)) when k < 1.
template <class Words>
double gamma_variate(double k, double theta, Words& g) {
    const double a = k < 1.0? k + 1.0: k;
    const double d = a - 1.0/3.0;
    const double c = 1.0/std::sqrt(9.0*d);
    normal_source z;
    double n, v, u;
    do {
        do {
            n = z(g);
            v = 1.0 + c*n;
        } while (v <= 0.0);
        v = v*v*v;
        u = uniform(g);
    } while (u > 1.0 - 0.0331*n*n*n*n && std::log(u) > 0.5*n*n + d*(1.0 - v + std::log(v)));
    if (k == a) return d*v*theta;
    do u = uniform(g);
    while (u == 0.0);
    return std::pow(u, 1.0/k)*d*v*theta;
}

/// An integer uniform on {0, …, r} (0 ≤ r < 2^64 − 1) by Lemire's multiply-and-reject (2019, ACM TOMACS
/// 29:3): with s = r + 1 and a word w, the 128-bit product w·s; its high word is the draw unless
/// its low word falls below 2^64 mod s, when w is drawn again. Exactly uniform.
template <class Words>
std::uint64_t uniform_index(std::uint64_t r, Words& g) {
    static_assert(full_64_bit_words<Words>, "a source of 64-bit words");
    const std::uint64_t s = r + 1;
    __extension__ using u128 = unsigned __int128;
    u128 product = static_cast<u128>(g())*s;
    auto low = static_cast<std::uint64_t>(product);
    if (low < s) {
        const std::uint64_t threshold = (0 - s) % s; // 2^64 mod s
        while (low < threshold) {
            product = static_cast<u128>(g())*s;
            low = static_cast<std::uint64_t>(product);
        }
    }
    return static_cast<std::uint64_t>(product >> 64);
}

} // namespace eisim
