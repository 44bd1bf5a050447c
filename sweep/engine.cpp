#include "sweep/engine.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "io/h5.hpp"
#include "models/error.hpp"
#include "sim/signals.hpp"
#include "sweep/launcher.hpp"

extern char** environ;

namespace eisim::sweep {

namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

// The last value of a dataset of the run file (NaN when there is none).
double last_value(hid_t file, const std::string& name) {
    if (!h5::exists(file, name)) return std::numeric_limits<double>::quiet_NaN();
    const auto v = h5::read_double(file, name);
    return v.empty()? std::numeric_limits<double>::quiet_NaN(): v.back();
}

// The last lines of a run's log, for a failure's message.
std::string log_tail(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return "";
    std::fseek(f, 0, SEEK_END);
    const long size = std::ftell(f);
    const long from = std::max(0L, size - 400);
    std::fseek(f, from, SEEK_SET);
    std::string text(static_cast<std::size_t>(size - from), '\0');
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    const auto eol = text.rfind('\n');
    return eol == std::string::npos? text: text.substr(eol + 1);
}

int cores() {
    const unsigned n = std::thread::hardware_concurrency();
    return n > 0? static_cast<int>(n): 1;
}

} // namespace

const char* outcome_name(outcome o) {
    switch (o) {
    case outcome::done: return "done";
    case outcome::diverged: return "diverged";
    case outcome::failed: return "failed";
    case outcome::pending: return "stopped";
    default: return "running elsewhere";
    }
}

void nap() { std::this_thread::sleep_for(std::chrono::milliseconds(10)); }

launcher::launcher(const sweep_plan& plan, const sweep_dir& dir, const sweep_run_options& o, int rank):
    plan_(plan), dir_(dir), o_(o), rank_(rank), host_(host_name()) {
    std::error_code ec;
    exe_ = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec || exe_.empty()) throw user_error("cannot find the eisim executable (/proc/self/exe) to start the runs");
}

std::vector<std::size_t> launcher::left(const std::vector<std::size_t>& candidates) const {
    std::vector<std::size_t> out;
    for (auto k: candidates) {
        const auto s = dir_.read_status(plan_.points[k].id);
        if (s && (s->status == "done" || s->status == "diverged")) continue;
        if (s && s->status == "failed" && s->attempts >= o_.max_attempts) continue;
        out.push_back(k);
    }
    return out;
}

std::optional<active_run> launcher::start(std::size_t k) {
    const sweep_point& p = plan_.points[k];
    std::string holder;
    auto claim = run_claim::take(dir_.claim_file(p.id), holder);
    if (!claim) {
        if (!o_.quiet) std::printf("%s (%s): running elsewhere (%s); skipped\n", p.id.c_str(), plan_.describe(p).c_str(), holder.c_str());
        return std::nullopt;
    }
    // Read again under the claim: another process may have finished it since left() looked.
    const auto before = dir_.read_status(p.id);
    if (before && (before->status == "done" || before->status == "diverged")) return std::nullopt;
    run_status s = before.value_or(run_status{});
    s.id = p.id;
    s.status = "running";
    s.exit_code = -1;
    s.attempts += 1;
    s.host = host_;
    s.rank = rank_;
    s.pid = static_cast<long>(::getpid());
    s.message.clear();
    s.seconds = s.final_loss = s.final_accuracy = std::numeric_limits<double>::quiet_NaN();

    const std::string run_file = dir_.run_file(p.id), log = dir_.log_file(p.id);
    // Whoever wrote the run file before held this claim, and its runs die with it: a lock file it
    // left is stale, even one of another host (which the run's own lock cannot judge).
    std::error_code ec;
    fs::remove(run_file + ".lock", ec);
    const bool resume = fs::exists(run_file, ec);
    std::vector<std::string> args{exe_, "--threads", std::to_string(o_.threads), "run"};
    if (resume) args.insert(args.end(), {"--resume", run_file});
    else args.insert(args.end(), {dir_.config_file(p.id), "--out", run_file});
    args.push_back("--quiet");

    if (std::FILE* f = std::fopen(log.c_str(), "ab")) {
        std::fprintf(f, "== attempt %d on %s (sweep pid %ld, rank %d) at %s:", s.attempts, host_.c_str(), s.pid, rank_, utc_now().c_str());
        for (auto& a: args) std::fprintf(f, " %s", a.c_str());
        std::fprintf(f, "\n");
        std::fclose(f);
    }
    dir_.write_status(s);

    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "EISIM_SWEEP_PARENT=", 19) != 0) env.emplace_back(*e);
    env.push_back("EISIM_SWEEP_PARENT=" + std::to_string(::getpid()));
    // Threads that wait sleep (libgomp reads this when it loads): runs share the cores.
    if (!std::getenv("OMP_WAIT_POLICY")) env.push_back("OMP_WAIT_POLICY=PASSIVE");
    std::vector<char*> argv, envp;
    for (auto& a: args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e: env) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    const int err = posix_spawn(&pid, exe_.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
        s.status = "failed";
        s.message = std::string("cannot start '") + exe_ + "': " + std::strerror(err);
        dir_.write_status(s);
        throw user_error(s.message);
    }
    return active_run{k, pid, std::move(*claim), s, clock::now()};
}

