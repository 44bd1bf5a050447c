// `eisim export csv` read back: one row per synapse of every projection, equal to the run file
// (weights bit for bit through %.17g), the realism options applied, and the user errors.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/run_file.hpp"
#include "tests/export/fixture.hpp"

using namespace eisim;
using namespace eisim::test;
namespace fs = std::filesystem;

namespace {

struct csv_row {
    std::string projection;
    long synapse, pre, post, sign;
    double initial, final;
};

std::vector<csv_row> read_csv(const std::string& path, std::string* header = nullptr) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    if (header) *header = line;
    std::vector<csv_row> rows;
    while (std::getline(f, line)) {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
        REQUIRE(cells.size() == 7);
        rows.push_back({cells[0], std::stol(cells[1]), std::stol(cells[2]), std::stol(cells[3]), std::stol(cells[4]),
                        std::strtod(cells[5].c_str(), nullptr), std::strtod(cells[6].c_str(), nullptr)});
    }
    return rows;
}

} // namespace

TEST_CASE("CSV export reads back equal to the run file", "[export][csv]") {
    const auto& path = small_run();
    const analysis::run_file run(path);
    const auto out = temp_path(".csv");
    const auto r = test::run(exe + " export csv " + path + " --out " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    std::string header;
    const auto rows = read_csv(out, &header);
    CHECK(header == "projection,synapse_id,pre,post,sign,initial_weight,final_weight");
    std::size_t i = 0;
    for (auto& p: run.projections()) {
        const vector w0 = run.weights(p.name, 0), w1 = run.weights(p.name, run.snapshots() - 1);
        for (long k = 0; k < p.size(); ++k, ++i) {
            REQUIRE(i < rows.size());
            const auto& row = rows[i];
            REQUIRE(row.projection == p.name);
            REQUIRE(row.synapse == k);
            REQUIRE(row.pre == p.pre[k]);
            REQUIRE(row.post == p.post[k]);
            REQUIRE(row.sign == p.sign[k]);
            REQUIRE(row.initial == w0[k]);
            REQUIRE(row.final == w1[k]);
        }
    }
    CHECK(i == rows.size());
    // Never overwritten without --overwrite.
    std::ofstream(out) << "precious";
    auto again = test::run(exe + " export csv " + path + " --out " + out);
    CHECK(again.code == 2);
    CHECK(again.output.find("--overwrite") != std::string::npos);
    std::ifstream f(out);
    std::string content;
    f >> content;
    CHECK(content == "precious");
    CHECK(test::run(exe + " export csv " + path + " --out " + out + " --overwrite").code == 0);
    fs::remove(out);
}

TEST_CASE("CSV export applies the realism options", "[export][csv][realism]") {
    const auto& path = small_run();
    const analysis::run_file run(path);
    const auto out = temp_path(".csv");
    const double F = 0.3;
    REQUIRE(test::run(exe + " export csv " + path + " --out " + out + " --observe-synapses 0.3 --realism-seed 3").code == 0);
    const auto rows = read_csv(out);
    long n = 0;
    for (auto& p: run.projections()) n += p.size();
    CHECK(std::abs(static_cast<double>(rows.size())/n - F) <= z_tol*std::sqrt(F*(1 - F)/n));
    for (auto& row: rows) {
        const auto& p = run.projection(row.projection);
        REQUIRE(row.pre == p.pre[row.synapse]);
        REQUIRE(row.final == run.weights(p.name, run.snapshots() - 1)[row.synapse]);
    }
    fs::remove(out);
    // No trajectory to thin.
    const auto r = test::run(exe + " export csv " + path + " --out " + out + " --time-points 3");
    CHECK(r.code == 2);
    CHECK(r.output.find("--time-points") != std::string::npos);
    CHECK(!fs::exists(out));
}
