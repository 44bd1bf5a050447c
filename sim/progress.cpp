#include "sim/progress.hpp"

#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace eisim {

namespace {
std::string clock_text(double s) {
    char buf[32];
    const long t = static_cast<long>(s + 0.5);
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t/3600, (t/60)%60);
    else std::snprintf(buf, sizeof buf, "%ldm%02lds", t/60, t%60);
    return buf;
}
std::string accuracy_text(double a) {
    if (std::isnan(a)) return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, "  accuracy %.3f", a);
    return buf;
}
} // namespace

progress::progress(long total, bool quiet):
    total_(total), quiet_(quiet), tty_(isatty(fileno(stderr))),
    start_(std::chrono::steady_clock::now()), last_(start_) {}

void progress::update(long done, double loss, double accuracy) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    const double since_last = std::chrono::duration<double>(now - last_).count();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double eta = done > 0? elapsed*(total_ - done)/done: 0.0;
    if (tty_) {
        if (since_last < 0.1 && done < total_) return;
        const int width = 30;
        const int filled = total_ > 0? static_cast<int>(width*done/total_): width;
        std::string bar(filled, '#');
        bar += std::string(width - filled, '.');
        std::fprintf(stderr, "\r[%s] %ld/%ld  loss %.4g%s  ETA %s ", bar.c_str(), done, total_, loss, accuracy_text(accuracy).c_str(),
                     clock_text(eta).c_str());
    } else {
        if (since_last < 10.0 && done != 1 && done < total_) return;
        std::fprintf(stderr, "step %ld/%ld  loss %.6g%s  elapsed %s  ETA %s\n", done, total_, loss, accuracy_text(accuracy).c_str(),
                     clock_text(elapsed).c_str(), clock_text(eta).c_str());
    }
    std::fflush(stderr);
    last_ = now;
}

void progress::finish(double loss, double accuracy) {
    if (quiet_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (tty_) std::fprintf(stderr, "\n");
    std::fprintf(stderr, "done: %ld steps in %s, final loss %.6g%s\n", total_, clock_text(elapsed).c_str(), loss,
                 accuracy_text(accuracy).c_str());
}

} // namespace eisim
