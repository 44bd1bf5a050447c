#pragma once
// `eisim export csv`: one row per synapse of every projection of a run file, comma-separated,
// with a header line:
//
//   projection,synapse_id,pre,post,sign,initial_weight,final_weight
//
// pre and post index the projection's sides (cells for "network", channels for "input", units
// for "output"; run_file's populations say which population each index is in); sign is +1 or −1; the weights are signed, written with 17 significant
// digits (they read back bit for bit), at the first and the last snapshot of the trajectory.
// The realism transforms (analysis/realism.hpp) choose the rows and degrade the weights; an
// initial weight that was below the detection threshold is written as "nan". Rows follow the
// run file's projection order, then its synapse order.
#include <string>

#include "analysis/realism.hpp"
#include "analysis/run_file.hpp"

namespace eisim::analysis {

struct csv_export_options {
    std::string out;        // the .csv file to write
    bool overwrite = false; // replace an existing file
    realism measure;        // time_points must be 0: there is no trajectory to thin
};

/// Write the table; returns the number of rows. Throws eisim::user_error (exit 2).
long export_csv(const run_file& run, const csv_export_options& options);

} // namespace eisim::analysis
