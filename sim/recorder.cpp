#include "sim/recorder.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "models/error.hpp"

namespace eisim {

namespace fs = std::filesystem;

namespace {

// What is at `path`, if it is not a regular file or a symlink to one ("" if it is, or nothing is there).
std::string not_regular(const std::string& path) {
    std::error_code ec;
    const auto link = fs::symlink_status(path, ec);
    if (!fs::exists(link)) return "";
    const auto st = fs::status(path, ec);
    if (fs::is_regular_file(st)) return "";
    const auto kind = [](const fs::file_status& f) -> std::string {
        switch (f.type()) {
        case fs::file_type::directory: return "a directory";
        case fs::file_type::block: return "a block device";
        case fs::file_type::character: return "a character device";
        case fs::file_type::fifo: return "a FIFO";
        case fs::file_type::socket: return "a socket";
        case fs::file_type::not_found: return "nothing";
        default: return "not a regular file";
        }
    };
    return fs::is_symlink(link)? "a symlink to " + kind(st): kind(st);
}

} // namespace

void check_output_path(const std::string& path, bool overwrite) {
    if (path.empty()) throw user_error("no output file given (--out)");
    const std::string what = not_regular(path);
    if (!what.empty())
        throw user_error("cannot write '" + path + "': it is " + what + ", not a regular file (--overwrite replaces only regular files)");
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec)) && !overwrite)
        throw user_error("output file '" + path + "' exists; pass --overwrite to replace it");
    const auto dir = fs::path(write_target(path)).parent_path();
    if (!fs::is_directory(dir, ec))
        throw user_error("cannot write '" + path + "': directory '" + fs::path(path).parent_path().string() + "' does not exist");
}

std::string write_target(const std::string& path) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(path, ec).lexically_normal();
    const fs::path resolved = fs::weakly_canonical(absolute, ec);
    return ec? absolute.string(): resolved.string();
}

// ---- output_lock ----------------------------------------------------------------------------

namespace {

// The locks this process holds: lock file -> (times locked, descriptor holding the flock).
std::mutex held_mutex;
std::map<std::string, std::pair<int, int>> held;

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
    return buf;
}

struct holder {
    std::string host;
    long pid = 0;
    bool known() const { return !host.empty() && pid > 0; }
    std::string text() const { return "host " + host + ", pid " + std::to_string(pid); }
};

holder read_holder(int fd) {
    char buf[512] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    holder h;
    if (n <= 0) return h;
    char host[256] = {};
    long pid = 0;
    if (std::sscanf(buf, "%255s %ld", host, &pid) == 2 && pid > 0) h = {host, pid};
    return h;
}

void write_holder(int fd, const std::string& me) {
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size()))
        throw user_error(std::string("cannot write the lock file: ") + std::strerror(errno));
}

// Whether descriptor fd is the file at `path` now (and not one removed from there meanwhile).
bool is_at(int fd, const std::string& path) {
    struct stat a{}, b{};
    return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool gone(long pid) { return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

// Take the lock file `lock` of output `out`: the descriptor that holds it.
int acquire(const std::string& lock, const std::string& out) {
    using clock = std::chrono::steady_clock;
    const std::string host = host_name();
    const long me = static_cast<long>(::getpid());
    const std::string mine = host + " " + std::to_string(me) + "\n";
    // A lock file without a name yet (its writer between creating and writing it), or a lock
    // of a dead process being taken over, is waited for this long before it is judged.
    const auto patience = clock::now() + std::chrono::seconds(2);
    const auto refuse = [&](const holder& h, const std::string& why) {
        throw user_error("'" + out + "' is being written by another eisim (" + (h.known()? h.text(): "an unnamed holder") +
                         "; lock file '" + lock + "')" + why + ": one writer per file");
    };
    for (;;) {
        int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) { // ours: flock it (a contender may look at it for a moment), then sign it
            while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {}
            try {
                write_holder(fd, mine);
            } catch (...) {
                ::unlink(lock.c_str());
                ::close(fd);
                throw;
            }
            return fd;
        }
        if (errno != EEXIST)
            throw user_error("cannot write '" + out + "': cannot create the lock file '" + lock + "': " + std::strerror(errno));
        fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) continue; // released meanwhile
            throw user_error("cannot write '" + out + "': cannot open the lock file '" + lock + "': " + std::strerror(errno));
        }
        const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0 || (errno != EWOULDBLOCK && errno != EINTR); // no flock here: by the pid
        if (free && !is_at(fd, lock)) { ::close(fd); continue; } // a lock file removed meanwhile
        const holder h = read_holder(fd);
        const bool waiting = clock::now() < patience;
        if (!free) { // a live writer holds it (its name may still be the dead one it takes over)
            if (waiting && (!h.known() || (h.host == host && gone(h.pid)))) {
                ::close(fd);
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                continue;
            }
            ::close(fd);
            refuse(h, "");
        }
        // Nobody holds it: whose is it?
        bool stale = false;
        if (!h.known()) {
            if (waiting) { ::close(fd); std::this_thread::sleep_for(std::chrono::milliseconds(20)); continue; }
            stale = true; // a writer killed between creating and signing it
        } else if (h.host != host) {
            ::close(fd);
            refuse(h, ", on another host, so eisim cannot tell whether it still runs; if it does not, remove the lock file");
        } else {
            stale = h.pid == me || gone(h.pid); // our own pid: a process before us that had it
        }
        if (!stale) {
            ::close(fd);
            refuse(h, "; if no eisim is writing it, remove the lock file");
        }
        try {
            write_holder(fd, mine);
        } catch (...) {
            ::close(fd);
            throw;
        }
        std::fprintf(stderr, "eisim: note: took over the stale lock '%s' of %s, which no longer runs\n", lock.c_str(),
                     h.known()? h.text().c_str(): "a writer killed while creating it");
        return fd;
    }
}

} // namespace

