#include "plasticity/objective.hpp"

#include <string>
#include <utility>
#include <vector>

#include "models/relax.hpp"
#include "plasticity/implicit_credit.hpp"

namespace eisim {

objective::objective(const task_desc& task, const credit& rule, const integrator_desc& integ, plastic_set which):
    fixed_point_(task_registry().get(task.kind).fixed_point), fixed_point_tol_(task.keys.real("fixed_point_tol")),
    relax_max_ms_(task.keys.real("relax_max_ms")), rule_(rule), integ_(integ), which_(std::move(which)) {}

evaluation objective::evaluate(const network& net, const lowered_network& low, const trajectory& tr,
                               const trial_batch& trials) const {
    return evaluate(net, low, tr, trials, false, 0);
}

evaluation objective::evaluate_with_credit(const network& net, const lowered_network& low, const trajectory& tr,
                                           const trial_batch& trials, std::uint64_t step) const {
    return evaluate(net, low, tr, trials, true, step);
}

evaluation objective::evaluate(const network& net, const lowered_network& low, const trajectory& tr,
                               const trial_batch& trials, bool with_credit, std::uint64_t step) const {
    evaluation ev;
    if (fixed_point_) {
        const matrix& U = trials.u.at(0);
        const fixed_point fp = relax(net, low, U, tr.x.back(), integ_, fixed_point_tol_, relax_max_ms_);
        const matrix target = trials.target_at(trials.steps());
        if (with_credit) ev.g = implicit_gradient(net, low, fp.x, U, target, which_);
        else ev.g.loss = fixed_point_loss(net, low, fp.x, target);
        matrix r;
        net.phi.apply(fp.x, r);
        ev.accuracy = r_squared(low.W_out*r, target, vector::Ones(target.cols()));
        return ev;
    }
    if (with_credit) ev.g = rule_(net, low, tr, trials, which_, step);
    else ev.g.loss = trajectory_loss(net, low, tr, trials);
    std::vector<const matrix*> xs;
    for (auto i: tr.obs) xs.push_back(&tr.x[i]);
    ev.accuracy = task_accuracy(readout_all(low.W_out, net.phi, xs), trials);
    return ev;
}

plastic_set plastic_of(const network& net, const circuit_desc& circuit) {
    std::vector<std::string> names;
    for (auto& p: circuit.projections) if (p.plastic) names.push_back(p.name);
    return plastic_of(net, names);
}

} // namespace eisim
