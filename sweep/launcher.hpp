#pragma once
// The part the engines share (engine.hpp): which runs are left, starting one as a child process,
// and what its end means. Internal to sweep/.
#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "sweep/engine.hpp"
#include "sweep/sweep_dir.hpp"

namespace eisim::sweep {

/// How a run ended, as the engines count it.
enum class outcome { done, diverged, failed, pending, elsewhere };
const char* outcome_name(outcome o);

/// A run being run: its child process and its claim.
struct active_run {
    std::size_t point = 0; // in plan.points
    pid_t pid = 0;
    run_claim claim;
    run_status status;
    std::chrono::steady_clock::time_point started;
};

class launcher {
public:
    launcher(const sweep_plan& plan, const sweep_dir& dir, const sweep_run_options& o, int rank);

    /// The points of `candidates` left to run: not done, not diverged, not failed max_attempts times.
    std::vector<std::size_t> left(const std::vector<std::size_t>& candidates) const;
    /// Start the run of point `k`; nothing when another live process holds its claim (said on stdout).
    std::optional<active_run> start(std::size_t k);
    /// The run ended with waitpid status `wait_status`: write its status (and, now and then, the
    /// manifest) and say how it ended.
    outcome finish(active_run& r, int wait_status, bool stopping);
    /// A run of `runs` that has ended (waitpid, WNOHANG), finished and taken out of `runs`: its
    /// point and outcome; nothing when none has ended.
    std::optional<std::pair<std::size_t, outcome>> reap(std::vector<active_run>& runs, bool stopping);
    /// Send SIGTERM to every run once, when stopping.
    void stop(std::vector<active_run>& runs);
    /// The statuses of `points`, counted.
    struct counts {
        long runs = 0, done = 0, diverged = 0, failed = 0, pending = 0, running = 0;
        long retryable = 0; // failed with attempts left
        std::string text() const;
    };
    counts tally(const std::vector<std::size_t>& points) const;
    /// The closing lines of a sweep process, and its exit code (engine.hpp).
    int close(const std::vector<std::size_t>& points, int stop_signal) const;

    const sweep_plan& plan() const { return plan_; }
    const sweep_dir& dir() const { return dir_; }

private:
    const sweep_plan& plan_;
    const sweep_dir& dir_;
    sweep_run_options o_;
    int rank_;
    std::string exe_, host_;
    mutable std::chrono::steady_clock::time_point manifest_written_{};
    bool terminated_ = false;
};

/// The MPI engine (mpi_engine.cpp): the exit code, or nothing when not started under mpirun with
/// more than one rank (the local engine runs then).
std::optional<int> run_sweep_mpi(const sweep_plan& plan, const sweep_dir& dir, const sweep_run_options& o);

/// A short sleep between looks at children and messages (never a busy wait).
void nap();

} // namespace eisim::sweep
