#include "sim/signals.hpp"

namespace eisim {

namespace {
volatile std::sig_atomic_t last_signal = 0;
extern "C" void record_signal(int sig) { last_signal = sig; }
} // namespace

stop_signals::stop_signals() {
    last_signal = 0;
    old_int_ = std::signal(SIGINT, record_signal);
    old_term_ = std::signal(SIGTERM, record_signal);
}

stop_signals::~stop_signals() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
}

int stop_signals::received() { return last_signal; }

} // namespace eisim
