#include "sim/recorder.hpp"

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

} // namespace

run_recorder::run_recorder(const std::string& path, bool overwrite, const std::string& resolved_config, std::int64_t seed): path_(path) {
    check_output_path(path, overwrite);
    file_ = h5::create_file(path);
    h5::write_attr(file_, "format", std::string("eisim.run"));
    h5::write_attr(file_, "format_version", run_format_version);
    h5::write_attr(file_, "software_version", std::string(software_version));
    h5::write_attr(file_, "git_revision", std::string(git_revision));
    h5::write_attr(file_, "created_utc", utc_now());
    h5::write_attr(file_, "seed", seed);
    h5::write_attr(file_, "config", resolved_config);
}

void run_recorder::write_network(const network& net, const std::vector<std::string>& plastic) {
    auto g = h5::create_group(file_, "network");
    h5::write_attr(g, "n_e", std::int64_t(net.n_e));
    h5::write_attr(g, "n_i", std::int64_t(net.n_i));
    h5::write_attr(g, "n_in", std::int64_t(net.n_in));
    h5::write_attr(g, "n_out", std::int64_t(net.n_out));
    h5::write_attr(g, "transfer", net.phi.name);
    h5::write(g, "tau", to_std(net.tau));
    std::vector<std::int8_t> cs(net.n());
    for (int i = 0; i < net.n(); ++i) cs[i] = static_cast<std::int8_t>(net.cell_sign[i]);
    h5::write(g, "cell_sign", cs);
    for (auto* p: {&net.recurrent, &net.input, &net.readout}) {
        auto pg = h5::create_group(g, p->name);
        h5::write(pg, "pre", p->pre);
        h5::write(pg, "post", p->post);
        h5::write(pg, "sign", p->sign);
        const bool is_plastic = std::find(plastic.begin(), plastic.end(), p->name) != plastic.end();
        h5::write_attr(pg, "plastic", std::int64_t(is_plastic));
        h5::write_attr(pg, "pre_population", p->pre_population);
        h5::write_attr(pg, "post_population", p->post_population);
        h5::write_attr(pg, "n_pre", std::int64_t(p->n_pre));
        h5::write_attr(pg, "n_post", std::int64_t(p->n_post));
    }
}

void run_recorder::write_teacher(const network& teacher) {
    auto g = h5::create_group(file_, "teacher");
    for (auto* p: {&teacher.recurrent, &teacher.input, &teacher.readout}) {
        auto pg = h5::create_group(g, p->name);
        h5::write(pg, "pre", p->pre);
        h5::write(pg, "post", p->post);
        h5::write(pg, "sign", p->sign);
        h5::write(pg, "weight", to_std(p->signed_weights()));
    }
}

void run_recorder::begin_trajectory(const network& net) {
    auto g = h5::create_group(file_, "trajectory");
    traj_step_ = h5::row_appender(g, "step", 1);
    traj_loss_ = h5::row_appender(g, "loss", 1);
    for (auto* p: {&net.recurrent, &net.input, &net.readout}) {
        auto pg = h5::create_group(g, p->name);
        weights_.emplace_back(p->name, h5::row_appender(pg, "weight", p->size()));
    }
    auto t = h5::create_group(file_, "training");
    train_loss_ = h5::row_appender(t, "loss", 1);
    train_held_ = h5::row_appender(t, "held_at_bound", 1);
    train_lr_ = h5::row_appender(t, "learning_rate", 1);
}

void run_recorder::snapshot(long step, double loss, const network& net) {
    const double s = static_cast<double>(step);
    traj_step_.append(&s);
    traj_loss_.append(&loss);
    for (auto& [name, app]: weights_) {
        const vector w = net.get(name).signed_weights();
        app.append(w.data());
    }
    flush();
}

void run_recorder::training_step(double loss, long held, double lr) {
    const double h = static_cast<double>(held);
    train_loss_.append(&loss);
    train_held_.append(&h);
    train_lr_.append(&lr);
}

void run_recorder::activity(long step, const network& net, const lowered_network& low, const trajectory& tr,
                            const trial_batch& trials, int n_trials, bool with_target) {
    if (n_trials <= 0) return;
    if (!h5::exists(file_, "activity")) h5::create_group(file_, "activity");
    auto a = h5::open_group(file_, "activity");
    auto g = h5::create_group(a, "step_" + std::to_string(step));
    const int T1 = static_cast<int>(tr.obs.size());
    const auto T1h = static_cast<hsize_t>(T1), nt = static_cast<hsize_t>(n_trials);
    std::vector<double> time(T1);
    for (int k = 0; k < T1; ++k) time[k] = k*tr.dt_obs;
    h5::write(g, "time", time);
    matrix r;
    auto rates = stack(n_trials, T1, net.n(), [&](int k) { net.phi.apply(tr.at_obs(k), r); return r; });
    h5::write(g, "rate", rates.data(), {nt, T1h, static_cast<hsize_t>(net.n())});
    auto inputs = stack(n_trials, T1, net.n_in, [&](int k) { return matrix(trials.u.at(k)); });
    h5::write(g, "input", inputs.data(), {nt, T1h, static_cast<hsize_t>(net.n_in)});
    auto outputs = stack(n_trials, T1, net.n_out, [&](int k) { net.phi.apply(tr.at_obs(k), r); return matrix(low.W_out*r); });
    h5::write(g, "output", outputs.data(), {nt, T1h, static_cast<hsize_t>(net.n_out)});
    if (with_target) {
        auto targets = stack(n_trials, T1, net.n_out, [&](int k) { return matrix(trials.target_at(k)); });
        h5::write(g, "target", targets.data(), {nt, T1h, static_cast<hsize_t>(net.n_out)});
    }
    activity_steps_.push_back(step);
    if (h5::exists(a, "steps")) H5Ldelete(a, "steps", H5P_DEFAULT);
    h5::write(a, "steps", activity_steps_);
    flush();
}

void run_recorder::flush() { h5::flush(file_); }

} // namespace eisim
