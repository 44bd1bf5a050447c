#pragma once
// FNV-1a, 64 bits (Fowler, Noll, Vo): a fingerprint of bytes, stable across machines and builds.
// Used where eisim names data by its content (the digest of an imported circuit, a sweep run's id),
// never for security.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace eisim {

struct fnv1a {
    std::uint64_t h = 1469598103934665603ull; // the offset basis
    void bytes(const void* p, std::size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) { h ^= b[i]; h *= 1099511628211ull; } // the FNV prime
    }
    /// A string with its length first, so that ("ab", "c") and ("a", "bc") differ.
    void text(const std::string& s) { std::uint64_t n = s.size(); bytes(&n, sizeof n); bytes(s.data(), s.size()); }
    template <typename T> void value(T v) { bytes(&v, sizeof v); }
    /// The hash as 16 lower-case hex digits.
    std::string hex() const {
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
        return buf;
    }
};

} // namespace eisim
