// `eisim analyze` as a user meets it: on a run file that eisim did not write (built here with the
// HDF5 C API in the documented layout), on one that it did, and on files that are not run files.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "analysis/analyze.hpp"
#include "analysis/figures.hpp"
#include "analysis/json.hpp"
#include "analysis/report.hpp"
#include "analysis/run_file.hpp"
#include "sim/recorder.hpp"
#include "io/h5.hpp"
#include "tests/analysis/fixture.hpp"
#include "tests/support/approx.hpp"
#include "tests/support/default_problem.hpp"

using namespace eisim;
using analysis::at_path;
using analysis::json;

namespace {

const std::string exe = EISIM_EXE;

json read_json(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return json::parse(ss.str());
}

/// The synthetic EG run file, written once per test process.
const std::string& eg_file() {
    static const std::string path = [] {
        const auto p = test::temp_path(".h5");
        test::write_run_file(p, test::synthetic_run(analysis::eg_geometry()));
        return p;
    }();
    return path;
}

bool has(const json& list, const std::string& name) {
    for (std::size_t k = 0; k < list.size(); ++k) if (list[k].get<std::string>() == name) return true;
    return false;
}

/// Exit code 2 with an "eisim: error:" message containing `what`.
void check_file_error(const std::string& file, const std::string& what) {
    const auto r = test::run(exe + " analyze " + file);
    INFO(r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find("eisim: error:") != std::string::npos);
    CHECK(r.output.find(what) != std::string::npos);
}

} // namespace

TEST_CASE("the reader reads the run-file format the recorder writes", "[analysis][contract]") {
    // The reader reads every version up to its own (1 and 2), and the recorder writes the newest.
    CHECK(run_format_version == analysis::readable_format_version);
}

