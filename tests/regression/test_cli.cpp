// The command line as a user meets it: exit codes, messages naming the problem, determinism of
// the written file, and the file read back equal to what the model built.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <map>

#include "io/h5.hpp"
#include "models/network.hpp"
#include "sim/config.hpp"
#include "sim/recorder.hpp"
#include "tests/regression/datasets.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {
const std::string exe = EISIM_EXE;
const std::string small = " --set populations.E.size=40 --set populations.I.size=10 --set task.duration_ms=50 --set task.batch=4";

std::string write_text(const std::string& text) {
    const auto path = test::temp_path(".toml");
    std::ofstream(path) << text;
    return path;
}

} // namespace

TEST_CASE("eisim --version and config", "[cli]") {
    auto v = test::run(exe + " --version");
    CHECK(v.code == 0);
    CHECK(v.output.find("eisim") != std::string::npos);
    auto c = test::run(exe + " config");
    CHECK(c.code == 0);
    CHECK(c.output == to_toml(default_config()));
}

TEST_CASE("user errors exit with 2 and name the key", "[cli][errors]") {
    const auto out = test::temp_path(".h5");
    struct bad { std::string args, key; };
    for (auto b: {bad{" --set network.n_excitatory=3", "network.n_excitatory"},
                  bad{" --set populations.E.size=many", "populations[0].size"},
                  bad{" --set projections.recurrent.p=2", "projections[0].p"},
                  bad{" --set projections.recurrent.pre=PV2", "known: E, I, in, out"},
                  bad{" " + write_text("[[populations]]\nname = \"E\"\nsize = 10\ntau_ms = -1\n"), "populations[0].tau_ms"},
                  bad{" " + write_text("[integrator]\nstepper = \"leapfrog\"\n"), "integrator.stepper"},
                  bad{" " + write_text("this is not toml ]]"), "not valid TOML"},
                  bad{" /no/such/config.toml", "/no/such/config.toml"}}) {
        auto r = test::run(exe + " simulate" + b.args + " --out " + out);
        INFO(b.args << " -> " << r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find(b.key) != std::string::npos);
        CHECK(!std::filesystem::exists(out));
    }
    auto r = test::run(exe + " simulate --bogus-flag");
    CHECK(r.code == 2);
    // A circuit that can be simulated but not trained: no input reaches the network.
    auto silent = test::run(exe + " run" + small + " --set projections.input.p=0 --set training.steps=1 --out " + out);
    INFO(silent.output);
    CHECK(silent.code == 2);
    CHECK(silent.output.find("no projection carries the input channels") != std::string::npos);
    CHECK(!std::filesystem::exists(out));
    CHECK(test::run(exe + " simulate" + small + " --set projections.input.p=0 --out " + out).code == 0);
    std::remove(out.c_str());
}

TEST_CASE("an existing output file is never overwritten without --overwrite", "[cli][errors]") {
    const auto out = test::temp_path(".h5");
    std::ofstream(out) << "precious";
    auto r = test::run(exe + " simulate" + small + " --out " + out);
    CHECK(r.code == 2);
    CHECK(r.output.find("--overwrite") != std::string::npos);
    std::ifstream f(out);
    std::string content;
    f >> content;
    CHECK(content == "precious");
    CHECK(test::run(exe + " simulate" + small + " --out " + out + " --overwrite").code == 0);
    std::remove(out.c_str());
}

TEST_CASE("same config and seed give identical datasets", "[cli][determinism]") {
    const auto a = test::temp_path(".h5"), b = test::temp_path(".h5"), c = test::temp_path(".h5");
    const std::string args = small + " --set training.steps=2";
    REQUIRE(test::run(exe + " run -q" + args + " --out " + a).code == 0);
    REQUIRE(test::run(exe + " run -q" + args + " --out " + b).code == 0);
    REQUIRE(test::run(exe + " run -q" + args + " --set training.seed=2 --out " + c).code == 0);
    const auto da = test::all_datasets(a), db = test::all_datasets(b), dc = test::all_datasets(c);
    {
        auto fa = h5::open_file(a), fb = h5::open_file(b);
        CHECK(h5::read_attr_string(fa, "config") == h5::read_attr_string(fb, "config"));
    }
    REQUIRE(da.size() > 10);
    for (auto& [path, data]: da) {
        INFO(path);
        CHECK(test::same_values(data, db.at(path)));
    }
    CHECK(da.at("/trajectory/recurrent/weight") != dc.at("/trajectory/recurrent/weight"));
    for (auto& p: {a, b, c}) std::remove(p.c_str());
}

