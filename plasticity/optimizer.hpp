#pragma once
// The optimizer around a geometry: learning-rate schedule, momentum buffer, weight decay.
//
//   g̃ = g + wd·1        (eg: multiplicative decay, wd·sign(w) on w)
//   g̃ = g + wd·m        (euclidean, pnorm: L2 decay)
//   v ← μ v + g̃         (momentum buffer; v = g̃ when μ = 0), as in the published code (μ = 0.9)
// or, with normalisation = "adam" (Kingma & Ba 2015, as Bellec et al. 2020 train e-prop), the
// gradient normalised per synapse by its own history, then the same mirror step:
//   a ← β₁ a + (1 − β₁) g̃,   b ← β₂ b + (1 − β₂) g̃²
//   v = â / (√b̂ + ε),        â = a / (1 − β₁^{t+1}),  b̂ = b / (1 − β₂^{t+1})   (t: the learning step;
//   under rflo_form = online, several updates of one learning step share its t)
// Every synapse's dual coordinate then moves by about η per step whatever its gradient's scale
// (under EG: ln m by about η), so a projection whose gradients are small learns as fast as the
// readout; the geometry still decides what a step in the dual means for the weight.
//   η_t = η                              (constant)
//   η_t = η · ½ (1 + cos(π t / T))       (cosine, T = total steps)
//   ∇φ(m') = ∇φ(m) − η_t v
//
// η is the geometry's entry of learning_rates where it has one, else learning_rate, else (0) the
// geometry's default: its own (plasticity/geometry_NAME.cpp), listed in `eisim config`.
#include <map>
#include <string>
#include <vector>

#include <memory>

#include "plasticity/exact_credit.hpp"
#include "plasticity/geometry.hpp"

namespace eisim {

struct plasticity_desc {
    std::string geometry = "eg";
    std::string credit = "exact";
    double learning_rate = 0.0; // 0 = the geometry's default
    // Per geometry, e.g. { eg = 0.2, euclidean = 0.02 }: the chosen geometry's entry wins over learning_rate.
    std::map<std::string, double> learning_rates;
    double momentum = 0.0;
    std::string schedule = "constant";
    std::string normalisation = "none"; // "adam": see the equations above (its keys adam_beta1, ... in `keys`)
    double weight_decay = 0.0;
    double min_magnitude = 1e-8; // projection bound of the projected geometries
    // The geometries', credit rules' and normalisations' own keys (plasticity.p,
    // plasticity.perturbation_sigma, plasticity.adam_beta1, ...): every registered one's, at its default until set.
    parameters keys;
    plasticity_desc();
};

/// Default learning rate of a geometry on the default problem (its registration's; in `eisim config`).
double default_learning_rate(const std::string& geometry);
/// The learning rate η the optimizer uses for `d.geometry` (see the equations above).
double learning_rate_of(const plasticity_desc& d);

/// A learning-rate schedule, registered by name with its documentation.
struct schedule_info {
    enum class kind { constant, cosine };
    kind type;
    std::string doc;
};
inline const registry<schedule_info>& schedule_registry() {
    using K = schedule_info::kind;
    static const registry<schedule_info> r("learning-rate schedule", {
        {"constant", {K::constant, "eta at every step"}},
        {"cosine", {K::cosine, "eta (1 + cos(pi t / T)) / 2 over the T steps"}},
    });
    return r;
}

/// A normalisation of the gradient before the mirror step, registered by name with its documentation and keys.
struct normalisation_info {
    enum class kind { none, adam };
    kind type;
    std::string doc;
    std::vector<key_spec> keys;
};
const registry<normalisation_info>& normalisation_registry();

class optimizer {
public:
    optimizer(const plasticity_desc& d, long total_steps);

    /// One mirror step of projection `proj` at learning step t (0-based); returns synapses held at the bound.
    long apply(const std::string& proj, vector& m, const vector& g, long t);
    /// The same step on synapses [s0, s0 + m.size()) of projection `proj` (of `total` synapses):
    /// g is their gradient; the momentum buffer is the projection's, at the same offset.
    long apply(const std::string& proj, Eigen::Ref<vector> m, const Eigen::Ref<const vector>& g, long s0, long total, long t);
    /// The mirror step of every projection in `which` of `net` with its gradient in `g`; returns
    /// the synapses held at the bound, summed over the projections.
    long apply(network& net, const gradients& g, const plastic_set& which, long t);
    double learning_rate(long t) const;
    const geometry& geo() const { return *geo_; }

    /// Momentum buffers by projection (Adam: the first moments a), the optimizer state saved for resuming.
    std::map<std::string, vector>& velocity() { return velocity_; }
    const std::map<std::string, vector>& velocity() const { return velocity_; }
    /// Adam's second moments b by projection (empty without Adam), saved for resuming.
    std::map<std::string, vector>& second_moment() { return second_; }
    const std::map<std::string, vector>& second_moment() const { return second_; }
    /// Whether the state holds buffers (momentum or Adam) that a resume must restore.
    bool has_velocity() const { return mu_ != 0.0 || adam_; }
    bool adam() const { return adam_; }

private:
    std::unique_ptr<geometry> geo_;
    double eta_, mu_, wd_;
    bool adam_;
    double beta1_, beta2_, eps_;
    schedule_info::kind schedule_;
    long total_;
    std::map<std::string, vector> velocity_, second_;
};

} // namespace eisim
