#pragma once
// Explicit seeded random streams. Every random quantity in eisim is drawn from a stream derived
// from the run's seed and a fixed purpose tag, so that adding draws to one component never shifts
// another's numbers, and the same config and seed give bit-identical files.
#include <cstdint>
#include <random>
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

/// Standard normal draws that do not depend on the standard library's distribution code paths
/// beyond std::normal_distribution (libstdc++ is fixed for a given build).
inline double normal(rng& g) { return std::normal_distribution<double>(0.0, 1.0)(g); }
inline double uniform(rng& g) { return std::uniform_real_distribution<double>(0.0, 1.0)(g); }

} // namespace eisim
