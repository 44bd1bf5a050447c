// The speed options of a learning run change how it is computed and stored, never what it learns:
// the thread count gives bit-identical run files, sparse products agree with dense ones to
// round-off, and float32 recording stores exactly the float64 weights rounded to float32.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include "io/h5.hpp"
#include "sim/config.hpp"
#include "sim/recorder.hpp"
#include "sim/experiment.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {
const std::string exe = EISIM_EXE;
// Large enough (N = 250, B = 8) that the products are shared among threads (parallel.hpp).
const std::string small = " run -q --set populations.E.size=200 --set populations.I.size=50 --set task.duration_ms=40"
                          " --set task.batch=8 --set training.steps=3";

std::string run_ok(const std::string& options) {
    const auto out = test::temp_path(".h5");
    const auto r = test::run(exe + options + " --out " + out);
    INFO(r.output);
    REQUIRE(r.code == 0);
    return out;
}

std::vector<double> all_weights(const std::string& path) {
    auto f = h5::open_file(path);
    std::vector<double> w = h5::read_double(f, "trajectory/loss");
    for (auto p: {"recurrent", "input", "readout"}) {
        const std::string name = std::string("trajectory/") + p + "/weight";
        for (hsize_t t = 0; t < h5::shape(f, name)[0]; ++t) {
            const auto row = h5::read_rows(f, name, t, 1);
            w.insert(w.end(), row.begin(), row.end());
        }
    }
    return w;
}

std::size_t stored_bytes_per_value(const std::string& path, const std::string& dataset) {
    auto f = h5::open_file(path);
    const hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
    const hid_t t = H5Dget_type(d);
    const std::size_t size = H5Tget_size(t);
    H5Tclose(t);
    H5Dclose(d);
    return size;
}
} // namespace

TEST_CASE("a learning run is bit-identical for 1 and 2 threads", "[recording][parallel]") {
    const auto one = all_weights(run_ok(" --threads 1" + small));
    const auto two = all_weights(run_ok(" --threads 2" + small));
    REQUIRE(one.size() == two.size());
    CHECK(one == two);
}

TEST_CASE("sparse recurrent products learn what dense products learn, to round-off", "[recording][sparse]") {
    const auto dense = all_weights(run_ok(small + " --set integrator.products=dense"));
    const auto sparse = all_weights(run_ok(small + " --set integrator.products=sparse"));
    REQUIRE(dense.size() == sparse.size());
    double worst = 0;
    for (std::size_t i = 0; i < dense.size(); ++i)
        worst = std::max(worst, std::abs(dense[i] - sparse[i])/std::max(std::abs(dense[i]), 1e-300));
    CHECK(worst <= 1e-9); // a few learning steps amplify the round-off differences of the products
}

TEST_CASE("a run file is the same whichever layout holds the weights", "[recording][layout]") {
    // p = 1 at N = 300: 89 700 recurrent synapses, so every weight row and checkpoint is written in
    // two blocks (h5::block_values). Dense products hold the weights in the dense layout, sparse
    // products in synapse lists (models/integrate.hpp): same synapse ids, same values to round-off.
    const std::string p1 = " run -q --set populations.E.size=240 --set populations.I.size=60 --set task.duration_ms=10 --set task.batch=2"
                           " --set training.steps=2 --set projections.recurrent.p=1";
    const auto dense = run_ok(p1 + " --set integrator.products=dense");
    const auto lists = run_ok(p1 + " --set integrator.products=sparse");
    auto a = h5::open_file(dense), b = h5::open_file(lists);
    const auto nnz = h5::shape(a, "network/recurrent/pre")[0];
    REQUIRE(nnz == 300u*299u);
    REQUIRE(nnz > h5::block_values);
    for (auto p: {"recurrent", "input", "readout"})
        for (auto what: {"pre", "post", "sign"}) {
            const std::string name = std::string("network/") + p + "/" + what;
            INFO(name);
            CHECK(h5::read_int(a, name) == h5::read_int(b, name));
        }
    const auto wa = all_weights(dense), wb = all_weights(lists);
    REQUIRE(wa.size() == wb.size());
    double worst = 0;
    for (std::size_t i = 0; i < wa.size(); ++i) worst = std::max(worst, std::abs(wa[i] - wb[i])/std::max(std::abs(wa[i]), 1e-300));
    CHECK(worst <= 1e-9);
    // The last row, the checkpoint and the teacher against each other in the dense run's own file.
    const auto last = h5::read_rows(a, "trajectory/recurrent/weight", h5::shape(a, "trajectory/recurrent/weight")[0] - 1, 1);
    const auto sign = h5::read_int(a, "network/recurrent/sign");
    auto m = h5::read_double(a, "checkpoint/slot0/recurrent/m");
    if (h5::read_double(a, "checkpoint/slot1/step")[0] > h5::read_double(a, "checkpoint/slot0/step")[0])
        m = h5::read_double(a, "checkpoint/slot1/recurrent/m");
    REQUIRE(m.size() == last.size());
    bool same = true;
    for (std::size_t s = 0; s < m.size(); ++s) same = same && last[s] == static_cast<double>(sign[s])*m[s];
    CHECK(same);
    const auto ta = h5::read_double(a, "teacher/recurrent/weight"), tb = h5::read_double(b, "teacher/recurrent/weight");
    CHECK(ta == tb);
}

