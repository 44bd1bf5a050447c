// Runs that survive being killed and resume exactly, stop cleanly on SIGINT/SIGTERM, stop with
// exit 3 when they diverge, and a fuzzed config that never crashes or hangs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <random>

#include "io/h5.hpp"
#include "models/error.hpp"
#include "sim/config.hpp"
#include "sim/recorder.hpp"
#include "tests/regression/datasets.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {
const std::string exe = EISIM_EXE;
// About two seconds of learning on a small network, with momentum (optimizer state to restore).
const std::string longer = " --set populations.E.size=80 --set populations.I.size=20 --set task.duration_ms=200 --set task.batch=4"
                           " --set training.steps=400 --set training.record_every=3 --set plasticity.momentum=0.9";

std::map<std::string, std::vector<double>> datasets(const std::string& path) {
    std::map<std::string, std::vector<double>> out;
    auto f = h5::open_file(path);
    for (auto name: {"trajectory/step", "trajectory/loss", "trajectory/recurrent/weight", "trajectory/input/weight",
                     "trajectory/readout/weight", "training/loss", "training/held_at_bound", "training/learning_rate",
                     "trajectory/accuracy", "training/accuracy", "activity/step_0/rate", "activity/step_400/rate", "activity/step_400/output", "network/tau",
                     "checkpoint/slot0/recurrent/m", "checkpoint/slot1/recurrent/m"})
        out[name] = h5::read_double(f, name);
    return out;
}

// Start a run writing `out` in the background, send `signal` `seconds` after the file appears (a
// loaded machine can take longer than that to start the process), return its exit code and output.
test::command_result run_and_signal(const std::string& args, const std::string& out, double seconds, const std::string& signal) {
    return test::run("sh -c '" + exe + " run -q" + args + " --out " + out + " & pid=$!; while [ ! -s " + out +
                     " ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done; sleep " + std::to_string(seconds) + "; kill -" +
                     signal + " $pid 2>/dev/null; wait $pid; exit $?'");
}
} // namespace

TEST_CASE("a run killed with SIGKILL at random moments resumes to the uninterrupted file", "[reliability][resume][slow]") {
    const auto full = test::temp_path(".h5");
    REQUIRE(test::run(exe + " run -q" + longer + " --out " + full).code == 0);
    const auto expect = datasets(full);
    std::mt19937 g(2026);
    std::uniform_real_distribution<double> when(0.1, 1.2);
    for (int trial = 0; trial < 3; ++trial) {
        const auto out = test::temp_path(".h5");
        const double t = when(g);
        run_and_signal(longer, out, t, "KILL");
        hsize_t snapshots = 0;
        {   // what was flushed is readable, and the marker never lags the checkpoint: every
            // snapshot before its step (one every 3 steps from 0) is committed
            auto f = h5::open_file(out);
            snapshots = h5::shape(f, "trajectory/recurrent/weight").at(0);
            CHECK(snapshots >= 1);
            const double checkpoint = std::max(h5::read_double(f, "checkpoint/slot0/step").at(0), h5::read_double(f, "checkpoint/slot1/step").at(0));
            const auto committed = h5::read_attr_int(h5::open_group(f, "trajectory"), "committed");
            INFO("checkpoint after step " << checkpoint);
            CHECK(committed >= static_cast<std::int64_t>(std::ceil(checkpoint / 3)));
        }
        // ... and analysable once it holds two snapshots; before that, a clear refusal (on a
        // loaded machine the kill can land before the first learning step).
        const auto analyzed = test::run(exe + " analyze " + out);
        INFO(analyzed.output);
        if (snapshots >= 2) CHECK(analyzed.code == 0);
        else CHECK((analyzed.code == 2 && analyzed.output.find("holds 1 snapshot") != std::string::npos));
        auto r = test::run(exe + " run -q --resume " + out);
        INFO("killed after " << t << " s: " << r.output);
        REQUIRE(r.code == 0);
        const auto got = datasets(out);
        for (auto& [name, data]: expect) {
            INFO(name);
            CHECK(got.at(name) == data);
        }
        std::remove(out.c_str());
    }
    std::remove(full.c_str());
}

