// `eisim export sonata` read back: the SONATA names and types, counts, ids and weights equal to
// the run file's, every edge of every node found through the indices in both directions, the
// weight trajectory as a report, the realism options wired through, and the errors a user meets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "analysis/json.hpp"
#include "analysis/run_file.hpp"
#include "tests/analysis/fixture.hpp"
#include "tests/export/fixture.hpp"

using namespace eisim;
using analysis::at_path;
using namespace eisim::test;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> projections = {"recurrent", "input"};

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<double> row_of(const vector& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

void check_sonata_root(const std::string& path) {
    INFO(path);
    auto f = h5::open_file(path);
    REQUIRE(h5::has_attr(f, "magic"));
    CHECK(attr_type_is(f, "magic", H5T_STD_U32LE));
    CHECK(h5::read_attr_ints(f, "magic") == std::vector<std::int64_t>{0x0A7A});
    REQUIRE(h5::has_attr(f, "version"));
    CHECK(attr_type_is(f, "version", H5T_STD_U32LE));
    CHECK(h5::read_attr_ints(f, "version") == std::vector<std::int64_t>{0, 1});
}

// Every edge of node i, and no other, is found through node_id_to_ranges and range_to_edge_id;
// node_id_to_range (bmtk's spelling) is the same dataset.
void check_index(hid_t pop, const std::string& direction, const std::vector<std::uint64_t>& node_of_edge, std::uint64_t n_nodes) {
    INFO(direction);
    auto g = h5::open_group(pop, "indices/" + direction);
    CHECK(hard_links_of_one_object(g, "node_id_to_ranges", "node_id_to_range"));
    CHECK(read_u64(g, "node_id_to_range") == read_u64(g, "node_id_to_ranges"));
    CHECK(dataset_type_is(g, "node_id_to_ranges", H5T_STD_U64LE));
    CHECK(dataset_type_is(g, "range_to_edge_id", H5T_STD_U64LE));
    REQUIRE(h5::shape(g, "node_id_to_ranges") == std::vector<hsize_t>{n_nodes, 2});
    const auto ranges_shape = h5::shape(g, "range_to_edge_id");
    REQUIRE(ranges_shape.size() == 2);
    REQUIRE(ranges_shape[1] == 2);
    const auto node_ranges = read_u64(g, "node_id_to_ranges");
    const auto edge_ranges = read_u64(g, "range_to_edge_id");
    std::vector<std::vector<std::uint64_t>> expected(n_nodes);
    for (std::size_t e = 0; e < node_of_edge.size(); ++e) expected[node_of_edge[e]].push_back(e);
    for (std::uint64_t i = 0; i < n_nodes; ++i) {
        const auto r0 = node_ranges[2*i], r1 = node_ranges[2*i + 1];
        REQUIRE(r0 <= r1);
        REQUIRE(r1 <= ranges_shape[0]);
        std::vector<std::uint64_t> found;
        for (auto r = r0; r < r1; ++r)
            for (auto e = edge_ranges[2*r]; e < edge_ranges[2*r + 1]; ++e) found.push_back(e);
        std::sort(found.begin(), found.end());
        INFO("node " << i);
        REQUIRE(found == expected[i]); // each edge once
    }
}

struct exported {
    std::string dir;
    std::string path(const std::string& name) const { return (fs::path(dir)/name).string(); }
};

exported export_ok(const std::string& run, const std::string& args) {
    exported e{temp_dir()};
    const auto r = test::run(exe + " export sonata " + run + " --out " + e.dir + args);
    INFO(r.output);
    REQUIRE(r.code == 0);
    return e;
}

// Edges of one population read back as the run file's synapses `synapse_id` at snapshot `row`.
void check_edges_equal_run(const analysis::run_file& run, hid_t pop, const analysis::projection_info& p, long row) {
    const auto ids = read_u64(pop, "0/synapse_id");
    const auto src = read_u64(pop, "source_node_id"), tgt = read_u64(pop, "target_node_id");
    const auto w = h5::read_double(pop, "0/syn_weight"), w0 = h5::read_double(pop, "0/initial_weight");
    const auto sign = h5::read_int(pop, "0/sign");
    const vector truth = run.weights(p.name, row), truth0 = run.weights(p.name, 0);
    REQUIRE(src.size() == ids.size());
    REQUIRE(w.size() == ids.size());
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    for (std::size_t e = 0; e < ids.size(); ++e) {
        const long k = static_cast<long>(ids[e]);
        REQUIRE(src[e] == static_cast<std::uint64_t>(p.pre[k]));
        REQUIRE(tgt[e] == static_cast<std::uint64_t>(p.post[k]));
        REQUIRE(sign[e] == p.sign[k]);
        REQUIRE(w[e] == truth[k]);
        REQUIRE(w0[e] == truth0[k]);
    }
}

} // namespace