TEST_CASE("analyze reads a file eisim did not write and finds the EG geometry", "[analysis][cli]") {
    const auto out = test::temp_path(".json");
    const auto r = test::run(exe + " analyze " + eg_file() + " --json " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.find("recurrent") != std::string::npos); // the table
    const json j = read_json(out);
    CHECK(j.at("schema").get<std::string>() == "eisim.analysis");
    CHECK(at_path(j, "run.seed").get<long long>() == 7);
    CHECK(at_path(j, "run.trained_geometry").get<std::string>() == "eg");
    CHECK(at_path(j, "run.snapshots").get<long long>() == 3);
    CHECK(at_path(j, "from.step").get<double>() == 0);
    CHECK(at_path(j, "to.step").get<double>() == 20);
    CHECK(at_path(j, "from.loss").get<double>() == 1.0);
    CHECK(at_path(j, "to.loss").get<double>() == 0.25);
    CHECK(at_path(j, "settings.bound").get<double>() == 1e-6); // from the config text
    CHECK(at_path(j, "settings.bound_source").get<std::string>() == "config");

    const auto& rec = at_path(j, "projections.recurrent");
    CHECK(rec.at("n_synapses").get<long long>() == 200*199);
    CHECK(rec.at("sign_changes").get<long long>() == 0);
    CHECK(rec.at("held_at_bound").get<long long>() == 0);
    CHECK(at_path(rec, "blocks.all.geometry.best").get<std::string>() == "eg");
    CHECK(has(at_path(rec, "blocks.all.geometry.consistent"), "eg"));
    CHECK(at_path(rec, "blocks.all.geometry.floor").get<double>() > 0);
    CHECK(at_path(rec, "blocks.all.geometry.candidates").size() == 21);
    const auto& c0 = at_path(rec, "blocks.all.geometry.candidates")[0];
    CHECK(c0.at("name").get<std::string>() == "eg");
    CHECK(c0.at("dcdf").is_number());
    CHECK(c0.at("relative_change").is_number());
    // Blocks, post-then-pre, with their sizes: E→E 160·159, I→E 160·40, E→I 40·160, I→I 40·39.
    CHECK(at_path(rec, "blocks.EE.n_synapses").get<long long>() == 160*159);
    CHECK(at_path(rec, "blocks.EI.n_synapses").get<long long>() == 160*40);
    CHECK(at_path(rec, "blocks.IE.n_synapses").get<long long>() == 40*160);
    CHECK(at_path(rec, "blocks.II.n_synapses").get<long long>() == 40*39);
    for (auto b: {"EE", "EI", "IE", "II"}) CHECK(has(at_path(rec, std::string("blocks.") + b + ".geometry.consistent"), "eg"));
    CHECK(at_path(rec, "blocks.EE.geometry.best").get<std::string>() == "eg");
    for (auto which: {"initial", "final"})
        for (auto key: {"n", "mean_ln", "sd_ln", "skew_ln", "mu", "sigma", "ks"})
            CHECK(at_path(rec, std::string("blocks.all.") + which + "." + key).is_number());
    // ln|w₀| ~ N(−1, 2²) truncated at ±3 sd: the fit sees sd slightly below 2.
    CHECK(at_path(rec, "blocks.all.initial.mu").get<double>() == Approx(-1).margin(0.1));
    CHECK(at_path(rec, "blocks.all.initial.sigma").get<double>() == Approx(2*0.986).margin(0.1));

    // The readout: blocks by the presynaptic cell (E only here), three synapses held at the bound.
    const auto& ro = at_path(j, "projections.readout");
    CHECK(ro.at("held_at_bound").get<long long>() == 3);
    {   // the log-normal fits leave the held synapses out: the final one is over the others
        auto f = h5::open_file(eg_file());
        const auto w = h5::read_double(f, "trajectory/readout/weight");
        const long n = at_path(ro, "blocks.all.n_synapses").get<long long>(), rows = static_cast<long>(w.size()) / n;
        double sum = 0;
        long above = 0;
        for (long k = 0; k < n; ++k) {
            const double x = std::abs(w[(rows - 1)*n + k]);
            if (x > 1e-6*(1 + 1e-9)) sum += std::log(x), ++above;
        }
        CHECK(above == n - 3);
        CHECK(at_path(ro, "blocks.all.final.n").get<long long>() == above);
        CHECK(at_path(ro, "blocks.all.initial.n").get<long long>() == n);
        CHECK(at_path(ro, "blocks.all.final.mean_ln").get<double>() == Approx(sum/above).epsilon(1e-12));
    }
    CHECK(ro.at("sign_changes").get<long long>() == 0);
    CHECK(ro.at("blocks").contains("E"));
    CHECK_FALSE(ro.at("blocks").contains("I"));
    // The frozen input projection is listed, not analysed.
    CHECK_FALSE(j.at("projections").contains("input"));
    CHECK(has(j.at("frozen"), "input"));
}

