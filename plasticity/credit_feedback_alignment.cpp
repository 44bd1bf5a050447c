// feedback_alignment: the exact backward pass with fixed random B_out (N × n_out) in place of
// W_outᵀ and, with plasticity.feedback_recurrent, B_rec (N × N) in place of W_recᵀ (Lillicrap et
// al. 2016), sign-concordant (local_credit.hpp).
#include "plasticity/local_credit.hpp"

namespace eisim {

credit_rule feedback_alignment_credit_rule() {
    return {"the exact backward pass with fixed sign-concordant random feedback (Lillicrap et al. 2016)",
            {flag_key("feedback_recurrent", false, "feedback_alignment: also replace the transposed recurrent weights by a fixed random matrix")},
            [](credit& c, const network& net) { c.draw_feedback(net, c.keys().flag("feedback_recurrent")); },
            [](const credit& c, const network& net, const lowered_network& low, const trajectory& tr, const trial_batch& trials,
               const plastic_set& which, std::uint64_t) {
                feedback_matrices fb;
                fb.readout = &c.feedback_readout();
                if (c.keys().flag("feedback_recurrent")) fb.recurrent = &c.feedback_recurrent();
                return exact_gradient(net, low, tr, trials, which, fb);
            }};
}

} // namespace eisim