std::string output_lock::lock_path(const std::string& out) { return write_target(out) + ".lock"; }

output_lock::output_lock(const std::string& out) {
    check_output_path(out, true);
    path_ = lock_path(out);
    std::lock_guard<std::mutex> guard(held_mutex);
    auto it = held.find(path_);
    if (it != held.end()) {
        ++it->second.first;
        return;
    }
    const int fd = acquire(path_, out);
    held[path_] = {1, fd};
}

output_lock::~output_lock() {
    std::lock_guard<std::mutex> guard(held_mutex);
    auto it = held.find(path_);
    if (it == held.end() || --it->second.first > 0) return;
    const int fd = it->second.second;
    held.erase(it);
    if (is_at(fd, path_)) ::unlink(path_.c_str()); // before the flock goes (contenders check the file is still there)
    ::close(fd);
}

// ---- the run file ----------------------------------------------------------------------------

run_recorder::unpublished& run_recorder::unpublished::operator=(unpublished&& o) noexcept {
    if (this != &o) {
        if (!path.empty()) ::unlink(path.c_str());
        path = std::move(o.path);
        o.path.clear();
    }
    return *this;
}

run_recorder::unpublished::~unpublished() {
    if (!path.empty()) ::unlink(path.c_str());
}

namespace {

std::string utc_now() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

std::vector<double> to_std(const vector& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

// A [trials × T+1 × rows] array from per-observation rows × B matrices.
template <typename Get>
std::vector<double> stack(int n_trials, int T1, long rows, Get&& get) {
    std::vector<double> out(static_cast<std::size_t>(n_trials)*T1*rows);
    for (int k = 0; k < T1; ++k) {
        const matrix m = get(k);
        for (int b = 0; b < n_trials; ++b)
            for (long i = 0; i < rows; ++i) out[(static_cast<std::size_t>(b)*T1 + k)*rows + i] = m(i, b);
    }
    return out;
}

// pre, post and sign of every synapse, from lists made for the while (a dense projection has none;
// a lists one, the layout of sparse networks, is copied: 9 bytes a synapse, once, at set-up).
void write_synapses(hid_t g, const projection& p) {
    const auto lists = p.lists();
    h5::write(g, "pre", lists.pre);
    h5::write(g, "post", lists.post);
    h5::write(g, "sign", lists.sign);
}

} // namespace

run_recorder::run_recorder(const std::string& path, bool overwrite, const std::string& resolved_config, std::int64_t seed,
                           bool swmr): path_(path), target_(write_target(path)) {
    check_output_path(path, overwrite);
    // Written as <target>.partial until publish(); a leftover one (a start that was killed) is
    // replaced, and nothing found at that name is followed.
    const std::string partial = target_ + ".partial";
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(partial, ec)))
        throw user_error("cannot write '" + path + "': '" + partial + "' is a directory");
    if (::unlink(partial.c_str()) != 0 && errno != ENOENT)
        throw user_error("cannot write '" + path + "': cannot replace '" + partial + "': " + std::strerror(errno));
    file_ = h5::create_file(partial, swmr, true);
    partial_.path = partial;
    h5::write_attr_vlen(file_, "format", std::string("eisim.run"));
    h5::write_attr(file_, "format_version", run_format_version);
    h5::write_attr_vlen(file_, "software_version", std::string(software_version));
    h5::write_attr_vlen(file_, "git_revision", std::string(git_revision));
    h5::write_attr_vlen(file_, "created_utc", utc_now());
    h5::write_attr(file_, "seed", seed);
    h5::write_attr_vlen(file_, "config", resolved_config);
}

