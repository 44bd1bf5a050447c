#pragma once
// Butcher tableaux of the explicit Runge–Kutta methods eisim integrates with. Boost.Odeint does the
// forward integration; the exact gradient (plasticity/exact_credit) differentiates the very same
// stage formulas, so it needs the tableau:
//   X_i = x_n + h Σ_{j<i} a_ij k_j,   k_i = f(X_i, t_n + c_i h),   x_{n+1} = x_n + h Σ_i b_i k_i.
// tests/numerics checks that one step of each tableau equals one step of odeint's stepper.
#include <string>
#include <vector>

namespace eisim {

struct butcher_tableau {
    std::string name;
    std::vector<std::vector<double>> a; // a[i][j], j < i
    std::vector<double> b, c;
    int stages() const { return static_cast<int>(b.size()); }
};

inline butcher_tableau euler_tableau() { return {"euler", {{}}, {1.0}, {0.0}}; }

inline butcher_tableau rk4_tableau() {
    return {"rk4", {{}, {0.5}, {0.0, 0.5}, {0.0, 0.0, 1.0}}, {1.0/6, 1.0/3, 1.0/3, 1.0/6}, {0.0, 0.5, 0.5, 1.0}};
}

/// Dormand–Prince 5(4): the 5th-order solution (odeint's runge_kutta_dopri5 advances with it).
/// The 7th (FSAL) stage has b_7 = 0 and does not enter the step, so it is omitted.
inline butcher_tableau dopri5_tableau() {
    return {"dopri5",
            {{},
             {1.0/5},
             {3.0/40, 9.0/40},
             {44.0/45, -56.0/15, 32.0/9},
             {19372.0/6561, -25360.0/2187, 64448.0/6561, -212.0/729},
             {9017.0/3168, -355.0/33, 46732.0/5247, 49.0/176, -5103.0/18656}},
            {35.0/384, 0.0, 500.0/1113, 125.0/192, -2187.0/6784, 11.0/84},
            {0.0, 1.0/5, 3.0/10, 4.0/5, 8.0/9, 1.0}};
}

inline butcher_tableau tableau_for(const std::string& stepper) {
    if (stepper == "rk4") return rk4_tableau();
    if (stepper == "dopri5") return dopri5_tableau();
    return euler_tableau();
}

} // namespace eisim
