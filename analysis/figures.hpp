#pragma once
// Figures of an analysis (PNG, matplotlib), drawn by analysis/figures.py from the run file and
// the JSON report. The interpreter is $EISIM_PYTHON, else the one found at configure time (the
// first with matplotlib, numpy and h5py; /usr/bin/python3 as fallback). The script is
// $EISIM_FIGURES_SCRIPT, else analysis/figures.py of the source tree.
#include <string>
#include <vector>

namespace eisim::analysis {

std::string python_interpreter();
std::string figures_script();

/// Draw every figure into `dir` (created if missing). Throws eisim::user_error (exit 2) when
/// the interpreter cannot run, lacks matplotlib/numpy/h5py, or the script fails.
void make_figures(const std::string& run_path, const std::string& report_path, const std::string& dir);

/// A figure script, for the messages about it.
struct figure_script {
    std::string what;          // how messages start: "--figures", "sweep figure"
    std::string modules;       // what it imports: "matplotlib, numpy and h5py"
    std::string packages;      // the Debian packages that have them
    std::string after_failure; // what was written before it failed
};
/// Run `python_interpreter() script script_args...` and wait for it. Exit code 3 of the script
/// means that it cannot import its modules. Throws eisim::user_error naming the problem.
void run_figure_script(const figure_script& f, const std::string& script, const std::vector<std::string>& script_args);
/// Run a python tool of the project the same way and return its exit code (it prints its own
/// messages; exit code 3 still means missing modules, and throws).
int run_python_tool(const figure_script& f, const std::string& script, const std::vector<std::string>& script_args);

} // namespace eisim::analysis
