// Circuits as data in the run file (docs/circuits.md, format version 2): the populations and each
// projection's populations read back, blocks named by population pairs and counted as the
// synapses' own pre and post indices say, version 1 read as the default circuit, and the files a
// reader must refuse.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

#include "analysis/analyze.hpp"
#include "analysis/figures.hpp"
#include "analysis/json.hpp"
#include "analysis/report.hpp"
#include "analysis/run_file.hpp"
#include "models/error.hpp"
#include "tests/analysis/fixture.hpp"

using namespace eisim;
using analysis::at_path;

namespace {

const std::string exe = EISIM_EXE;

std::string write(const test::file_spec& spec) {
    const auto path = test::temp_path(".h5");
    test::write_run_file(path, spec);
    return path;
}

/// The message of the file_error that reading `path` throws ("" when it reads).
std::string read_error(const std::string& path) {
    try {
        analysis::run_file f(path);
    } catch (const file_error& e) {
        return e.what();
    }
    return "";
}

/// The blocks a projection of `spec` should have besides "all", computed from its synapses' own
/// indices: (post, pre) population pairs in population order, those with synapses, with their counts.
std::vector<std::pair<std::string, long>> expected_blocks(const test::file_spec& spec, const test::file_projection& p) {
    const bool pre_net = p.pre_population == "network", post_net = p.post_population == "network";
    bool short_names = true;
    for (auto* list: {&p.pre_populations, &p.post_populations})
        for (auto& n: *list) short_names = short_names && n.size() == 1;
    std::vector<std::pair<std::string, long>> out;
    for (auto& x: spec.populations) {
        if (post_net && x.side != "network") continue;
        if (!post_net && x.name != p.post_populations.front()) continue; // a side that does not split: once
        for (auto& y: spec.populations) {
            if (pre_net && y.side != "network") continue;
            if (!pre_net && y.name != p.pre_populations.front()) continue;
            long n = 0;
            for (std::size_t k = 0; k < p.pre.size(); ++k)
                n += (!post_net || test::population_at(spec, "network", p.post[k]) == &x) &&
                     (!pre_net || test::population_at(spec, "network", p.pre[k]) == &y);
            if (n == 0) continue;
            std::string name = !pre_net? x.name: !post_net? y.name: short_names? x.name + y.name: y.name + "->" + x.name;
            out.emplace_back(name, n);
        }
    }
    return out;
}

std::vector<std::pair<std::string, long>> reported_blocks(const analysis::projection_report& p) {
    std::vector<std::pair<std::string, long>> out;
    for (std::size_t b = 1; b < p.blocks.size(); ++b) out.emplace_back(p.blocks[b].name, p.blocks[b].n_synapses);
    return out;
}

} // namespace

TEST_CASE("a version-2 file's populations and projection populations read back", "[analysis][circuits]") {
    const auto spec = test::four_population_run();
    const analysis::run_file f(write(spec));
    CHECK(f.format_version() == 2);
    REQUIRE(f.populations().size() == spec.populations.size());
    for (std::size_t j = 0; j < spec.populations.size(); ++j) {
        const auto& want = spec.populations[j];
        const auto& got = f.populations()[j];
        INFO(want.name);
        CHECK(got.name == want.name);
        CHECK(got.model == want.model);
        CHECK(got.side == want.side);
        CHECK(got.first == want.first);
        CHECK(got.size == want.size);
        CHECK(got.sign == want.sign);
        CHECK((std::isnan(want.tau_ms)? std::isnan(got.tau_ms): got.tau_ms == want.tau_ms));
        CHECK((std::isnan(want.bias)? std::isnan(got.bias): got.bias == want.bias));
    }
    // "populations" is not a projection.
    REQUIRE(f.projections().size() == spec.projections.size());
    for (auto& want: spec.projections) {
        INFO(want.name);
        const auto& got = f.projection(want.name);
        CHECK(got.pre_populations == want.pre_populations);
        CHECK(got.post_populations == want.post_populations);
        CHECK(got.connectivity == want.connectivity);
        CHECK(got.delay == 0);
    }
    // Every side index maps to the population that holds it.
    for (auto side: {"network", "input", "output"}) {
        long n = 0;
        for (auto& q: spec.populations) n += q.side == side? q.size: 0;
        CHECK(f.side_size(side) == n);
        for (long i = 0; i < f.side_size(side); ++i) REQUIRE(f.population_of(side, i).name == test::population_at(spec, side, i)->name);
    }
    CHECK_THROWS_AS(f.population_of("network", f.side_size("network")), file_error);
    CHECK(f.population("SST").first == 50);
    CHECK_THROWS_WITH(f.population("PV2"), Catch::Contains("no population 'PV2' (known: E, PV, SST, VIP, stim, out)"));
}

