#include "sim/signals.hpp"

namespace eisim {

namespace {
extern "C" void record_signal(int sig) { stop_signal = sig; }
} // namespace

stop_signals::stop_signals() {
    stop_signal = 0;
    old_int_ = std::signal(SIGINT, record_signal);
    old_term_ = std::signal(SIGTERM, record_signal);
}

stop_signals::~stop_signals() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
}

int stop_signals::received() { return stop_signal; }

} // namespace eisim
