#include "sim/recorder.hpp"

#include <algorithm>
#include <tuple>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "models/error.hpp"

namespace eisim {

void check_output_path(const std::string& path, bool overwrite) {
    namespace fs = std::filesystem;
    if (path.empty()) throw user_error("no output file given (--out)");
    if (fs::exists(path) && !overwrite)
        throw user_error("output file '" + path + "' exists; pass --overwrite to replace it");
    const auto dir = fs::path(path).parent_path();
    if (!dir.empty() && !fs::is_directory(dir))
        throw user_error("cannot write '" + path + "': directory '" + dir.string() + "' does not exist");
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
                           bool swmr): path_(path) {
    check_output_path(path, overwrite);
    file_ = h5::create_file(path, swmr);
    h5::write_attr(file_, "format", std::string("eisim.run"));
    h5::write_attr(file_, "format_version", run_format_version);
    h5::write_attr(file_, "software_version", std::string(software_version));
    h5::write_attr(file_, "git_revision", std::string(git_revision));
    h5::write_attr(file_, "created_utc", utc_now());
    h5::write_attr(file_, "seed", seed);
    h5::write_attr(file_, "config", resolved_config);
}

void run_recorder::write_network(const network& net) {
    auto g = h5::create_group(file_, "network");
    h5::write_attr(g, "n_e", std::int64_t(net.n_e));
    h5::write_attr(g, "n_i", std::int64_t(net.n_i));
    h5::write_attr(g, "n_in", std::int64_t(net.n_in));
    h5::write_attr(g, "n_out", std::int64_t(net.n_out));
    h5::write_attr(g, "transfer", net.phi.name()); // each population's own: populations/transfer
    std::string order; // the projections in the circuit's order (names hold no commas)
    for (auto& p: net.projections) order += (order.empty()? "": ",") + p.name;
    h5::write_attr(g, "projections", order);
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
        h5::write_attr(pg, "pre_population", p->pre_population);
        h5::write_attr(pg, "post_population", p->post_population);
        h5::write_attr(pg, "n_pre", std::int64_t(p->n_pre));
        h5::write_attr(pg, "n_post", std::int64_t(p->n_post));
        h5::write(pg, "pre_populations", p->pre_populations);
        h5::write(pg, "post_populations", p->post_populations);
        h5::write_attr(pg, "connectivity", p->connectivity);
        h5::write_attr(pg, "delay", std::int64_t(p->delay));
    }
}

void run_recorder::spikes(const network& net, const std::vector<spiking_trial>& trials, double dt_ms) {
    auto g = h5::create_group(file_, "spikes");
    for (auto& p: net.populations) {
        if (p.side == side::output) continue;
        const bool input = p.side == side::input;
        struct spike { std::int32_t step, trial, node; };
        std::vector<spike> all;
        for (std::size_t b = 0; b < trials.size(); ++b) {
            const spike_list& l = input? trials[b].input: trials[b].network;
            for (std::size_t q = 0; q < l.size(); ++q)
                if (l.cell[q] >= p.first && l.cell[q] < p.first + p.size)
                    all.push_back({l.step[q], static_cast<std::int32_t>(b), l.cell[q] - p.first});
        }
        std::sort(all.begin(), all.end(), [](const spike& x, const spike& y) {
            return std::tie(x.step, x.trial, x.node) < std::tie(y.step, y.trial, y.node);
        });
        std::vector<double> time(all.size());
        std::vector<std::uint64_t> node(all.size());
        std::vector<std::int64_t> trial(all.size());
        for (std::size_t q = 0; q < all.size(); ++q) {
            time[q] = all[q].step*dt_ms;
            node[q] = static_cast<std::uint64_t>(all[q].node);
            trial[q] = all[q].trial;
        }
        auto pg = h5::create_group(g, p.name);
        h5::write_attr(pg, "sorting", std::string("by_time"));
        h5::write(pg, "timestamps", time);
        {
            h5::handle ts(H5Dopen2(pg, "timestamps", H5P_DEFAULT), H5Dclose);
            h5::write_attr(ts, "units", std::string("ms"));
        }
        h5::write(pg, "node_ids", node);
        h5::write(pg, "trial_ids", trial);
    }
    auto a = h5::create_group(file_, "activity");
    std::vector<double> v0(trials.size()*static_cast<std::size_t>(net.n()));
    for (std::size_t b = 0; b < trials.size(); ++b)
        std::copy(trials[b].v0.data(), trials[b].v0.data() + net.n(), v0.begin() + static_cast<long>(b)*net.n());
    h5::write(a, "initial_v", v0.data(), {static_cast<hsize_t>(trials.size()), static_cast<hsize_t>(net.n())});
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

void run_recorder::begin_trajectory(const network& net, bool float32, int compression) {
    auto g = h5::create_group(file_, "trajectory");
    traj_step_ = h5::row_appender(g, "step", 1);
    traj_loss_ = h5::row_appender(g, "loss", 1);
    traj_acc_ = h5::row_appender(g, "accuracy", 1);
    for (auto& p: net.projections) {
        auto pg = h5::create_group(g, p.name);
        weights_.emplace_back(p.name, h5::row_appender(pg, "weight", p.size(), float32, compression));
    }
    auto t = h5::create_group(file_, "training");
    train_loss_ = h5::row_appender(t, "loss", 1);
    train_held_ = h5::row_appender(t, "held_at_bound", 1);
    train_lr_ = h5::row_appender(t, "learning_rate", 1);
    train_acc_ = h5::row_appender(t, "accuracy", 1);
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
        }
    }
}