TEST_CASE("the run file holds what the model built", "[cli][roundtrip]") {
    const auto out = test::temp_path(".h5");
    REQUIRE(test::run(exe + " simulate" + small + " --set training.seed=5 --out " + out).code == 0);
    config cfg = default_config();
    for (auto s: {"populations.E.size=40", "populations.I.size=10", "task.duration_ms=50", "task.batch=4", "training.seed=5"}) apply_override(cfg, s);
    const network net = build_network(cfg.circuit, 5);
    auto f = h5::open_file(out);
    CHECK(h5::read_attr_string(f, "format") == "eisim.run");
    CHECK(h5::read_attr_int(f, "format_version") == run_format_version);
    CHECK(h5::read_attr_string(f, "config") == to_toml(cfg));
    auto g = h5::open_group(f, "network");
    CHECK(h5::read_attr_int(g, "n_e") == 40);
    CHECK(h5::read_attr_int(g, "n_i") == 10);
    CHECK(h5::read_double(g, "tau") == std::vector<double>(net.tau.data(), net.tau.data() + net.n()));
    // Every string in the file is variable-length UTF-8, dataset or attribute (version 6), as h5py
    // writes a str and reads one back (versions 4 and 5 stored them fixed-length: bytes in h5py).
    {
        std::vector<std::string> variable, strings;
        struct walk {
            std::vector<std::string>*variable, *strings;
            std::string object;
        } w{&variable, &strings, ""};
        const auto note_type = [](hid_t type, const std::string& what, walk& w) {
            if (H5Tget_class(type) != H5T_STRING) return;
            w.strings->push_back(what);
            if (H5Tis_variable_str(type) <= 0 || H5Tget_cset(type) != H5T_CSET_UTF8) w.variable->push_back(what); // not h5py's str
        };
        static auto note = note_type; // usable from the C callbacks below
        const H5A_operator2_t on_attr = [](hid_t loc, const char* name, const H5A_info_t*, void* data) -> herr_t {
            auto& w = *static_cast<walk*>(data);
            h5::handle a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
            h5::handle t(H5Aget_type(a), H5Tclose);
            note(t, w.object + " attribute " + name, w);
            return 0;
        };
        static H5A_operator2_t attr_op = on_attr;
        const H5O_iterate_t on_object = [](hid_t root, const char* name, const H5O_info_t* info, void* data) -> herr_t {
            auto& w = *static_cast<walk*>(data);
            h5::handle o(H5Oopen(root, name, H5P_DEFAULT), H5Oclose);
            w.object = std::string("/") + (std::string(name) == "."? "": name);
            if (info->type == H5O_TYPE_DATASET) {
                h5::handle t(H5Dget_type(o), H5Tclose);
                note(t, w.object, w);
            }
            hsize_t at = 0;
            H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, &at, attr_op, data);
            return 0;
        };
        REQUIRE(H5Ovisit(f, H5_INDEX_NAME, H5_ITER_NATIVE, on_object, &w) >= 0);
        CHECK(strings.size() > 10); // the walk saw them: names, models, sides, pre/post populations, attributes
        INFO(variable.size() << " not variable-length UTF-8, the first: " << (variable.empty()? "": variable.front()));
        CHECK(variable.empty());
    }
    CHECK(h5::read_strings(g, "populations/name") == std::vector<std::string>{"E", "I", "in", "out"});
    CHECK(h5::read_strings(g, "populations/side") == std::vector<std::string>{"network", "network", "input", "output"});
    for (auto* p: {&net.get("recurrent"), &net.get("input"), &net.get("readout")}) {
        auto pg = h5::open_group(g, p->name);
        CHECK(h5::read_int(pg, "pre") == std::vector<std::int64_t>(p->pre.begin(), p->pre.end()));
        CHECK(h5::read_int(pg, "post") == std::vector<std::int64_t>(p->post.begin(), p->post.end()));
        const auto sign = h5::read_int(pg, "sign");
        CHECK(std::vector<std::int64_t>(p->sign.begin(), p->sign.end()) == sign);
    }
    CHECK(h5::shape(f, "activity/step_0/rate") == std::vector<hsize_t>{4, 51, 50});
    std::remove(out.c_str());
}

TEST_CASE("the activity of step 0 is recorded and gives the recorded loss, with or without learning steps", "[cli][activity]") {
    for (int steps: {0, 2}) {
        const auto out = test::temp_path(".h5");
        const auto r = test::run(exe + " run -q" + small + " --set training.activity_trials=4 --set training.steps=" +
                                 std::to_string(steps) + " --out " + out);
        INFO(r.output);
        REQUIRE(r.code == 0);
        auto f = h5::open_file(out);
        const auto y = h5::read_double(f, "activity/step_0/output"), target = h5::read_double(f, "activity/step_0/target");
        REQUIRE(y.size() == 4*51*2);
        double sse = 0, scale = 0;
        for (std::size_t i = 0; i < y.size(); ++i) sse += (y[i] - target[i])*(y[i] - target[i]), scale += target[i]*target[i];
        CHECK(scale > 0); // the trials were written, not left as zeros
        // every trial is recorded and mask_start_ms = 0: the loss is the plain mean over the activity
        CHECK(sse/static_cast<double>(y.size()) == Approx(h5::read_double(f, "trajectory/loss").at(0)).epsilon(1e-12));
        std::remove(out.c_str());
    }
}
