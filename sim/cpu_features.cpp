// The instruction-set extensions this build of eisim was compiled for (EISIM_NATIVE:
// -march=native on the build machine), as data only: this file is compiled with the target's
// flags and holds no code that could use them. sim/cpu_check.cpp compares them with the CPU's.
#include "sim/cpu_check.hpp"

namespace eisim {

extern const cpu_extensions built_for;
const cpu_extensions built_for{{
#ifdef __SSE4_2__
    true,
#else
    false,
#endif
#ifdef __AVX__
    true,
#else
    false,
#endif
#ifdef __AVX2__
    true,
#else
    false,
#endif
#ifdef __FMA__
    true,
#else
    false,
#endif
#ifdef __BMI2__
    true,
#else
    false,
#endif
#ifdef __AVX512F__
    true,
#else
    false,
#endif
#ifdef __AVX512DQ__
    true,
#else
    false,
#endif
#ifdef __AVX512BW__
    true,
#else
    false,
#endif
#ifdef __AVX512VL__
    true,
#else
    false,
#endif
}};

} // namespace eisim
