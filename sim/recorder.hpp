#pragma once
// The recorder: an observer of a run that only forwards data to the run file (HDF5). The layout is
// the contract in docs/design.md ("The run file") and docs/circuits.md (format version 2);
// format_version changes with any change to it.
//
//   /              attrs format="eisim.run", format_version, software_version, git_revision,
//                  created_utc, seed, config (the fully resolved TOML)
//   /network       attrs n_e, n_i, n_in, n_out, transfer, projections (names in order; version 2);
//                  tau [N], cell_sign [N]
//   /network/populations  name, model, side, first, size, sign, tau_ms, bias [P] (version 2)
//   /network/<p>   pre, post, sign [nnz] (side indices); pre_populations, post_populations (version 2);
//                  attrs plastic, pre_population, post_population (sides), n_pre, n_post,
//                  connectivity, delay (version 2)
//   /trajectory    attr committed (version 3): the number of complete snapshots, written after
//                  their rows are flushed and before a checkpoint passes them; readers use only
//                  these rows (a run killed mid-snapshot leaves some datasets a row longer).
//                  Files of versions 1 and 2 lack it: their complete snapshots are the rows every
//                  dataset holds.
//                  step [T] (int64), loss [T], accuracy [T] (the task's: fraction correct or R²);
//                  heldout_loss [T], heldout_accuracy [T] (version 4): on the held-out set of a
//                  decision task (sim/heldout.hpp), NaN at the snapshots where it is not measured
//                  and everywhere for other tasks; files of versions 1 to 3 lack them;
//                  <p>/weight [T × nnz] signed weights, one row per snapshot
//                  (float64, or float32 with training.record_precision; chunks of one row by at most
//                  2^16 columns, h5::block_values)
//   /training      loss [steps], held_at_bound [steps] (int64), learning_rate [steps], accuracy [steps]
//                  (accuracy: added without a version bump; files written before it lack it)
//                  Every series of /trajectory and /training is 1-D (version 5; chunks of
//                  h5::series_chunk values); versions 1 to 4 store them [T × 1] float64.
//   /activity      steps [n]; step_<k>/{time [T+1] (ms), input [trials × T+1 × n_in],
//                  rate [trials × T+1 × N], output and target [trials × T+1 × n_out]}
//   /teacher/<p>   the teacher's pre, post, sign, weight [nnz]
//   /spikes/<population>  spiking circuits (SONATA's spike layout): timestamps [n] (ms, attr
//                  units), node_ids [n] (uint64, ids within the population), trial_ids [n];
//                  sorted by time, then trial, then node (attr sorting = "by_time"); the input
//                  populations' spikes too, so that a run can be replayed
//   /activity/initial_v  spiking circuits (eisim simulate): [trials × N] membrane potentials at t = 0 (mV)
//   /activity      spiking learning runs: steps [n]; step_<k>/{time [T+1] (ms), mask [T+1],
//                  input, output, target [trials × T+1 × n_in or n_out] (the channels' values u,
//                  which set the Poisson rates; the leaky readouts y), initial_v [trials × N],
//                  spikes/<population>/{timestamps, node_ids, trial_ids} (as /spikes)}
//   /checkpoint    slot0, slot1: step [1], <p>/m [nnz], <p>/velocity [nnz] (momentum buffer, or
//                  Adam's first moment), <p>/second_moment [nnz] (Adam only): the state after the
//                  newest completed step, in two alternating slots (step written last), so that
//                  a run killed at any moment resumes from a complete slot.
//
// A learning run is written in single-writer/multiple-reader mode (every object is created up
// front), and the file is flushed after every step: h5py (swmr=True) and `eisim analyze` can read
// it while it is written, and a killed run keeps every snapshot up to the last one flushed.
//
// Where it is written (docs/design.md, "The run file"): a new run file is created as
// `<out>.partial` beside `<out>` and renamed to `<out>` once it can be resumed (a learning run:
// after its first checkpoint; simulate: when complete), so that `<out>` is never a file a kill
// left half-created. One writer per file: `output_lock` (`<out>.lock`) is held for as long as
// the file is written.
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "io/h5.hpp"
#include "models/dynamics.hpp"
#include "models/network.hpp"
#include "models/spiking.hpp"
#include "models/task.hpp"
#include "models/trajectory.hpp"

