#pragma once
// Two tiers of errors (docs/design.md, "Rules that keep the house simple"):
//  * eisim::user_error and its children: a mistake in the user's input (config, command line,
//    files). They carry context and map to exit code 2 at the command line.
//  * eisim::storage_error: the disk or a limit ran out while writing (exit code 4);
//    eisim::divergence_error: the run diverged (exit code 3).
//  * EISIM_ASSERT: an internal invariant; a failure is a bug in eisim, not in the input.
#include <cassert>
#include <csignal>
#include <stdexcept>
#include <string>

namespace eisim {

/// A mistake in what the user gave us; the message names the problem. Exit code 2.
struct user_error: std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A configuration value that is unknown, of the wrong type or out of range.
struct config_error: user_error {
    std::string key;
    config_error(std::string key_, const std::string& what):
        user_error(key_.empty()? what: "'" + key_ + "': " + what), key(std::move(key_)) {}
};

/// A file that is not what it should be (not a run file, truncated, newer format, ...).
struct file_error: user_error {
    using user_error::user_error;
};

/// Storage ran out while writing: no space left on the disk, a file-size limit (ulimit -f), a disk
/// quota. The file keeps what was committed before; freeing space and resuming continues it. Exit
/// code 4.
struct storage_error: std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The process was asked to stop (SIGINT, SIGTERM); exit code 128 + signal.
struct interrupted: std::runtime_error {
    int signal;
    interrupted(int sig, const std::string& what): std::runtime_error(what), signal(sig) {}
    int exit_code() const { return 128 + signal; }
};

/// The signal that asked the process to stop, 0 if none: set by the handlers of sim/signals.hpp
/// (the CLI's), read by the learning loop after each step and by set-up loops that can take long
/// (the spectral radius's power iteration), which throw `interrupted` within a second of it.
inline volatile std::sig_atomic_t stop_signal = 0;

/// The learning run diverged (NaN, Inf or runaway rates). Exit code 3.
struct divergence_error: std::runtime_error {
    long step;
    divergence_error(long step_, const std::string& what): std::runtime_error(what), step(step_) {}
};

} // namespace eisim

#define EISIM_ASSERT(cond) assert(cond)
