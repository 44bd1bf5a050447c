#include "sim/experiment.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <limits>
#include <optional>

#include "models/error.hpp"
#include "models/integrate.hpp"
#include "models/tasks.hpp"
#include "models/trials.hpp"
#include "plasticity/bounds.hpp"
#include "plasticity/local_credit.hpp"
#include "plasticity/objective.hpp"
#include "plasticity/online_trial.hpp"
#include "plasticity/spiking_credit.hpp"
#include "sim/heldout.hpp"
#include "sim/progress.hpp"
#include "sim/recorder.hpp"
#include "sim/signals.hpp"

namespace eisim {

namespace {

using clock_type = std::chrono::steady_clock;

std::uint64_t seed_of(std::int64_t s) { return static_cast<std::uint64_t>(s); }

// The run file as a sink: snapshots every record_every steps and at the end, the activity at the
// first and last steps, and each step's training record and checkpoint.
class hdf5_sink: public sink {
public:
    hdf5_sink(run_recorder& rec, const config& c): rec_(rec), c_(c) {}
    void evaluated(const evaluated_view& v) override {
        const long S = c_.training.steps;
        if (v.step == S || v.step % c_.training.record_every == 0)
            rec_.snapshot(v.step, v.loss, v.net, v.accuracy, v.heldout_loss, v.heldout_accuracy);
        if (v.step != 0 && v.step != S) return;
        if (v.spiking)
            rec_.spiking_activity(v.step, v.net, v.spiking->trials, v.spiking->y, v.trials, c_.training.activity_trials, c_.integrator.dt_ms);
        else
            rec_.activity(v.step, v.net, *v.low, *v.tr, v.trials, c_.training.activity_trials, true);
    }
    void updated(const updated_view& v) override {
        rec_.training_step(v.loss, v.held_at_bound, v.learning_rate, v.accuracy);
        rec_.checkpoint(v.step + 1, v.net, v.opt.velocity(), v.opt.second_moment());
    }
    void finish(const run_summary&) override { rec_.publish(); } // no checkpoint without steps: published here

private:
    run_recorder& rec_;
    const config& c_;
};

// The progress display as a sink.
class progress_sink: public sink {
public:
    explicit progress_sink(bool quiet): quiet_(quiet) {}
    void prepare(long first, long steps) override {
        first_ = first;
        bar_.emplace(steps - first, quiet_);
    }
    void updated(const updated_view& v) override { bar_->update(v.step + 1 - first_, v.loss, v.accuracy); }
    void finish(const run_summary& s) override { bar_->finish(s.final_loss, s.final_accuracy); }

private:
    bool quiet_;
    long first_ = 0;
    std::optional<progress> bar_;
};

} // namespace

std::vector<projection_summary> summarize(const network& net) {
    std::vector<projection_summary> out;
    for (auto& P: net.projections) {
        const projection* p = &P;
        projection_summary s;
        s.name = p->name;
        s.n = static_cast<long>(p->size());
        // Two passes over the synapses, no copy of them; ln|w| of those with |w| > 0 (ln 0 = −∞).
        double sum = 0.0, ss = 0.0;
        p->for_each([&](std::size_t, int, int, int, double m) {
            if (m > 0) sum += std::log(m);
            else ++s.zero;
        });
        const long positive = s.n - s.zero;
        if (positive > 0) {
            s.mean_ln = sum/static_cast<double>(positive);
            p->for_each([&](std::size_t, int, int, int, double m) {
                if (m <= 0) return;
                const double d = std::log(m) - s.mean_ln;
                ss += d*d;
            });
            s.sd_ln = positive > 1? std::sqrt(ss/static_cast<double>(positive - 1)): 0.0;
        }
        out.push_back(s);
    }
    return out;
}

void simulate(const config& c, const run_options& opt) {
    const output_lock lock(opt.out); // one writer per file (sim/recorder.hpp), until the file is closed
    check_output_path(opt.out, opt.overwrite);
    const auto seed = seed_of(c.training.seed);
    const network net = build_network(c.circuit, seed, layout_for(c.integrator, c.circuit));
    auto g = stream(seed, "trials", 0);
    const trial_batch tb = make_task_inputs(trial_spec{c.task, c.input, c.integrator, c.circuit}, g);
    if (c.circuit.spiking()) {
        const spiking_network s = lower_spiking(net, c.circuit, c.integrator.dt_ms);
        const auto trials = simulate_spiking(s, tb.u, seed);
        run_recorder rec(opt.out, opt.overwrite, to_toml(c), c.training.seed);
        rec.write_network(net);
        rec.begin_trajectory(net); // the weights simulated: one snapshot, step 0
        rec.snapshot(0, std::numeric_limits<double>::quiet_NaN(), net);
        rec.spikes(net, trials, c.integrator.dt_ms);
        rec.publish();
        return;
    }
    const lowered_network low(net, sparse_products(c.integrator, c.circuit));
    auto noise = stream(seed, "noise", 0);
    const trajectory tr = integrate(net, low, tb.u, tb.x0, c.integrator, noise);
    run_recorder rec(opt.out, opt.overwrite, to_toml(c), c.training.seed);
    rec.write_network(net);
    rec.prepare_activity({0}, c.task.batch, c.observation_steps() + 1, net, false);
    rec.activity(0, net, low, tr, tb, c.task.batch, false);
    rec.publish();
}

config config_of_run(const std::string& path) {
    auto f = h5::open_file(path);
    const h5::file_strings strings(f);
    if (!h5::has_attr(f, "format") || strings.attr(f, "format") != "eisim.run")
        throw file_error("'" + path + "' is not an eisim run file");
    const std::string text = strings.attr(f, "config");
    return config_of_run_text(text, h5::has_attr(f, "format_version")? h5::read_attr_int(f, "format_version"): 0, path);
}

config config_of_run_text(const std::string& text, std::int64_t format_version, const std::string& where) {
    if (format_version == 1) return parse_format1_config(text, where + ":/config");
    return parse_stored_config(text, where + ":/config");
}

run_summary learn(const config& c, const run_options& opt, const std::vector<sink*>& extra) {
    std::optional<stop_signals> signals; // from the start: a signal during set-up also stops after the first step
    if (opt.own_signal_handlers) signals.emplace();
    validate_for_learning(c);
    const output_lock lock(opt.out); // one writer per file (sim/recorder.hpp), until the file is closed
    if (!opt.resume) check_output_path(opt.out, opt.overwrite);
    const task_info& task = task_registry().get(c.task.kind);
    const bool spiking = c.circuit.spiking();
    const credit_rule& rule_info = credit_registry().get(c.plasticity.credit);
    if (spiking && rule_info.family != "spiking")
        throw config_error("plasticity.credit", "= " + c.plasticity.credit + " is a credit rule of rate circuits; spiking circuits learn with eprop "
                                                "or surrogate_bptt");
    if (spiking && (task.teacher || task.fixed_point)) {
        std::string decision_tasks;
        for (auto& name: task_registry().names())
            if (task_registry().get(name).decision) decision_tasks += (decision_tasks.empty()? "": ", ") + name;
        throw config_error("task.kind", "= " + c.task.kind + ": its targets come from a rate teacher network; spiking circuits learn the "
                                        "decision tasks (" + decision_tasks + ")");
    }
    const auto t0 = clock_type::now();
    const auto seed = seed_of(c.training.seed);
    const layout storage = layout_for(c.integrator, c.circuit);
    network student = build_network(c.circuit, seed, storage);
    // The teacher (tasks that have one) is needed only to make trials: with one fixed set of
    // trials it is released once they are made and it is written to the file.
    std::optional<network> teacher;
    if (task.teacher) teacher = build_network(c.circuit, seed_of(c.task.keys.integer("teacher_seed")), storage);
    const plastic_set which = plastic_of(student, c.circuit);
    if (task.fixed_point) { // fewer patterns than plastic synapses: the overparameterised setting
        std::size_t synapses = 0;
        for (std::size_t k = 0; k < student.projections.size(); ++k) if (which.of(student, k)) synapses += student.projections[k].size();
        if (static_cast<std::size_t>(c.task.batch) >= synapses)
            throw config_error("task.batch", "= " + std::to_string(c.task.batch) + " patterns, but " + c.task.kind +
                                                 " needs fewer patterns than plastic synapses (" + std::to_string(synapses) + ")");
    }
    const long S = c.training.steps;
    optimizer opt_state(c.plasticity, S);
    credit_desc credit_of(c.plasticity.credit);
    credit_of.keys = c.plasticity.keys;
    const credit credit_rule(credit_of, student, seed, c.integrator);
    // The loss, its credit and the task's accuracy of one forward pass (plasticity/objective.hpp).
    const objective task_objective(c.task, credit_rule, c.integrator, which);
    const trial_spec spec{c.task, c.input, c.integrator, c.circuit}; // models/trials.hpp

    const heldout_set heldout(c, seed); // decision tasks: the fixed trials never learned from
    run_summary summary;
    summary.steps = S;
    summary.heldout_trials = heldout.trials();
    summary.accuracy_measure = task.decision? "fraction correct": "R^2";
    summary.initial = summarize(student);

    long s0 = 0;
    if (opt.resume) check_resumable(opt.out, student, S, c.training.record_every, opt_state.adam()); // before anything is changed: a refused resume changes nothing
    // A dataset that check_resumable found but HDF5 cannot open (an index a failed write broke) is damage.
    const auto reopened = [&] {
        try {
            return run_recorder::reopen(opt.out);
        } catch (const file_error& e) {
            throw damaged_file(opt.out, e.what());
        }
    };
    run_recorder rec = opt.resume? reopened(): run_recorder(opt.out, opt.overwrite, to_toml(c), c.training.seed, true);
    if (opt.resume) {
        const auto saved = rec.read_checkpoint();
        s0 = saved.step; // within [0, S]: check_resumable
        for (auto& P: student.projections) {
            const std::string& p = P.name;
            if (!saved.m.count(p) || saved.m.at(p).size() != static_cast<long>(P.size()))
                throw file_error("'" + opt.out + "': the checkpoint does not match the network its config builds");
            P.set_magnitudes(saved.m.at(p));
            if (opt_state.has_velocity()) opt_state.velocity()[p] = saved.velocity.at(p);
            if (opt_state.adam()) opt_state.second_moment()[p] = saved.second_moment.at(p);
        }
        try {
            rec.truncate_to(s0, c.training.record_every);
            // The first snapshot's numbers for the summary: a dataset a failed write left broken
            // (a quota) is found here, or by the first flush.
            const auto first = [&](const std::string& name) { return h5::read_rows(rec.file(), name, 0, 1).at(0); };
            summary.initial_loss = first("trajectory/loss");
            if (h5::exists(rec.file(), "trajectory/accuracy")) summary.initial_accuracy = first("trajectory/accuracy");
            if (h5::exists(rec.file(), "trajectory/heldout_accuracy")) summary.initial_heldout_accuracy = first("trajectory/heldout_accuracy");
        } catch (const file_error& e) {
            throw damaged_file(opt.out, e.what()); // broken indexes are found by the first flush
        }
        if (!opt.quiet) std::fprintf(stderr, "resuming '%s' after learning step %ld of %ld\n", opt.out.c_str(), s0, S);
    } else {
        rec.write_network(student);
        if (teacher) rec.write_teacher(*teacher);
        rec.begin_trajectory(student, c.training.record_precision == "float32", c.training.record_compression, opt_state.adam());
        std::vector<long> activity_steps{0};
        if (S > 0) activity_steps.push_back(S);
        if (spiking) rec.prepare_spiking_activity(activity_steps, c.training.activity_trials, c.observation_steps() + 1, student);
        else rec.prepare_activity(activity_steps, c.training.activity_trials, c.observation_steps() + 1, student, true);
        rec.start_swmr();
    }
    trial_batch fixed;
    if (!c.task.fresh_trials) {
        fixed = make_trials(spec, teacher? &*teacher: nullptr, seed, 0);
        teacher.reset();
    }
    std::optional<lowered_network> low; // rate circuits
    if (!spiking) low.emplace(student, sparse_products(c.integrator, c.circuit));
    hdf5_sink file_sink(rec, c);
    progress_sink bar(opt.quiet);
    std::vector<sink*> sinks{&file_sink, &bar};
    sinks.insert(sinks.end(), extra.begin(), extra.end());
    for (auto* k: sinks) k->prepare(s0, S);
    // rflo_form = online: the weights learn during the trial (plasticity/online_trial.hpp); the loss and
    // accuracy recorded for step s are still those of the weights before it.
    const bool online = c.plasticity.credit == "rflo" && c.plasticity.keys.text("rflo_form") == "online";

    spiking_record spiking_storage; // ψ and v of the spiking pass, kept across the steps
    for (long s = s0; s <= S; ++s) {
        const auto step_start = clock_type::now();
        try {
            trial_batch fresh;
            if (c.task.fresh_trials) fresh = make_trials(spec, teacher? &*teacher: nullptr, seed, s);
            const trial_batch& trials = c.task.fresh_trials? fresh: fixed;
            // The forward pass, its loss and accuracy, and (before the final state) its credit.
            const bool with_credit = s < S && !online;
            std::optional<trajectory> tr;
            std::optional<spiking_evaluation> spikes;
            evaluation ev;
            if (spiking) {
                const spiking_network lowered = lower_spiking(student, c.circuit, c.integrator.dt_ms);
                spikes.emplace(evaluate_spiking(student, lowered, trials, credit_rule, which, seed, static_cast<std::uint64_t>(s), with_credit,
                                                &spiking_storage));
                ev.g = std::move(spikes->g);
                ev.accuracy = spikes->accuracy;
            } else {
                auto noise = stream(seed, "noise", static_cast<std::uint64_t>(s));
                tr.emplace(integrate(student, *low, trials.u, trials.x0, c.integrator, noise));
                ev = with_credit? task_objective.evaluate_with_credit(student, *low, *tr, trials, static_cast<std::uint64_t>(s))
                                : task_objective.evaluate(student, *low, *tr, trials);
            }
            evaluated_view view{s, ev.g.loss, ev.accuracy, student, trials, low? &*low: nullptr, tr? &*tr: nullptr,
                                spikes? &*spikes: nullptr};
            if (heldout.due(s, S)) {
                const heldout_result h = heldout.measure(student, low? &*low: nullptr, c, task_objective, credit_rule, which);
                view.heldout_loss = h.loss, view.heldout_accuracy = h.accuracy;
                if (s == s0 && s == 0) summary.initial_heldout_accuracy = h.accuracy;
                if (s == S) summary.final_heldout_accuracy = h.accuracy;
            }
            if (s == S) { // the final state: one more forward pass for its loss
                for (auto* k: sinks) k->evaluated(view);
                summary.final_loss = ev.g.loss;
                summary.final_accuracy = ev.accuracy;
                if (S == 0) summary.initial_loss = ev.g.loss, summary.initial_accuracy = ev.accuracy;
                break;
            }
            const gradients& g = ev.g;
            if (!g.finite())
                throw divergence_error(s, "the loss or its gradient is not finite");
            for (auto* k: sinks) k->evaluated(view);
            if (s == 0) {
                summary.initial_loss = g.loss;
                summary.initial_accuracy = ev.accuracy;
            }
            long held = 0;
            if (online) {
                auto same_noise = stream(seed, "noise", static_cast<std::uint64_t>(s)); // the realisation of tr
                held = rflo_online_trial(student, *low, trials, c.integrator, same_noise, credit_rule.feedback_readout(), which,
                                         opt_state, s).held;
            } else {
                held = opt_state.apply(student, g, which, s);
            }
            if (low) low->update(student);
            for (auto* k: sinks) k->updated({s, g.loss, ev.accuracy, held, opt_state.learning_rate(s), student, opt_state});
            summary.step_seconds.push_back(std::chrono::duration<double>(clock_type::now() - step_start).count());
            int sig = stop_signals::received(); // 0 without the handlers: nothing else sets it
            if (!sig && opt.stop_requested) sig = opt.stop_requested();
            if (sig) {
                rec.flush();
                throw interrupted(sig, std::string(sig == SIGINT? "SIGINT": "SIGTERM") + " after learning step " +
                                           std::to_string(s + 1) + " of " + std::to_string(S) + "; '" + opt.out +
                                           "' holds everything so far. Resume with: eisim run --resume " + opt.out);
            }
        } catch (const file_error& e) {
            // A write or flush of the run file failed for another reason than space: on a resumed
            // run, mostly indexes that a write failing half way (a quota, a disk that filled
            // between checks) left broken, which HDF5 finds only when it next writes them.
            const std::string what = "writing learning step " + std::to_string(s) + " failed: " + e.what();
            // (A resume of a killed writer's file used to fail here now and then: its superblock's
            // end of allocation lagged behind its data; h5::open_file_for_resume moves it first.)
            if (opt.resume) throw damaged_file(opt.out, what);
            throw file_error("'" + opt.out + "': " + what + "; the file keeps its committed snapshots");
        } catch (const storage_error& e) {
            std::string kept;
            try {
                kept = std::to_string(rec.committed_snapshots()) + " complete snapshots";
            } catch (const std::exception&) {
                kept = "its complete snapshots";
            }
            const bool resumable = s > s0 || opt.resume; // a checkpoint exists: the file is at its path
            throw storage_error("'" + opt.out + "': " + e.what() + " (at learning step " + std::to_string(s) + "). " +
                                (resumable? "The file keeps " + kept + "; free space (or raise the limit) and continue with: eisim run "
                                            "--resume " + opt.out
                                          : std::string("Nothing was kept (no learning step was complete); free space and start it again")));
        } catch (const divergence_error& e) {
            rec.publish(); // the file keeps what was recorded, even before a checkpoint
            throw divergence_error(s, "learning step " + std::to_string(s) + ": " + e.what() +
                                          " (everything before it is in '" + opt.out + "')");
        }
    }
    summary.final = summarize(student);
    for (auto& f: summary.final) { // Dale's law as a check (plasticity/bounds.hpp)
        const bound_counts n = count_bounds(student.get(f.name), c.plasticity.min_magnitude, opt_state.geo().projected());
        f.sign_changes = n.sign_changes;
        f.held_at_bound = n.held_at_bound;
    }
    summary.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    for (auto* k: sinks) k->finish(summary);
    return summary;
}

} // namespace eisim