TEST_CASE("analyze reports the geometry test pooled and per neuron and --standardize picks .geometry", "[analysis][cli][per-neuron]") {
    const auto out = test::temp_path(".json");
    auto r = test::run(exe + " analyze " + eg_file() + " --json " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    json j = read_json(out);
    CHECK(j.at("schema_version").get<long long>() == 2);
    CHECK(at_path(j, "settings.standardize").get<std::string>() == "per-neuron"); // the default
    CHECK(at_path(j, "settings.min_synapses").get<long long>() == 10);
    const auto& all = at_path(j, "projections.recurrent.blocks.all");
    const auto& pooled = all.at("geometry_pooled");
    const auto& per = all.at("geometry_per_neuron");
    // The same fields in all three; .geometry is the per-neuron variant.
    for (const auto* g: {&pooled, &per, &all.at("geometry")}) {
        std::vector<std::string> keys;
        for (auto& [k, v]: g->items()) keys.push_back(k);
        CHECK(keys == std::vector<std::string>{"standardize", "n", "excluded", "neurons", "neurons_skipped", "skipped_synapses",
                                               "best", "consistent", "floor", "candidates"});
    }
    CHECK(all.at("geometry").dump() == per.dump());
    CHECK(pooled.at("standardize").get<std::string>() == "pooled");
    CHECK(pooled.at("neurons").is_null());
    CHECK(per.at("standardize").get<std::string>() == "per-neuron");
    // 200 postsynaptic cells with 199 synapses each (no autapses); 160 E cells with 159 E inputs.
    CHECK(per.at("neurons").get<long long>() == 200);
    CHECK(per.at("neurons_skipped").get<long long>() == 0);
    CHECK(per.at("n").get<long long>() == 200*199);
    CHECK(at_path(j, "projections.recurrent.blocks.EE.geometry_per_neuron.neurons").get<long long>() == 160);
    CHECK(at_path(j, "projections.readout.blocks.all.geometry_per_neuron.neurons").get<long long>() == 2);
    // A change Gaussian in the EG dual space with one width for all: both variants find EG.
    CHECK(pooled.at("best").get<std::string>() == "eg");
    CHECK(per.at("best").get<std::string>() == "eg");
    // The table shows both, the reported one starred, and a summary line per projection.
    CHECK(r.output.find("per-neuron*") != std::string::npos);
    CHECK(r.output.find("  all   pooled ") != std::string::npos);
    CHECK(r.output.find("summary: recurrent: pooled: best eg, consistent eg") != std::string::npos);
    CHECK(r.output.find("; per-neuron: best eg, consistent eg") != std::string::npos);

    r = test::run(exe + " analyze " + eg_file() + " --standardize pooled --json " + out);
    REQUIRE(r.code == 0);
    j = read_json(out);
    CHECK(at_path(j, "settings.standardize").get<std::string>() == "pooled");
    CHECK(at_path(j, "projections.recurrent.blocks.all.geometry").dump() ==
          at_path(j, "projections.recurrent.blocks.all.geometry_pooled").dump());
    CHECK(r.output.find("pooled*") != std::string::npos);

    r = test::run(exe + " analyze " + eg_file() + " --standardize per_neuron");
    CHECK(r.code == 2);
    CHECK(r.output.find("eisim: error: --standardize: unknown standardization 'per_neuron'; known: pooled, per-neuron") !=
          std::string::npos);
}

TEST_CASE("analyze --from/--to choose the snapshots", "[analysis][cli]") {
    const auto out = test::temp_path(".json");
    const auto r = test::run(exe + " analyze " + eg_file() + " --from 10 --to 20 --json " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    const json j = read_json(out);
    CHECK(at_path(j, "from.index").get<long long>() == 1);
    CHECK(at_path(j, "to.index").get<long long>() == 2);
    CHECK(at_path(j, "from.loss").get<double>() == 0.5);
    // The second half of an EG change is an EG change too.
    CHECK(has(at_path(j, "projections.recurrent.blocks.all.geometry.consistent"), "eg"));

    auto bad = test::run(exe + " analyze " + eg_file() + " --from 5");
    CHECK(bad.code == 2);
    CHECK(bad.output.find("no snapshot at learning step 5; snapshots are at steps 0, 10, 20") != std::string::npos);
    bad = test::run(exe + " analyze " + eg_file() + " --from 20 --to 10");
    CHECK(bad.code == 2);
    CHECK(bad.output.find("--from") != std::string::npos);
}

TEST_CASE("analyze finds the p = 3 geometry in a file eisim did not write", "[analysis][cli]") {
    const auto path = test::temp_path(".h5");
    test::write_run_file(path, test::synthetic_run(analysis::pnorm_geometry(3.0)));
    // Through the library this time: the same code the command runs.
    const auto r = analysis::analyze(analysis::run_file(path));
    const auto& all = r.projection("recurrent").block("all");
    CHECK(all.geometry.best == "p=3.0");
    CHECK(std::find(all.geometry.consistent.begin(), all.geometry.consistent.end(), "p=3.0") != all.geometry.consistent.end());
    CHECK(r.trained_geometry == "pnorm");
    CHECK(r.trained_p == 3.0);
}

TEST_CASE("analyze on a run file eisim wrote", "[analysis][cli]") {
    const auto run = test::temp_path(".h5");
    const auto made = test::run(exe + " run -q --set populations.E.size=40 --set populations.I.size=10 --set task.duration_ms=50"
                                      " --set task.batch=4 --set training.steps=3 --out " + run);
    REQUIRE(made.code == 0);
    const auto out = test::temp_path(".json");
    const auto r = test::run(exe + " analyze " + run + " --json " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    const json j = read_json(out);
    CHECK(at_path(j, "to.step").get<double>() == 3);
    for (const auto& [name, p]: j.at("projections").items()) {
        INFO(name);
        CHECK(p.at("sign_changes").get<long long>() == 0);
        CHECK(p.at("dale_violations").get<long long>() == 0);
        CHECK(at_path(p, "blocks.all.geometry_pooled.best").is_string());
        // Per neuron: a best candidate, unless every neuron has too few synapses (the input
        // projection: about 4 afferents per cell), which are then skipped and counted.
        const auto& per = at_path(p, "blocks.all.geometry_per_neuron");
        if (per.at("neurons").get<long long>() > 0) CHECK(per.at("best").is_string());
        else CHECK((per.at("best").is_null() && per.at("neurons_skipped").get<long long>() > 0));
        CHECK(at_path(p, "blocks.all.geometry").dump() == per.dump());
    }
    CHECK(at_path(j, "projections.recurrent.blocks.all.geometry_per_neuron.neurons").get<long long>() > 0);
    CHECK(at_path(j, "projections.input.blocks.all.geometry_per_neuron.neurons").get<long long>() == 0);
    CHECK(at_path(j, "projections.recurrent.blocks").contains("II"));
}

TEST_CASE("files that are not run files give a clear error and exit code 2", "[analysis][cli][errors]") {
    check_file_error("/nonexistent/run.h5", "no such file");

    const auto text = test::temp_path(".h5");
    std::ofstream(text) << "not HDF5\n";
    check_file_error(text, "not an HDF5 file");

    auto spec = test::synthetic_run(analysis::eg_geometry(), 20, 5);
    const auto other = test::temp_path(".h5");
    spec.format = "something.else";
    test::write_run_file(other, spec);
    check_file_error(other, "not an eisim run file");

    const auto noformat = test::temp_path(".h5");
    spec.format = "";
    test::write_run_file(noformat, spec);
    check_file_error(noformat, "not an eisim run file");

    const auto newer = test::temp_path(".h5");
    spec.format = "eisim.run";
    spec.format_version = analysis::readable_format_version + 1;
    test::write_run_file(newer, spec);
    check_file_error(newer, "newer");

    const auto notraj = test::temp_path(".h5");
    spec.format_version = 1;
    spec.with_trajectory = false;
    test::write_run_file(notraj, spec);
    check_file_error(notraj, "missing group /trajectory");

    const auto one = test::temp_path(".h5");
    spec.with_trajectory = true;
    spec.steps = {0};
    spec.loss = {1};
    for (auto& p: spec.projections) p.weights.resize(1);
    test::write_run_file(one, spec);
    check_file_error(one, "holds 1 snapshot");

    // A truncated copy of a good file.
    const auto cut = test::temp_path(".h5");
    std::filesystem::copy_file(eg_file(), cut);
    std::filesystem::resize_file(cut, std::filesystem::file_size(cut)/2);
    check_file_error(cut, cut);
}

namespace {
// Change one value of a dataset in place (any numeric type; HDF5 converts from double).
void poke(const std::string& path, const std::string& dataset, std::size_t index, double value) {
    auto f = h5::open_file(path, true);
    auto v = h5::read_double(f, dataset);
    REQUIRE(index < v.size());
    v[index] = value;
    h5::handle ds(H5Dopen2(f, dataset.c_str(), H5P_DEFAULT), H5Dclose);
    REQUIRE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
}

// Replace a dataset by a shorter copy of its first n values.
void shorten(const std::string& path, const std::string& dataset, std::size_t n) {
    auto f = h5::open_file(path, true);
    auto v = h5::read_int(f, dataset);
    REQUIRE(H5Ldelete(f, dataset.c_str(), H5P_DEFAULT) >= 0);
    v.resize(n);
    h5::write(f, dataset, v.data(), {n});
}
} // namespace

TEST_CASE("inconsistent run files are refused, naming what contradicts what", "[analysis][cli][errors]") {
    const auto good = test::temp_path(".h5");
    REQUIRE(test::run(exe + " run -q --set populations.E.size=40 --set populations.I.size=10 --set task.batch=4"
                            " --set task.duration_ms=100 --set training.steps=3 --out " + good).code == 0);
    REQUIRE(test::run(exe + " analyze " + good).code == 0);
    std::vector<std::int64_t> pre;
    long n_e = 0, last = 0;
    {
        auto f = h5::open_file(good);
        pre = h5::read_int(f, "network/recurrent/pre");
        n_e = static_cast<long>(h5::read_attr_int(h5::open_group(f, "network"), "n_e"));
        last = static_cast<long>(h5::shape(f, "trajectory/recurrent/weight").at(0)) - 1;
    }
    std::size_t from_e = 0;
    while (pre[from_e] >= n_e) ++from_e; // a synapse of an excitatory cell
    const std::size_t nnz = pre.size();
    struct damage {
        std::string what, expect;
        std::function<void(const std::string&)> apply;
    };
    const std::vector<damage> cases = {
        {"a sign of 2", "sign[0] = 2 (a sign is +1 or -1)", [](const std::string& p) { poke(p, "network/recurrent/sign", 0, 2); }},
        {"an inhibitory synapse from an E cell", "contradicts the sign of its presynaptic cell",
         [&](const std::string& p) { poke(p, "network/recurrent/sign", from_e, -1); }},
        {"cell_sign too short", "signs for n_e + n_i = 50 cells", [](const std::string& p) { shorten(p, "network/cell_sign", 30); }},
        {"a cell sign of 0", "cell_sign[3] = 0", [](const std::string& p) { poke(p, "network/cell_sign", 3, 0); }},
        {"post shorter than pre", "pre, post and sign differ in length", [&](const std::string& p) { shorten(p, "network/recurrent/post", nnz - 1); }},
        {"a NaN weight", "is not finite",
         [&](const std::string& p) { poke(p, "trajectory/recurrent/weight", static_cast<std::size_t>(last) * nnz + 5, std::nan("")); }},
        {"a weight against its sign", "contradicts the synapse's sign",
         [&](const std::string& p) {
             poke(p, "trajectory/recurrent/weight", static_cast<std::size_t>(last) * nnz + from_e, -0.25);
         }},
    };
    for (auto& c: cases) {
        INFO(c.what);
        const auto bad = test::temp_path(".h5");
        std::filesystem::copy_file(good, bad);
        c.apply(bad);
        check_file_error(bad, c.expect);
        const auto csv = test::run(exe + " export csv " + bad + " --out " + bad + ".csv");
        INFO(csv.output);
        CHECK(csv.code == 2);
        CHECK(csv.output.find(c.expect) != std::string::npos);
        std::remove(bad.c_str());
        std::remove((bad + ".csv").c_str());
    }
    std::remove(good.c_str());
}

TEST_CASE("analyze --figures draws the figures, or fails clearly without matplotlib", "[analysis][cli][figures]") {
    const auto dir = test::temp_path(".figures");
    const std::string python = analysis::python_interpreter();
    const bool have_matplotlib = test::run(python + " -c 'import matplotlib, numpy, h5py'").code == 0;
    if (have_matplotlib) {
        const auto r = test::run(exe + " analyze " + eg_file() + " --figures " + dir);
        INFO(r.output);
        REQUIRE(r.code == 0);
        for (auto f: {"loss.png", "recurrent_ln_weights.png", "recurrent_geometry.png", "recurrent_trajectories.png",
                      "readout_geometry.png", "report.json"}) {
            INFO(f);
            const auto path = dir + "/" + f;
            REQUIRE(std::filesystem::exists(path));
            CHECK(std::filesystem::file_size(path) > 1000);
        }
        std::ifstream png(dir + "/recurrent_geometry.png", std::ios::binary);
        char sig[4] = {};
        png.read(sig, 4);
        CHECK(std::string(sig + 1, 3) == "PNG");
    } else {
        WARN("no python with matplotlib, numpy and h5py (" << python << "): drawing not tested");
    }

    // An interpreter that cannot import matplotlib (its site packages switched off with -S): exit 2,
    // a message naming matplotlib, and the report and table still written.
    const auto fake = test::temp_path(".sh");
    std::ofstream(fake) << "#!/bin/sh\nexec " << python << " -S \"$@\"\n";
    std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
    const auto json_out = test::temp_path(".json");
    auto r = test::run("EISIM_PYTHON=" + fake + " " + exe + " analyze " + eg_file() + " --json " + json_out + " --figures " +
                       dir + "2");
    INFO(r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find("matplotlib") != std::string::npos);
    CHECK(r.output.find("recurrent") != std::string::npos);
    CHECK(at_path(read_json(json_out), "projections.recurrent.blocks.all.geometry.best").get<std::string>() == "eg");

    r = test::run("EISIM_PYTHON=/nonexistent/python3 " + exe + " analyze " + eg_file() + " --figures " + dir + "3");
    CHECK(r.code == 2);
    CHECK(r.output.find("cannot run the python interpreter") != std::string::npos);
}

// The slow one: it reads the two learning runs of the default network (EG and GD from the default
// seed, tests/support/default_problem.hpp; under CTest made once by a fixture test, for this test
// and the loss-halving test in regression_tests; all three are labelled slow, and the sanitizer
// pass of scripts/test.sh leaves them out). The goal of the per-neuron geometry test: on the default
// teacher–student problem with the default learning rates, the test standardised per
// postsynaptic neuron recovers the geometry each run was trained with, on the recurrent
// projection, where each neuron's incoming synapses are a regression of their own. The runs are
// 4 learning steps long, not the default 25: analysing the 25-step runs from step 0 to each step
// k (eisim analyze --to k), the per-neuron verdict was the same for every k from 2 to 25, with
// the same margins: under EG best eg at every k (ΔCDF 0.243 against p=1.1's 0.250 at k = 4,
// 0.225 against 0.232 at 25); under GD best p=1.9 (p=2.0 at k = 1), ΔCDF 0.2097 against p=2.0's
// 0.2110 and p=1.8's 0.2167 at both k = 4 and 25. scripts/main.sh trains and analyses the 25-step
// runs. What the other projections and the pooled variant give is printed (see
// examples/recover_geometry.sh): there the theory may fail (the readout under GD ends with most
// synapses held at the bound).
TEST_CASE("the per-neuron geometry test recovers EG and GD on the default problem", "[analysis][slow][recovery][default-problem]") {
    const auto p_of = [](const std::string& name) { return name.rfind("p=", 0) == 0? std::stod(name.substr(2)): 0.0; };
    for (const auto& trained: {std::string("eg"), std::string("euclidean")}) {
        const auto r = analysis::analyze(analysis::run_file(test::default_run(trained)));
        REQUIRE(r.trained_geometry == trained);
        REQUIRE(r.from.step == 0);
        REQUIRE(r.to.step == test::default_problem_steps);
        for (const auto& p: r.projections) {
            const auto& all = p.block("all");
            WARN("trained with " << trained << ", " << p.name << ": pooled best " << all.geometry_pooled.best << " {"
                 << analysis::compress_names(all.geometry_pooled.consistent) << "}, per-neuron best "
                 << all.geometry_per_neuron.best << " {" << analysis::compress_names(all.geometry_per_neuron.consistent) << "}");
        }
        const auto& per = r.projection("recurrent").block("all").geometry_per_neuron;
        INFO("trained with " << trained << ": per-neuron best " << per.best);
        CHECK(per.neurons > 0.9*(r.n_e + r.n_i));
        if (trained == "eg") CHECK(per.best == "eg");
        else CHECK(std::abs(p_of(per.best) - 2.0) <= 0.2 + 1e-9);
    }
}