TEST_CASE("SONATA export reads back equal to the run file", "[export][sonata]") {
    const auto& path = small_run();
    const analysis::run_file run(path);
    const auto e = export_ok(path, " --trajectory");
    const long N = run.n_e() + run.n_i(), T = run.snapshots();
    for (auto name: {"nodes.h5", "edges.h5", "weights_recurrent.h5", "weights_input.h5"}) check_sonata_root(e.path(name));
    for (auto& f: fs::directory_iterator(e.dir)) CHECK(f.path().extension() != ".partial");

    SECTION("nodes: E and I cells, then the virtual input population") {
        auto f = h5::open_file(e.path("nodes.h5"));
        auto net = h5::open_group(f, "nodes/network");
        const auto type = read_u64(net, "node_type_id");
        REQUIRE(static_cast<long>(type.size()) == N);
        for (long i = 0; i < N; ++i) REQUIRE(type[i] == (i < run.n_e()? 100u: 101u));
        CHECK(read_u64(net, "node_id") == read_u64(net, "node_group_index"));
        CHECK(read_u64(net, "node_group_id") == std::vector<std::uint64_t>(N, 0));
        const auto ei = h5::read_strings(net, "0/ei");
        CHECK(std::count(ei.begin(), ei.end(), "e") == run.n_e());
        CHECK(std::count(ei.begin(), ei.end(), "i") == run.n_i());
        auto rf = h5::open_file(path);
        CHECK(h5::read_double(net, "0/tau") == h5::read_double(rf, "network/tau"));
        CHECK(h5::read_int(net, "0/observed") == std::vector<std::int64_t>(N, 1));
        auto in = h5::open_group(f, "nodes/input");
        CHECK(static_cast<long>(read_u64(in, "node_type_id").size()) == run.n_in());
        const auto types = test::read_types(e.path("node_types.csv"));
        std::map<std::string, std::string> model_type;
        for (auto& row: types) model_type[row.at("node_type_id")] = row.at("model_type");
        CHECK(model_type.at("100") == "point_neuron");
        CHECK(model_type.at("101") == "point_neuron");
        CHECK(model_type.at("200") == "virtual");
    }

    SECTION("edges: one population per projection, in the run file's synapse order") {
        auto f = h5::open_file(e.path("edges.h5"));
        CHECK(!h5::exists(f, "edges/readout"));
        std::set<std::string> type_ids;
        for (auto& row: test::read_types(e.path("edge_types.csv"))) type_ids.insert(row.at("population") + ":" + row.at("edge_type_id"));
        for (auto& name: projections) {
            INFO(name);
            const auto& p = run.projection(name);
            auto pop = h5::open_group(f, "edges/" + name);
            for (auto ds: {"source_node_id", "target_node_id", "edge_type_id", "edge_group_index", "0/synapse_id"})
                CHECK(dataset_type_is(pop, ds, H5T_STD_U64LE));
            CHECK(h5::read_attr_string(h5::open_dataset(pop, "source_node_id"), "node_population") == p.pre_population);
            CHECK(h5::read_attr_string(h5::open_dataset(pop, "target_node_id"), "node_population") == p.post_population);
            const auto n = static_cast<std::size_t>(p.size());
            std::vector<std::uint64_t> ids(n);
            for (std::size_t k = 0; k < n; ++k) ids[k] = k;
            CHECK(read_u64(pop, "0/synapse_id") == ids); // edge id = synapse id
            CHECK(read_u64(pop, "edge_group_index") == ids);
            CHECK(read_u64(pop, "edge_group_id") == std::vector<std::uint64_t>(n, 0));
            for (auto t: read_u64(pop, "edge_type_id")) REQUIRE(type_ids.count(name + ":" + std::to_string(t)) == 1);
            check_edges_equal_run(run, pop, p, T - 1);
            const std::uint64_t n_pre = p.pre_population == "network"? N: run.n_in();
            check_index(pop, "source_to_target", read_u64(pop, "source_node_id"), n_pre);
            check_index(pop, "target_to_source", read_u64(pop, "target_node_id"), N);
        }
    }

    SECTION("the weight trajectory as a SONATA report, elements grouped by target node") {
        for (auto& name: projections) {
            INFO(name);
            const auto& p = run.projection(name);
            auto f = h5::open_file(e.path("weights_" + name + ".h5"));
            auto pop = h5::open_group(f, "report/network");
            CHECK(h5::read_attr_string(pop, "edge_population") == name);
            REQUIRE(h5::shape(pop, "data") == std::vector<hsize_t>{static_cast<hsize_t>(T), static_cast<hsize_t>(p.size())});
            CHECK(dataset_type_is(pop, "data", H5T_IEEE_F32LE));
            CHECK(h5::has_attr(h5::open_dataset(pop, "data"), "units"));
            CHECK(h5::read_attr_string(h5::open_dataset(pop, "data"), "variable") == "syn_weight"); // where bmtk reads it
            const auto nodes = read_u64(pop, "mapping/node_ids");
            const auto ptr = read_u64(pop, "mapping/index_pointers");
            const auto elements = read_u64(pop, "mapping/element_ids");
            CHECK(dataset_type_is(pop, "mapping/element_ids", H5T_STD_U32LE));
            // bmtk's names: index_pointer, the same dataset as index_pointers; element_pos, 0.0 per element.
            CHECK(hard_links_of_one_object(pop, "mapping/index_pointers", "mapping/index_pointer"));
            CHECK(read_u64(pop, "mapping/index_pointer") == ptr);
            CHECK(dataset_type_is(pop, "mapping/element_pos", H5T_IEEE_F64LE));
            CHECK(h5::read_double(pop, "mapping/element_pos") == std::vector<double>(elements.size(), 0.0));
            REQUIRE(ptr.size() == nodes.size() + 1);
            CHECK(ptr.front() == 0);
            CHECK(ptr.back() == static_cast<std::uint64_t>(p.size()));
            CHECK(std::is_sorted(nodes.begin(), nodes.end()));
            CHECK(std::adjacent_find(nodes.begin(), nodes.end()) == nodes.end());
            auto sorted = elements;
            std::sort(sorted.begin(), sorted.end());
            for (std::size_t j = 0; j < sorted.size(); ++j) REQUIRE(sorted[j] == j); // a permutation of the edges
            for (std::size_t i = 0; i < nodes.size(); ++i)
                for (auto j = ptr[i]; j < ptr[i + 1]; ++j) REQUIRE(static_cast<std::uint64_t>(p.post[elements[j]]) == nodes[i]);
            const auto data = h5::read_double(pop, "data");
            for (long t = 0; t < T; ++t) {
                const vector w = run.weights(name, t);
                for (std::size_t j = 0; j < elements.size(); ++j)
                    REQUIRE(data[t*elements.size() + j] == static_cast<double>(static_cast<float>(w[elements[j]])));
            }
            const auto time = h5::read_double(pop, "mapping/time");
            CHECK(h5::read_double(pop, "mapping/learning_step") == run.steps());
            CHECK(h5::read_attr_string(h5::open_dataset(pop, "mapping/time"), "units") == "learning_step");
            CHECK(time == std::vector<double>{0, static_cast<double>(T), 1}); // steps 0, 1, …, T−1
        }
    }

    SECTION("circuit_config.json lists the files") {
        const auto cfg = analysis::json::parse(slurp(e.path("circuit_config.json")));
        const auto resolve = [&](std::string s) { return e.path(s.substr(std::string("$BASE_DIR/").size())); };
        CHECK(cfg.at("manifest").at("$BASE_DIR").get<std::string>() == ".");
        const auto& nodes = cfg.at("networks").at("nodes")[0];
        CHECK(fs::exists(resolve(nodes.at("nodes_file").get<std::string>())));
        CHECK(fs::exists(resolve(nodes.at("node_types_file").get<std::string>())));
        CHECK(nodes.at("populations").at("input").at("type").get<std::string>() == "virtual");
        const auto& edges = cfg.at("networks").at("edges")[0];
        CHECK(fs::exists(resolve(edges.at("edges_file").get<std::string>())));
        CHECK(fs::exists(resolve(edges.at("edge_types_file").get<std::string>())));
        CHECK(edges.at("populations").contains("recurrent"));
        CHECK(edges.at("populations").contains("input"));
        CHECK(cfg.at("eisim").at("learning_step").get<double>() == run.steps().back());
    }
    fs::remove_all(e.dir);
}

