#include "analysis/figures.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <spawn.h>
#include <sys/wait.h>
#include <vector>

#include "models/error.hpp"

extern char** environ;

#ifndef EISIM_PYTHON
#define EISIM_PYTHON "/usr/bin/python3"
#endif
#ifndef EISIM_FIGURES_SCRIPT
#define EISIM_FIGURES_SCRIPT "analysis/figures.py"
#endif

namespace eisim::analysis {

namespace {
// A figure script exits with this code when the modules it needs cannot be imported.
constexpr int missing_modules_exit = 3;

std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v? v: fallback;
}
} // namespace

std::string python_interpreter() { return env_or("EISIM_PYTHON", EISIM_PYTHON); }
std::string figures_script() { return env_or("EISIM_FIGURES_SCRIPT", EISIM_FIGURES_SCRIPT); }

void make_figures(const std::string& run_path, const std::string& report_path, const std::string& dir) {
    namespace fs = std::filesystem;
    const std::string script = figures_script();
    if (!fs::is_regular_file(script))
        throw user_error("--figures: the figure script '" + script + "' is missing (set EISIM_FIGURES_SCRIPT)");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir)) throw user_error("--figures: cannot create the directory '" + dir + "'");

    run_figure_script({"--figures", "matplotlib, numpy and h5py", "python3-matplotlib python3-h5py", "the report and table were written"},
                      script, {run_path, report_path, dir});
}

namespace {

// Run `python_interpreter() script script_args...`, wait for it, and return its wait status;
// throws when the interpreter cannot be run or its modules cannot be imported.
int spawn_python(const figure_script& f, const std::string& script, const std::vector<std::string>& script_args) {
    const std::string python = python_interpreter();
    std::vector<std::string> args{python, script};
    args.insert(args.end(), script_args.begin(), script_args.end());
    std::vector<char*> argv;
    for (auto& a: args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int err = posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ);
    if (err != 0)
        throw user_error(f.what + ": cannot run the python interpreter '" + python + "': " + std::strerror(err) +
                         " (set EISIM_PYTHON to a python3 with " + f.modules + ")");
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throw user_error(f.what + ": lost the python process");
    if (WIFEXITED(status) && WEXITSTATUS(status) == missing_modules_exit)
        throw user_error(f.what + " needs " + f.modules + ", which '" + python + "' cannot import (on Debian: apt-get install " +
                         f.packages + "; or set EISIM_PYTHON)");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        throw user_error(f.what + ": cannot run the python interpreter '" + python + "' (set EISIM_PYTHON)");
    return status;
}

} // namespace

void run_figure_script(const figure_script& f, const std::string& script, const std::vector<std::string>& script_args) {
    const int status = spawn_python(f, script, script_args);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    throw user_error(f.what + ": the figure script failed (" +
                     (WIFEXITED(status)? "exit code " + std::to_string(WEXITSTATUS(status)): std::string("killed by a signal")) + "); " +
                     f.after_failure);
}

int run_python_tool(const figure_script& f, const std::string& script, const std::vector<std::string>& script_args) {
    if (!std::filesystem::is_regular_file(script)) throw user_error(f.what + ": the script '" + script + "' is missing");
    const int status = spawn_python(f, script, script_args);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    throw user_error(f.what + ": the python tool was killed by a signal");
}

} // namespace eisim::analysis
