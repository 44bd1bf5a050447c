#include "models/trials.hpp"

#include <cmath>
#include <vector>

#include "models/error.hpp"
#include "models/relax.hpp"

namespace eisim {

int observation_steps(const task_desc& task, const integrator_desc& integ) {
    return static_cast<int>(std::llround(task.duration_ms/integ.dt_ms));
}

trial_batch make_input_trials(const trial_spec& s, rng& g) {
    trial_batch tb;
    const int T = s.steps();
    const double dt = s.integrator.dt_ms;
    tb.u = make_input(s.input, dt, T, s.task.batch, g);
    tb.x0 = matrix::Zero(s.circuit.n(), s.task.batch);
    tb.mask.assign(T + 1, 0.0);
    for (int k = 0; k <= T; ++k) tb.mask[k] = k*dt >= s.task.mask_start_ms? 1.0: 0.0;
    return tb;
}

trial_batch make_task_inputs(const trial_spec& s, rng& g) {
    if (task_registry().get(s.task.kind).decision)
        return make_decision_trials(s.task, s.integrator.dt_ms, s.steps(), s.circuit.n(), g, s.circuit.n_in());
    if (s.task.kind == "pattern_generation")
        return make_pattern_trials(s.task, s.integrator.dt_ms, s.steps(), s.circuit.n_in(), s.circuit.n_out(), s.circuit.n(), s.task.mask_start_ms);
    return make_input_trials(s, g);
}

trial_batch make_teacher_trials(const trial_spec& s, const network& teacher, rng& g, rng& noise) {
    trial_batch tb = make_input_trials(s, g);
    const lowered_network low(teacher, sparse_products(s.integrator, s.circuit));
    const trajectory tr = integrate(teacher, low, tb.u, tb.x0, s.integrator, noise);
    std::vector<const matrix*> xs;
    for (auto i: tr.obs) xs.push_back(&tr.x[i]);
    tb.target = readout_all(low.W_out, teacher.phi, xs);
    return tb;
}

trial_batch make_regression_trials(const trial_spec& s, const network& teacher, rng& g) {
    const int T = s.steps(), P = s.task.batch;
    trial_batch tb;
    const matrix U = make_patterns(s.circuit.n_in(), P, g);
    tb.u = input_grid(s.integrator.dt_ms, T, s.circuit.n_in(), P);
    for (int k = 0; k <= T; ++k) tb.u.at(k) = U;
    tb.x0 = matrix::Zero(s.circuit.n(), P);
    tb.mask.assign(T + 1, 0.0);
    tb.mask[T] = 1.0;
    const lowered_network low(teacher, sparse_products(s.integrator, s.circuit));
    const fixed_point fp = relax(teacher, low, U, tb.x0, s.integrator, s.task.keys.real("fixed_point_tol"), s.task.keys.real("relax_max_ms"));
    matrix r;
    teacher.phi.apply(fp.x, r);
    const matrix y = low.W_out*r;
    tb.target.resize(y.rows(), static_cast<long>(P)*(T + 1));
    for (int k = 0; k <= T; ++k) tb.target.middleCols(static_cast<long>(k)*P, P) = y;
    return tb;
}

namespace {

// The task's trials from the streams g (inputs, patterns or decision trials) and noise (the
// teacher's private noise).
trial_batch task_trials(const trial_spec& s, const network* teacher, rng& g, rng& noise) {
    const task_info& task = task_registry().get(s.task.kind);
    if (task.decision) return make_decision_trials(s.task, s.integrator.dt_ms, s.steps(), s.circuit.n(), g, s.circuit.n_in());
    if (s.task.kind == "pattern_generation")
        return make_pattern_trials(s.task, s.integrator.dt_ms, s.steps(), s.circuit.n_in(), s.circuit.n_out(), s.circuit.n(), s.task.mask_start_ms);
    EISIM_ASSERT(teacher != nullptr); // every other task has one
    if (task.fixed_point) return make_regression_trials(s, *teacher, g);
    return make_teacher_trials(s, *teacher, g, noise);
}

} // namespace

trial_batch make_trials(const trial_spec& s, const network* teacher, std::uint64_t seed, long index) {
    auto g = stream(seed, "trials", static_cast<std::uint64_t>(index));
    auto noise = stream(static_cast<std::uint64_t>(s.task.keys.integer("teacher_seed")), "teacher-noise", static_cast<std::uint64_t>(index));
    return task_trials(s, teacher, g, noise);
}

trial_batch make_probe_trials(const trial_spec& s, const network* teacher, std::uint64_t probe_seed) {
    auto g = stream(probe_seed, "probe-trials");
    auto noise = stream(probe_seed, "probe-teacher-noise");
    return task_trials(s, teacher, g, noise);
}

} // namespace eisim