TEST_CASE("option --step chooses the exported snapshot", "[export][sonata]") {
    const auto& path = small_run();
    const analysis::run_file run(path);
    for (auto [arg, row]: {std::pair<std::string, long>{"first", 0}, {"1", 1}, {"2", 2}, {"last", run.snapshots() - 1}}) {
        INFO("--step " << arg);
        const auto e = export_ok(path, " --step " + arg);
        auto f = h5::open_file(e.path("edges.h5"));
        for (auto& name: projections) {
            auto pop = h5::open_group(f, "edges/" + name);
            CHECK(h5::read_double(pop, "0/syn_weight") == row_of(run.weights(name, row)));
            CHECK(h5::read_double(pop, "0/initial_weight") == row_of(run.weights(name, 0)));
        }
        fs::remove_all(e.dir);
    }
    for (auto bad: {"17", "banana", "1.5", ""}) {
        const auto dir = temp_dir();
        const auto r = test::run(exe + " export sonata " + path + " --out " + dir + " --step '" + bad + "'");
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("--step") != std::string::npos);
        CHECK(!fs::exists(dir));
    }
}

TEST_CASE("irregular snapshots give a report timed in frames", "[export][sonata]") {
    // steps = 5, record_every = 2: snapshots at steps 0, 2, 4, 5.
    const auto& path = small_run(5, 2);
    const analysis::run_file run(path);
    REQUIRE(run.steps() == std::vector<double>{0, 2, 4, 5});
    const auto e = export_ok(path, " --trajectory --step 4");
    auto f = h5::open_file(e.path("weights_recurrent.h5"));
    auto m = h5::open_group(f, "report/network/mapping");
    CHECK(h5::read_double(m, "learning_step") == run.steps());
    CHECK(h5::read_double(m, "time") == std::vector<double>{0, 4, 1});
    CHECK(h5::read_attr_string(h5::open_dataset(m, "time"), "units") == "snapshot");
    fs::remove_all(e.dir);
}

