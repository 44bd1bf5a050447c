#pragma once
// A sweep's output directory (docs/sweeps.md):
//
//   DIR/sweep.toml          a copy of the sweep file (a DIR holds one sweep)
//   DIR/configs/<id>.toml   each run's resolved config, as `eisim config` prints it
//   DIR/runs/<id>.h5        each run's ordinary run file
//   DIR/status/<id>.json    each run's status, written atomically (temporary file, rename) by
//                           whichever process runs it
//   DIR/logs/<id>.log       each run's output, attempt after attempt
//   DIR/claims/<id>         flock()ed by the process that runs it, for as long as it does
//   DIR/manifest.csv        derived from the status files (never the other way round), rewritten
//                           under a flock of DIR/manifest.lock, so that shards and ranks that
//                           finish at once never lose each other's updates
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "sweep/plan.hpp"

namespace eisim::sweep {

/// What became of a run. "diverged" (exit code 3) is a result of the sweep, not a failure.
struct run_status {
    std::string id;
    std::string status = "pending"; // pending | running | done | diverged | failed
    int exit_code = -1;              // -1: none yet
    int attempts = 0;                // starts, this one included
    double seconds = std::numeric_limits<double>::quiet_NaN();       // of the last attempt
    double final_loss = std::numeric_limits<double>::quiet_NaN();    // the run file's last /trajectory/loss
    double final_accuracy = std::numeric_limits<double>::quiet_NaN(); // and /trajectory/accuracy
    std::string host;
    int rank = -1; // the MPI rank that ran it (-1: none)
    long pid = 0;  // of the process that ran it (the sweep's, not the run's)
    std::string message; // why it failed or stopped
    std::string updated_utc;
};

class sweep_dir {
public:
    explicit sweep_dir(std::string path);
    const std::string& path() const { return path_; }

    /// Create the layout and keep a copy of the sweep file; a DIR that holds another sweep file
    /// is refused (user_error), so that one directory never mixes two sweeps' manifests.
    void prepare(const std::string& sweep_file) const;
    /// Write each point's resolved config to configs/<id>.toml (where it is not there yet).
    void write_configs(const sweep_plan& plan) const;

    std::string config_file(const std::string& id) const { return path_ + "/configs/" + id + ".toml"; }
    std::string run_file(const std::string& id) const { return path_ + "/runs/" + id + ".h5"; }
    std::string status_file(const std::string& id) const { return path_ + "/status/" + id + ".json"; }
    std::string log_file(const std::string& id) const { return path_ + "/logs/" + id + ".log"; }
    std::string claim_file(const std::string& id) const { return path_ + "/claims/" + id; }
    std::string manifest_file() const { return path_ + "/manifest.csv"; }

    /// The run's status file, if there is one (an unreadable one is treated as none, with a note).
    std::optional<run_status> read_status(const std::string& id) const;
    void write_status(const run_status& s) const;
    /// Rewrite manifest.csv from the plan and every status file, under the manifest's flock.
    void write_manifest(const sweep_plan& plan) const;

private:
    std::string path_;
};

/// The exclusive claim of one run by this process: a flock() on DIR/claims/<id>, released when
/// the process ends however it ends (a killed sweep's claims are free at once). The files stay.
class run_claim {
public:
    /// The claim, or nothing when another live process holds it (`holder` then says who).
    static std::optional<run_claim> take(const std::string& path, std::string& holder);
    run_claim(run_claim&& o) noexcept: fd_(o.fd_) { o.fd_ = -1; }
    run_claim& operator=(run_claim&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    run_claim(const run_claim&) = delete;
    run_claim& operator=(const run_claim&) = delete;
    ~run_claim();

private:
    explicit run_claim(int fd): fd_(fd) {}
    int fd_ = -1;
};

/// This machine's host name.
std::string host_name();
/// The current time as 2026-12-02T17:30:00Z.
std::string utc_now();

} // namespace eisim::sweep
