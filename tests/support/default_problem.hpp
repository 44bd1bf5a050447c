#pragma once
// The two learning runs on the full-size default problem that the "default problem" tests read:
// the built-in defaults (teacher–student task, 800 E + 200 I cells, default learning rates, seed
// 1) for default_problem_steps learning steps, once under EG and once under euclidean GD, every
// step recorded.
//
// Under CTest they are made once per ctest invocation: the fixture test default-problem-runs
// (tests/CMakeLists.txt; it runs the hidden test case "default problem: EG and GD runs") writes
// them into the directory named by EISIM_DEFAULT_RUNS, and each test that reads them requires
// that fixture. A test executable run by hand, without
// EISIM_DEFAULT_RUNS, makes its own in its temporary directory.
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "tests/support/approx.hpp"

namespace eisim::test {

/// Learning steps of the default-problem runs. The default is 25; the per-neuron geometry
/// verdict on the recurrent projection is the same after 2 steps as after 25 (see
/// tests/analysis/test_analyze.cpp), and the loss-halving claim is about the first 4.
constexpr int default_problem_steps = 4;

/// Train both runs at once (each on its own core) into dir/eg.h5 and dir/euclidean.h5.
inline command_result make_default_runs(const std::string& dir) {
    const std::string exe = EISIM_EXE;
    std::filesystem::create_directories(dir);
    const auto run = [&](const std::string& geometry) {
        return exe + " run -q --overwrite --set training.steps=" + std::to_string(default_problem_steps) +
               " --set plasticity.geometry=" + geometry + " --out " + dir + "/" + geometry + ".h5";
    };
    return test::run("(" + run("eg") + " & a=$!; " + run("euclidean") + "; b=$?; wait $a && test $b = 0)");
}

/// The run file of the default problem trained under `geometry` ("eg" or "euclidean").
inline std::string default_run(const std::string& geometry) {
    static const std::string dir = [] {
        if (const char* d = std::getenv("EISIM_DEFAULT_RUNS")) return std::string(d);
        const auto own = temp_path(".default_runs");
        const auto made = make_default_runs(own);
        if (made.code != 0) throw std::runtime_error("the default-problem runs failed:\n" + made.output);
        return own;
    }();
    const auto path = dir + "/" + geometry + ".h5";
    if (!std::filesystem::exists(path))
        throw std::runtime_error("no default-problem run " + path + " (the fixture test default-problem-runs writes it)");
    return path;
}

} // namespace eisim::test