TEST_CASE("blocks are population pairs, counted from the synapses' own indices", "[analysis][circuits]") {
    const auto spec = test::four_population_run();
    const auto path = write(spec);
    const auto r = analysis::analyze(analysis::run_file(path));
    for (auto& p: spec.projections) {
        INFO(p.name);
        const auto& got = r.projection(p.name);
        REQUIRE(got.blocks.front().name == "all");
        CHECK(got.blocks.front().n_synapses == static_cast<long>(p.pre.size()));
        CHECK(reported_blocks(got) == expected_blocks(spec, p));
        long sum = 0;
        for (std::size_t b = 1; b < got.blocks.size(); ++b) sum += got.blocks[b].n_synapses;
        CHECK(sum == static_cast<long>(p.pre.size())); // the blocks partition the projection
    }
    // Names: "pre->post" (PV is no single character), post-major in population order, empty pairs left out.
    const auto& rec = r.projection("recurrent");
    CHECK(rec.blocks[1].name == "E->E");
    CHECK(rec.blocks[2].name == "PV->E");
    CHECK(rec.blocks[3].name == "SST->E");
    CHECK(rec.blocks[4].name == "E->PV"); // VIP->E holds no synapse
    for (auto& b: rec.blocks) {
        CHECK(b.name != "VIP->E");
        CHECK(b.name != "SST->SST");
    }
    CHECK(rec.block("PV->E").pre_populations == std::vector<std::string>{"PV"});
    CHECK(rec.block("PV->E").post_populations == std::vector<std::string>{"E"});
    // Input and readout: by the network side's population.
    const auto& in = r.projection("input");
    CHECK(in.blocks.size() == 3);
    CHECK(in.block("E").n_synapses == 40);
    CHECK(in.block("PV").n_synapses == 10);
    CHECK(in.block("PV").pre_populations == std::vector<std::string>{"stim"});
    CHECK(r.projection("readout").block("E").n_synapses == 40*2);
    // A change Gaussian in the EG dual space (one width for all synapses: the pooled test's case).
    const auto consistent_with_eg = [](const analysis::geometry_result& g) {
        return std::find(g.consistent.begin(), g.consistent.end(), "eg") != g.consistent.end();
    };
    CHECK(rec.block("all").geometry_pooled.best == "eg");
    CHECK(consistent_with_eg(rec.block("E->E").geometry_pooled));

    // The JSON paths follow the names, and list the populations.
    const auto j = analysis::to_json(r);
    CHECK(at_path(j, "projections.recurrent.blocks.PV->E.n_synapses").get<long long>() == rec.block("PV->E").n_synapses);
    CHECK(at_path(j, "projections.recurrent.blocks.PV->E.pre_populations")[0].get<std::string>() == "PV");
    CHECK(at_path(j, "projections.input.blocks.PV.n_synapses").get<long long>() == 10);
    CHECK(at_path(j, "projections.recurrent.pre_populations").size() == 4);
    const auto& pops = at_path(j, "network.populations");
    REQUIRE(pops.size() == spec.populations.size());
    CHECK(pops[1].at("name").get<std::string>() == "PV");
    CHECK(pops[1].at("first").get<long long>() == 40);
    CHECK(pops[1].at("sign").get<long long>() == -1);

    // The command prints the table with the long names, and draws its figures when it can.
    const auto dir = test::temp_path(".figures");
    const bool figures = test::run(analysis::python_interpreter() + " -c 'import matplotlib, numpy, h5py'").code == 0;
    const auto cli = test::run(exe + " analyze " + path + (figures? " --figures " + dir: std::string()));
    INFO(cli.output);
    REQUIRE(cli.code == 0);
    CHECK(cli.output.find("  SST->E   ") != std::string::npos);
    if (figures) CHECK(std::filesystem::file_size(dir + "/recurrent_ln_weights.png") > 1000);
    else WARN("no python with matplotlib, numpy and h5py: the figures of a version-2 file are not drawn");
}

