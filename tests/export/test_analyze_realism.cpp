// `eisim analyze` with the realism options: off (even with a seed) changes nothing in the report;
// each option reaches the statistics (the synapses counted are the observed ones), and
// --time-points restricts the snapshots the analysis may compare.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/json.hpp"
#include "analysis/run_file.hpp"
#include "tests/export/fixture.hpp"

using namespace eisim;
using analysis::at_path;
using namespace eisim::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Run analyze with `args`; the JSON report's text.
std::string analyze_json(const std::string& run, const std::string& args) {
    const auto out = temp_path(".json");
    const auto r = test::run(exe + " analyze " + run + " --json " + out + args);
    INFO(r.output);
    REQUIRE(r.code == 0);
    const auto text = slurp(out);
    fs::remove(out);
    return text;
}

long all_synapses(const analysis::json& j, const std::string& proj) {
    return static_cast<long>(at_path(j, "projections." + proj + ".blocks.all.n_synapses").get<long long>());
}

} // namespace

TEST_CASE("analyze: realism off changes nothing, and each option reaches the statistics", "[export][realism][analyze]") {
    const auto& path = small_run();
    const analysis::run_file run(path);
    const auto plain = analyze_json(path, "");
    CHECK(analyze_json(path, " --realism-seed 9") == plain);
    const auto j0 = analysis::json::parse(plain);
    CHECK(at_path(j0, "settings.realism").get<std::string>() == "none");
    const long n = run.projection("recurrent").size();
    CHECK(all_synapses(j0, "recurrent") == n);

    SECTION("--observe-synapses counts a binomial fraction") {
        const double F = 0.4;
        const auto j = analysis::json::parse(analyze_json(path, " --observe-synapses 0.4 --realism-seed 2"));
        const double kept = static_cast<double>(all_synapses(j, "recurrent"));
        CHECK(std::abs(kept/n - F) <= z_tol*std::sqrt(F*(1 - F)/n));
        CHECK(at_path(j, "settings.realism").get<std::string>().find("observe_synapses=0.4") != std::string::npos);
    }

    SECTION("--detection-threshold counts the synapses detected at either snapshot") {
        const vector w0 = run.weights("recurrent", 0), w1 = run.weights("recurrent", run.snapshots() - 1);
        const double T = std::exp(-2.5);
        long expected = 0;
        for (long k = 0; k < n; ++k) expected += std::abs(w0[k]) >= T || std::abs(w1[k]) >= T;
        REQUIRE(expected < n);
        std::ostringstream arg;
        arg.precision(17);
        arg << " --detection-threshold " << T;
        const auto j = analysis::json::parse(analyze_json(path, arg.str()));
        CHECK(all_synapses(j, "recurrent") == expected);
    }

    SECTION("--noise-multiplicative changes the measured statistics, not the counts") {
        const auto j = analysis::json::parse(analyze_json(path, " --noise-multiplicative 0.3"));
        CHECK(all_synapses(j, "recurrent") == n);
        const auto path_sd = "projections.recurrent.blocks.all.final.sd_ln";
        // sd of ln|w| grows to about √(sd² + S²).
        const double sd0 = at_path(j0, path_sd).get<double>(), sd = at_path(j, path_sd).get<double>();
        CHECK(sd > sd0);
        CHECK(std::abs(sd - std::sqrt(sd0*sd0 + 0.09)) < 0.1);
    }

    SECTION("--time-points: the default snapshots are kept ones; others are refused") {
        const auto j = analysis::json::parse(analyze_json(path, " --time-points 2"));
        CHECK(at_path(j, "from.index").get<long long>() == 0);
        CHECK(at_path(j, "to.index").get<long long>() == run.snapshots() - 1);
        const auto r = test::run(exe + " analyze " + path + " --time-points 2 --to 1");
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("--time-points") != std::string::npos);
    }
}
