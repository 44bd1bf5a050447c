#pragma once
// One learning step of RFLO in its online form (plasticity/rflo_online.hpp): the batch of trials
// is integrated one observation interval [t_k, t_k + dt] at a time with the weights of that
// moment, and after each observation k with mask_k ≠ 0 the optimizer takes one mirror step on
// g(k). The learning rate (and its schedule) is that of learning step `step`, the same η as the
// per-trial form, so the summed online change equals the per-trial step to first order in η;
// momentum and weight decay act at every online update.
#include <cstdint>

#include "models/random.hpp"
#include "models/task.hpp"
#include "models/trajectory.hpp"
#include "plasticity/optimizer.hpp"
#include "plasticity/rflo_online.hpp"
#include "models/integrate.hpp"

namespace eisim {

struct online_result {
    double loss = 0.0; // the trial's loss from the outputs as they were produced
    matrix y;          // those outputs, n_out × (B·(T+1)) in input_grid's layout
    trajectory tr;     // the states as they were produced (the weights changed along it)
    long held = 0;     // synapses held at the bound by the last update
    long updates = 0;  // mirror steps taken
};

/// Runs `trials` through `net` while learning online; `net` and `low` end with the learned weights.
online_result rflo_online_trial(network& net, lowered_network& low, const trial_batch& trials, const integrator_desc& d,
                                rng& noise, const matrix& B_out, const plastic_set& which, optimizer& opt, long step);

} // namespace eisim
