// exact: the exact gradient, the discrete adjoint (BPTT) of the integrator's steps
// (plasticity/exact_credit.hpp). No keys.
#include "plasticity/local_credit.hpp"

namespace eisim {

credit_rule exact_credit_rule() {
    return {"the exact gradient: the discrete adjoint (BPTT) of the integrator's steps", {}, nullptr,
            [](const credit&, const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials,
               const plastic_set& which, std::uint64_t) { return exact_gradient(net, low, tr, trials, which); }};
}

} // namespace eisim