namespace eisim {

constexpr std::int64_t run_format_version = 6; // 3: /trajectory attr committed; 4: heldout_loss, heldout_accuracy; 5: 1-D series;
                                                // 6: variable-length UTF-8 strings (docs/design.md)
extern const char* software_version;
extern const char* git_revision;

class run_recorder {
public:
    /// Create the run file, as `<path>.partial` (a leftover one replaced) until `publish`; refuses
    /// to replace an existing file unless `overwrite`, and a file that is not a regular file always.
    /// The caller holds the output_lock of `path`.
    run_recorder(const std::string& path, bool overwrite, const std::string& resolved_config, std::int64_t seed,
                 bool swmr = false);
    /// Reopen a run file written by a learning run, to resume it.
    static run_recorder reopen(const std::string& path);

    void write_network(const network& net);
    void write_teacher(const network& teacher);
    /// The extendable /trajectory datasets; the weights as float32 if asked, gzip level `compression`.
    /// `second_moment`: the checkpoint keeps Adam's second moments too (plasticity.normalisation = "adam").
    void begin_trajectory(const network& net, bool float32 = false, int compression = 0, bool second_moment = false);
    /// Create the /activity datasets for these learning steps (before start_swmr).
    void prepare_activity(const std::vector<long>& steps, int n_trials, int n_obs, const network& net, bool with_target);
    void start_swmr();
    /// One snapshot of every projection's signed weights after `step` learning steps.
    /// heldout_loss and heldout_accuracy: on the held-out set (sim/heldout.hpp), NaN where not measured.
    void snapshot(long step, double loss, const network& net, double accuracy = std::numeric_limits<double>::quiet_NaN(),
                  double heldout_loss = std::numeric_limits<double>::quiet_NaN(),
                  double heldout_accuracy = std::numeric_limits<double>::quiet_NaN());
    void training_step(double loss, long held_at_bound, double learning_rate,
                       double accuracy = std::numeric_limits<double>::quiet_NaN());
    /// The first `n_trials` trials' activity at learning step `step`.
    void activity(long step, const network& net, const lowered_network& low, const trajectory& tr,
                  const trial_batch& trials, int n_trials, bool with_target);
    /// The spikes of every trial (/spikes/<population>) and the initial potentials (/activity/initial_v).
    void spikes(const network& net, const std::vector<spiking_trial>& trials, double dt_ms);
    /// Spiking learning runs: create the /activity datasets for these learning steps (before start_swmr).
    void prepare_spiking_activity(const std::vector<long>& steps, int n_trials, int n_obs, const network& net);
    /// The first `n_trials` trials of a spiking forward pass at learning step `step`: spikes, initial
    /// potentials, inputs, readouts y (n_out × B·(T+1)), targets and the mask.
    void spiking_activity(long step, const network& net, const std::vector<spiking_trial>& trials, const matrix& y,
                          const trial_batch& tb, int n_trials, double dt_ms);
    /// Save the state after `step` completed learning steps (magnitudes and momentum buffers).
    void checkpoint(long step, const network& net, const std::map<std::string, vector>& velocity,
                    const std::map<std::string, vector>& second_moment = {});
    struct saved_state {
        long step = -1;
        std::map<std::string, vector> m, velocity, second_moment; // second_moment: where the file keeps it
    };
    /// The newest complete checkpoint.
    saved_state read_checkpoint() const;
    /// Forget what was recorded at or after learning step `step` (to redo it on resuming), and any
    /// torn tail: keep the snapshots at the steps before `step` that a run taking one every
    /// `record_every` steps wrote (snapshots_before), and mark them committed.
    void truncate_to(long step, long record_every);
    /// Mark every snapshot written so far complete (/trajectory attr committed), after flushing
    /// its rows; publish() and truncate_to() call it, checkpoint() writes the marker itself before
    /// the slot's step. Returns whether it wrote (and flushed) the marker: files from before it
    /// have none.
    bool commit();
    /// The number of complete snapshots: the committed ones, and never more than every
    /// per-snapshot dataset holds.
    long committed_snapshots() const;
    void flush();
    /// Flush, put the file on disk and rename `<path>.partial` to `<path>` (atomically replacing
    /// an existing file there); a no-op once done and for a reopened file. A file not in SWMR mode
    /// is closed first (nothing is written after). The checkpoint publishes the file once it is
    /// complete; a recorder destroyed unpublished removes its `.partial`.
    void publish();
    const std::string& path() const { return path_; }
    hid_t file() const { return file_; }

private:
    // The `.partial` file until it is published: removed if the recorder ends before (after the
    // file is closed: declared before file_).
    struct unpublished {
        std::string path;
        unpublished() = default;
        unpublished(unpublished&& o) noexcept: path(std::move(o.path)) { o.path.clear(); }
        unpublished& operator=(unpublished&& o) noexcept;
        ~unpublished();
    };
    std::string path_, target_; // as given; where it is written (write_target)
    unpublished partial_;
    bool swmr_ = false;
    h5::handle file_;
    h5::row_appender traj_step_, traj_loss_, train_loss_, train_held_, train_lr_;
    h5::row_appender traj_acc_, train_acc_; // absent (has_accuracy_ false) in files from before them
    bool has_accuracy_ = false;
    h5::row_appender traj_heldout_loss_, traj_heldout_acc_; // absent (has_heldout_ false) in files from before them
    bool has_heldout_ = false;
    bool has_commit_ = false; // /trajectory has the committed attribute (files from before it do not)
    std::vector<std::pair<std::string, h5::row_appender>> weights_;
    bool with_target_ = false;
    int next_slot_ = 0;
    run_recorder() = default;
    /// Rename `<path>.partial` to `<path>` once it is on disk (publish, and the first checkpoint).
    void reveal();
    /// Refuse (storage_error) a write of `bytes` that the disk or the file-size limit has no room for.
    void ensure_room(std::uint64_t bytes) const;
};

/// Everything `--resume` relies on, checked read-only before the file is opened for writing, so
/// that a refused resume changes nothing (file_error, exit code 2, naming what is wrong): a
/// supported format version; /trajectory and /training as the recorder writes them, with one
/// weight column per synapse of `net` (the network the stored config builds); a committed count
/// within the rows; checkpoint slots whose steps are whole numbers in [-1, steps], the newest at
/// least 0, with magnitudes that are finite and non-negative and velocities that are finite, one
/// per synapse; and every snapshot a run taking one every `record_every` steps wrote before the
/// newest checkpoint's step (snapshots_before); with `second_moment` (Adam) second moments that
/// are finite and non-negative, one per synapse. Returns the newest checkpoint's step.
long check_resumable(const std::string& path, const network& net, long steps, long record_every, bool second_moment = false);
/// How many leading rows of a trajectory a resume from checkpoint `step` keeps: the first of the
/// `rows` that every per-snapshot dataset holds whose steps are 0, record_every, 2 record_every,
/// ... below `step`. Each was flushed before the checkpoint that passed it was written, so it is
/// complete whatever its committed marker says (the marker is written before the checkpoint, but
/// version 1 and 2 files have none). A resume needs all ceil(step / record_every) of them.
long snapshots_before(const std::vector<double>& steps, long rows, long step, long record_every);
/// The error of a resume that finds the file damaged (`what`: what HDF5 could not read or write):
/// a write that failed half way (a quota, a disk that filled between checks) can leave its
/// indexes broken; its committed snapshots may still read.
file_error damaged_file(const std::string& path, const std::string& what);

/// Refuse (user_error, exit code 2) an output that is not a regular file (a directory, a device, a
/// FIFO, a socket, a symlink to one or to nothing: eisim replaces only regular files), an existing
/// file without `overwrite`, and a path whose directory does not exist.
void check_output_path(const std::string& path, bool overwrite);

/// The file an output path names: absolute, with symlinks resolved (a symlink to a run file is
/// followed, and the file it names is replaced); its `.partial` and `.lock` lie beside it.
std::string write_target(const std::string& path);

/// One writer per file: an exclusive lock on the output `out`, taken before anything is created
/// and held for as long as this object lives. It is the file `<write_target(out)>.lock`, created
/// with O_EXCL, holding "host pid" and flock()ed by its writer; the destructor removes it (also
/// when an exception or SIGINT/SIGTERM ends the writer). A lock held by a live process, or by one
/// on another host, is refused with a user_error naming the holder (exit code 2); the lock of a
/// process that is gone (same host, kill(pid, 0) fails with ESRCH) is taken over, with a note.
/// Re-entrant within one process: locking a file this process already holds does nothing more.
/// Checks check_output_path(out, true) first, so that no lock is made beside what eisim would
/// never write.
class output_lock {
public:
    explicit output_lock(const std::string& out);
    ~output_lock();
    output_lock(const output_lock&) = delete;
    output_lock& operator=(const output_lock&) = delete;
    /// The lock file of the output `out`.
    static std::string lock_path(const std::string& out);

private:
    std::string path_;
};

} // namespace eisim
