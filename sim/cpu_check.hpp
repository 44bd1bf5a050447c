#pragma once
// The check a native build (EISIM_NATIVE) makes before anything else runs: the instruction-set
// extensions it was compiled for (sim/cpu_features.cpp) against those of the CPU it runs on
// (sim/cpu_check.cpp, compiled for the baseline x86-64). Header-only, so that tests check the
// comparison itself.
#include <array>
#include <string>

namespace eisim {

/// The extensions that -march=native can turn on and that the products' code uses.
struct cpu_extensions {
    static constexpr std::array<const char*, 9> names{"SSE4.2", "AVX", "AVX2", "FMA", "BMI2", "AVX-512F", "AVX-512DQ",
                                                      "AVX-512BW", "AVX-512VL"};
    std::array<bool, names.size()> has{};
};

/// The extensions `built` has and `here` lacks, as "AVX2, FMA" ("" when none).
inline std::string missing_extensions(const cpu_extensions& built, const cpu_extensions& here) {
    std::string missing;
    for (std::size_t i = 0; i < cpu_extensions::names.size(); ++i)
        if (built.has[i] && !here.has[i]) missing += std::string(missing.empty()? "": ", ") + cpu_extensions::names[i];
    return missing;
}

} // namespace eisim
