#pragma once
// SIGINT and SIGTERM during a learning run: the handler only records the signal; the loop finishes
// the current step, writes it, closes the file and stops with `interrupted` (exit 130 or 143).
#include <csignal>
#include <stdexcept>
#include <string>

namespace eisim {

struct interrupted: std::runtime_error {
    int signal;
    interrupted(int sig, const std::string& what): std::runtime_error(what), signal(sig) {}
    int exit_code() const { return 128 + signal; }
};

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
