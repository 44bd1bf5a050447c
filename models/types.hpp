#pragma once
// The numeric types shared by every layer. A batch of B trials of N neurons is one N×B matrix.
#include <Eigen/Dense>

namespace eisim {
using matrix = Eigen::MatrixXd;
using vector = Eigen::VectorXd;
using index_vector = Eigen::Matrix<long, Eigen::Dynamic, 1>;
} // namespace eisim
