// Before anything else runs: does this CPU have the instructions eisim was compiled for? A build
// made with -march=native (EISIM_NATIVE, the default) on one node of a cluster would otherwise die
// of SIGILL on an older node, somewhere in the middle of a run. This file is compiled for the
// baseline x86-64 (sim/CMakeLists.txt), so the check itself runs on any x86-64 CPU, as a
// constructor of the highest priority: before every other static initialiser of the executable.
#include <cstdio>
#include <unistd.h>

#include "sim/cpu_check.hpp"

namespace eisim {
extern const cpu_extensions built_for;
}

namespace {

__attribute__((constructor(101))) void check_cpu() {
    __builtin_cpu_init();
    // __builtin_cpu_supports takes literals only: in the order of cpu_extensions::names.
    const eisim::cpu_extensions here{{__builtin_cpu_supports("sse4.2") != 0, __builtin_cpu_supports("avx") != 0,
                                      __builtin_cpu_supports("avx2") != 0, __builtin_cpu_supports("fma") != 0,
                                      __builtin_cpu_supports("bmi2") != 0, __builtin_cpu_supports("avx512f") != 0,
                                      __builtin_cpu_supports("avx512dq") != 0, __builtin_cpu_supports("avx512bw") != 0,
                                      __builtin_cpu_supports("avx512vl") != 0}};
    const std::string missing = eisim::missing_extensions(eisim::built_for, here);
    if (missing.empty()) return;
    std::fprintf(stderr,
                 "eisim: error: this eisim was compiled for the CPU of the machine that built it (-march=native), with %s, "
                 "which this CPU lacks. Build eisim on this machine, or build one for every machine of a cluster with "
                 "EISIM_NATIVE=OFF bash scripts/build.sh (README, 'Speed')\n",
                 missing.c_str());
    ::_exit(2);
}

} // namespace