TEST_CASE("SIGTERM and SIGINT finish the step and exit 143 and 130", "[reliability][signals][slow]") {
    for (auto [sig, code]: {std::pair{"TERM", 143}, {"INT", 130}}) {
        const auto out = test::temp_path(".h5");
        const auto r = run_and_signal(longer, out, 0.3, sig);
        INFO(r.output);
        CHECK(r.code == code);
        CHECK(r.output.find("--resume " + out) != std::string::npos);
        CHECK(test::run(exe + " run -q --resume " + out).code == 0);
        std::remove(out.c_str());
    }
}

TEST_CASE("a run under Adam stopped by SIGTERM resumes with its moments to the uninterrupted file", "[reliability][resume][adam]") {
    const std::string adam = " --set populations.E.size=80 --set populations.I.size=20 --set task.duration_ms=200 --set task.batch=4"
                             " --set training.steps=300 --set training.record_every=3 --set plasticity.normalisation=adam"
                             " --set plasticity.learning_rate=0.01";
    const auto full = test::temp_path(".h5"), out = test::temp_path(".h5");
    REQUIRE(test::run(exe + " run -q" + adam + " --out " + full).code == 0);
    const auto stopped = run_and_signal(adam, out, 0.3, "TERM");
    INFO(stopped.output);
    REQUIRE((stopped.code == 143 || stopped.code == 0)); // a loaded machine may finish first
    {   // the checkpoint keeps both moments, and the second moment is what Adam accumulates
        auto f = h5::open_file(out);
        const auto b = h5::read_double(f, "checkpoint/slot0/recurrent/second_moment");
        CHECK(*std::max_element(b.begin(), b.end()) > 0.0);
        CHECK(*std::min_element(b.begin(), b.end()) >= 0.0);
    }
    const auto r = test::run(exe + " run -q --resume " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    auto a = h5::open_file(full), b = h5::open_file(out);
    for (auto name: {"trajectory/loss", "trajectory/recurrent/weight", "trajectory/readout/weight", "training/loss",
                     "checkpoint/slot0/recurrent/m", "checkpoint/slot1/recurrent/velocity", "checkpoint/slot1/recurrent/second_moment",
                     "checkpoint/slot0/readout/second_moment"}) {
        INFO(name);
        CHECK(h5::read_double(b, name) == h5::read_double(a, name));
    }
    // A checkpoint without the second moments (as if written without Adam) cannot resume an Adam run.
    const auto copy = test::temp_path(".h5");
    std::filesystem::copy_file(out, copy);
    {
        auto f = h5::open_file(copy, true);
        for (auto slot: {"slot0", "slot1"})
            for (auto p: {"recurrent", "input", "readout"})
                REQUIRE(H5Ldelete(f, ("checkpoint/" + std::string(slot) + "/" + p + "/second_moment").c_str(), H5P_DEFAULT) >= 0);
    }
    const auto refused = test::run(exe + " run -q --resume " + copy);
    INFO(refused.output);
    CHECK(refused.code == 2);
    CHECK(refused.output.find("second_moment") != std::string::npos);
    std::remove(full.c_str());
    std::remove(out.c_str());
    std::remove(copy.c_str());
}

TEST_CASE("a diverging run stops with exit 3 naming the step and keeps a valid file", "[reliability][divergence]") {
    const auto out = test::temp_path(".h5");
    const auto r = test::run(exe + " run -q --set populations.E.size=40 --set populations.I.size=10 --set task.duration_ms=50"
                             " --set task.batch=4 --set training.steps=20 --set plasticity.geometry=euclidean"
                             " --set plasticity.learning_rate=1e5 --set integrator.max_abs_x=1e3 --out " + out);
    INFO(r.output);
    CHECK(r.code == 3);
    CHECK(r.output.find("learning step") != std::string::npos);
    auto f = h5::open_file(out);
    CHECK(h5::shape(f, "trajectory/recurrent/weight").at(0) >= 1);
    std::remove(out.c_str());
}

TEST_CASE("resume refuses files that are not run files", "[reliability][errors]") {
    const auto junk = test::temp_path(".h5");
    std::ofstream(junk) << "not hdf5";
    auto r = test::run(exe + " run --resume " + junk);
    CHECK(r.code == 2);
    CHECK(r.output.find(junk) != std::string::npos);
    CHECK(test::run(exe + " run --resume /no/such/run.h5").code == 2);
    std::remove(junk.c_str());
}

TEST_CASE("fuzz: thousands of mutated configs give a config error or a valid config", "[reliability][fuzz]") {
    const std::string base = to_toml(default_config(), false);
    std::mt19937_64 g(7);
    auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(g); };
    const std::vector<std::string> values = {"-1", "0", "1e308", "-1e308", "inf", "nan", "9223372036854775807",
                                             "\"x\"", "true", "[]", "[1, 2]", "{a = 1}", "1.5", "\"\"", "3",
                                             "99999999999999999999", "0.0001", "\"dopri5\"", "\"pnorm\""};
    int accepted = 0, rejected = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string text = base;
        switch (i % 6) {
        case 0: // replace a value
            { auto eq = text.find(" = ", pick(text.size())); if (eq != std::string::npos) { auto nl = text.find('\n', eq); text.replace(eq + 3, nl - eq - 3, values[pick(values.size())]); } }
            break;
        case 1: text.resize(pick(text.size())); break; // truncated
        case 2: for (int k = 0; k < 5; ++k) text[pick(text.size())] = static_cast<char>(pick(256)); break; // byte flips
        case 3: text.insert(pick(text.size()), "\n[network]\nn_e = 2\n"); break; // duplicate table
        case 4: { std::string junk(pick(200), ' '); for (auto& c: junk) c = static_cast<char>(pick(256)); text = junk; } break;
        case 5: text.insert(text.find('\n', pick(text.size())) + 1, "bogus_key = 1\n"); break;
        }
        try {
            const config c = parse_config(text, "fuzz", default_config());
            validate(c);
            ++accepted;
        } catch (const config_error& e) {
            CHECK(std::string(e.what()).size() > 0);
            ++rejected;
        }
    }
    CHECK(accepted > 0);
    CHECK(rejected > 1000);
    CHECK_THROWS_AS(parse_config("", "empty", default_config()) , config_error) ;
}