TEST_CASE("existing files are not overwritten without --overwrite", "[export][sonata][errors]") {
    const auto& path = small_run();
    const auto e = export_ok(path, "");
    std::ofstream(e.path("notes.txt")) << "mine";
    const auto before = slurp(e.path("edge_types.csv"));
    std::ofstream(e.path("edge_types.csv"), std::ios::app) << "# edited\n";
    const auto edited = slurp(e.path("edge_types.csv"));
    auto r = test::run(exe + " export sonata " + path + " --out " + e.dir);
    CHECK(r.code == 2);
    CHECK(r.output.find("--overwrite") != std::string::npos);
    CHECK(slurp(e.path("edge_types.csv")) == edited);
    r = test::run(exe + " export sonata " + path + " --out " + e.dir + " --overwrite");
    CHECK(r.code == 0);
    CHECK(slurp(e.path("edge_types.csv")) == before);
    CHECK(slurp(e.path("notes.txt")) == "mine");
    // A new file (the trajectory report) would not be replaced either, nor a regular file taken as --out.
    std::ofstream(e.path("weights_input.h5")) << "precious";
    r = test::run(exe + " export sonata " + path + " --out " + e.dir + " --trajectory");
    CHECK(r.code == 2);
    CHECK(slurp(e.path("weights_input.h5")) == "precious");
    r = test::run(exe + " export sonata " + path + " --out " + e.path("notes.txt"));
    CHECK(r.code == 2);
    fs::remove_all(e.dir);
}