run_recorder run_recorder::reopen(const std::string& path) {
    run_recorder r;
    r.path_ = path;
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
    r.with_target_ = true;
    const auto s = r.read_checkpoint();
    // The next checkpoint goes to the other slot than the newest.
    r.next_slot_ = h5::read_double(r.file_, "checkpoint/slot0/step")[0] == static_cast<double>(s.step)? 1: 0;
    return r;
}

void run_recorder::prepare_activity(const std::vector<long>& steps, int n_trials, int n_obs, const network& net, bool with_target) {
    with_target_ = with_target;
    auto a = h5::create_group(file_, "activity");
    h5::write(a, "steps", std::vector<std::int64_t>(steps.begin(), steps.end()));
    const auto nt = static_cast<hsize_t>(n_trials), T1 = static_cast<hsize_t>(n_obs);
    for (long s: steps) {
        const std::string name = "step_" + std::to_string(s);
        if (h5::exists(a, name)) continue;
        auto g = h5::create_group(a, name);
        h5::create_double(g, "time", {T1});
        h5::create_double(g, "rate", {nt, T1, static_cast<hsize_t>(net.n())});
        h5::create_double(g, "input", {nt, T1, static_cast<hsize_t>(net.n_in)});
        h5::create_double(g, "output", {nt, T1, static_cast<hsize_t>(net.n_out)});
        if (with_target) h5::create_double(g, "target", {nt, T1, static_cast<hsize_t>(net.n_out)});
    }
}

void run_recorder::start_swmr() { h5::start_swmr(file_); }

void run_recorder::checkpoint(long step, const network& net, const std::map<std::string, vector>& velocity) {
    auto sg = h5::open_group(file_, "checkpoint/slot" + std::to_string(next_slot_));
    for (auto& P: net.projections) {
        const projection* p = &P;
        auto pg = h5::open_group(sg, p->name);
        h5::overwrite(pg, "m", [&](hsize_t first, hsize_t n, double* out) { p->magnitudes(first, n, out); });
        // Without momentum there is no velocity: the dataset keeps its zeros (HDF5's fill value).
        auto v = velocity.find(p->name);
        if (v != velocity.end() && v->second.size() == static_cast<long>(p->size())) h5::overwrite(pg, "velocity", v->second.data());
    }
    flush(); // the slot's data reach the file before its step says it is complete
    const double s = static_cast<double>(step);
    h5::overwrite(sg, "step", &s);
    flush();
    next_slot_ = 1 - next_slot_;
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
    }
    return out;
}

void run_recorder::truncate_to(long step) {
    // Snapshots are in step order: keep those taken before `step`.
    const auto steps = h5::read_double(file_, "trajectory/step");
    hsize_t keep = 0;
    while (keep < steps.size() && steps[keep] < static_cast<double>(step)) ++keep;
    traj_step_.truncate(keep);
    traj_loss_.truncate(keep);
    if (has_accuracy_) traj_acc_.truncate(keep);
    for (auto& w: weights_) w.second.truncate(keep);
    const auto rows = std::min<hsize_t>(static_cast<hsize_t>(step), train_loss_.rows());
    train_loss_.truncate(rows);
    train_held_.truncate(rows);
    train_lr_.truncate(rows);
    if (has_accuracy_) train_acc_.truncate(std::min<hsize_t>(rows, train_acc_.rows()));
    flush();
}

void run_recorder::snapshot(long step, double loss, const network& net, double accuracy) {
    const double s = static_cast<double>(step);
    traj_step_.append(&s);
    traj_loss_.append(&loss);
    if (has_accuracy_) traj_acc_.append(&accuracy);
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