// The series of /trajectory and /training as versions 1 to 4 stored them: [T × 1] float64 in
// chunks of one value (the same values; version 5 stores them 1-D, the counts as int64).
static const std::vector<std::string> series = {"trajectory/step", "trajectory/loss", "trajectory/accuracy", "trajectory/heldout_loss",
                                         "trajectory/heldout_accuracy", "training/loss", "training/held_at_bound",
                                         "training/learning_rate", "training/accuracy"};
static void as_version_4_series(hid_t f) {
    for (auto& name: series) {
        if (!h5::exists(f, name)) continue;
        const auto v = h5::read_double(f, name);
        REQUIRE(H5Ldelete(f, name.c_str(), H5P_DEFAULT) >= 0);
        const auto slash = name.find('/');
        auto g = h5::open_group(f, name.substr(0, slash));
        h5::row_appender column(g, name.substr(slash + 1), 1);
        for (double x: v) column.append(&x);
    }
}

// A 4-step learning run of `args` in `full`, and `old`, a copy of it made into a file of `version` by
// `make_old` with its newest checkpoint marked incomplete, resumed from the one before (after step 3).
const std::string decision_run = " " + std::string(EISIM_SOURCE_DIR) + "/examples/perceptual_decision.toml --set training.steps=4"
                                 " --set training.heldout_trials=16 --set training.heldout_every=2";