outcome launcher::finish(active_run& r, int wait_status, bool stopping) {
    run_status& s = r.status;
    s.seconds = std::chrono::duration<double>(clock::now() - r.started).count();
    outcome end;
    if (WIFEXITED(wait_status)) {
        s.exit_code = WEXITSTATUS(wait_status);
        switch (s.exit_code) {
        case 0: end = outcome::done; break;
        case 3: end = outcome::diverged; break;
        case 130: case 143: end = outcome::pending; break;
        default: end = outcome::failed;
        }
    } else {
        const int sig = WIFSIGNALED(wait_status)? WTERMSIG(wait_status): 0;
        s.exit_code = 128 + sig;
        s.message = "killed by signal " + std::to_string(sig);
        end = stopping? outcome::pending: outcome::failed;
    }
    if (end == outcome::done || end == outcome::diverged) {
        try {
            const h5::handle f = h5::open_file(dir_.run_file(s.id));
            s.final_loss = last_value(f.id(), "trajectory/loss");
            s.final_accuracy = last_value(f.id(), "trajectory/accuracy");
        } catch (const std::exception& e) {
            if (end == outcome::done) { // a finished run has its file
                end = outcome::failed;
                s.message = std::string("the run file cannot be read: ") + e.what();
            }
        }
    }
    if (end == outcome::failed && s.message.empty()) s.message = log_tail(dir_.log_file(s.id));
    if (end == outcome::pending && s.message.empty()) s.message = "stopped; resumed from its checkpoint next time";
    s.status = end == outcome::pending? "pending": outcome_name(end);
    dir_.write_status(s);
    // The manifest at most once a second while runs finish; engines write it once more at the end.
    if (clock::now() - manifest_written_ > std::chrono::seconds(1)) {
        dir_.write_manifest(plan_);
        manifest_written_ = clock::now();
    }
    if (!o_.quiet) {
        const sweep_point& p = plan_.points[r.point];
        std::printf("%s (%s): %s", s.id.c_str(), plan_.describe(p).c_str(), s.status.c_str());
        if (end == outcome::done || end == outcome::diverged)
            std::printf(" in %.1f s, final loss %.6g, accuracy %.4g", s.seconds, s.final_loss, s.final_accuracy);
        else if (end == outcome::failed)
            std::printf(" (exit code %d, attempt %d of %d): %s; log %s", s.exit_code, s.attempts, o_.max_attempts, s.message.c_str(),
                        dir_.log_file(s.id).c_str());
        if (rank_ >= 0) std::printf(" [rank %d, %s]", rank_, host_.c_str());
        std::printf("\n");
        std::fflush(stdout);
    }
    return end;
}

std::optional<std::pair<std::size_t, outcome>> launcher::reap(std::vector<active_run>& runs, bool stopping) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
        int status = 0;
        const pid_t got = ::waitpid(runs[i].pid, &status, WNOHANG);
        if (got == 0 || (got < 0 && errno == EINTR)) continue;
        if (got < 0) status = 0x7f00; // lost (ECHILD): not a success
        const outcome end = finish(runs[i], status, stopping);
        const std::size_t k = runs[i].point;
        runs.erase(runs.begin() + static_cast<long>(i));
        return std::make_pair(k, end);
    }
    return std::nullopt;
}

void launcher::stop(std::vector<active_run>& runs) {
    if (terminated_) return;
    terminated_ = true;
    for (auto& r: runs) ::kill(r.pid, SIGTERM); // each finishes its step, writes it and exits 143
}

launcher::counts launcher::tally(const std::vector<std::size_t>& points) const {
    counts c;
    c.runs = static_cast<long>(points.size());
    for (auto k: points) {
        const auto s = dir_.read_status(plan_.points[k].id);
        const std::string st = s? s->status: "pending";
        if (st == "done") ++c.done;
        else if (st == "diverged") ++c.diverged;
        else if (st == "failed") {
            ++c.failed;
            if (s->attempts < o_.max_attempts) ++c.retryable;
        } else if (st == "running") ++c.running;
        else ++c.pending;
    }
    return c;
}