TEST_CASE("a version-1 file reads as the default circuit: populations E, I, in, out", "[analysis][circuits]") {
    const auto spec = test::synthetic_run(analysis::eg_geometry(), 30, 10);
    const analysis::run_file f(write(spec));
    CHECK(f.format_version() == 1);
    const auto& pops = f.populations();
    REQUIRE(pops.size() == 4);
    const std::vector<std::tuple<std::string, std::string, std::string, long, long, int>> want = {
        {"E", "rate", "network", 0, spec.n_e, 1},
        {"I", "rate", "network", spec.n_e, spec.n_i, -1},
        {"in", "input", "input", 0, spec.n_in, 1},
        {"out", "readout", "output", 0, spec.n_out, 0}};
    for (std::size_t j = 0; j < want.size(); ++j) {
        INFO(std::get<0>(want[j]));
        CHECK(std::tie(pops[j].name, pops[j].model, pops[j].side, pops[j].first, pops[j].size, pops[j].sign) == want[j]);
        CHECK(std::isnan(pops[j].tau_ms));
    }
    CHECK(f.population_of("network", spec.n_e - 1).name == "E");
    CHECK(f.population_of("network", spec.n_e).name == "I");
    const std::vector<std::string> ei = {"E", "I"};
    CHECK(f.projection("recurrent").pre_populations == ei);
    CHECK(f.projection("recurrent").post_populations == ei);
    CHECK(f.projection("input").pre_populations == std::vector<std::string>{"in"});
    CHECK(f.projection("input").post_populations == ei);
    CHECK(f.projection("readout").pre_populations == std::vector<std::string>{"E"}); // it reads the E cells only
    CHECK(f.projection("readout").post_populations == std::vector<std::string>{"out"});
    CHECK(f.projection("recurrent").connectivity.empty());

    // The same circuit written as version 2 gives the same report, block for block.
    const auto v1 = analysis::to_json(analysis::analyze(f));
    const auto v2 = analysis::to_json(analysis::analyze(analysis::run_file(write(test::as_version_2(spec)))));
    CHECK(at_path(v2, "network").dump() == at_path(v1, "network").dump());
    CHECK(at_path(v2, "projections").dump() == at_path(v1, "projections").dump());
    std::vector<std::string> names;
    for (auto& [name, b]: at_path(v1, "projections.recurrent.blocks").items()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"all", "EE", "EI", "IE", "II"});

    // Without inhibitory cells there is no I.
    auto no_i = test::synthetic_run(analysis::eg_geometry(), 20, 0);
    const analysis::run_file g(write(no_i));
    std::vector<std::string> got;
    for (auto& q: g.populations()) got.push_back(q.name);
    CHECK(got == std::vector<std::string>{"E", "in", "out"});
    CHECK(g.projection("recurrent").pre_populations == std::vector<std::string>{"E"});
}

TEST_CASE("format versions and version-2 and 3 layouts a reader must refuse", "[analysis][circuits][errors]") {
    const auto good = test::four_population_run();
    const auto refused = [&](const test::file_spec& spec, const std::string& part) {
        const auto path = write(spec);
        const auto msg = read_error(path);
        INFO(msg);
        CHECK(msg.rfind("'" + path + "': ", 0) == 0); // names the file
        CHECK(msg.find(part) != std::string::npos);   // and the part
    };
    auto spec = good;
    const auto newest = analysis::readable_format_version;
    spec.format_version = newest + 1;
    refused(spec, "format_version " + std::to_string(newest + 1) + " is newer than this eisim reads (" + std::to_string(newest) + ")");
    spec.format_version = 3; // version 3 records its complete snapshots: a file without the marker is not one
    refused(spec, "/trajectory has no attribute committed");
    spec.format_version = 0;
    refused(spec, "invalid format_version 0");

    spec = good;
    spec.populations.clear();
    refused(spec, "missing group /network/populations");

    spec = good;
    spec.projections[0].post_populations.clear();
    refused(spec, "missing dataset /network/recurrent/post_populations");

    spec = good;
    spec.projections[1].post_populations = {"E", "PV2"};
    refused(spec, "/network/input/post_populations: no population 'PV2' (known: E, PV, SST, VIP, stim, out)");

    spec = good;
    spec.projections[1].pre_populations = {"E"};
    refused(spec, "/network/input/pre_populations: population 'E' is on side network, not input");

    spec = good;
    spec.projections[1].post_populations = {"E"}; // yet cells 40..49 (PV) get input
    refused(spec, "/network/input/post: synapse 40 (index 40) is in population 'PV', not among post_populations (E)");

    spec = good;
    spec.populations[2].first = 51;
    refused(spec, "population 'SST' starts at index 51 of side network; expected 50");

    spec = good;
    spec.n_e = 39;
    refused(spec, "the network populations hold 40 excitatory and 24 inhibitory cells; /network says n_e = 39, n_i = 24");

    spec = good;
    spec.populations[1].sign = 0;
    refused(spec, "population 'PV': sign 0");

    spec = good;
    spec.populations[4].side = "inputs";
    refused(spec, "population 'stim': side \"inputs\"");

    spec = good;
    spec.populations[5].name = "E";
    refused(spec, "two populations named 'E'");
}