// The strings as versions 4 and 5 stored them: fixed-length UTF-8 (version 6: variable-length).
static void as_fixed_strings(hid_t f) {
    const auto dataset = [&](const std::string& name) {
        const auto v = h5::read_strings(f, name);
        REQUIRE(H5Ldelete(f, name.c_str(), H5P_DEFAULT) >= 0);
        const auto slash = name.rfind('/');
        h5::write_fixed_strings(h5::open_group(f, name.substr(0, slash)), name.substr(slash + 1), v);
    };
    const auto attribute = [&](const std::string& object, const std::string& name) {
        auto o = h5::handle(H5Oopen(f, object.c_str(), H5P_DEFAULT), H5Oclose);
        const std::string v = h5::read_attr_string(o, name);
        REQUIRE(H5Adelete(o, name.c_str()) >= 0);
        h5::write_attr(o, name, v);
    };
    for (auto a: {"format", "software_version", "git_revision", "created_utc", "config"}) attribute("/", a);
    for (auto a: {"transfer", "projections"}) attribute("network", a);
    for (auto d: {"name", "model", "side", "transfer"}) dataset(std::string("network/populations/") + d);
    std::string list = h5::read_attr_string(h5::open_group(f, "network"), "projections");
    for (std::size_t at = 0; at <= list.size();) {
        const auto comma = std::min(list.find(',', at), list.size());
        const std::string p = "network/" + list.substr(at, comma - at);
        for (auto a: {"pre_population", "post_population", "connectivity"}) attribute(p, a);
        for (auto d: {"pre_populations", "post_populations"}) dataset(p + "/" + d);
        at = comma + 1;
    }
}

struct older_run {
    std::string full = test::temp_path(".h5"), old = test::temp_path(".h5");
    older_run(const std::string& args, std::int64_t version, const std::function<void(hid_t)>& make_old) {
        REQUIRE(test::run(exe + " run -q" + args + " --out " + full).code == 0);
        std::filesystem::copy_file(full, old);
        {
            auto f = h5::open_file(old, true);
            h5::write_attr(f, "format_version", version);
            make_old(f);
            const auto s0 = h5::read_double(f, "checkpoint/slot0/step")[0], s1 = h5::read_double(f, "checkpoint/slot1/step")[0];
            auto newest = h5::open_group(f, s0 > s1? "checkpoint/slot0": "checkpoint/slot1");
            const double incomplete = -1;
            h5::overwrite(newest, "step", &incomplete);
        }
        const auto r = test::run(exe + " run --resume " + old);
        INFO(r.output);
        REQUIRE(r.code == 0);
        CHECK_THAT(r.output, Catch::Contains("after learning step 3 of 4"));
        CHECK(test::run(exe + " analyze " + old).code == 0);
    }
    ~older_run() {
        for (auto& p: {full, old}) std::remove(p.c_str());
    }
};

TEST_CASE("a version-1 run file resumes: its format-1 config builds the same circuit", "[reliability][resume][format]") {
    // A finished run, then the same file as version 1 wrote it: format_version 1, its circuit in
    // the E/I template's keys, no /network/populations, its series [T × 1]; its newest checkpoint
    // marked incomplete, so that resuming redoes the last step from the one before.
    const std::string args = " --set populations.E.size=40 --set populations.I.size=10 --set task.duration_ms=50 --set task.batch=4"
                             " --set training.steps=4 --set plasticity.momentum=0.9 --set projections.input.plastic=false";
    older_run run(args, 1, [](hid_t f) {
        h5::write_attr(f, "config", std::string("[network]\nn_e = 40\nn_i = 10\n[task]\nduration_ms = 50.0\nbatch = 4\n"
                                                "[training]\nsteps = 4\n[plasticity]\nmomentum = 0.9\nplastic = [\"recurrent\", \"readout\"]\n"));
        REQUIRE(H5Ldelete(f, "network/populations", H5P_DEFAULT) >= 0);
        as_version_4_series(f);
    });
    // (older_run checked that the analysis reads the resumed version-1 file, as the default circuit's shape.)
    auto a = h5::open_file(run.full), b = h5::open_file(run.old);
    CHECK(h5::read_attr_int(b, "format_version") == 1);
    for (auto name: {"trajectory/step", "trajectory/loss", "trajectory/recurrent/weight", "trajectory/input/weight",
                     "trajectory/readout/weight", "training/loss", "training/learning_rate", "activity/step_4/rate"}) {
        INFO(name);
        CHECK(h5::read_double(b, name) == h5::read_double(a, name));
    }
}

