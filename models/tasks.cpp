#include "models/tasks.hpp"

#include <cmath>
#include <limits>

#include "models/error.hpp"

namespace eisim {

namespace {

// A signed strength c = ±coherence·v, v ~ U[¼, 1].
double strength(double coherence, rng& g) {
    const double sign = uniform(g) < 0.5? 1.0: -1.0;
    return sign*coherence*(0.25 + 0.75*uniform(g));
}

// The pair of evidence channels (ch, ch+1) of trial b for strength c over [from, to) ms:
//   u₊ = ½(1 + c) + σ ξ,  u₋ = ½(1 − c) + σ ξ'.
void evidence(trial_batch& tb, int ch, long b, double c, double from, double to, double sigma, rng& g) {
    for (int k = 0; k <= tb.steps(); ++k) {
        const double t = k*tb.u.dt;
        if (t < from || t >= to) continue;
        auto u = tb.u.at(k);
        u(ch, b) = 0.5*(1.0 + c) + sigma*normal(g);
        u(ch + 1, b) = 0.5*(1.0 - c) + sigma*normal(g);
    }
}

// The keys every decision task has, and those of the tasks with a teacher and of regression.
std::vector<key_spec> decision_keys() {
    return {real_key("fixation_ms", 100.0, 0, 1e9, "decision tasks: fixation period before the stimulus (ms)"),
            real_key("stimulus_ms", 200.0, 0, 1e9, "decision tasks: length of each stimulus (ms)", true),
            real_key("delay_ms", 100.0, 0, 1e9,
                     "decision tasks: delay between the (last) stimulus and the decision period (working_memory: between the two stimuli)"),
            real_key("coherence", 0.5, 0, 1, "decision tasks: largest evidence strength |c| (drawn as coherence*U[1/4, 1])", true),
            real_key("input_noise", 0.1, 0, 1e3, "decision tasks: sd of the noise on each evidence channel per grid point")};
}

// The evidence-accumulation task's keys (Bellec et al. 2020's values as defaults).
std::vector<key_spec> accumulation_keys() {
    return {integer_key("n_cues", 7, 1, 1000, "evidence_accumulation: number of cues (odd: a majority always exists)"),
            real_key("cue_ms", 100.0, 0, 1e9, "evidence_accumulation: length of each cue (ms)", true),
            real_key("cue_gap_ms", 50.0, 0, 1e9, "evidence_accumulation: pause before each cue (ms)"),
            real_key("memory_ms", 1050.0, 0, 1e9, "evidence_accumulation: delay between the last cue and the recall period (ms)"),
            real_key("cue_prob", 0.7, 0, 1, "evidence_accumulation: probability that a cue is on the trial's favoured side"),
            real_key("background", 0.25, 0, 1e3, "evidence_accumulation: value u of the background channels (spikes at spike_rate_hz u)")};
}

// The pattern-generation task's keys (the e-prop tutorial's target: harmonics of a 1-s period).
std::vector<key_spec> pattern_keys() {
    return {integer_key("n_sinusoids", 4, 1, 1000, "pattern_generation: harmonics k = 1..n_sinusoids in each output's target"),
            real_key("period_ms", 1000.0, 0, 1e9, "pattern_generation: period P of the first harmonic (ms)", true),
            real_key("amplitude", 1.0, 0, 1e6, "pattern_generation: the target's scale A (its largest possible |y*|)", true),
            integer_key("pattern_seed", 1, 0, 4.6e18, "pattern_generation: seed of the targets' amplitudes and phases"),
            real_key("clock_width_ms", 0.0, 0, 1e9, "pattern_generation: width sigma of each input channel's bump in time (ms); 0 = duration / n_in")};
}

key_spec teacher_seed_key() { return integer_key("teacher_seed", 1234, 0, 4.6e18, "seed of the teacher network"); }

} // namespace

const registry<task_info>& task_registry() {
    static const registry<task_info> r("task kind", {
        {"teacher_student", {"match a teacher network's outputs on input.kind inputs", 0, 0, false, true, false, "", {teacher_seed_key()}}},
        {"perceptual_decision", {"report the sign of the evidence (n_in 3, n_out 2)", 3, 2, true, false, false,
                                 "fixation, evidence+, evidence-", decision_keys()}},
        {"context_integration", {"report the evidence the context cue names (n_in 7, n_out 2)", 7, 2, true, false, false,
                                 "fixation, motion+, motion-, colour+, colour-, context_motion, context_colour", decision_keys()}},
        {"working_memory", {"report whether f1 > f2 after a delay (n_in 3, n_out 2)", 3, 2, true, false, false,
                            "fixation, f+, f-", decision_keys()}},
        {"evidence_accumulation", {"report the side of the majority of n_cues cues after a memory period (n_in 4m, n_out 2; "
                                   "Bellec et al. 2020)", 0, 2, true, false, false,
                                   "four groups of m: left, right, recall, background", accumulation_keys(), 4}},
        {"pattern_generation", {"reproduce a fixed sum of sinusoids per output from clock inputs (the e-prop tutorial)", 0, 0, false,
                                false, false, "clock channels, each a bump in time", pattern_keys()}},
        {"regression", {"static patterns to a teacher's fixed-point outputs; credit exact", 0, 0, false, true, true, "",
                        {teacher_seed_key(),
                         real_key("fixed_point_tol", 1e-8, 0, 1,
                                  "regression: relaxation stops when max |-x + W_rec phi(x) + W_in u + b| is below this", true),
                         real_key("relax_max_ms", 20000.0, 0, 1e9,
                                  "regression: no fixed point within this much relaxation (ms) stops the run (exit 3)", true)}}},
    });
    return r;
}

task_desc::task_desc() {
    for (auto& name: task_registry().names()) keys.declare(task_registry().get(name).keys);
}

double decision_onset_ms(const task_desc& d) {
    if (d.kind == "evidence_accumulation")
        return static_cast<double>(d.keys.integer("n_cues"))*(d.keys.real("cue_ms") + d.keys.real("cue_gap_ms")) + d.keys.real("memory_ms");
    const int stimuli = d.kind == "working_memory"? 2: 1;
    return d.keys.real("fixation_ms") + stimuli*d.keys.real("stimulus_ms") + d.keys.real("delay_ms");
}

namespace {

// evidence_accumulation (models/tasks.hpp): cues, recall and background on n_in = 4m channels.
trial_batch make_accumulation_trials(const task_desc& d, double dt, int steps, int n_in, int n_cells, rng& g) {
    const int B = d.batch, m = n_in/4;
    trial_batch tb;
    tb.u = input_grid(dt, steps, n_in, B);
    tb.target = matrix::Zero(2, static_cast<long>(B)*(steps + 1));
    tb.x0 = matrix::Zero(n_cells, B);
    tb.mask.assign(steps + 1, 0.0);
    tb.decision.assign(steps + 1, 0.0);
    tb.label.assign(B, 0);
    const double t_d = decision_onset_ms(d), cue = d.keys.real("cue_ms"), gap = d.keys.real("cue_gap_ms");
    const double p = d.keys.real("cue_prob"), background = d.keys.real("background");
    const auto n_cues = static_cast<int>(d.keys.integer("n_cues"));
    for (int k = 0; k <= steps; ++k) {
        const double t = k*dt;
        tb.decision[k] = t >= t_d? 1.0: 0.0;
        tb.mask[k] = t >= t_d && t >= d.mask_start_ms? 1.0: 0.0;
        auto u = tb.u.at(k);
        u.middleRows(3*m, m).setConstant(background);
        if (t >= t_d) u.middleRows(2*m, m).setOnes();
    }
    for (long b = 0; b < B; ++b) {
        const int favoured = uniform(g) < 0.5? 0: 1;
        int right = 0;
        for (int i = 0; i < n_cues; ++i) {
            const int side = uniform(g) < p? favoured: 1 - favoured;
            right += side;
            const double from = i*(cue + gap) + gap, to = from + cue;
            for (int k = 0; k <= steps; ++k)
                if (k*dt >= from && k*dt < to) tb.u.at(k).col(b).segment(side*m, m).setOnes();
        }
        tb.label[b] = 2*right > n_cues? 1: 0;
        for (int k = 0; k <= steps; ++k)
            if (tb.decision[k] > 0) tb.target(tb.label[b], static_cast<long>(k)*B + b) = 1.0;
    }
    return tb;
}

} // namespace

trial_batch make_decision_trials(const task_desc& d, double dt, int steps, int n_cells, rng& g, int n_in) {
    const task_info& info = task_registry().get(d.kind);
    EISIM_ASSERT(info.decision);
    if (d.kind == "evidence_accumulation") return make_accumulation_trials(d, dt, steps, n_in, n_cells, g);
    const int B = d.batch;
    trial_batch tb;
    tb.u = input_grid(dt, steps, info.n_in, B);
    tb.target = matrix::Zero(info.n_out, static_cast<long>(B)*(steps + 1));
    tb.x0 = matrix::Zero(n_cells, B);
    tb.mask.assign(steps + 1, 0.0);
    tb.decision.assign(steps + 1, 0.0);
    tb.label.assign(B, 0);
    const double t_d = decision_onset_ms(d), t_s = d.keys.real("fixation_ms");
    const double stimulus_ms = d.keys.real("stimulus_ms"), delay_ms = d.keys.real("delay_ms");
    const double coherence = d.keys.real("coherence"), input_noise = d.keys.real("input_noise");
    for (int k = 0; k <= steps; ++k) {
        const double t = k*dt;
        tb.decision[k] = t >= t_d? 1.0: 0.0;
        tb.mask[k] = (t < t_s || t >= t_d) && t >= d.mask_start_ms? 1.0: 0.0;
        if (t < t_d) tb.u.at(k).row(0).setOnes(); // fixation cue until the go signal
    }
    for (long b = 0; b < B; ++b) {
        bool positive = false;
        if (d.kind == "perceptual_decision") {
            const double c = strength(coherence, g);
            evidence(tb, 1, b, c, t_s, t_s + stimulus_ms, input_noise, g);
            positive = c > 0;
        } else if (d.kind == "context_integration") {
            const double c_m = strength(coherence, g), c_c = strength(coherence, g);
            const int context = uniform(g) < 0.5? 0: 1; // 0: report motion, 1: report colour
            evidence(tb, 1, b, c_m, t_s, t_s + stimulus_ms, input_noise, g);
            evidence(tb, 3, b, c_c, t_s, t_s + stimulus_ms, input_noise, g);
            for (int k = 0; k <= steps; ++k)
                if (k*dt < t_d) tb.u.at(k)(5 + context, b) = 1.0;
            positive = (context == 0? c_m: c_c) > 0;
        } else { // working_memory: f1, delay, f2 = f1 + Δ; report f1 > f2
            const double f1 = 2.0*uniform(g) - 1.0, f2 = f1 + strength(coherence, g);
            const double s2 = t_s + stimulus_ms + delay_ms;
            evidence(tb, 1, b, f1, t_s, t_s + stimulus_ms, input_noise, g);
            evidence(tb, 1, b, f2, s2, s2 + stimulus_ms, input_noise, g);
            positive = f1 > f2;
        }
        tb.label[b] = positive? 0: 1;
        for (int k = 0; k <= steps; ++k)
            if (tb.decision[k] > 0) tb.target(tb.label[b], static_cast<long>(k)*B + b) = 1.0;
    }
    return tb;
}

trial_batch make_pattern_trials(const task_desc& d, double dt, int steps, int n_in, int n_out, int n_cells, double mask_start_ms) {
    const int B = d.batch;
    const auto K = static_cast<int>(d.keys.integer("n_sinusoids"));
    const double P = d.keys.real("period_ms"), A = d.keys.real("amplitude"), duration = steps*dt;
    const double sigma = d.keys.real("clock_width_ms") > 0? d.keys.real("clock_width_ms"): duration/std::max(n_in, 1);
    // Each output's amplitudes and phases, output by output, harmonic by harmonic.
    auto g = stream(static_cast<std::uint64_t>(d.keys.integer("pattern_seed")), "pattern");
    matrix amp(n_out, K), phase(n_out, K);
    for (int o = 0; o < n_out; ++o)
        for (int k = 0; k < K; ++k) {
            amp(o, k) = 0.5 + 0.5*uniform(g);
            phase(o, k) = 2.0*M_PI*uniform(g);
        }
    trial_batch tb;
    tb.u = input_grid(dt, steps, n_in, B);
    tb.target = matrix::Zero(n_out, static_cast<long>(B)*(steps + 1));
    tb.x0 = matrix::Zero(n_cells, B);
    tb.mask.assign(steps + 1, 0.0);
    for (int k = 0; k <= steps; ++k) {
        const double t = k*dt;
        tb.mask[k] = t >= mask_start_ms? 1.0: 0.0;
        auto u = tb.u.at(k);
        for (int i = 0; i < n_in; ++i) {
            const double c = (i + 0.5)*duration/n_in;
            u.row(i).setConstant(std::exp(-(t - c)*(t - c)/(2.0*sigma*sigma)));
        }
        for (int o = 0; o < n_out; ++o) {
            double y = 0.0;
            for (int h = 0; h < K; ++h) y += amp(o, h)*std::sin(2.0*M_PI*(h + 1)*t/P + phase(o, h));
            tb.target.block(o, static_cast<long>(k)*B, 1, B).setConstant(A*y/amp.row(o).sum());
        }
    }
    return tb;
}

matrix make_patterns(int n_in, int P, rng& g) {
    matrix U(n_in, P);
    for (long p = 0; p < P; ++p)
        for (long i = 0; i < n_in; ++i) U(i, p) = uniform(g);
    return U;
}

double r_squared(const matrix& y, const matrix& target, const vector& w) {
    const double W = w.sum();
    if (!(W > 0)) return std::numeric_limits<double>::quiet_NaN();
    const vector mean = target*w/W; // ȳ*_o
    const double sse = ((y - target).array().square().matrix()*w).sum();
    const double sst = ((target.colwise() - mean).array().square().matrix()*w).sum();
    // Targets constant up to round-off (relative to their size) leave R² undefined.
    const double size = (target.array().square().matrix()*w).sum();
    return sst > 1e-24*size? 1.0 - sse/sst: std::numeric_limits<double>::quiet_NaN();
}

double task_accuracy(const matrix& y, const trial_batch& trials) {
    const long B = trials.batch();
    if (!trials.label.empty()) {
        matrix total = matrix::Zero(y.rows(), B); // Σ_{k ∈ decision} y_k
        for (int k = 0; k <= trials.steps(); ++k)
            if (trials.decision[k] > 0) total += y.middleCols(static_cast<long>(k)*B, B);
        long correct = 0;
        for (long b = 0; b < B; ++b) {
            long choice;
            total.col(b).maxCoeff(&choice);
            if (choice == trials.label[b]) ++correct;
        }
        return static_cast<double>(correct)/B;
    }
    vector w(y.cols());
    for (int k = 0; k <= trials.steps(); ++k) w.segment(static_cast<long>(k)*B, B).setConstant(trials.mask[k]);
    return r_squared(y, trials.target, w);
}

} // namespace eisim
