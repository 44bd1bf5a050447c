#pragma once
// SIGINT and SIGTERM during a learning run: the handler only records the signal; the loop finishes
// the current step, writes it, closes the file and stops with `interrupted` (exit 130 or 143).
#include <csignal>
#include <stdexcept>
#include <string>

#include "models/error.hpp" // interrupted, stop_signal

namespace eisim {


/// Installs the handlers for as long as it lives.
class stop_signals {
public:
    stop_signals();
    ~stop_signals();
    /// The signal received since installation (0 if none).
    static int received();

private:
    using handler = void (*)(int);
    handler old_int_, old_term_;
};

} // namespace eisim