TEST_CASE("a version-5 run file, its strings fixed-length, resumes as version 5 and equals the uninterrupted run", "[reliability][resume][format]") {
    older_run run(decision_run, 5, as_fixed_strings);
    auto a = h5::open_file(run.full), b = h5::open_file(run.old);
    CHECK(h5::read_attr_int(b, "format_version") == 5);
    CHECK(h5::read_strings(b, "network/populations/name") == h5::read_strings(a, "network/populations/name"));
    CHECK(h5::read_attr_string(b, "config") == h5::read_attr_string(a, "config"));
    {
        h5::handle d(H5Dopen2(b, "network/populations/name", H5P_DEFAULT), H5Dclose);
        h5::handle t(H5Dget_type(d), H5Tclose);
        CHECK(H5Tis_variable_str(t) == 0); // the old layout stays
    }
    for (auto name: {"trajectory/readout/weight", "trajectory/recurrent/weight", "trajectory/loss"}) CHECK(h5::read_double(b, name) == h5::read_double(a, name));
}

TEST_CASE("a version-4 run file, its series [T × 1] float64, resumes as version 4 and equals the uninterrupted run", "[reliability][resume][format]") {
    older_run run(decision_run, 4, [](hid_t f) { as_version_4_series(f), as_fixed_strings(f); });
    auto a = h5::open_file(run.full), b = h5::open_file(run.old);
    CHECK(h5::read_attr_int(a, "format_version") == run_format_version);
    CHECK(h5::read_attr_int(b, "format_version") == 4);
    for (auto& name: series) {
        INFO(name);
        CHECK(h5::shape(a, name) == std::vector<hsize_t>{h5::shape(a, name).at(0)}); // version 5: 1-D
        CHECK(h5::shape(b, name) == (std::vector<hsize_t>{h5::shape(a, name).at(0), 1}));
        CHECK(test::same_values(h5::read_double(b, name), h5::read_double(a, name))); // NaN: not measured
    }
    for (auto name: {"trajectory/readout/weight", "trajectory/recurrent/weight"}) CHECK(h5::read_double(b, name) == h5::read_double(a, name));
}

TEST_CASE("a version-3 run file, without the held-out series, resumes as version 3 without them", "[reliability][resume][format]") {
    older_run run(decision_run, 3, [](hid_t f) {
        for (auto name: {"trajectory/heldout_loss", "trajectory/heldout_accuracy"}) REQUIRE(H5Ldelete(f, name, H5P_DEFAULT) >= 0);
        as_version_4_series(f); // and versions 1 to 4 store the series [T × 1]
    });
    auto a = h5::open_file(run.full), b = h5::open_file(run.old);
    CHECK(h5::read_attr_int(a, "format_version") == run_format_version);
    CHECK(h5::read_attr_int(b, "format_version") == 3);
    CHECK(!h5::exists(b, "trajectory/heldout_accuracy"));
    for (auto name: {"trajectory/step", "trajectory/loss", "trajectory/accuracy", "trajectory/readout/weight", "training/loss"}) {
        INFO(name);
        CHECK(h5::read_double(b, name) == h5::read_double(a, name));
    }
}
