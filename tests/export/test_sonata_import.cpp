// `eisim run --circuit circuit_config.json`: a SONATA circuit read as populations and
// projections (docs/circuits.md, "SONATA in"). eisim's own export read back gives the run it came
// from (the same synapses, ids and initial weights); a circuit written by bmtk's NetworkBuilder
// loads and trains, each edge where the files put it; the printed config and --resume rebuild
// the same circuit; and every mistake names its file and part, exit code 2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "io/h5.hpp"
#include "tests/export/fixture.hpp"

using namespace eisim;
using namespace eisim::test;
namespace fs = std::filesystem;

namespace {

// The small network's run (3 learning steps) exported at its first snapshot, once per process.
const std::string& exported() {
    static std::string dir;
    if (dir.empty()) {
        dir = temp_dir();
        const auto r = run(exe + " export sonata " + small_run(3) + " --step first --out " + dir);
        if (r.code != 0) throw std::runtime_error("exporting the test run failed: " + r.output);
    }
    return dir;
}

// A private copy of the exported circuit, to break.
std::string copy_of_export() {
    const std::string dir = temp_dir();
    fs::copy(exported(), dir, fs::copy_options::recursive);
    return dir;
}

std::string config_of(const std::string& dir) { return dir + "/circuit_config.json"; }

// The small network's task settings (its trials are short), as small_network has them.
const std::string small_task = " --set task.duration_ms=50 --set task.batch=4";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<double> row0(hid_t file, const std::string& proj) {
    return h5::read_rows(file, "trajectory/" + proj + "/weight", 0, 1);
}

// Rewrite a types table without one column.
void drop_column(const std::string& path, const std::string& column) {
    std::ifstream f(path);
    std::vector<std::vector<std::string>> lines;
    for (std::string line; std::getline(f, line);) {
        std::istringstream ls(line);
        lines.emplace_back();
        for (std::string c; ls >> c;) lines.back().push_back(c);
    }
    f.close();
    const auto at = std::find(lines[0].begin(), lines[0].end(), column) - lines[0].begin();
    REQUIRE(at < static_cast<long>(lines[0].size()));
    std::ofstream o(path);
    for (auto& l: lines) {
        for (std::size_t c = 0; c < l.size(); ++c)
            if (static_cast<long>(c) != at) o << (c == 0? "": " ") << l[c];
        o << '\n';
    }
}

void delete_dataset(const std::string& file, const std::string& path) {
    auto f = h5::open_file(file, true);
    REQUIRE(h5::exists(f, path));
    REQUIRE(H5Ldelete(f, path.c_str(), H5P_DEFAULT) >= 0);
}

// Overwrite a whole integer dataset (any integer type on disk).
void overwrite_ints(const std::string& file, const std::string& path, const std::vector<std::int64_t>& v) {
    auto f = h5::open_file(file, true);
    auto d = h5::open_dataset(f, path);
    REQUIRE(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
}

} // namespace

TEST_CASE("eisim's SONATA export read back is the run it came from: synapses, ids, initial weights", "[sonata-import]") {
    const std::string original = small_run(3);
    const std::string again = temp_path(".h5");
    // Zero learning steps: the run file holds the circuit as built (/network, /trajectory row 0).
    const auto r = run(exe + " run -q --circuit " + config_of(exported()) + small_task + " --set training.steps=0 --out " + again);
    INFO(r.output);
    REQUIRE(r.code == 0);
    auto a = h5::open_file(original);
    auto b = h5::open_file(again);
    CHECK(h5::read_strings(a, "network/populations/name") == h5::read_strings(b, "network/populations/name"));
    CHECK(h5::read_int(a, "network/populations/size") == h5::read_int(b, "network/populations/size"));
    CHECK(h5::read_int(a, "network/populations/sign") == h5::read_int(b, "network/populations/sign"));
    CHECK(h5::read_double(a, "network/tau") == h5::read_double(b, "network/tau"));
    // The exported projections, and the readout (the default one, drawn from the same stream as
    // the original's, which was the default circuit's too).
    for (const std::string proj: {"recurrent", "input", "readout"}) {
        INFO(proj);
        const auto pre = h5::read_int(a, "network/" + proj + "/pre");
        REQUIRE(!pre.empty());
        CHECK(h5::read_int(b, "network/" + proj + "/pre") == pre); // synapse k is edge k: ids kept
        CHECK(h5::read_int(b, "network/" + proj + "/post") == h5::read_int(a, "network/" + proj + "/post"));
        CHECK(h5::read_int(b, "network/" + proj + "/sign") == h5::read_int(a, "network/" + proj + "/sign"));
        CHECK(row0(b, proj) == row0(a, proj)); // exactly: |syn_weight| times the sign
        CHECK(h5::read_strings(b, "network/" + proj + "/pre_populations") == h5::read_strings(a, "network/" + proj + "/pre_populations"));
        CHECK(h5::read_strings(b, "network/" + proj + "/post_populations") == h5::read_strings(a, "network/" + proj + "/post_populations"));
    }
    CHECK(h5::read_attr_string(h5::open_group(b, "network/recurrent"), "connectivity") == "sonata");
}

TEST_CASE("the printed config and --resume rebuild the imported circuit; changed files are refused", "[sonata-import]") {
    const std::string dir = copy_of_export();
    const std::string toml = temp_path(".toml");
    auto r = run("(" + exe + " config --circuit " + config_of(dir) + small_task + " > " + toml + ")");
    INFO(r.output);
    REQUIRE(r.code == 0);
    std::ifstream t(toml);
    std::stringstream printed;
    printed << t.rdbuf();
    CHECK(contains(printed.str(), "[circuit]\n"));
    CHECK(contains(printed.str(), "sonata = \"" + fs::absolute(config_of(dir)).lexically_normal().string() + "\""));
    CHECK(contains(printed.str(), "connectivity = \"sonata\""));
    CHECK(contains(printed.str(), "digest = \""));

    // The printed config builds what --circuit builds.
    const std::string direct = temp_path(".h5"), from_toml = temp_path(".h5");
    r = run(exe + " run -q --circuit " + config_of(dir) + small_task + " --set training.steps=2 --out " + direct);
    REQUIRE(r.code == 0);
    r = run(exe + " run -q " + toml + " --set training.steps=2 --out " + from_toml);
    REQUIRE(r.code == 0);
    {
        auto a = h5::open_file(direct);
        auto b = h5::open_file(from_toml);
        for (const std::string proj: {"recurrent", "input", "readout"}) {
            INFO(proj);
            CHECK(h5::read_int(a, "network/" + proj + "/pre") == h5::read_int(b, "network/" + proj + "/pre"));
            CHECK(h5::read_int(a, "network/" + proj + "/post") == h5::read_int(b, "network/" + proj + "/post"));
            CHECK(row0(a, proj) == row0(b, proj));
            CHECK(h5::read_rows(a, "trajectory/" + proj + "/weight", 2, 1) == h5::read_rows(b, "trajectory/" + proj + "/weight", 2, 1));
        }
    }
    // --resume reads the stored config, which imports the circuit again.
    r = run(exe + " run --resume " + direct);
    INFO(r.output);
    CHECK(r.code == 0);
    CHECK(contains(r.output, "resuming"));

    // A changed weight in the files: the digest no longer matches, resume is refused.
    {
        auto f = h5::open_file(dir + "/edges.h5", true);
        auto w = h5::read_double(f, "edges/recurrent/0/syn_weight");
        w[0] *= 2;
        h5::overwrite(f, "edges/recurrent/0/syn_weight", w.data());
    }
    r = run(exe + " run --resume " + direct);
    CHECK(r.code == 2);
    CHECK(contains(r.output, "changed since"));
    CHECK(contains(r.output, "circuit_config.json"));
}

TEST_CASE("a circuit written by bmtk's NetworkBuilder loads and trains, each edge where the files put it", "[sonata-import][bmtk]") {
    const std::string python = fs::exists("/usr/bin/python3")? "/usr/bin/python3": "python3";
    if (run(python + " -c 'import bmtk.builder, bmtk.utils.sim_setup'").code != 0) {
        WARN("python3-bmtk cannot be imported: the bmtk circuit test is skipped (apt-get install python3-bmtk)");
        return;
    }
    const std::string dir = temp_dir();
    auto r = run(python + " " + EISIM_SOURCE_DIR + "/tests/export/bmtk_circuit.py " + dir);
    INFO(r.output);
    REQUIRE(r.code == 0);
    const std::string out = temp_path(".h5");
    r = run(exe + " run -q --circuit " + config_of(dir) + " --set training.steps=2 --out " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(contains(r.output, "delays (up to 2 ms) are left out"));

    // What bmtk wrote, read with the HDF5 API and its type tables.
    const std::string net = dir + "/network/";
    auto nodes = h5::open_file(net + "v1_nodes.h5");
    const auto node_type = h5::read_int(nodes, "nodes/v1/node_type_id");
    std::map<std::int64_t, std::string> pop_of_type;
    for (auto& row: test::read_types(net + "v1_node_types.csv")) pop_of_type[std::stoll(row["node_type_id"])] = row["pop_name"];
    // Network cells: population E (in node order) then PV, as the populations appear.
    std::vector<std::int64_t> cell(node_type.size());
    std::vector<int> cell_sign(node_type.size());
    std::int64_t n_e = 0, n_pv = 0;
    for (std::size_t i = 0; i < node_type.size(); ++i) (pop_of_type.at(node_type[i]) == "E"? n_e: n_pv)++;
    REQUIRE(n_e == 15);
    REQUIRE(n_pv == 4);
    for (std::size_t i = 0, e = 0, p = 0; i < node_type.size(); ++i) {
        const bool is_e = pop_of_type.at(node_type[i]) == "E";
        cell[i] = is_e? static_cast<std::int64_t>(e++): n_e + static_cast<std::int64_t>(p++);
        cell_sign[i] = is_e? 1: -1;
    }
    auto run_file = h5::open_file(out);
    CHECK(h5::read_strings(run_file, "network/populations/name") == std::vector<std::string>{"LGN", "E", "PV", "out"});
    CHECK(h5::read_attr_int(h5::open_group(run_file, "network"), "n_in") == 5);

    struct edge_file { std::string file, types, population; bool recurrent; };
    for (const edge_file& ef: {edge_file{"v1_v1_edges.h5", "v1_v1_edge_types.csv", "v1_to_v1", true},
                               edge_file{"lgn_v1_edges.h5", "lgn_v1_edge_types.csv", "lgn_to_v1", false}}) {
        INFO(ef.population);
        auto edges = h5::open_file(net + ef.file);
        const std::string pop = "edges/" + ef.population;
        const auto n = h5::shape(edges, pop + "/source_node_id").at(0);
        const auto src = h5::read_int(edges, pop + "/source_node_id");
        const auto tgt = h5::read_int(edges, pop + "/target_node_id");
        const auto type = h5::read_int(edges, pop + "/edge_type_id");
        std::map<std::int64_t, std::string> weight_of_type;
        for (auto& row: test::read_types(net + ef.types)) weight_of_type[std::stoll(row["edge_type_id"])] = row["syn_weight"];
        const bool nsyns = h5::exists(edges, pop + "/0/nsyns"), own_weight = h5::exists(edges, pop + "/0/syn_weight");
        CHECK(nsyns == ef.recurrent);     // bmtk: counts from the connection rule
        CHECK(own_weight == !ef.recurrent); // add_properties: a weight per edge
        const auto k = nsyns? h5::read_double(edges, pop + "/0/nsyns"): std::vector<double>(n, 1.0);
        const auto w = own_weight? h5::read_double(edges, pop + "/0/syn_weight"): std::vector<double>{};

        // The synapse count per projection is bmtk's edge count; synapse e is edge e.
        const auto pre = h5::read_int(run_file, "network/" + ef.population + "/pre");
        const auto post = h5::read_int(run_file, "network/" + ef.population + "/post");
        const auto sign = h5::read_int(run_file, "network/" + ef.population + "/sign");
        const auto w0 = row0(run_file, ef.population);
        REQUIRE(n > 0);
        REQUIRE(pre.size() == n);
        REQUIRE(w0.size() == n);
        for (std::size_t e = 0; e < n; ++e) {
            INFO("edge " << e);
            const double syn_weight = own_weight? w[e]: std::stod(weight_of_type.at(type[e]));
            CHECK(pre[e] == (ef.recurrent? cell[static_cast<std::size_t>(src[e])]: src[e]));
            CHECK(post[e] == cell[static_cast<std::size_t>(tgt[e])]);
            CHECK(sign[e] == (ef.recurrent? cell_sign[static_cast<std::size_t>(src[e])]: 1));
            CHECK(std::abs(w0[e]) == Approx(std::abs(syn_weight)*k[e]).epsilon(1e-12));
        }
    }
    CHECK(h5::read_int(run_file, "network/readout/pre").size() == static_cast<std::size_t>(n_e*2)); // default readout: E, all to all
}

TEST_CASE("SONATA import errors name the file and the part, exit code 2", "[sonata-import]") {
    SECTION("a negative weight from an excitatory population names the edge") {
        const std::string dir = copy_of_export();
        std::size_t bad = 0;
        {
            auto f = h5::open_file(dir + "/edges.h5", true);
            const auto src = h5::read_int(f, "edges/recurrent/source_node_id");
            auto w = h5::read_double(f, "edges/recurrent/0/syn_weight");
            while (src[bad] >= 40) ++bad; // the first edge from population E (cells 0..39)
            REQUIRE(w[bad] > 0);
            w[bad] = -w[bad];
            h5::overwrite(f, "edges/recurrent/0/syn_weight", w.data());
        }
        const auto r = run(exe + " simulate --circuit " + config_of(dir) + small_task + " --out " + temp_path(".h5"));
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(contains(r.output, dir + "/edges.h5' /edges/recurrent edge " + std::to_string(bad) + " "));
        CHECK(contains(r.output, "is negative, but E is excitatory"));
    }
    SECTION("two edges between the same pair of nodes") {
        const std::string dir = copy_of_export();
        std::vector<std::int64_t> src, tgt;
        {
            auto f = h5::open_file(dir + "/edges.h5");
            src = h5::read_int(f, "edges/recurrent/source_node_id");
            tgt = h5::read_int(f, "edges/recurrent/target_node_id");
        }
        src[7] = src[2];
        tgt[7] = tgt[2];
        overwrite_ints(dir + "/edges.h5", "edges/recurrent/source_node_id", src);
        overwrite_ints(dir + "/edges.h5", "edges/recurrent/target_node_id", tgt);
        const auto r = run(exe + " simulate --circuit " + config_of(dir) + small_task + " --out " + temp_path(".h5"));
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(contains(r.output, "/edges/recurrent edge 7 (source node " + std::to_string(src[2]) + ", target node " + std::to_string(tgt[2]) +
                                     ") connects the same pair of nodes as edge 2"));
    }
    SECTION("a pop_name missing from the nodes file and the node types") {
        const std::string dir = copy_of_export();
        delete_dataset(dir + "/nodes.h5", "nodes/network/0/pop_name");
        drop_column(dir + "/node_types.csv", "pop_name");
        const auto r = run(exe + " simulate --circuit " + config_of(dir) + small_task + " --out " + temp_path(".h5"));
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(contains(r.output, dir + "/nodes.h5' /nodes/network: node 0 (node_type_id 100) has no pop_name"));
        CHECK(contains(r.output, "node_types.csv"));
    }
    SECTION("a pop_name in the node types only is enough (the types fill in what the nodes file lacks)") {
        const std::string dir = copy_of_export();
        delete_dataset(dir + "/nodes.h5", "nodes/network/0/pop_name");
        const auto r = run(exe + " simulate --circuit " + config_of(dir) + small_task + " --out " + temp_path(".h5"));
        INFO(r.output);
        CHECK(r.code == 0);
    }
    SECTION("missing files") {
        auto r = run(exe + " simulate --circuit /nonexistent/circuit_config.json --out " + temp_path(".h5"));
        CHECK(r.code == 2);
        CHECK(contains(r.output, "cannot read the SONATA circuit config '/nonexistent/circuit_config.json'"));
        const std::string dir = copy_of_export();
        fs::remove(dir + "/edges.h5");
        r = run(exe + " simulate --circuit " + config_of(dir) + small_task + " --out " + temp_path(".h5"));
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(contains(r.output, "cannot open '" + dir + "/edges.h5'"));
        fs::remove(dir + "/node_types.csv");
        r = run(exe + " simulate --circuit " + config_of(dir) + small_task + " --out " + temp_path(".h5"));
        CHECK(r.code == 2);
        CHECK(contains(r.output, "cannot read the types file '" + dir + "/node_types.csv' (networks.nodes[0]"));
    }
    SECTION("without ei, a rate population's sign comes from [circuit] signs") {
        const std::string dir = copy_of_export();
        delete_dataset(dir + "/nodes.h5", "nodes/network/0/ei");
        drop_column(dir + "/node_types.csv", "ei");
        auto r = run(exe + " simulate --circuit " + config_of(dir) + small_task + " --out " + temp_path(".h5"));
        CHECK(r.code == 2);
        CHECK(contains(r.output, "'circuit.signs': population E ("));
        CHECK(contains(r.output, "signs = { E = \"excitatory\" } (or \"inhibitory\")"));
        const std::string toml = temp_path(".toml");
        std::ofstream(toml) << "[circuit]\nsigns = { E = \"excitatory\", I = \"inhibitory\" }\n";
        const std::string out = temp_path(".h5");
        r = run(exe + " run -q " + toml + " --circuit " + config_of(dir) + small_task + " --set training.steps=0 --out " + out);
        INFO(r.output);
        REQUIRE(r.code == 0);
        auto f = h5::open_file(out);
        CHECK(h5::read_int(f, "network/populations/sign") == std::vector<std::int64_t>{1, -1, 1, 0});
        CHECK(contains(h5::read_attr_string(f, "config"), "signs = { E = \"excitatory\", I = \"inhibitory\" }"));
        std::ofstream(toml) << "[circuit]\nsigns = { PV = \"inhibitory\" }\n";
        r = run(exe + " config " + toml + " --circuit " + config_of(dir));
        CHECK(r.code == 2);
        CHECK(contains(r.output, "'circuit.signs.PV': no imported population of that name (imported: E, I, in)"));
    }
    SECTION("what the files fix cannot be changed; the rest can be amended") {
        auto r = run(exe + " config --circuit " + config_of(exported()) + " --set populations.E.size=30");
        CHECK(r.code == 2);
        CHECK(contains(r.output, "'populations[0].size': population E is imported from the SONATA circuit"));
        r = run(exe + " config --circuit " + config_of(exported()) + " --set 'projections.recurrent.pre=[\"E\"]'");
        CHECK(r.code == 2);
        CHECK(contains(r.output, "'projections[0].pre': projection recurrent is imported"));
        r = run(exe + " config --circuit " + config_of(exported()) + " --set circuit.signs={}");
        CHECK(r.code == 2);
        CHECK(contains(r.output, "'circuit.signs': [circuit] is read with the import"));
        const std::string toml = temp_path(".toml");
        std::ofstream(toml) << "[[projections]]\nname = \"extra\"\npre = \"E\"\npost = \"I\"\nconnectivity = \"sonata\"\n";
        r = run(exe + " config " + toml + " --circuit " + config_of(exported()));
        CHECK(r.code == 2);
        CHECK(contains(r.output, "'projections[2].connectivity': sonata is the imported projections' own"));

        std::ofstream(toml) << "[[populations]]\nname = \"I\"\ntau_ms = 15.0\n\n[[projections]]\nname = \"recurrent\"\nplastic = false\n";
        const std::string out = temp_path(".h5");
        r = run(exe + " run -q " + toml + " --circuit " + config_of(exported()) + small_task + " --set training.steps=1 --out " + out);
        INFO(r.output);
        REQUIRE(r.code == 0);
        auto f = h5::open_file(out);
        CHECK(h5::read_attr_int(h5::open_group(f, "network/recurrent"), "plastic") == 0);
        CHECK(h5::read_double(f, "network/populations/tau_ms").at(1) == 15.0);
        CHECK(row0(f, "recurrent") == h5::read_rows(f, "trajectory/recurrent/weight", 1, 1)); // frozen
    }
}