void run_recorder::write_network(const network& net) {
    auto g = h5::create_group(file_, "network");
    h5::write_attr(g, "n_e", std::int64_t(net.n_e));
    h5::write_attr(g, "n_i", std::int64_t(net.n_i));
    h5::write_attr(g, "n_in", std::int64_t(net.n_in));
    h5::write_attr(g, "n_out", std::int64_t(net.n_out));
    h5::write_attr_vlen(g, "transfer", net.phi.name()); // each population's own: populations/transfer
    std::string order; // the projections in the circuit's order (names hold no commas)
    for (auto& p: net.projections) order += (order.empty()? "": ",") + p.name;
    h5::write_attr_vlen(g, "projections", order);
    h5::write(g, "tau", to_std(net.tau));
    std::vector<std::int8_t> cs(net.n());
    for (int i = 0; i < net.n(); ++i) cs[i] = static_cast<std::int8_t>(net.cell_sign[i]);
    h5::write(g, "cell_sign", cs);
    // The populations, one entry each in the description's order (format version 2).
    {
        auto pg = h5::create_group(g, "populations");
        std::vector<std::string> name, model, where;
        std::vector<std::int64_t> first, size;
        std::vector<std::int8_t> sign;
        std::vector<double> tau, bias;
        std::vector<std::string> transfer; // rate populations' transfer function ("" for the others)
        for (auto& p: net.populations) {
            name.push_back(p.name);
            model.push_back(p.model);
            where.push_back(p.side == side::network? "network": p.side == side::input? "input": "output");
            first.push_back(p.first);
            size.push_back(p.size);
            sign.push_back(static_cast<std::int8_t>(p.sign));
            tau.push_back(p.tau_ms);
            bias.push_back(p.bias);
            transfer.push_back(p.model == "rate"? net.phi.of(p.first).name: "");
        }
        // Variable-length UTF-8 strings (version 6; fixed-length in 4 and 5), which h5py reads as
        // str: eisim reads them in a child process, so a damaged global heap cannot crash it (io/h5.hpp).
        h5::write(pg, "name", name);
        h5::write(pg, "model", model);
        h5::write(pg, "side", where);
        h5::write(pg, "first", first);
        h5::write(pg, "size", size);
        h5::write(pg, "sign", sign);
        h5::write(pg, "tau_ms", tau);
        h5::write(pg, "bias", bias);
        h5::write(pg, "transfer", transfer);
    }
    for (auto& P: net.projections) {
        const projection* p = &P;
        auto pg = h5::create_group(g, p->name);
        write_synapses(pg, *p);
        h5::write_attr(pg, "plastic", std::int64_t(p->plastic));
        h5::write_attr_vlen(pg, "pre_population", p->pre_population);
        h5::write_attr_vlen(pg, "post_population", p->post_population);
        h5::write_attr(pg, "n_pre", std::int64_t(p->n_pre));
        h5::write_attr(pg, "n_post", std::int64_t(p->n_post));
        h5::write(pg, "pre_populations", p->pre_populations); // variable-length (version 6), as /network/populations
        h5::write(pg, "post_populations", p->post_populations);
        h5::write_attr_vlen(pg, "connectivity", p->connectivity);
        h5::write_attr(pg, "delay", std::int64_t(p->delay));
    }
}

namespace {

// The spikes of population p in the first n_trials trials, SONATA's way: times (ms), node ids
// within the population and trial ids, sorted by time, then trial, then node.
struct population_spikes {
    std::vector<double> time;
    std::vector<std::uint64_t> node;
    std::vector<std::int64_t> trial;
};

population_spikes spikes_of(const population& p, const std::vector<spiking_trial>& trials, std::size_t n_trials, double dt_ms) {
    const bool input = p.side == side::input;
    struct spike { std::int32_t step, trial, node; };
    std::vector<spike> all;
    for (std::size_t b = 0; b < std::min(n_trials, trials.size()); ++b) {
        const spike_list& l = input? trials[b].input: trials[b].network;
        for (std::size_t q = 0; q < l.size(); ++q)
            if (l.cell[q] >= p.first && l.cell[q] < p.first + p.size)
                all.push_back({l.step[q], static_cast<std::int32_t>(b), l.cell[q] - p.first});
    }
    std::sort(all.begin(), all.end(), [](const spike& x, const spike& y) {
        return std::tie(x.step, x.trial, x.node) < std::tie(y.step, y.trial, y.node);
    });
    population_spikes out;
    out.time.resize(all.size());
    out.node.resize(all.size());
    out.trial.resize(all.size());
    for (std::size_t q = 0; q < all.size(); ++q) {
        out.time[q] = all[q].step*dt_ms;
        out.node[q] = static_cast<std::uint64_t>(all[q].node);
        out.trial[q] = all[q].trial;
    }
    return out;
}

std::vector<double> initial_potentials(const std::vector<spiking_trial>& trials, std::size_t n_trials, int N) {
    n_trials = std::min(n_trials, trials.size());
    std::vector<double> v0(n_trials*static_cast<std::size_t>(N));
    for (std::size_t b = 0; b < n_trials; ++b)
        std::copy(trials[b].v0.data(), trials[b].v0.data() + N, v0.begin() + static_cast<long>(b)*N);
    return v0;
}

// /activity with its steps, and make(group) for each step's new group step_<k>.
template <typename F> void activity_groups(hid_t file, const std::vector<long>& steps, F&& make) {
    auto a = h5::create_group(file, "activity");
    h5::write(a, "steps", std::vector<std::int64_t>(steps.begin(), steps.end()));
    for (long s: steps) {
        const std::string name = "step_" + std::to_string(s);
        if (h5::exists(a, name)) continue;
        auto g = h5::create_group(a, name);
        make(g);
    }
}

void mark_spike_group(hid_t pg) { h5::write_attr_vlen(pg, "sorting", std::string("by_time")); }
void mark_timestamps(hid_t pg) {
    h5::handle ts(H5Dopen2(pg, "timestamps", H5P_DEFAULT), H5Dclose);
    h5::write_attr_vlen(ts, "units", std::string("ms"));
}

} // namespace

void run_recorder::spikes(const network& net, const std::vector<spiking_trial>& trials, double dt_ms) {
    auto g = h5::create_group(file_, "spikes");
    for (auto& p: net.populations) {
        if (p.side == side::output) continue;
        const population_spikes z = spikes_of(p, trials, trials.size(), dt_ms);
        auto pg = h5::create_group(g, p.name);
        mark_spike_group(pg);
        h5::write(pg, "timestamps", z.time);
        mark_timestamps(pg);
        h5::write(pg, "node_ids", z.node);
        h5::write(pg, "trial_ids", z.trial);
    }
    auto a = h5::create_group(file_, "activity");
    const std::vector<double> v0 = initial_potentials(trials, trials.size(), net.n());
    h5::write(a, "initial_v", v0.data(), {static_cast<hsize_t>(trials.size()), static_cast<hsize_t>(net.n())});
}

