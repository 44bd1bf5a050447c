#include "plasticity/optimizer.hpp"

#include <cmath>

#include "plasticity/local_credit.hpp"

namespace eisim {

const registry<normalisation_info>& normalisation_registry() {
    using K = normalisation_info::kind;
    static const registry<normalisation_info> r("gradient normalisation", {
        {"none", {K::none, "the (momentum) gradient as it is", {}}},
        {"adam", {K::adam, "Adam (Kingma & Ba 2015): each synapse's bias-corrected first moment over the root of its second",
                  {real_key("adam_beta1", 0.9, 0, 0.999999, "adam: decay of the first moment (Kingma & Ba: 0.9)", false),
                   real_key("adam_beta2", 0.999, 0, 0.999999999, "adam: decay of the second moment (Kingma & Ba: 0.999)", false),
                   real_key("adam_epsilon", 1e-8, 0, 1e6, "adam: added to the root of the second moment, in the gradient's units", true)}}},
    });
    return r;
}

plasticity_desc::plasticity_desc() {
    for (auto& name: geometry_registry().names()) keys.declare(geometry_registry().get(name).keys);
    for (auto& name: credit_registry().names()) keys.declare(credit_registry().get(name).keys);
    for (auto& name: normalisation_registry().names()) keys.declare(normalisation_registry().get(name).keys);
}

double default_learning_rate(const std::string& geometry) { return geometry_registry().get(geometry).default_learning_rate; }

double learning_rate_of(const plasticity_desc& d) {
    if (auto it = d.learning_rates.find(d.geometry); it != d.learning_rates.end()) return it->second;
    return d.learning_rate > 0? d.learning_rate: default_learning_rate(d.geometry);
}

optimizer::optimizer(const plasticity_desc& d, long total_steps):
    geo_(make_geometry(d.geometry, d.keys, d.min_magnitude)),
    eta_(learning_rate_of(d)),
    mu_(d.momentum), wd_(d.weight_decay),
    adam_(normalisation_registry().get(d.normalisation).type == normalisation_info::kind::adam),
    beta1_(d.keys.real("adam_beta1")), beta2_(d.keys.real("adam_beta2")), eps_(d.keys.real("adam_epsilon")), schedule_(schedule_registry().get(d.schedule).type),
    total_(total_steps) {}

long optimizer::apply(network& net, const gradients& g, const plastic_set& which, long t) {
    long held = 0;
    const auto step = [&](projection& P, const vector& gp) {
        const long total = static_cast<long>(P.size());
        held += P.update_magnitudes([&](Eigen::Ref<vector> m, long s0) {
            return apply(P.name, m, gp.segment(s0, m.size()), s0, total, t);
        });
    };
    for (std::size_t k = 0; k < net.projections.size(); ++k)
        if (which.of(net, k)) step(net.projections[k], g.projection[k]);
    return held;
}

double optimizer::learning_rate(long t) const {
    if (schedule_ == schedule_info::kind::cosine && total_ > 0) return eta_*0.5*(1.0 + std::cos(M_PI*static_cast<double>(t)/static_cast<double>(total_)));
    return eta_;
}

long optimizer::apply(const std::string& proj, vector& m, const vector& g, long t) {
    return apply(proj, m, g, 0, m.size(), t);
}

long optimizer::apply(const std::string& proj, Eigen::Ref<vector> m, const Eigen::Ref<const vector>& g, long s0, long total,
                      long t) {
    if (wd_ == 0.0 && mu_ == 0.0 && !adam_) return geo_->step(m, g, learning_rate(t)); // g̃ = g: no copy
    vector gt = g;
    if (wd_ != 0.0) geo_->add_weight_decay(gt, m, wd_);
    const auto buffer = [&](std::map<std::string, vector>& of) {
        vector& v = of[proj];
        if (v.size() != total) v = vector::Zero(total);
        return v.segment(s0, m.size());
    };
    if (adam_) {
        auto a = buffer(velocity_);
        auto b = buffer(second_);
        a = beta1_*a + (1.0 - beta1_)*gt;
        b.array() = beta2_*b.array() + (1.0 - beta2_)*gt.array().square();
        const double n = static_cast<double>(t + 1);
        const double c1 = 1.0 - std::pow(beta1_, n), c2 = 1.0 - std::pow(beta2_, n);
        gt.array() = (a.array()/c1)/((b.array()/c2).sqrt() + eps_);
        return geo_->step(m, gt, learning_rate(t));
    }
    if (mu_ != 0.0) {
        auto v = buffer(velocity_);
        v = mu_*v + gt;
        gt = v;
    }
    return geo_->step(m, gt, learning_rate(t));
}

} // namespace eisim
