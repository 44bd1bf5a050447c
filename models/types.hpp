#pragma once
// The numeric types shared by every layer. A batch of B trials of N neurons is one N×B matrix.
#include <Eigen/Dense>
#include <Eigen/SparseCore>

namespace eisim {
using matrix = Eigen::MatrixXd;
using vector = Eigen::VectorXd;
using index_vector = Eigen::Matrix<long, Eigen::Dynamic, 1>;
/// Compressed rows (CSR): each row's products sum its stored entries in column order.
using sparse_matrix = Eigen::SparseMatrix<double, Eigen::RowMajor>;
} // namespace eisim