void run_recorder::prepare_spiking_activity(const std::vector<long>& steps, int n_trials, int n_obs, const network& net) {
    const auto nt = static_cast<hsize_t>(n_trials), T1 = static_cast<hsize_t>(n_obs);
    activity_groups(file_, steps, [&](hid_t g) {
        h5::create_double(g, "time", {T1});
        h5::create_double(g, "mask", {T1});
        h5::create_double(g, "input", {nt, T1, static_cast<hsize_t>(net.n_in)});
        h5::create_double(g, "output", {nt, T1, static_cast<hsize_t>(net.n_out)});
        h5::create_double(g, "target", {nt, T1, static_cast<hsize_t>(net.n_out)});
        h5::create_double(g, "initial_v", {nt, static_cast<hsize_t>(net.n())});
        auto sg = h5::create_group(g, "spikes");
        for (auto& p: net.populations) {
            if (p.side == side::output) continue;
            auto pg = h5::create_group(sg, p.name);
            mark_spike_group(pg);
            h5::create_extendable<double>(pg, "timestamps");
            mark_timestamps(pg);
            h5::create_extendable<std::uint64_t>(pg, "node_ids");
            h5::create_extendable<std::int64_t>(pg, "trial_ids");
        }
    });
}

void run_recorder::spiking_activity(long step, const network& net, const std::vector<spiking_trial>& trials, const matrix& y,
                                    const trial_batch& tb, int n_trials, double dt_ms) {
    if (n_trials <= 0) return;
    auto g = h5::open_group(file_, "activity/step_" + std::to_string(step));
    const int T1 = tb.steps() + 1;
    std::vector<double> time(T1);
    for (int k = 0; k < T1; ++k) time[k] = k*dt_ms;
    h5::overwrite(g, "time", time.data());
    h5::overwrite(g, "mask", tb.mask.data());
    const long B = tb.batch();
    h5::overwrite(g, "input", stack(n_trials, T1, net.n_in, [&](int k) { return matrix(tb.u.at(k)); }).data());
    h5::overwrite(g, "output", stack(n_trials, T1, net.n_out, [&](int k) { return matrix(y.middleCols(static_cast<long>(k)*B, B)); }).data());
    h5::overwrite(g, "target", stack(n_trials, T1, net.n_out, [&](int k) { return matrix(tb.target_at(k)); }).data());
    h5::overwrite(g, "initial_v", initial_potentials(trials, static_cast<std::size_t>(n_trials), net.n()).data());
    for (auto& p: net.populations) {
        if (p.side == side::output) continue;
        const population_spikes z = spikes_of(p, trials, static_cast<std::size_t>(n_trials), dt_ms);
        auto pg = h5::open_group(g, "spikes/" + p.name);
        h5::write_extendable(pg, "timestamps", z.time.data(), z.time.size());
        h5::write_extendable(pg, "node_ids", z.node.data(), z.node.size());
        h5::write_extendable(pg, "trial_ids", z.trial.data(), z.trial.size());
    }
    flush();
}

void run_recorder::write_teacher(const network& teacher) {
    auto g = h5::create_group(file_, "teacher");
    for (auto& P: teacher.projections) {
        const projection* p = &P;
        auto pg = h5::create_group(g, p->name);
        write_synapses(pg, *p);
        h5::write(pg, "weight", p->size(), [&](hsize_t first, hsize_t n, double* out) { p->signed_weights(first, n, out); });
    }
}

void run_recorder::begin_trajectory(const network& net, bool float32, int compression, bool second_moment) {
    auto g = h5::create_group(file_, "trajectory");
    h5::write_attr(g, "committed", std::int64_t{0});
    has_commit_ = true;
    // The series (version 5): 1-D, integers where they count.
    const bool count = true;
    traj_step_ = h5::row_appender::series(g, "step", count);
    traj_loss_ = h5::row_appender::series(g, "loss");
    traj_acc_ = h5::row_appender::series(g, "accuracy");
    traj_heldout_loss_ = h5::row_appender::series(g, "heldout_loss");
    traj_heldout_acc_ = h5::row_appender::series(g, "heldout_accuracy");
    has_heldout_ = true;
    for (auto& p: net.projections) {
        auto pg = h5::create_group(g, p.name);
        weights_.emplace_back(p.name, h5::row_appender(pg, "weight", p.size(), float32, compression));
    }
    auto t = h5::create_group(file_, "training");
    train_loss_ = h5::row_appender::series(t, "loss");
    train_held_ = h5::row_appender::series(t, "held_at_bound", count);
    train_lr_ = h5::row_appender::series(t, "learning_rate");
    train_acc_ = h5::row_appender::series(t, "accuracy");
    has_accuracy_ = true;
    auto c = h5::create_group(file_, "checkpoint");
    for (auto slot: {"slot0", "slot1"}) {
        auto sg = h5::create_group(c, slot);
        const double never = -1;
        h5::write(sg, "step", std::vector<double>{never});
        for (auto& p: net.projections) {
            auto pg = h5::create_group(sg, p.name);
            h5::create_double(pg, "m", {p.size()});
            h5::create_double(pg, "velocity", {p.size()});
            if (second_moment) h5::create_double(pg, "second_moment", {p.size()});
        }
    }
}

