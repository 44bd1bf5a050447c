#include "sim/heldout.hpp"

#include <algorithm>
#include <optional>

#include "models/integrate.hpp"
#include "models/random.hpp"
#include "models/spiking.hpp"
#include "models/tasks.hpp"
#include "plasticity/spiking_credit.hpp"

namespace eisim {

long heldout_interval(const config& c) {
    if (c.training.heldout_every > 0) return c.training.heldout_every;
    const long re = c.training.record_every;
    const long least = (8L*c.training.heldout_trials + c.task.batch - 1)/c.task.batch; // ceil(8 n / B)
    return std::max(1L, (least + re - 1)/re)*re;
}

heldout_set::heldout_set(const config& c, std::uint64_t seed) {
    if (!task_registry().get(c.task.kind).decision || c.training.heldout_trials <= 0) return;
    seed_ = stream(seed, "heldout")();
    trials_ = c.training.heldout_trials;
    interval_ = heldout_interval(c);
    for (int first = 0, j = 0; first < trials_; first += c.task.batch, ++j) {
        task_desc chunk = c.task;
        chunk.batch = std::min(c.task.batch, trials_ - first);
        const trial_spec spec{chunk, c.input, c.integrator, c.circuit};
        chunks_.push_back(make_trials(spec, nullptr, seed_, j)); // decision tasks need no teacher
        sizes_.push_back(chunk.batch);
    }
}

heldout_result heldout_set::measure(const network& net, const lowered_network* low, const config& c, const objective& task_objective,
                                    const credit& rule, const plastic_set& which) const {
    double loss = 0.0, correct = 0.0;
    std::optional<spiking_network> lowered;
    if (!low) lowered.emplace(lower_spiking(net, c.circuit, c.integrator.dt_ms));
    for (std::size_t j = 0; j < chunks_.size(); ++j) {
        const trial_batch& tb = chunks_[j];
        const double n = sizes_[j];
        if (lowered) {
            const spiking_evaluation ev = evaluate_spiking(net, *lowered, tb, rule, which, seed_, j, false);
            loss += n*ev.g.loss, correct += n*ev.accuracy;
        } else {
            auto noise = stream(seed_, "noise", j);
            const trajectory tr = integrate(net, *low, tb.u, tb.x0, c.integrator, noise);
            const evaluation ev = task_objective.evaluate(net, *low, tr, tb);
            loss += n*ev.g.loss, correct += n*ev.accuracy;
        }
    }
    return {loss/trials_, correct/trials_};
}

} // namespace eisim
