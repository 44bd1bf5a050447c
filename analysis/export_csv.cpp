#include "analysis/export_csv.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "analysis/export_common.hpp"
#include "models/error.hpp"

namespace eisim::analysis {

namespace {

std::string number(double x) {
    if (std::isnan(x)) return "nan";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

} // namespace

long export_csv(const run_file& run, const csv_export_options& options) {
    options.measure.validate();
    if (options.measure.time_points != 0)
        throw user_error("--time-points thins a trajectory; 'export csv' writes the first and the last snapshot only "
                         "(use it with 'export sonata --trajectory' or 'analyze')");
    check_new_file(options.out, options.overwrite);
    const auto cells = observed_cells(options.measure, network_size(run));
    const long last = run.snapshots() - 1;

    // Write beside the target and rename at the end: a failure never leaves half a table.
    const std::string partial = options.out + ".partial";
    std::ofstream os(partial);
    if (!os) throw user_error("cannot write '" + options.out + "'");
    os << "projection,synapse_id,pre,post,sign,initial_weight,final_weight\n";
    long rows = 0;
    for (const auto& p: run.projections()) {
        const auto e = observe_edges(run, p, options.measure, cells, last);
        for (long i = 0; i < e.size(); ++i) {
            const long k = e.synapse[static_cast<std::size_t>(i)];
            os << p.name << ',' << k << ',' << p.pre[k] << ',' << p.post[k] << ',' << p.sign[k] << ','
               << number(e.initial[i]) << ',' << number(e.weight[i]) << '\n';
        }
        rows += e.size();
    }
    os.close();
    if (!os) {
        std::remove(partial.c_str());
        throw user_error("writing '" + options.out + "' failed (disk full?)");
    }
    std::error_code ec;
    std::filesystem::rename(partial, options.out, ec);
    if (ec) {
        std::remove(partial.c_str());
        throw user_error("cannot write '" + options.out + "': " + ec.message());
    }
    return rows;
}

} // namespace eisim::analysis