run_recorder run_recorder::reopen(const std::string& path) {
    run_recorder r;
    r.path_ = path;
    r.target_ = write_target(path);
    r.swmr_ = true;
    r.file_ = h5::open_file_for_resume(path);
    if (!h5::exists(r.file_, "checkpoint"))
        throw file_error("'" + path + "' has no /checkpoint: it was not written by 'eisim run', or by an older version");
    r.traj_step_ = h5::row_appender::open(r.file_, "trajectory/step");
    r.traj_loss_ = h5::row_appender::open(r.file_, "trajectory/loss");
    for (auto& p: h5::subgroups(h5::open_group(r.file_, "trajectory")))
        r.weights_.emplace_back(p, h5::row_appender::open(r.file_, "trajectory/" + p + "/weight"));
    r.train_loss_ = h5::row_appender::open(r.file_, "training/loss");
    r.train_held_ = h5::row_appender::open(r.file_, "training/held_at_bound");
    r.train_lr_ = h5::row_appender::open(r.file_, "training/learning_rate");
    r.has_accuracy_ = h5::exists(r.file_, "training/accuracy") && h5::exists(r.file_, "trajectory/accuracy");
    if (r.has_accuracy_) {
        r.traj_acc_ = h5::row_appender::open(r.file_, "trajectory/accuracy");
        r.train_acc_ = h5::row_appender::open(r.file_, "training/accuracy");
    }
    r.has_heldout_ = h5::exists(r.file_, "trajectory/heldout_loss") && h5::exists(r.file_, "trajectory/heldout_accuracy");
    if (r.has_heldout_) {
        r.traj_heldout_loss_ = h5::row_appender::open(r.file_, "trajectory/heldout_loss");
        r.traj_heldout_acc_ = h5::row_appender::open(r.file_, "trajectory/heldout_accuracy");
    }
    r.has_commit_ = h5::has_attr(h5::open_group(r.file_, "trajectory"), "committed");
    r.with_target_ = true;
    const auto s = r.read_checkpoint();
    // The next checkpoint goes to the other slot than the newest.
    r.next_slot_ = h5::read_double(r.file_, "checkpoint/slot0/step")[0] == static_cast<double>(s.step)? 1: 0;
    return r;
}

void run_recorder::prepare_activity(const std::vector<long>& steps, int n_trials, int n_obs, const network& net, bool with_target) {
    with_target_ = with_target;
    const auto nt = static_cast<hsize_t>(n_trials), T1 = static_cast<hsize_t>(n_obs);
    activity_groups(file_, steps, [&](hid_t g) {
        h5::create_double(g, "time", {T1});
        h5::create_double(g, "rate", {nt, T1, static_cast<hsize_t>(net.n())});
        h5::create_double(g, "input", {nt, T1, static_cast<hsize_t>(net.n_in)});
        h5::create_double(g, "output", {nt, T1, static_cast<hsize_t>(net.n_out)});
        if (with_target) h5::create_double(g, "target", {nt, T1, static_cast<hsize_t>(net.n_out)});
    });
}

void run_recorder::start_swmr() {
    h5::start_swmr(file_);
    swmr_ = true;
}

bool run_recorder::commit() {
    if (!has_commit_ || !file_) return false;
    flush(); // the rows reach the file before the marker says they are complete
    h5::update_attr(h5::open_group(file_, "trajectory"), "committed", static_cast<std::int64_t>(traj_step_.rows()));
    flush();
    return true;
}

long run_recorder::committed_snapshots() const {
    hsize_t n = traj_step_.rows();
    n = std::min(n, traj_loss_.rows());
    if (has_accuracy_) n = std::min(n, traj_acc_.rows());
    if (has_heldout_) n = std::min({n, traj_heldout_loss_.rows(), traj_heldout_acc_.rows()});
    for (auto& w: weights_) n = std::min(n, w.second.rows());
    if (has_commit_) {
        const std::int64_t c = h5::read_attr_int(h5::open_group(file_, "trajectory"), "committed");
        n = std::min<hsize_t>(n, static_cast<hsize_t>(std::max<std::int64_t>(c, 0)));
    }
    return static_cast<long>(n);
}

void run_recorder::publish() {
    const bool flushed = commit();
    if (partial_.path.empty()) {
        if (!flushed) flush(); // a file from before the marker
        return;
    }
    reveal();
}

void run_recorder::reveal() {
    // On disk before its name says it is there (a rename of an open file keeps its inode: the
    // SWMR writer goes on writing, readers of the final name see it).
    h5::sync(file_);
    if (!swmr_) {
        weights_.clear();
        for (auto* a: {&traj_step_, &traj_loss_, &traj_acc_, &train_loss_, &train_held_, &train_lr_, &train_acc_}) *a = h5::row_appender();
        file_.reset();
    }
    std::error_code ec;
    fs::rename(partial_.path, target_, ec);
    if (ec) throw user_error("cannot write '" + path_ + "': renaming '" + partial_.path + "' to it failed: " + ec.message());
    partial_.path.clear();
    const int dir = ::open(fs::path(target_).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) { ::fsync(dir); ::close(dir); } // the new name on disk too
}