TEST_CASE("a file that is not a readable run file is a clear error", "[export][sonata][errors]") {
    const auto& good = small_run();
    const auto copy_of_good = [&]() {
        const auto p = temp_path(".h5");
        fs::copy_file(good, p);
        return p;
    };
    struct bad_file { std::string path, message; };
    std::vector<bad_file> cases;
    {
        const auto p = temp_path(".h5");
        std::ofstream(p) << "not hdf5";
        cases.push_back({p, "not an HDF5 file"});
    }
    {
        const auto p = temp_path(".h5");
        h5::create_file(p);
        cases.push_back({p, "not an eisim run file"});
    }
    {
        const auto p = copy_of_good();
        auto f = h5::open_file(p, true);
        h5::write_attr(f, "format_version", analysis::readable_format_version + 1);
        cases.push_back({p, "newer"});
    }
    {
        const auto p = copy_of_good();
        auto f = h5::open_file(p, true);
        H5Ldelete(f, "trajectory", H5P_DEFAULT);
        cases.push_back({p, "/trajectory"});
    }
    {
        const auto p = copy_of_good();
        fs::resize_file(p, fs::file_size(p)/2);
        cases.push_back({p, p});
    }
    cases.push_back({"/no/such/run.h5", "/no/such/run.h5"});
    for (auto& c: cases) {
        for (auto sub: {"sonata", "csv"}) {
            const auto out = temp_dir();
            const auto r = test::run(exe + " export " + sub + " " + c.path + " --out " + out);
            INFO(sub << " " << c.path << ": " << r.output);
            CHECK(r.code == 2);
            CHECK(r.output.find(c.message) != std::string::npos);
            CHECK(!fs::exists(out));
        }
        fs::remove(c.path);
    }
}