std::string launcher::counts::text() const {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%ld runs: %ld done, %ld diverged, %ld failed, %ld pending, %ld running", runs, done, diverged, failed,
                  pending, running);
    return buf;
}

int launcher::close(const std::vector<std::size_t>& points, int stop_signal) const {
    dir_.write_manifest(plan_);
    const counts c = tally(points);
    std::printf("sweep: %s; manifest %s\n", c.text().c_str(), dir_.manifest_file().c_str());
    int code = 0;
    if (stop_signal) {
        std::printf("sweep: stopped; run the same command again to go on\n");
        code = 128 + stop_signal;
    } else {
        if (c.failed > 0) {
            std::printf("sweep: %ld failed (see DIR/logs/<id>.log); %ld of them will be started again by the same command "
                        "(at most %d attempts a run)\n", c.failed, c.retryable, o_.max_attempts);
        }
        if (c.running + c.pending > 0)
            std::printf("sweep: %ld runs are held by another sweep process (running elsewhere) or were not started\n", c.running + c.pending);
        if (c.failed + c.running + c.pending > 0) code = 1;
    }
    std::fflush(stdout);
    return code;
}

// ---- the local engine --------------------------------------------------------------------------

namespace {

int run_local(const sweep_plan& plan, const sweep_dir& dir, const sweep_run_options& o) {
    launcher l(plan, dir, o, -1);
    std::vector<std::size_t> mine;
    for (std::size_t k = 0; k < plan.points.size(); ++k)
        if (static_cast<int>(k % static_cast<std::size_t>(o.shards)) == o.shard - 1) mine.push_back(k);
    const auto todo = l.left(mine);
    const int jobs = o.jobs > 0? o.jobs: cores();
    std::printf("sweep: %zu runs%s; %zu to run, %d at a time, into %s\n", mine.size(),
                o.shards > 1? (" (shard " + std::to_string(o.shard) + " of " + std::to_string(o.shards) + ")").c_str(): "", todo.size(),
                jobs, dir.path().c_str());
    std::fflush(stdout);

    const stop_signals signals;
    std::vector<active_run> running;
    std::size_t next = 0;
    bool stopping = false;
    while (next < todo.size() || !running.empty()) {
        if (!stopping && stop_signals::received()) {
            stopping = true;
            l.stop(running);
        }
        while (!stopping && next < todo.size() && static_cast<int>(running.size()) < jobs)
            if (auto r = l.start(todo[next++])) running.push_back(std::move(*r));
        if (stopping && running.empty()) break;
        if (!l.reap(running, stopping)) nap();
    }
    return l.close(mine, stopping? stop_signals::received(): 0);
}

} // namespace

int launched_ranks() {
    // Set by the launcher for each process it starts: Open MPI's mpirun, PMI (MPICH, srun), PMIx.
    // (SLURM_NTASKS is not: it describes an allocation, also outside srun.)
    for (const char* name: {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
        if (const char* v = std::getenv(name))
            if (const int n = std::atoi(v); n > 0) return n;
    return 1;
}

int run_sweep(const sweep_plan& plan, const std::string& path, const sweep_run_options& o) {
    if (o.shards < 1 || o.shard < 1 || o.shard > o.shards) throw user_error("--shard I/N needs 1 <= I <= N");
    if (o.max_attempts < 1) throw user_error("--max-attempts must be at least 1");
    const sweep_dir dir(path);
    dir.prepare(plan.file);
    dir.write_configs(plan); // by every rank alike: the same files, each written atomically
    if (launched_ranks() > 1) {
        if (!have_mpi())
            throw user_error("started as one of " + std::to_string(launched_ranks()) +
                             " MPI ranks, but this eisim is built without MPI (install libopenmpi-dev and build again); "
                             "run it without mpirun, with --jobs, or with --shard I/N");
        if (o.shards > 1) throw user_error("--shard and mpirun do not go together: the ranks share the runs out themselves");
        if (auto code = run_sweep_mpi(plan, dir, o)) return *code;
    }
    return run_local(plan, dir, o);
}

void follow_sweep_parent() {
    const char* parent = std::getenv("EISIM_SWEEP_PARENT");
    if (!parent) return;
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (static_cast<long>(::getppid()) != std::atol(parent)) ::raise(SIGKILL); // the sweep died before we could follow it
}

} // namespace eisim::sweep