TEST_CASE("float32 recording stores the float64 weights rounded to float32", "[recording]") {
    const auto f64 = run_ok(small);
    const auto f32 = run_ok(small + " --set training.record_precision=float32 --set training.record_compression=4");
    CHECK(stored_bytes_per_value(f64, "trajectory/recurrent/weight") == 8);
    CHECK(stored_bytes_per_value(f32, "trajectory/recurrent/weight") == 4);
    for (auto p: {"recurrent", "input", "readout"}) {
        const std::string name = std::string("trajectory/") + p + "/weight";
        auto a = h5::open_file(f64), b = h5::open_file(f32);
        const auto rows = h5::shape(a, name)[0];
        REQUIRE(h5::shape(b, name)[0] == rows);
        for (hsize_t t = 0; t < rows; ++t) {
            const auto w = h5::read_rows(a, name, t, 1), w32 = h5::read_rows(b, name, t, 1);
            bool exact = true;
            for (std::size_t s = 0; s < w.size(); ++s) exact = exact && w32[s] == static_cast<double>(static_cast<float>(w[s]));
            INFO(p << " snapshot " << t);
            CHECK(exact);
        }
    }
    // The analysis reads float32 trajectories like float64 ones.
    const auto r = test::run(exe + " analyze " + f32);
    INFO(r.output);
    CHECK(r.code == 0);
}

TEST_CASE("a bad thread count is refused with exit code 2 and names the option", "[recording][parallel]") {
    for (auto bad: {"0", "-3", "two"}) {
        const auto r = test::run(exe + " --threads " + bad + " config");
        INFO(r.output);
        CHECK(r.code == 2);
        CHECK(r.output.find("--threads") != std::string::npos);
    }
}

TEST_CASE("the learning loop hands every step to its sinks: a memory sink holds what the run file holds", "[recording][sinks]") {
    config c = default_config();
    for (auto s: {"populations.E.size=40", "populations.I.size=10", "task.duration_ms=30", "task.batch=3", "training.steps=5",
                  "training.record_every=2", "plasticity.momentum=0.5"})
        apply_override(c, s, false);
    validate(c);
    const auto out = test::temp_path(".h5");
    memory_sink memory;
    run_options opt;
    opt.out = out;
    opt.quiet = true;
    const run_summary summary = learn(c, opt, {&memory});
    // Every state is evaluated (steps 0..5), every step updates; the file keeps every 2nd and the last.
    REQUIRE(memory.snapshots.size() == 6);
    REQUIRE(memory.updates.size() == 5);
    auto f = h5::open_file(out);
    const auto steps = h5::read_double(f, "trajectory/step"), loss = h5::read_double(f, "trajectory/loss");
    REQUIRE(steps == std::vector<double>{0, 2, 4, 5});
    for (std::size_t row = 0; row < steps.size(); ++row) {
        const auto& snap = memory.snapshots.at(static_cast<std::size_t>(steps[row]));
        CHECK(snap.step == static_cast<long>(steps[row]));
        CHECK(snap.loss == loss[row]);
        for (auto& [name, w]: snap.weights) {
            INFO(name << " row " << row);
            const auto file_row = h5::read_rows(f, "trajectory/" + name + "/weight", row, 1);
            CHECK(std::vector<double>(w.data(), w.data() + w.size()) == file_row);
        }
    }
    const auto train_loss = h5::read_double(f, "training/loss"), lr = h5::read_double(f, "training/learning_rate"),
               held = h5::read_double(f, "training/held_at_bound");
    for (std::size_t s = 0; s < 5; ++s) {
        CHECK(memory.updates[s].step == static_cast<long>(s));
        CHECK(memory.updates[s].loss == train_loss[s]);
        CHECK(memory.updates[s].loss == memory.snapshots[s].loss);
        CHECK(memory.updates[s].learning_rate == lr[s]);
        CHECK(static_cast<double>(memory.updates[s].held_at_bound) == held[s]);
    }
    CHECK(summary.final_loss == memory.snapshots.back().loss);
}

