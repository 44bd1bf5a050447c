#pragma once
// Running a sweep's plan (docs/sweeps.md). Each run is a child process, `eisim run` of the run's
// resolved config (configs/<id>.toml) into runs/<id>.h5, single-threaded unless asked, claimed
// (sweep_dir.hpp) by the process that starts it and described by its status file when it ends:
//
//   exit 0        done
//   exit 3        diverged (a result: the run file holds it)
//   exit 130/143  stopped (SIGINT/SIGTERM): pending, resumed from its checkpoint next time
//   otherwise     failed; started again by the next `sweep run` while attempts < max_attempts
//
// Running the same sweep again skips what is done or diverged, resumes a run whose file exists
// (`eisim run --resume`), and starts the rest. The engines:
//   * local: `jobs` runs at once on this machine; `shard`/`shards` take the runs k (0-based, in
//     plan order) with k mod shards = shard - 1, for job arrays that share one DIR;
//   * MPI (`mpirun -n R eisim sweep run ...`, a build with Open MPI): rank 0 hands the runs out, one
//     at a time, to whichever rank (itself included) is free, so that long and short runs balance.
// Waiting never spins: the engines sleep between looks at their children and messages.
#include <string>

#include "sweep/plan.hpp"

namespace eisim::sweep {

struct sweep_run_options {
    int jobs = 0;         // runs at once on this machine (0: one per core); 1 per rank under MPI
    int shard = 1, shards = 1;
    int threads = 1;      // --threads of each run
    int max_attempts = 3; // starts of a run that fails, over all `sweep run`s
    bool quiet = false;   // no line per finished run
};

/// Run this shard's runs of `plan` into `dir` (sweep_dir.hpp); `sweep_file` is copied there.
/// The exit code: 0 when every run of the shard is done or diverged, 1 when some failed (or are
/// held by another live sweep), 128 + the signal when SIGINT or SIGTERM stopped it.
int run_sweep(const sweep_plan& plan, const std::string& dir, const sweep_run_options& o);

/// Whether this build has the MPI engine.
bool have_mpi();
/// The size of the MPI job this process was started in by mpirun/srun (1 when none).
int launched_ranks();

/// For a run started by a sweep (environment EISIM_SWEEP_PARENT): die with the sweep process, so
/// that a killed sweep leaves no orphaned writer behind. Called first thing by `eisim`.
void follow_sweep_parent();

} // namespace eisim::sweep
