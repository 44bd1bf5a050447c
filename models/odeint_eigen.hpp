#pragma once
// The one Eigen–odeint bridge: odeint's Eigen support injects operators into namespace Eigen, so
// it is included here and nowhere else. States are Eigen matrices (N × B) under
// vector_space_algebra.
#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>

#include "models/types.hpp"

// Eigen 3.4 gives dense matrices begin()/end(), so odeint takes them for ranges and copies them
// element-wise through boost::range (which fails to compile for matrices). Eigen types copy by
// assignment.
namespace boost::numeric::odeint {
template <typename Scalar, int Rows, int Cols, int Options, int MaxRows, int MaxCols>
struct copy_impl<Eigen::Matrix<Scalar, Rows, Cols, Options, MaxRows, MaxCols>,
                 Eigen::Matrix<Scalar, Rows, Cols, Options, MaxRows, MaxCols>> {
    using M = Eigen::Matrix<Scalar, Rows, Cols, Options, MaxRows, MaxCols>;
    static void copy(const M& from, M& to) { to = from; }
};
} // namespace boost::numeric::odeint

namespace eisim::odeint_steppers {
namespace odeint = boost::numeric::odeint;
template <typename State>
using euler = odeint::euler<State, double, State, double, odeint::vector_space_algebra>;
template <typename State>
using rk4 = odeint::runge_kutta4<State, double, State, double, odeint::vector_space_algebra>;
template <typename State>
using dopri5 = odeint::runge_kutta_dopri5<State, double, State, double, odeint::vector_space_algebra>;
} // namespace eisim::odeint_steppers