TEST_CASE("the realism options reach the SONATA export", "[export][sonata][realism]") {
    const auto& path = small_run();
    const analysis::run_file run(path);
    const long T = run.snapshots();

    SECTION("--observe-synapses: a subset in run order, weights unchanged, indices still right") {
        const double F = 0.5;
        const auto e = export_ok(path, " --observe-synapses 0.5 --realism-seed 7");
        auto f = h5::open_file(e.path("edges.h5"));
        for (auto& name: projections) {
            const auto& p = run.projection(name);
            auto pop = h5::open_group(f, "edges/" + name);
            const double n = static_cast<double>(p.size()), kept = static_cast<double>(read_u64(pop, "0/synapse_id").size());
            CHECK(std::abs(kept/n - F) <= z_tol*std::sqrt(F*(1 - F)/n));
            check_edges_equal_run(run, pop, p, T - 1);
            CHECK(read_u64(pop, "edge_group_index").size() == static_cast<std::size_t>(kept));
            check_index(pop, "source_to_target", read_u64(pop, "source_node_id"), p.pre_population == "network"? run.n_e() + run.n_i(): run.n_in());
            check_index(pop, "target_to_source", read_u64(pop, "target_node_id"), run.n_e() + run.n_i());
        }
        fs::remove_all(e.dir);
    }

    SECTION("--observe-neurons: only synapses among the observed cells") {
        const auto e = export_ok(path, " --observe-neurons 0.6");
        auto nf = h5::open_file(e.path("nodes.h5"));
        const auto observed = h5::read_int(nf, "nodes/network/0/observed");
        auto f = h5::open_file(e.path("edges.h5"));
        for (auto& name: projections) {
            const auto& p = run.projection(name);
            auto pop = h5::open_group(f, "edges/" + name);
            const auto ids = read_u64(pop, "0/synapse_id");
            std::vector<std::uint64_t> expected;
            for (long k = 0; k < p.size(); ++k)
                if ((p.pre_population != "network" || observed[p.pre[k]]) && observed[p.post[k]]) expected.push_back(k);
            CHECK(ids == expected);
            check_edges_equal_run(run, pop, p, T - 1);
        }
        fs::remove_all(e.dir);
    }

    SECTION("--detection-threshold: exactly the synapses at or above it at the chosen step") {
        const vector w = run.weights("recurrent", T - 1);
        std::vector<double> mags(w.data(), w.data() + w.size());
        for (auto& m: mags) m = std::abs(m);
        std::nth_element(mags.begin(), mags.begin() + mags.size()/2, mags.end());
        const double threshold = mags[mags.size()/2];
        std::ostringstream arg;
        arg.precision(17);
        arg << " --detection-threshold " << threshold;
        const auto e = export_ok(path, arg.str());
        auto f = h5::open_file(e.path("edges.h5"));
        auto pop = h5::open_group(f, "edges/recurrent");
        const auto ids = read_u64(pop, "0/synapse_id");
        std::vector<std::uint64_t> expected;
        for (long k = 0; k < w.size(); ++k)
            if (std::abs(w[k]) >= threshold) expected.push_back(k);
        CHECK(ids == expected);
        for (double x: h5::read_double(pop, "0/syn_weight")) REQUIRE(std::abs(x) >= threshold);
        fs::remove_all(e.dir);
    }

    SECTION("--noise-multiplicative: ln(measured/true) has the stated spread") {
        const double S = 0.2;
        const auto e = export_ok(path, " --noise-multiplicative 0.2");
        auto f = h5::open_file(e.path("edges.h5"));
        auto pop = h5::open_group(f, "edges/recurrent");
        const auto x = h5::read_double(pop, "0/syn_weight");
        const vector w = run.weights("recurrent", T - 1);
        REQUIRE(static_cast<long>(x.size()) == w.size());
        double mean = 0, ss = 0;
        for (std::size_t k = 0; k < x.size(); ++k) mean += std::log(x[k]/w[k]);
        const double n = static_cast<double>(x.size());
        mean /= n;
        for (std::size_t k = 0; k < x.size(); ++k) ss += std::pow(std::log(x[k]/w[k]) - mean, 2);
        CHECK(std::abs(mean) <= z_tol*S/std::sqrt(n));
        CHECK(std::abs(std::sqrt(ss/(n - 1)) - S) <= z_tol*S/std::sqrt(2*(n - 1)));
        fs::remove_all(e.dir);
    }

    SECTION("--time-points thins the trajectory report, and needs --trajectory") {
        const auto e = export_ok(path, " --trajectory --time-points 3");
        auto f = h5::open_file(e.path("weights_recurrent.h5"));
        auto pop = h5::open_group(f, "report/network");
        CHECK(h5::shape(pop, "data")[0] == 3);
        const auto& s = run.steps();
        CHECK(h5::read_double(pop, "mapping/learning_step") == std::vector<double>{s[0], s[2], s[3]});
        fs::remove_all(e.dir);
        const auto dir = temp_dir();
        const auto r = test::run(exe + " export sonata " + path + " --out " + dir + " --time-points 3");
        CHECK(r.code == 2);
        CHECK(r.output.find("--trajectory") != std::string::npos);
        CHECK(!fs::exists(dir));
    }

    SECTION("invalid options exit 2 naming the option") {
        const auto dir = temp_dir();
        for (auto bad: {" --observe-synapses 0", " --observe-neurons 2", " --noise-additive -1", " --time-points 1"}) {
            const auto r = test::run(exe + " export sonata " + path + " --out " + dir + bad);
            INFO(bad << ": " << r.output);
            CHECK(r.code == 2);
            CHECK(r.output.find(std::string(bad).substr(1, std::string(bad).find(' ', 1) - 1)) != std::string::npos);
        }
        CHECK(!fs::exists(dir));
    }
}