void run_recorder::checkpoint(long step, const network& net, const std::map<std::string, vector>& velocity,
                              const std::map<std::string, vector>& second_moment) {
    // The marker first: every snapshot taken before `step` (its rows flushed by snapshot()) is
    // complete before the checkpoint passes it, so that a resume from `step` finds all of them.
    if (has_commit_) h5::update_attr(h5::open_group(file_, "trajectory"), "committed", static_cast<std::int64_t>(traj_step_.rows()));
    auto sg = h5::open_group(file_, "checkpoint/slot" + std::to_string(next_slot_));
    for (auto& P: net.projections) {
        const projection* p = &P;
        auto pg = h5::open_group(sg, p->name);
        h5::overwrite(pg, "m", [&](hsize_t first, hsize_t n, double* out) { p->magnitudes(first, n, out); });
        // Without momentum there is no velocity: the dataset keeps its zeros (HDF5's fill value).
        auto v = velocity.find(p->name);
        if (v != velocity.end() && v->second.size() == static_cast<long>(p->size())) h5::overwrite(pg, "velocity", v->second.data());
        auto b = second_moment.find(p->name);
        if (b != second_moment.end() && b->second.size() == static_cast<long>(p->size())) h5::overwrite(pg, "second_moment", b->second.data());
    }
    flush(); // the marker and the slot's data reach the file before its step says the slot is complete
    const double s = static_cast<double>(step);
    h5::overwrite(sg, "step", &s);
    flush();
    next_slot_ = 1 - next_slot_;
    if (!partial_.path.empty()) reveal(); // the first checkpoint makes the file one that can be resumed: it appears at its path
}

run_recorder::saved_state run_recorder::read_checkpoint() const {
    saved_state out;
    std::string newest;
    for (auto slot: {"slot0", "slot1"}) {
        const double s = h5::read_double(file_, std::string("checkpoint/") + slot + "/step").at(0);
        if (s > static_cast<double>(out.step)) { out.step = static_cast<long>(s); newest = slot; }
    }
    if (out.step < 0) throw file_error("'" + path_ + "' holds no completed learning step to resume from");
    for (auto& p: h5::subgroups(h5::open_group(file_, "checkpoint/" + newest))) {
        const std::string base = "checkpoint/" + newest + "/" + p + "/";
        auto m = h5::read_double(file_, base + "m");
        auto v = h5::read_double(file_, base + "velocity");
        out.m[p] = Eigen::Map<vector>(m.data(), static_cast<long>(m.size()));
        out.velocity[p] = Eigen::Map<vector>(v.data(), static_cast<long>(v.size()));
        if (h5::exists(file_, base + "second_moment")) {
            auto b = h5::read_double(file_, base + "second_moment");
            out.second_moment[p] = Eigen::Map<vector>(b.data(), static_cast<long>(b.size()));
        }
    }
    return out;
}

