#pragma once
// Dale's law after learning, counted as a check. Every synapse keeps its sign (its presynaptic
// population's) and learns its magnitude m ≥ 0, so a weight w = sign·m changes sign only if m
// leaves [0, ∞), which no mirror step allows (plasticity/geometry.hpp). Over the synapses s of
// one projection:
//
//   sign_changes   = #{s : not m_s ≥ 0}            (a NaN magnitude counts; must be 0)
//   held_at_bound  = #{s : m_s ≤ min_magnitude}    where the geometry holds magnitudes at the
//                                                  bound (euclidean, pnorm); 0 otherwise (eg)
#include "models/network.hpp"

namespace eisim {

struct bound_counts {
    long sign_changes = 0;
    long held_at_bound = 0;
};

/// The counts above for projection `p`; `bounded`: the geometry holds magnitudes at min_magnitude.
bound_counts count_bounds(const projection& p, double min_magnitude, bool bounded);

} // namespace eisim