TEST_CASE("SONATA export of a version-2 circuit names each node by its population", "[export][sonata][circuits]") {
    const auto spec = four_population_run();
    const auto path = temp_path(".h5");
    write_run_file(path, spec);
    const analysis::run_file run(path);
    const auto e = export_ok(path, "");

    // The expected node type of each population: 100, 101, ... over the network's, 200, ... over the inputs.
    std::map<std::string, std::uint64_t> type_of;
    std::map<std::string, std::uint64_t> next = {{"network", 100}, {"input", 200}};
    for (auto& q: spec.populations)
        if (next.count(q.side)) type_of[q.name] = next[q.side]++;
    const auto types = test::read_types(e.path("node_types.csv"));
    CHECK(types.size() == type_of.size()); // one row per population that is a node population
    std::map<std::string, std::map<std::string, std::string>> type_row;
    for (auto& row: types) type_row[row.at("node_type_id")] = row;

    auto f = h5::open_file(e.path("nodes.h5"));
    for (std::string side: {"network", "input"}) {
        INFO(side);
        auto pop = h5::open_group(f, "nodes/" + side);
        const auto type = read_u64(pop, "node_type_id");
        const auto pop_name = h5::read_strings(pop, "0/pop_name");
        const auto n = static_cast<std::size_t>(run.side_size(side));
        REQUIRE(type.size() == n);
        REQUIRE(pop_name.size() == n);
        const auto ei = side == "network"? h5::read_strings(pop, "0/ei"): std::vector<std::string>{};
        for (std::size_t i = 0; i < n; ++i) {
            const auto* q = population_at(spec, side, static_cast<long>(i));
            REQUIRE(q != nullptr);
            INFO("node " << i << " of " << q->name);
            REQUIRE(pop_name[i] == q->name);
            REQUIRE(type[i] == type_of.at(q->name));
            const auto& row = type_row.at(std::to_string(type[i]));
            REQUIRE(row.at("pop_name") == q->name);
            REQUIRE(row.at("population") == side);
            REQUIRE(row.at("model_type") == (side == "network"? "point_neuron": "virtual"));
            if (side == "network") {
                REQUIRE(ei[i] == (q->sign > 0? "e": "i"));
                REQUIRE(row.at("ei") == ei[i]);
            }
        }
    }

    // Edges: one population per projection between node populations, edge id = synapse id, and
    // each edge's type naming the populations of its two ends.
    auto ef = h5::open_file(e.path("edges.h5"));
    CHECK(!h5::exists(ef, "edges/readout"));
    std::map<std::string, std::map<std::string, std::string>> edge_type;
    for (auto& row: test::read_types(e.path("edge_types.csv"))) edge_type[row.at("edge_type_id")] = row;
    for (auto& p: spec.projections) {
        if (p.post_population == "output") continue;
        INFO(p.name);
        auto pop = h5::open_group(ef, "edges/" + p.name);
        std::vector<std::uint64_t> ids(p.pre.size());
        for (std::size_t k = 0; k < ids.size(); ++k) ids[k] = k;
        CHECK(read_u64(pop, "0/synapse_id") == ids);
        check_edges_equal_run(run, pop, run.projection(p.name), run.snapshots() - 1);
        const auto type = read_u64(pop, "edge_type_id");
        REQUIRE(type.size() == p.pre.size());
        std::map<std::uint64_t, std::tuple<std::string, std::string, int>> seen; // type id → its class
        for (std::size_t k = 0; k < type.size(); ++k) {
            const auto& row = edge_type.at(std::to_string(type[k]));
            const auto cls = std::make_tuple(population_at(spec, p.pre_population, p.pre[k])->name,
                                             population_at(spec, p.post_population, p.post[k])->name, int(p.sign[k]));
            REQUIRE(row.at("population") == p.name);
            REQUIRE(row.at("source_class") == std::get<0>(cls));
            REQUIRE(row.at("target_class") == std::get<1>(cls));
            REQUIRE(std::stoi(row.at("sign")) == std::get<2>(cls));
            REQUIRE(seen.emplace(type[k], cls).first->second == cls); // one class per type id
        }
        std::set<std::tuple<std::string, std::string, int>> classes;
        for (auto& [id, cls]: seen) classes.insert(cls);
        CHECK(classes.size() == seen.size()); // and one type id per class
    }
    fs::remove_all(e.dir);
}

