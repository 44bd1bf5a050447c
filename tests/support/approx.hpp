#pragma once
// The tolerances of the test suite, in one place, and small helpers the tests share.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "models/types.hpp"

namespace eisim::test {

// Round-off level agreement of two computations of the same formula.
constexpr double roundoff = 1e-12;
// Exact (discrete adjoint) gradient against central finite differences, fixed steps: the
// accuracy asked of exact credit for euler and rk4 (README.md, "Learning").
constexpr double fd_fixed = 1e-6;
// Statistical checks use z-scores: |estimate − truth| ≤ z_tol · standard error.
constexpr double z_tol = 5.0;

inline double rel_err(const matrix& a, const matrix& b) {
    const double scale = std::max(a.norm(), b.norm());
    return scale == 0? 0.0: (a - b).norm()/scale;
}

/// The test process's own temporary directory: made by mkdtemp, so no other process (nor an
/// earlier one that had the same pid) owns it, and removed with everything in it at exit.
class temp_directory {
public:
    temp_directory() {
        std::string pattern = (std::filesystem::temp_directory_path()/"eisim_test_XXXXXX").string();
        if (!::mkdtemp(pattern.data())) {
            throw std::runtime_error("cannot make a temporary directory from " + pattern);
        }
        path_ = pattern;
    }
    ~temp_directory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_directory(const temp_directory&) = delete;
    temp_directory& operator=(const temp_directory&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// A fresh temporary path: the file does not exist, since nothing else names files in this
/// process's own directory.
inline std::string temp_path(const std::string& suffix) {
    static temp_directory directory;
    static int counter = 0;
    return (directory.path()/("f" + std::to_string(counter++) + suffix)).string();
}

/// Run a shell command, returning its exit code and capturing stdout+stderr.
struct command_result { int code; std::string output; };
inline command_result run(const std::string& cmd) {
    const std::string log = temp_path(".log");
    const int status = std::system((cmd + " >" + log + " 2>&1").c_str());
    std::ifstream f(log);
    std::stringstream ss;
    ss << f.rdbuf();
    std::remove(log.c_str());
    const int code = WIFEXITED(status)? WEXITSTATUS(status): -1;
    return {code, ss.str()};
}

} // namespace eisim::test
