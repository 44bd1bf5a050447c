#pragma once
// Progress of a learning run: a bar with ETA and the current loss on a terminal, plain periodic
// lines when stderr is not a terminal, nothing when quiet.
#include <chrono>
#include <string>

namespace eisim {

class progress {
public:
    progress(long total, bool quiet);
    void update(long done, double loss);
    void finish(double loss);

private:
    long total_;
    bool quiet_, tty_;
    std::chrono::steady_clock::time_point start_, last_;
};

} // namespace eisim