TEST_CASE("a spiking run's export holds SONATA's spike file: trial 0's spikes with the node ids of nodes.h5", "[export][sonata][spiking]") {
    const auto cfg = temp_path(".toml");
    {
        std::ofstream f(cfg);
        f << "[network]\nspectral_radius = 0.0\n[task]\nbatch = 2\nduration_ms = 300.0\n[training]\nactivity_trials = 2\n"
             "[integrator]\ndt_ms = 0.1\n[input]\nmean = 0.5\n"
             "[[populations]]\nname = \"E\"\nmodel = \"lif\"\nsize = 40\nv_rest_mV = -52.0\n"
             "[[populations]]\nname = \"I\"\nmodel = \"alif\"\nsize = 10\nsign = \"inhibitory\"\nv_rest_mV = -49.0\n"
             "[[populations]]\nname = \"in\"\nmodel = \"input\"\nsize = 5\nspike_rate_hz = 50.0\n"
             "[[projections]]\nname = \"input\"\npre = \"in\"\npost = [\"E\", \"I\"]\np = 0.5\nweights = \"constant\"\nmean = 2.0\ndelay = 2\n";
    }
    const auto path = temp_path(".h5");
    const auto r = test::run(exe + " simulate " + cfg + " --out " + path);
    INFO(r.output);
    REQUIRE(r.code == 0);
    const auto e = export_ok(path, "");
    auto run = h5::open_file(path);
    auto out = h5::open_file(e.path("spikes.h5"));
    // The expectation: the run file's spikes of trial 0, as (time, side index), sorted.
    for (auto [side, pops]: {std::pair<std::string, std::vector<std::pair<std::string, long>>>{"network", {{"E", 0}, {"I", 40}}},
                             {"input", {{"in", 0}}}}) {
        INFO(side);
        std::vector<std::pair<double, std::uint64_t>> expect;
        for (auto& [name, first]: pops) {
            auto g = h5::open_group(run, "spikes/" + name);
            const auto t = h5::read_double(g, "timestamps");
            const auto node = read_u64(g, "node_ids");
            const auto trial = h5::read_int(g, "trial_ids");
            CHECK(std::is_sorted(t.begin(), t.end()));
            for (std::size_t q = 0; q < t.size(); ++q)
                if (trial[q] == 0) expect.emplace_back(t[q], node[q] + static_cast<std::uint64_t>(first));
        }
        std::sort(expect.begin(), expect.end());
        REQUIRE(expect.size() > 10);
        auto g = h5::open_group(out, "spikes/" + side);
        CHECK(h5::read_attr_string(g, "sorting") == "by_time");
        const auto t = h5::read_double(g, "timestamps");
        const auto node = read_u64(g, "node_ids");
        REQUIRE(t.size() == expect.size());
        for (std::size_t q = 0; q < t.size(); ++q) {
            REQUIRE(t[q] == expect[q].first);
            REQUIRE(node[q] == expect[q].second);
        }
    }
    CHECK(slurp(e.path("circuit_config.json")).find("\"spikes\": \"$BASE_DIR/spikes.h5\"") != std::string::npos);
}