namespace {
std::string fmt_number(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.17g", v);
    return b;
}

// check_resumable's checks; what HDF5 itself cannot read comes out as the h5 layer's file_error.
long check_resumable_file(const std::string& path, const network& net, long steps, long record_every, bool second_moment) {
    const auto bad = [&](const std::string& what) { return file_error("cannot resume '" + path + "': " + what); };
    auto f = h5::open_file(path);
    if (!h5::has_attr(f, "format_version")) throw bad("no format_version attribute: not a run file written by 'eisim run'");
    const std::int64_t version = h5::read_attr_int(f, "format_version");
    if (version < 1 || version > run_format_version)
        throw bad("format version " + std::to_string(version) + " (this eisim reads versions 1 to " + std::to_string(run_format_version) +
                  (version > run_format_version? "; it was written by a newer eisim)": ")"));
    for (auto g: {"trajectory", "training", "checkpoint"})
        if (!h5::exists(f, g)) throw bad(std::string("no /") + g + ": it was not written by 'eisim run', or by an older version");
    // Every per-snapshot and per-step series is [rows] (version 5; [rows × 1] before); the
    // weights [rows × synapses].
    const auto rows_of = [&](const std::string& name, hsize_t cols) {
        if (!h5::exists(f, name)) throw bad("missing dataset /" + name);
        const auto dims = h5::shape(f, name);
        const bool series = cols == 1 && dims.size() == 1;
        if (!series && (dims.size() != 2 || dims[1] != cols))
            throw bad("/" + name + " should be " + (cols == 1? std::string("[rows]"): "[rows × " + std::to_string(cols) + "]"));
        return dims[0];
    };
    hsize_t rows = rows_of("trajectory/step", 1);
    rows = std::min(rows, rows_of("trajectory/loss", 1));
    for (auto k: {"trajectory/accuracy", "trajectory/heldout_loss", "trajectory/heldout_accuracy"})
        if (h5::exists(f, k)) rows = std::min(rows, rows_of(k, 1));
    for (auto& p: net.projections) rows = std::min(rows, rows_of("trajectory/" + p.name + "/weight", p.size()));
    for (auto k: {"training/loss", "training/held_at_bound", "training/learning_rate"}) rows_of(k, 1);
    auto traj = h5::open_group(f, "trajectory");
    if (h5::has_attr(traj, "committed")) {
        const std::int64_t c = h5::read_attr_int(traj, "committed");
        if (c < 0) throw bad("/trajectory attribute committed is negative (" + std::to_string(c) + ")");
    }
    if (rows == 0) throw bad("the trajectory holds no complete snapshot");
    // The checkpoint slots (step written last): whole numbers in [-1, steps].
    long newest = -1;
    std::string slot_of_newest;
    for (auto slot: {"slot0", "slot1"}) {
        const std::string base = std::string("checkpoint/") + slot;
        const auto st = h5::read_double(f, base + "/step");
        if (st.size() != 1) throw bad("/" + base + "/step should hold one number");
        const double v = st[0];
        if (!(v >= -1 && v <= static_cast<double>(steps)) || v != std::floor(v))
            throw bad("/" + base + "/step is " + fmt_number(v) + ", not a learning step in [-1, " + std::to_string(steps) +
                      "] (training.steps of the stored config)");
        if (static_cast<long>(v) > newest) newest = static_cast<long>(v), slot_of_newest = slot;
    }
    if (newest < 0) throw bad("it holds no completed learning step to resume from");
    for (auto& p: net.projections) {
        const std::string base = "checkpoint/" + slot_of_newest + "/" + p.name + "/";
        if (!h5::exists(f, base + "m") || !h5::exists(f, base + "velocity")) throw bad("missing /" + base + "m or velocity");
        const auto m = h5::read_double(f, base + "m");
        const auto v = h5::read_double(f, base + "velocity");
        if (m.size() != p.size() || v.size() != p.size())
            throw bad("/" + base + "m holds " + std::to_string(m.size()) + " magnitudes; the network its config builds has " +
                      std::to_string(p.size()) + " synapses in " + p.name);
        const auto finite_nonnegative = [&](const std::vector<double>& x, const std::string& name, const std::string& what) {
            for (std::size_t k = 0; k < x.size(); ++k)
                if (!(std::isfinite(x[k]) && x[k] >= 0))
                    throw bad("/" + base + name + "[" + std::to_string(k) + "] = " + fmt_number(x[k]) + ": " + what + " are finite and never negative");
        };
        finite_nonnegative(m, "m", "magnitudes");
        for (std::size_t k = 0; k < v.size(); ++k)
            if (!std::isfinite(v[k])) throw bad("/" + base + "velocity[" + std::to_string(k) + "] is not finite");
        if (second_moment) {
            if (!h5::exists(f, base + "second_moment"))
                throw bad("missing /" + base + "second_moment: the stored config uses Adam (plasticity.normalisation), whose second moments it needs");
            const auto b = h5::read_double(f, base + "second_moment");
            if (b.size() != p.size()) throw bad("/" + base + "second_moment holds " + std::to_string(b.size()) + " values; " + p.name + " has " + std::to_string(p.size()) + " synapses");
            finite_nonnegative(b, "second_moment", "second moments");
        }
    }
    // The snapshot of the checkpoint's step, where it is committed, holds the same weights: a
    // checkpoint that disagrees with it (flipped bytes leave magnitudes finite but wrong) would
    // resume a run that the file never computed. float32 recording rounds them.
    {
        hsize_t committed_rows = rows;
        if (h5::has_attr(traj, "committed"))
            committed_rows = std::min<hsize_t>(rows, static_cast<hsize_t>(std::max<std::int64_t>(h5::read_attr_int(traj, "committed"), 0)));
        const auto st = h5::read_double(f, "trajectory/step");
        for (hsize_t r = 0; r < committed_rows && r < st.size(); ++r) {
            if (st[r] != static_cast<double>(newest)) continue;
            for (auto& p: net.projections) {
                const std::string base = "checkpoint/" + slot_of_newest + "/" + p.name + "/m";
                const auto m = h5::read_double(f, base);
                const auto w = h5::read_rows(f, "trajectory/" + p.name + "/weight", r, 1);
                for (std::size_t k = 0; k < m.size() && k < w.size(); ++k)
                    if (std::abs(w[k]) != m[k] && std::abs(w[k]) != static_cast<double>(static_cast<float>(m[k])))
                        throw bad("/" + base + "[" + std::to_string(k) + "] = " + fmt_number(m[k]) + " but the snapshot of the same step (" +
                                  std::to_string(newest) + ") holds |w| = " + fmt_number(std::abs(w[k])) + ": the checkpoint and the trajectory disagree");
            }
            break;
        }
    }
    // The snapshots before the checkpoint cannot be redone from it: all must be there.
    const long needed = (newest + record_every - 1) / record_every;
    const long found = snapshots_before(h5::read_double(f, "trajectory/step"), static_cast<long>(rows), newest, record_every);
    if (found < needed)
        throw bad("its checkpoint is after learning step " + std::to_string(newest) + ", but the trajectory holds " + std::to_string(found) +
                  " of the " + std::to_string(needed) + " snapshots taken before it (every " + std::to_string(record_every) +
                  " steps from 0): they cannot be redone from the checkpoint; its snapshots may still be read (eisim analyze, "
                  "export), but the run cannot go on exactly: start it again");
    return newest;
}
} // namespace

long check_resumable(const std::string& path, const network& net, long steps, long record_every, bool second_moment) {
    try {
        return check_resumable_file(path, net, steps, record_every, second_moment);
    } catch (const file_error& e) {
        const std::string msg = e.what();
        if (msg.rfind("cannot resume '", 0) == 0) throw;
        throw damaged_file(path, msg); // a write that failed half way, flipped bytes
    }
}

file_error damaged_file(const std::string& path, const std::string& what) {
    return file_error("cannot resume '" + path + "': the file is damaged (" + what + "); its committed snapshots may still be read "
                      "(eisim analyze, export), but the run cannot go on: start it again");
}

