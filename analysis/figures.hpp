#pragma once
// Figures of an analysis (PNG, matplotlib), drawn by analysis/figures.py from the run file and
// the JSON report. The interpreter is $EISIM_PYTHON, else the one found at configure time (the
// first with matplotlib, numpy and h5py; /usr/bin/python3 as fallback). The script is
// $EISIM_FIGURES_SCRIPT, else analysis/figures.py of the source tree.
#include <string>

namespace eisim::analysis {

std::string python_interpreter();
std::string figures_script();

/// Draw every figure into `dir` (created if missing). Throws eisim::user_error (exit 2) when
/// the interpreter cannot run, lacks matplotlib/numpy/h5py, or the script fails.
void make_figures(const std::string& run_path, const std::string& report_path, const std::string& dir);

} // namespace eisim::analysis
