#include "sim/config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "models/error.hpp"
#include "models/transfer.hpp"
#include "plasticity/geometry.hpp"
#include "plasticity/local_credit.hpp"

namespace eisim {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

enum class vtype { integer, real, boolean, string, list };

// One TOML key: its section, name, type, allowed values and comment, and how to read and write it.
struct param {
    std::string section, key, doc;
    vtype type;
    double lo = -inf, hi = inf;
    bool lo_open = false;
    std::function<std::vector<std::string>()> choices; // allowed strings (string, list)
    std::function<std::string(const config&)> show;    // the current value as TOML
    std::function<void(config&, const toml::value&)> set;

    std::string name() const { return section + "." + key; }
};

std::string format_real(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0? "inf": "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v); // shortest text that reads back exactly
    std::string s(buf, res.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c: s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string describe(const toml::value& v) {
    try {
        std::ostringstream os;
        os << toml::format(v);
        std::string s = os.str();
        if (s.size() > 60) s = s.substr(0, 57) + "...";
        return s;
    } catch (...) { return "(unprintable)"; }
}

std::string range_text(const param& p) {
    std::ostringstream os;
    if (p.type == vtype::integer) os << "an integer";
    else os << "a number";
    if (p.lo > -inf) os << (p.lo_open? " > ": " >= ") << format_real(p.lo);
    if (p.hi < inf) os << (p.lo > -inf? " and <= ": " <= ") << format_real(p.hi);
    return os.str();
}

[[noreturn]] void bad(const param& p, const toml::value& v, const std::string& allowed) {
    throw config_error(p.name(), "got " + describe(v) + ", expected " + allowed);
}

double checked_number(const param& p, const toml::value& v) {
    double x;
    if (v.is_integer()) x = static_cast<double>(v.as_integer());
    else if (v.is_floating() && p.type == vtype::real) x = v.as_floating();
    else bad(p, v, range_text(p));
    const bool above = p.lo_open? x > p.lo: x >= p.lo;
    if (!(above && x <= p.hi)) bad(p, v, range_text(p));
    return x;
}

std::string checked_string(const param& p, const toml::value& v) {
    auto allowed = [&] {
        std::string s;
        for (auto& c: p.choices()) s += (s.empty()? "": ", ") + c;
        return s;
    };
    if (!v.is_string()) bad(p, v, p.choices? "a string, one of: " + allowed(): "a string");
    std::string s = v.as_string();
    if (p.choices) {
        auto c = p.choices();
        if (std::find(c.begin(), c.end(), s) == c.end()) bad(p, v, "one of: " + allowed());
    }
    return s;
}

template <typename S, typename T>
param integer(const char* sec, const char* key, S config::*sp, T S::*mp, double lo, double hi, const char* doc) {
    param p{sec, key, doc, vtype::integer, lo, hi};
    p.show = [sp, mp](const config& c) { return std::to_string((c.*sp).*mp); };
    p.set = [p, sp, mp](config& c, const toml::value& v) { (c.*sp).*mp = static_cast<T>(checked_number(p, v)); };
    return p;
}

template <typename S>
param real(const char* sec, const char* key, S config::*sp, double S::*mp, double lo, double hi, const char* doc, bool lo_open = false) {
    param p{sec, key, doc, vtype::real, lo, hi, lo_open};
    p.show = [sp, mp](const config& c) { return format_real((c.*sp).*mp); };
    p.set = [p, sp, mp](config& c, const toml::value& v) { (c.*sp).*mp = checked_number(p, v); };
    return p;
}

template <typename S>
param boolean(const char* sec, const char* key, S config::*sp, bool S::*mp, const char* doc) {
    param p{sec, key, doc, vtype::boolean};
    p.show = [sp, mp](const config& c) { return std::string((c.*sp).*mp? "true": "false"); };
    p.set = [p, sp, mp](config& c, const toml::value& v) {
        if (!v.is_boolean()) bad(p, v, "true or false");
        (c.*sp).*mp = v.as_boolean();
    };
    return p;
}

template <typename S>
param string(const char* sec, const char* key, S config::*sp, std::string S::*mp,
             std::function<std::vector<std::string>()> choices, const char* doc) {
    param p{sec, key, doc, vtype::string};
    p.choices = std::move(choices);
    p.show = [sp, mp](const config& c) { return quote((c.*sp).*mp); };
    p.set = [p, sp, mp](config& c, const toml::value& v) { (c.*sp).*mp = checked_string(p, v); };
    return p;
}

template <typename S>
param list(const char* sec, const char* key, S config::*sp, std::vector<std::string> S::*mp,
           std::function<std::vector<std::string>()> choices, const char* doc) {
    param p{sec, key, doc, vtype::list};
    p.choices = std::move(choices);
    p.show = [sp, mp](const config& c) {
        std::string s = "[";
        for (auto& e: (c.*sp).*mp) s += (s.size() > 1? ", ": "") + quote(e);
        return s + "]";
    };
    p.set = [p, sp, mp](config& c, const toml::value& v) {
        if (!v.is_array()) bad(p, v, "a list of strings");
        std::vector<std::string> out;
        for (auto& e: v.as_array()) {
            std::string s = checked_string(p, e);
            if (std::find(out.begin(), out.end(), s) != out.end()) bad(p, v, "a list without repeats");
            out.push_back(s);
        }
        (c.*sp).*mp = out;
    };
    return p;
}

// input.n_in is both the generator's channel count and the network's input width (one value).
param input_channels(param p) {
    auto set = p.set;
    p.set = [set](config& c, const toml::value& v) { set(c, v); c.network.n_in = c.input.n_in; };
    return p;
}

std::function<std::vector<std::string>()> fixed(std::vector<std::string> v) {
    return [v] { return v; };
}

const std::vector<param>& schema() {
    using C = config;
    using N = network_desc;
    static const std::vector<param> s = {
        integer("network", "n_e", &C::network, &N::n_e, 1, 20000, "number of excitatory cells (E, indices 0..n_e-1)"),
        integer("network", "n_i", &C::network, &N::n_i, 0, 20000, "number of inhibitory cells (I, after the E cells)"),
        real("network", "tau_e_ms", &C::network, &N::tau_e_ms, 0, 1e6, "membrane time constant of E cells (ms)", true),
        real("network", "tau_i_ms", &C::network, &N::tau_i_ms, 0, 1e6, "membrane time constant of I cells (ms)", true),
        string("network", "transfer", &C::network, &N::transfer, [] { return transfer_registry().names(); },
               "transfer function r = phi(x): relu, softplus, tanh (rectified), power (k [x]+^n), linear"),
        real("network", "transfer_k", &C::network, &N::transfer_k, 0, 1e6, "gain k of the power transfer function", true),
        real("network", "transfer_n", &C::network, &N::transfer_n, 1, 10, "exponent n of the power transfer function"),
        real("network", "bias", &C::network, &N::bias, -1e6, 1e6, "constant input b to every cell"),
        real("network", "spectral_radius", &C::network, &N::spectral_radius, 0, 1e3,
             "rescale the signed recurrent matrix to this spectral radius (0 = no rescaling)"),
        real("network", "noise_sigma", &C::network, &N::noise_sigma, 0, 1e6,
             "private noise: tau dx = (...) dt + sigma sqrt(2 tau) dW (euler and rk4 only)"),

        real("connectivity", "p_ee", &C::network, &N::p_ee, 0, 1, "connection probability E -> E (block XY: post X, pre Y)"),
        real("connectivity", "p_ei", &C::network, &N::p_ei, 0, 1, "connection probability I -> E"),
        real("connectivity", "p_ie", &C::network, &N::p_ie, 0, 1, "connection probability E -> I"),
        real("connectivity", "p_ii", &C::network, &N::p_ii, 0, 1, "connection probability I -> I"),
        real("connectivity", "scale_ee", &C::network, &N::scale_ee, 0, 1e6, "summed median input of block EE: median magnitude = scale/(p n_pre)", true),
        real("connectivity", "scale_ei", &C::network, &N::scale_ei, 0, 1e6, "summed median input of block EI (I -> E)", true),
        real("connectivity", "scale_ie", &C::network, &N::scale_ie, 0, 1e6, "summed median input of block IE (E -> I)", true),
        real("connectivity", "scale_ii", &C::network, &N::scale_ii, 0, 1e6, "summed median input of block II", true),
        real("connectivity", "sigma_ln", &C::network, &N::sigma_ln, 0, 10, "sd of ln(magnitude) within a block (Song et al. 2005: 0.9355)"),
        real("connectivity", "p_in", &C::network, &N::p_in, 0, 1, "connection probability input channel -> cell (excitatory afferents)"),
        real("connectivity", "scale_in", &C::network, &N::scale_in, 0, 1e6, "summed median input weight per cell", true),

        string("input", "kind", &C::input, &input_desc::kind, [] { return input_registry().names(); },
               "input generator: ou (rectified Ornstein-Uhlenbeck), step, zero"),
        input_channels(integer("input", "n_in", &C::input, &input_desc::n_in, 1, 100000, "number of input channels")),
        real("input", "tau_ms", &C::input, &input_desc::tau_ms, 0, 1e7, "ou: correlation time (ms)", true),
        real("input", "mean", &C::input, &input_desc::mean, -1e6, 1e6, "ou: mean before rectification"),
        real("input", "sigma", &C::input, &input_desc::sigma, 0, 1e6, "ou: stationary sd before rectification"),
        real("input", "amplitude", &C::input, &input_desc::amplitude, -1e6, 1e6, "step: amplitude on every channel"),
        real("input", "onset_ms", &C::input, &input_desc::onset_ms, 0, 1e9, "step: onset time (ms)"),
        real("input", "offset_ms", &C::input, &input_desc::offset_ms, 0, 1e9, "step: offset time (ms)"),

        integer("readout", "n_out", &C::network, &N::n_out, 1, 10000, "number of outputs y = W_out r"),
        string("readout", "from", &C::network, &N::readout_from, fixed({"e", "all"}), "cells read out: e (excitatory only) or all"),
        real("readout", "scale", &C::network, &N::scale_out, 0, 1e6, "summed median readout weight: median magnitude = scale/n_pre", true),

        string("integrator", "stepper", &C::integrator, &integrator_desc::stepper, [] { return stepper_registry().names(); },
               "euler, rk4 (fixed step dt_ms) or dopri5 (adaptive, atol/rtol)"),
        real("integrator", "dt_ms", &C::integrator, &integrator_desc::dt_ms, 0, 1e6,
             "time step of euler/rk4, and the observation and input grid of every stepper (ms)", true),
        real("integrator", "atol", &C::integrator, &integrator_desc::atol, 0, 1, "dopri5: absolute tolerance", true),
        real("integrator", "rtol", &C::integrator, &integrator_desc::rtol, 0, 1, "dopri5: relative tolerance", true),
        real("integrator", "max_abs_x", &C::integrator, &integrator_desc::max_abs_x, 0, 1e300,
             "runaway guard: a run stops (exit 3) when |x| exceeds this", true),
        string("integrator", "products", &C::integrator, &integrator_desc::products, fixed({"auto", "dense", "sparse"}),
               "how W_rec phi(x) and its transpose are computed: dense, sparse, or auto (sparse when at most "
               "integrator.sparse_below of the N*N recurrent entries are connections)"),
        real("integrator", "sparse_below", &C::integrator, &integrator_desc::sparse_below, 0, 1,
             "auto: the recurrent density below which products are sparse (measured crossover; bench/)"),

        string("task", "kind", &C::task, &task_desc::kind, [] { return task_registry().names(); },
               "teacher_student (match a teacher network's outputs on input.kind inputs), perceptual_decision "
               "(n_in 3, n_out 2), context_integration (n_in 7, n_out 2), working_memory (n_in 3, n_out 2), "
               "regression (static patterns to a teacher's fixed-point outputs; credit exact); see README 'Tasks'"),
        integer("task", "batch", &C::task, &task_desc::batch, 1, 100000, "trials per batch B"),
        real("task", "duration_ms", &C::task, &task_desc::duration_ms, 0, 1e9, "trial length (ms), a multiple of integrator.dt_ms", true),
        integer("task", "teacher_seed", &C::task, &task_desc::teacher_seed, 0, 4.6e18, "seed of the teacher network"),
        boolean("task", "fresh_trials", &C::task, &task_desc::fresh_trials,
                "false: one fixed set of trials for every step (the setting of the theory); true: new trials each step"),
        real("task", "mask_start_ms", &C::task, &task_desc::mask_start_ms, 0, 1e9, "observations before this time are left out of the loss"),
        real("task", "fixation_ms", &C::task, &task_desc::fixation_ms, 0, 1e9, "decision tasks: fixation period before the stimulus (ms)"),
        real("task", "stimulus_ms", &C::task, &task_desc::stimulus_ms, 0, 1e9, "decision tasks: length of each stimulus (ms)", true),
        real("task", "delay_ms", &C::task, &task_desc::delay_ms, 0, 1e9,
             "decision tasks: delay between the (last) stimulus and the decision period (working_memory: between the two stimuli)"),
        real("task", "coherence", &C::task, &task_desc::coherence, 0, 1,
             "decision tasks: largest evidence strength |c| (drawn as coherence*U[1/4, 1])", true),
        real("task", "input_noise", &C::task, &task_desc::input_noise, 0, 1e3, "decision tasks: sd of the noise on each evidence channel per grid point"),
        real("task", "fixed_point_tol", &C::task, &task_desc::fixed_point_tol, 0, 1,
             "regression: relaxation stops when max |-x + W_rec phi(x) + W_in u + b| is below this", true),
        real("task", "relax_max_ms", &C::task, &task_desc::relax_max_ms, 0, 1e9,
             "regression: no fixed point within this much relaxation (ms) stops the run (exit 3)", true),

        integer("training", "seed", &C::training, &training_desc::seed, 0, 4.6e18, "seed of the student network, inputs and noise"),
        integer("training", "steps", &C::training, &training_desc::steps, 0, 1e9, "learning steps"),
        integer("training", "record_every", &C::training, &training_desc::record_every, 1, 1e9,
                "record every weight every this many steps (the initial and final states always)"),
        integer("training", "activity_trials", &C::training, &training_desc::activity_trials, 0, 100000,
                "trials whose activity is written to /activity (first and last steps)"),
        string("training", "record_precision", &C::training, &training_desc::record_precision, fixed({"float64", "float32"}),
               "storage type of the recorded weight trajectory: float64, or float32 (half the file, 7 significant digits)"),
        integer("training", "record_compression", &C::training, &training_desc::record_compression, 0, 9,
                "gzip level (with byte shuffle) of the weight trajectory; 0 = none"),

        string("plasticity", "geometry", &C::plasticity, &plasticity_desc::geometry, [] { return geometry_registry().names(); },
               "mirror map: eg (exponentiated gradient), euclidean (gradient descent), pnorm (needs p)"),
        real("plasticity", "p", &C::plasticity, &plasticity_desc::p, 1, 100, "exponent of the pnorm geometry (p > 1; 2 = euclidean)", true),
        string("plasticity", "credit", &C::plasticity, &plasticity_desc::credit, [] { return credit_registry().names(); },
               "credit assignment: exact (adjoint/BPTT), feedback_alignment, rflo, node_perturbation"),
        boolean("plasticity", "feedback_recurrent", &C::plasticity, &plasticity_desc::feedback_recurrent,
                "feedback_alignment: also replace the transposed recurrent weights by a fixed random matrix"),
        real("plasticity", "perturbation_sigma", &C::plasticity, &plasticity_desc::perturbation_sigma, 0, 1e3,
             "node_perturbation: sd of the noise injected into every cell", true),
        integer("plasticity", "perturbation_samples", &C::plasticity, &plasticity_desc::perturbation_samples, 1, 10000,
                "node_perturbation: perturbed passes averaged per learning step"),
        string("plasticity", "rflo_form", &C::plasticity, &plasticity_desc::rflo_form, fixed({"trial", "online"}),
               "rflo: trial (one mirror step per learning step) or online (a mirror step at every observation "
               "during the trial, same learning rate; traces take nnz x batch doubles)"),
        real("plasticity", "learning_rate", &C::plasticity, &plasticity_desc::learning_rate, 0, 1e6,
             "learning rate; 0 = the geometry's default (eg 0.5, euclidean 0.02, pnorm 0.0005)"),
        real("plasticity", "momentum", &C::plasticity, &plasticity_desc::momentum, 0, 0.999999, "momentum of the gradient buffer (published code: 0.9)"),
        string("plasticity", "schedule", &C::plasticity, &plasticity_desc::schedule, [] { return schedule_registry().names(); },
               "learning-rate schedule: constant or cosine"),
        real("plasticity", "weight_decay", &C::plasticity, &plasticity_desc::weight_decay, 0, 1e6,
             "weight decay: eg adds wd sign(w) to the gradient (multiplicative), euclidean/pnorm add wd m"),
        list("plasticity", "plastic", &C::plasticity, &plasticity_desc::plastic, fixed({"recurrent", "input", "readout"}),
             "plastic projections (the others are frozen)"),
        real("plasticity", "min_magnitude", &C::plasticity, &plasticity_desc::min_magnitude, 0, 1,
             "euclidean/pnorm: magnitudes are held at this bound instead of changing sign", true),
    };
    return s;
}

const param* find_param(const std::string& section, const std::string& key) {
    for (auto& p: schema()) if (p.section == section && p.key == key) return &p;
    return nullptr;
}

std::vector<std::string> sections() {
    std::vector<std::string> out;
    for (auto& p: schema()) if (std::find(out.begin(), out.end(), p.section) == out.end()) out.push_back(p.section);
    return out;
}

std::string known_keys(const std::string& section) {
    std::string s;
    for (auto& p: schema()) if (p.section == section) s += (s.empty()? "": ", ") + p.key;
    return s;
}

void apply_table(config& c, const toml::value& root) {
    if (!root.is_table()) throw config_error("", "the configuration is not a TOML table");
    auto secs = sections();
    std::string known_sections;
    for (auto& s: secs) known_sections += (known_sections.empty()? "": ", ") + s;
    for (auto& [sec, table]: root.as_table()) {
        if (std::find(secs.begin(), secs.end(), sec) == secs.end())
            throw config_error(sec, "unknown section; known sections: " + known_sections);
        if (!table.is_table()) throw config_error(sec, "must be a table [" + sec + "], got " + describe(table));
        for (auto& [key, value]: table.as_table()) {
            const param* p = find_param(sec, key);
            if (!p) throw config_error(sec + "." + key, "unknown key; known keys in [" + sec + "]: " + known_keys(sec));
            p->set(c, value);
        }
    }
}

// The task's own needs: channel counts, periods that fit the trial, credit rules it supports.
void validate_task(const config& c) {
    const task_info& t = task_registry().get(c.task.kind);
    const std::string kind = "task.kind = " + c.task.kind;
    if (t.n_in > 0 && c.input.n_in != t.n_in)
        throw config_error("input.n_in", "= " + std::to_string(c.input.n_in) + ", but " + kind + " needs input.n_in = " +
                                             std::to_string(t.n_in) + " (" + t.channels + ")");
    if (t.n_out > 0 && c.network.n_out != t.n_out)
        throw config_error("readout.n_out", "= " + std::to_string(c.network.n_out) + ", but " + kind +
                                                " needs readout.n_out = " + std::to_string(t.n_out) + " (one output per choice)");
    if (t.decision) {
        const double t_d = decision_onset_ms(c.task);
        if (!(t_d + c.integrator.dt_ms <= c.task.duration_ms))
            throw config_error("task.duration_ms", "= " + format_real(c.task.duration_ms) + " leaves no decision period: " + kind +
                                                       " needs more than fixation, stimulus and delay = " + format_real(t_d) + " ms");
    }
    if (t.fixed_point) {
        if (c.plasticity.credit != "exact")
            throw config_error("plasticity.credit", "= " + c.plasticity.credit + ", but " + kind +
                                                        " supports only exact (implicit differentiation at the fixed point)");
        if (c.network.noise_sigma > 0)
            throw config_error("network.noise_sigma", "must be 0 for " + kind + " (a noisy network has no fixed point)");
    }
}

} // namespace

int config::observation_steps() const {
    return static_cast<int>(std::llround(task.duration_ms/integrator.dt_ms));
}

void validate(const config& c) {
    const double ratio = c.task.duration_ms/c.integrator.dt_ms;
    if (!(ratio >= 1.0) || std::abs(ratio - std::round(ratio)) > 1e-9*ratio)
        throw config_error("task.duration_ms", "= " + format_real(c.task.duration_ms) + " must be a positive multiple of integrator.dt_ms = " + format_real(c.integrator.dt_ms));
    if (ratio > 1e7)
        throw config_error("task.duration_ms", "gives " + format_real(std::round(ratio)) + " time steps; at most 1e7 are allowed");
    const double N = c.network.n_e + c.network.n_i;
    if (N > 20000) throw config_error("network.n_i", "n_e + n_i = " + format_real(N) + " cells; at most 20000 are supported");
    // Memory of one stored forward trajectory (N × B × (T+1) doubles) must fit comfortably.
    const double bytes = 8.0*N*c.task.batch*(std::round(ratio) + 1);
    if (bytes > 8e9)
        throw config_error("task.batch", "n_e + n_i = " + format_real(N) + ", batch = " + std::to_string(c.task.batch) +
                                         " and " + format_real(std::round(ratio)) + " steps need " + format_real(std::round(bytes/1e9)) +
                                         " GB for one trajectory; at most 8 GB are allowed");
    if (c.training.activity_trials > c.task.batch)
        throw config_error("training.activity_trials", "= " + std::to_string(c.training.activity_trials) + " exceeds task.batch = " + std::to_string(c.task.batch));
    if (c.network.noise_sigma > 0 && c.integrator.stepper == "dopri5")
        throw config_error("network.noise_sigma", "private noise needs a fixed-step stepper (euler or rk4), not dopri5");
    if (c.plasticity.credit == "node_perturbation" && (c.network.noise_sigma > 0 || c.integrator.stepper == "dopri5"))
        throw config_error("plasticity.credit", "node_perturbation needs a fixed-step stepper (euler or rk4) and network.noise_sigma = 0");
    if (c.plasticity.rflo_form == "online" && c.plasticity.credit != "rflo")
        throw config_error("plasticity.rflo_form", "= online needs plasticity.credit = rflo (it is " + c.plasticity.credit + ")");
    validate_task(c);
    if (c.task.mask_start_ms >= c.task.duration_ms)
        throw config_error("task.mask_start_ms", "= " + format_real(c.task.mask_start_ms) + " leaves no observation in the loss (duration_ms = " + format_real(c.task.duration_ms) + ")");
}

config default_config() {
    config c;
    validate(c);
    return c;
}

config parse_config(const std::string& text, const std::string& origin, config base) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw config_error("", origin + " is empty; give at least one [section] (see 'eisim config'), or no file for the defaults");
    toml::value root;
    try {
        std::istringstream is(text);
        root = toml::parse(is, origin);
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (msg.size() > 600) msg = msg.substr(0, 600) + "...";
        throw config_error("", origin + " is not valid TOML: " + msg);
    }
    apply_table(base, root);
    validate(base);
    return base;
}

config load_config(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw config_error("", "cannot read the config file '" + path + "'");
    std::stringstream ss;
    ss << f.rdbuf();
    return parse_config(ss.str(), path, default_config());
}

void apply_override(config& c, const std::string& assignment, bool check) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos)
        throw config_error("", "--set '" + assignment + "': expected section.key=value");
    const std::string name = assignment.substr(0, eq), text = assignment.substr(eq + 1);
    const auto dot = name.find('.');
    if (dot == std::string::npos)
        throw config_error(name, "--set needs section.key=value");
    const std::string sec = name.substr(0, dot), key = name.substr(dot + 1);
    const param* p = find_param(sec, key);
    if (!p) {
        auto secs = sections();
        if (std::find(secs.begin(), secs.end(), sec) == secs.end())
            throw config_error(name, "unknown section '" + sec + "'");
        throw config_error(name, "unknown key; known keys in [" + sec + "]: " + known_keys(sec));
    }
    toml::value v;
    try {
        std::istringstream is("v = " + text);
        v = toml::parse(is, "--set").as_table().at("v");
    } catch (const std::exception&) {
        if (p->type == vtype::string) v = toml::value(text); // bare words are strings
        else throw config_error(name, "cannot read value '" + text + "' (expected " +
                                          (p->type == vtype::list? std::string("a list like [\"a\", \"b\"]"): range_text(*p)) + ")");
    }
    p->set(c, v);
    if (check) validate(c);
}

std::string to_toml(const config& c, bool comments) {
    std::ostringstream os;
    if (comments) os << "# eisim configuration, fully resolved. Every key is shown with its value.\n";
    for (auto& sec: sections()) {
        os << "\n[" << sec << "]\n";
        for (auto& p: schema()) {
            if (p.section != sec) continue;
            if (comments) os << "# " << p.doc << "\n";
            os << p.key << " = " << p.show(c) << "\n";
        }
    }
    return os.str();
}

} // namespace eisim