long snapshots_before(const std::vector<double>& steps, long rows, long step, long record_every) {
    long k = 0;
    while (k < rows && k < static_cast<long>(steps.size()) && k*record_every < step && steps[k] == static_cast<double>(k*record_every)) ++k;
    return k;
}

void run_recorder::truncate_to(long step, long record_every) {
    hsize_t written = std::min(traj_step_.rows(), traj_loss_.rows()); // rows in every per-snapshot dataset
    if (has_accuracy_) written = std::min(written, traj_acc_.rows());
    if (has_heldout_) written = std::min({written, traj_heldout_loss_.rows(), traj_heldout_acc_.rows()});
    for (auto& w: weights_) written = std::min(written, w.second.rows());
    const auto keep = static_cast<hsize_t>(
        snapshots_before(h5::read_double(file_, "trajectory/step"), static_cast<long>(written), step, record_every));
    traj_step_.truncate(keep);
    traj_loss_.truncate(keep);
    if (has_accuracy_) traj_acc_.truncate(keep);
    if (has_heldout_) traj_heldout_loss_.truncate(keep), traj_heldout_acc_.truncate(keep);
    for (auto& w: weights_) w.second.truncate(keep);
    auto rows = std::min({static_cast<hsize_t>(step), train_loss_.rows(), train_held_.rows(), train_lr_.rows()});
    train_loss_.truncate(rows);
    train_held_.truncate(rows);
    train_lr_.truncate(rows);
    if (has_accuracy_) train_acc_.truncate(std::min<hsize_t>(rows, train_acc_.rows()));
    commit();
}

void run_recorder::ensure_room(std::uint64_t bytes) const {
    // HDF5 has no journal: a write that fails half way can damage the file's indexes, so a
    // snapshot that cannot fit is refused before any of it is written.
    const fs::path where = fs::absolute(target_).parent_path();
    struct statvfs v{};
    if (::statvfs(where.c_str(), &v) == 0) {
        const auto free = static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
        if (free < bytes)
            throw storage_error("no space left on the disk holding '" + where.string() + "' for the next snapshot (" +
                                std::to_string(bytes) + " bytes needed, " + std::to_string(free) + " free)");
    }
    struct rlimit lim{};
    if (::getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
        std::error_code ec;
        const auto size = fs::file_size(partial_.path.empty()? target_: partial_.path, ec);
        if (!ec && size + bytes > lim.rlim_cur)
            throw storage_error("the file-size limit (ulimit -f: " + std::to_string(lim.rlim_cur) + " bytes) leaves no room for the next "
                                "snapshot (the file has " + std::to_string(size) + " bytes, the snapshot needs " + std::to_string(bytes) + ")");
    }
}

void run_recorder::snapshot(long step, double loss, const network& net, double accuracy, double heldout_loss, double heldout_accuracy) {
    // Room for the rows, the checkpoint slot a first write allocates, and HDF5's metadata.
    std::uint64_t bytes = 1u << 20;
    for (auto& [name, app]: weights_) bytes += app.cols() * 8 + 2 * net.get(name).size() * 8;
    ensure_room(bytes);
    const double s = static_cast<double>(step);
    traj_step_.append(&s);
    traj_loss_.append(&loss);
    if (has_accuracy_) traj_acc_.append(&accuracy);
    if (has_heldout_) traj_heldout_loss_.append(&heldout_loss), traj_heldout_acc_.append(&heldout_accuracy);
    for (auto& [name, app]: weights_) {
        const projection& p = net.get(name);
        app.append([&](hsize_t first, hsize_t n, double* out) { p.signed_weights(first, n, out); });
    }
    flush();
}

void run_recorder::training_step(double loss, long held, double lr, double accuracy) {
    const double h = static_cast<double>(held);
    train_loss_.append(&loss);
    train_held_.append(&h);
    train_lr_.append(&lr);
    if (has_accuracy_) train_acc_.append(&accuracy);
}

void run_recorder::activity(long step, const network& net, const lowered_network& low, const trajectory& tr,
                            const trial_batch& trials, int n_trials, bool with_target) {
    if (n_trials <= 0) return;
    auto g = h5::open_group(file_, "activity/step_" + std::to_string(step));
    const int T1 = static_cast<int>(tr.obs.size());
    std::vector<double> time(T1);
    for (int k = 0; k < T1; ++k) time[k] = k*tr.dt_obs;
    h5::overwrite(g, "time", time.data());
    matrix r;
    auto rates = stack(n_trials, T1, net.n(), [&](int k) { net.phi.apply(tr.at_obs(k), r); return r; });
    h5::overwrite(g, "rate", rates.data());
    auto inputs = stack(n_trials, T1, net.n_in, [&](int k) { return matrix(trials.u.at(k)); });
    h5::overwrite(g, "input", inputs.data());
    auto outputs = stack(n_trials, T1, net.n_out, [&](int k) { net.phi.apply(tr.at_obs(k), r); return matrix(low.W_out*r); });
    h5::overwrite(g, "output", outputs.data());
    if (with_target && with_target_) {
        auto targets = stack(n_trials, T1, net.n_out, [&](int k) { return matrix(trials.target_at(k)); });
        h5::overwrite(g, "target", targets.data());
    }
    flush();
}

void run_recorder::flush() { h5::flush(file_); }

} // namespace eisim
