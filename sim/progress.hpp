#pragma once
// Progress of a learning run: a bar with ETA and the current loss on a terminal, plain periodic
// lines when stderr is not a terminal, nothing when quiet.
#include <chrono>
#include <limits>
#include <string>

namespace eisim {

class progress {
public:
    progress(long total, bool quiet);
    /// `accuracy` (the task's, models/tasks.hpp) is shown when it is a number.
    void update(long done, double loss, double accuracy = std::numeric_limits<double>::quiet_NaN());
    void finish(double loss, double accuracy = std::numeric_limits<double>::quiet_NaN());

private:
    long total_;
    bool quiet_, tty_;
    std::chrono::steady_clock::time_point start_, last_;
};

} // namespace eisim