TEST_CASE("the series are 1-D in chunks of 1024 values, the counts int64, and hold the run's numbers", "[recording][format]") {
    const auto out = run_ok(small + " --set training.steps=5 --set training.record_every=2");
    auto f = h5::open_file(out);
    CHECK(h5::read_attr_int(f, "format_version") == run_format_version); // 1-D series since version 5
    const std::vector<std::pair<std::string, bool>> series = {
        {"trajectory/step", true}, {"trajectory/loss", false}, {"trajectory/accuracy", false},
        {"trajectory/heldout_loss", false}, {"trajectory/heldout_accuracy", false}, {"training/loss", false},
        {"training/held_at_bound", true}, {"training/learning_rate", false}, {"training/accuracy", false}};
    for (auto& [name, count]: series) {
        INFO(name);
        const auto dims = h5::shape(f, name);
        REQUIRE(dims.size() == 1);
        CHECK(dims[0] == (name.rfind("trajectory", 0) == 0? 4u: 5u)); // snapshots 0, 2, 4, 5; steps 0..4
        h5::handle d(H5Dopen2(f, name.c_str(), H5P_DEFAULT), H5Dclose);
        h5::handle t(H5Dget_type(d), H5Tclose), dcpl(H5Dget_create_plist(d), H5Pclose);
        CHECK(H5Tget_class(t) == (count? H5T_INTEGER: H5T_FLOAT));
        CHECK(H5Tget_size(t) == 8);
        hsize_t chunk[1] = {0};
        REQUIRE(H5Pget_chunk(dcpl, 1, chunk) == 1);
        CHECK(chunk[0] == h5::series_chunk);
    }
    CHECK(h5::read_int(f, "trajectory/step") == std::vector<std::int64_t>{0, 2, 4, 5});
    // A snapshot's loss is the loss of the training step it opens (README, "/training" rows).
    const auto snapshot = h5::read_double(f, "trajectory/loss"), per_step = h5::read_double(f, "training/loss");
    CHECK(snapshot[0] == per_step[0]);
    CHECK(snapshot[1] == per_step[2]);
    CHECK(snapshot[2] == per_step[4]);
    std::remove(out.c_str());
}

TEST_CASE("the run summary's ln|w| leaves out magnitudes that underflowed to 0, and counts them", "[recording][summary]") {
    config c = default_config();
    for (auto s: {"populations.E.size=40", "populations.I.size=10"}) apply_override(c, s);
    validate(c);
    network net = build_network(c.circuit, 1);
    projection& p = net.get("readout");
    vector m = p.magnitudes();
    REQUIRE(m.size() > 3);
    m[0] = 0.0; // what EG's m·exp(−η g) gives once it underflows
    m[1] = 0.0;
    p.set_magnitudes(m);
    double sum = 0, ss = 0;
    for (long k = 2; k < m.size(); ++k) sum += std::log(m[k]);
    const double mean = sum/static_cast<double>(m.size() - 2);
    for (long k = 2; k < m.size(); ++k) ss += (std::log(m[k]) - mean)*(std::log(m[k]) - mean);
    for (auto& s: summarize(net)) {
        INFO(s.name);
        CHECK(std::isfinite(s.mean_ln));
        CHECK(std::isfinite(s.sd_ln));
        if (s.name != "readout") {
            CHECK(s.zero == 0);
            continue;
        }
        CHECK(s.n == m.size());
        CHECK(s.zero == 2);
        CHECK(std::abs(s.mean_ln - mean) < test::roundoff);
        CHECK(std::abs(s.sd_ln - std::sqrt(ss/static_cast<double>(m.size() - 3))) < test::roundoff);
    }
}
