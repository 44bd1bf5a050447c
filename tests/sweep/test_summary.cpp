// The summary of a sweep's output directory: groups, marginals and mean/sd over seeds against an
// independent computation from the same synthetic rows, the manifest's errors, the table written
// read back, the geometry identification on real run files, and the figure.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/figures.hpp"
#include "models/error.hpp"
#include "sweep/summary.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;
namespace fs = std::filesystem;

namespace {

const std::string exe = EISIM_EXE;
const std::string outcome_header = "status,exit_code,attempts,seconds,final_loss,final_accuracy,host,rank";

std::string fresh_dir() {
    const auto dir = test::temp_path(".sweep");
    fs::create_directories(dir);
    return dir;
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string hex_id(int k) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016x", k);
    return buf;
}

std::string num(double x) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

/// One synthetic run: its swept values, status and outcome, from a formula of its index.
struct synthetic_run {
    std::string id, geometry, eta, seed, circuit_seed, status;
    double loss = NAN, accuracy = NAN;
};

/// 3 geometries × 2 learning rates × 4 training seeds × 2 circuit seeds: 6 conditions of 8 seeds.
/// Some runs diverged (with an absurd final loss, which must never be averaged), some failed
/// (empty cells), two are unfinished, one done run has no accuracy.
std::vector<synthetic_run> synthetic_runs() {
    std::vector<synthetic_run> runs;
    const std::vector<std::string> geometries{"eg", "euclidean", "pnorm"}, etas{"0.1", "0.5"};
    int k = 0;
    for (std::size_t g = 0; g < geometries.size(); ++g)
        for (const auto& eta: etas)
            for (int seed = 1; seed <= 4; ++seed)
                for (int cseed = 1; cseed <= 2; ++cseed, ++k) {
                    synthetic_run r;
                    r.id = hex_id(0xa000 + k);
                    r.geometry = geometries[g];
                    r.eta = eta;
                    r.seed = std::to_string(seed);
                    r.circuit_seed = std::to_string(cseed);
                    r.status = k == 47? "pending": k == 46? "running": k%11 == 3? "diverged": k%13 == 5? "failed": "done";
                    if (r.status == "done") {
                        r.loss = 0.2 + 0.1*static_cast<double>(g) + std::stod(eta)*std::sin(1.0 + seed + 3.0*cseed) + 1e-3*k;
                        r.accuracy = k == 10? NAN: 0.9 - 0.05*static_cast<double>(g) + 0.02*std::cos(static_cast<double>(seed*cseed));
                    } else if (r.status == "diverged") {
                        r.loss = 1e300;
                    }
                    runs.push_back(r);
                }
    return runs;
}

/// The manifest of the runs, with the quoting and line endings a CSV writer may use.
std::string manifest_text(const std::vector<synthetic_run>& runs) {
    std::string t = "id,plasticity.geometry,\"training.seed\",plasticity.eta,circuit.seed," + outcome_header + "\n";
    for (std::size_t k = 0; k < runs.size(); ++k) {
        const auto& r = runs[k];
        const std::string geometry = k%2 == 0? "\"" + r.geometry + "\"": r.geometry;
        const std::string number_or_empty = std::isnan(r.loss)? "": num(r.loss);
        const std::string acc = std::isnan(r.accuracy)? "": num(r.accuracy);
        const bool finished = r.status == "done" || r.status == "diverged" || r.status == "failed";
        t += r.id + "," + geometry + "," + r.seed + "," + r.eta + "," + r.circuit_seed + "," + r.status + "," +
             (finished? (r.status == "done"? "0": r.status == "diverged"? "3": "1"): "") + "," + (finished? "1": "") + "," +
             (finished? "1.5": "") + "," + number_or_empty + "," + acc + ",host" + std::to_string(k%2) + "," +
             (finished? std::to_string(k%3): "") + (k%5 == 0? "\r\n": "\n");
    }
    return t;
}

/// The expectation, computed apart from the library: Σx and Σx² (not the two-pass formula).
struct expected_stats {
    std::vector<double> values;
    long n() const { return static_cast<long>(values.size()); }
    double mean() const { return std::accumulate(values.begin(), values.end(), 0.0)/static_cast<double>(n()); }
    double sd() const {
        double s = 0, s2 = 0;
        for (double v: values) s += v, s2 += v*v;
        const double m = s/static_cast<double>(n());
        return std::sqrt((s2 - static_cast<double>(n())*m*m)/static_cast<double>(n() - 1));
    }
};

void check_stats(const sweep::mean_sd& got, const expected_stats& want) {
    CHECK(got.n == want.n());
    if (want.n() == 0) {
        CHECK(std::isnan(got.mean));
    } else {
        CHECK(got.mean == Approx(want.mean()).epsilon(1e-9));
    }
    if (want.n() < 2) {
        CHECK(std::isnan(got.sd));
    } else {
        CHECK(got.sd == Approx(want.sd()).epsilon(1e-9));
    }
}

struct expected_group {
    long runs = 0, done = 0, diverged = 0, failed = 0, pending = 0, running = 0;
    expected_stats loss, accuracy;
    void add(const synthetic_run& r) {
        ++runs;
        done += r.status == "done", diverged += r.status == "diverged", failed += r.status == "failed";
        pending += r.status == "pending", running += r.status == "running";
        if (r.status != "done") return;
        if (!std::isnan(r.loss)) loss.values.push_back(r.loss);
        if (!std::isnan(r.accuracy)) accuracy.values.push_back(r.accuracy);
    }
};

void check_group(const sweep::outcome_row& row, const expected_group& want) {
    CHECK(row.counts.runs == want.runs);
    CHECK(row.counts.done == want.done);
    CHECK(row.counts.diverged == want.diverged);
    CHECK(row.counts.failed == want.failed);
    CHECK(row.counts.pending == want.pending);
    CHECK(row.counts.running == want.running);
    check_stats(row.final_loss, want.loss);
    check_stats(row.final_accuracy, want.accuracy);
}

/// The fields of one CSV line; a field in double quotes may hold commas ("" is a quote).
std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
        else if (c == '"') quoted = !quoted;
        else if (c == ',' && !quoted) out.emplace_back();
        else out.back() += c;
    }
    return out;
}

/// Exactly equal numbers, an empty cell for NaN (the table's unknown numbers).
bool same_number(const std::string& cell, double x) {
    if (cell.empty()) return std::isnan(x);
    return std::strtod(cell.c_str(), nullptr) == x;
}

bool python_has(const std::string& modules) {
    return test::run(analysis::python_interpreter() + " -c 'import " + modules + "'").code == 0;
}

} // namespace

TEST_CASE("seed keys are the swept keys whose last component names a seed", "[sweep][summary]") {
    for (auto key: {"training.seed", "circuit.seed", "task.seed", "seed", "task.noise_seed"}) CHECK(sweep::is_seed_key(key));
    for (auto key: {"training.steps", "plasticity.geometry", "seed.value", "populations.E.size"}) CHECK(!sweep::is_seed_key(key));
}

TEST_CASE("mean and sample sd: n − 1, NaN below two values, non-finite values left out", "[sweep][summary]") {
    const auto none = sweep::mean_and_sd({});
    CHECK(none.n == 0);
    CHECK(std::isnan(none.mean));
    const auto one = sweep::mean_and_sd({2.5, NAN});
    CHECK(one.n == 1);
    CHECK(one.mean == 2.5);
    CHECK(std::isnan(one.sd));
    // Far from zero and close together, where Σx² − n x̄² loses every digit.
    std::vector<double> x;
    for (int k = 0; k < 9; ++k) x.push_back(1e8 + 1e-3*k);
    const auto m = sweep::mean_and_sd(x);
    double mean = 0, ss = 0;
    for (int k = 0; k < 9; ++k) mean += 1e-3*k;
    mean /= 9;
    for (int k = 0; k < 9; ++k) ss += (1e-3*k - mean)*(1e-3*k - mean);
    CHECK(m.mean == Approx(1e8 + mean).epsilon(1e-15));
    CHECK(m.sd == Approx(std::sqrt(ss/8)).epsilon(1e-6));
}

TEST_CASE("a sweep's runs are grouped by the non-seed keys and averaged over the seeds", "[sweep][summary]") {
    const auto dir = fresh_dir();
    const auto runs = synthetic_runs();
    write_file(dir + "/manifest.csv", manifest_text(runs));
    const auto s = sweep::summarize_sweep(dir, {});

    CHECK(s.swept_keys == std::vector<std::string>{"plasticity.geometry", "training.seed", "plasticity.eta", "circuit.seed"});
    CHECK(s.condition_keys == std::vector<std::string>{"plasticity.geometry", "plasticity.eta"});
    CHECK(s.seed_keys == std::vector<std::string>{"training.seed", "circuit.seed"});
    REQUIRE(s.runs.size() == runs.size());
    CHECK(s.runs[0].values[0] == "eg"); // the quotes are the CSV's, not the value's

    expected_group all;
    std::map<std::pair<std::string, std::string>, expected_group> by_condition;
    std::map<std::string, expected_group> by_geometry, by_eta;
    for (const auto& r: runs) {
        all.add(r);
        by_condition[{r.geometry, r.eta}].add(r);
        by_geometry[r.geometry].add(r);
        by_eta[r.eta].add(r);
    }
    REQUIRE(all.diverged > 0);
    REQUIRE(all.failed > 0);
    check_group(s.all, all);

    REQUIRE(s.conditions.size() == by_condition.size());
    for (const auto& c: s.conditions) {
        REQUIRE(c.group == "condition");
        REQUIRE(c.fixed.size() == 2);
        CHECK(c.fixed[0].first == "plasticity.geometry");
        CHECK(c.fixed[1].first == "plasticity.eta");
        INFO(c.fixed[0].second << ", " << c.fixed[1].second);
        const auto& want = by_condition.at({c.fixed[0].second, c.fixed[1].second});
        CHECK(want.runs == 8); // every seed of both seed keys in the one condition
        check_group(c, want);
        // A diverged run's absurd loss never enters the mean.
        if (want.diverged > 0) CHECK(c.final_loss.mean < 10);
    }
    // In order of first appearance: the manifest's combination order.
    CHECK(s.conditions.front().fixed[0].second == "eg");
    CHECK(s.conditions.front().fixed[1].second == "0.1");
    CHECK(s.conditions.back().fixed[0].second == "pnorm");

    REQUIRE(s.marginals.size() == by_geometry.size() + by_eta.size());
    for (const auto& m: s.marginals) {
        REQUIRE(m.group == "marginal");
        REQUIRE(m.fixed.size() == 1);
        INFO(m.fixed[0].first << " = " << m.fixed[0].second);
        const auto& want = m.fixed[0].first == "plasticity.geometry"? by_geometry.at(m.fixed[0].second): by_eta.at(m.fixed[0].second);
        check_group(m, want);
    }

    std::ostringstream os;
    sweep::print_sweep_summary(os, s);
    INFO(os.str());
    CHECK(os.str().find("per condition") != std::string::npos);
    CHECK(os.str().find("euclidean") != std::string::npos);
    CHECK(os.str().find(std::to_string(all.diverged) + " diverged") != std::string::npos);
}

TEST_CASE("a sweep with only seed keys is one condition", "[sweep][summary]") {
    const auto dir = fresh_dir();
    std::string t = "id,training.seed," + outcome_header + "\n";
    expected_stats loss;
    for (int k = 1; k <= 5; ++k) {
        const double l = 1.0/k;
        loss.values.push_back(l);
        t += hex_id(k) + "," + std::to_string(k) + ",done,0,1,0.1," + num(l) + ",,h,0\n";
    }
    write_file(dir + "/manifest.csv", t);
    const auto s = sweep::summarize_sweep(dir, {});
    CHECK(s.condition_keys.empty());
    CHECK(s.marginals.empty());
    REQUIRE(s.conditions.size() == 1);
    CHECK(s.conditions[0].fixed.empty());
    CHECK(s.conditions[0].counts.runs == 5);
    check_stats(s.conditions[0].final_loss, loss);
    check_stats(s.conditions[0].final_accuracy, expected_stats{});
}

TEST_CASE("a missing or malformed manifest is a user error naming the file and the line", "[sweep][summary][errors]") {
    const auto dir = fresh_dir();
    const std::string path = dir + "/manifest.csv";
    {
        INFO("missing");
        try {
            sweep::summarize_sweep(dir, {});
            FAIL("no error");
        } catch (const user_error& e) {
            CHECK(std::string(e.what()).find(path) != std::string::npos);
        }
    }
    const std::string good_header = "id,plasticity.geometry,training.seed," + outcome_header + "\n";
    const std::string good_row = hex_id(1) + ",eg,1,done,0,1,0.5,0.1,0.9,h,0\n";
    struct bad { std::string text, line, problem; };
    for (const auto& b: {bad{"", "line 1", "empty"},
                         bad{"name,plasticity.geometry," + outcome_header + "\n" + good_row, "line 1", "'id'"},
                         bad{"id,plasticity.geometry,training.seed,exit_code,attempts,seconds,final_loss,final_accuracy,host,rank\n",
                             "line 1", "'status'"},
                         bad{"id,plasticity.geometry,status,training.seed,exit_code,attempts,seconds,final_loss,final_accuracy,host,rank\n",
                             "line 1", "must end with"},
                         bad{good_header + good_row + hex_id(2) + ",eg,2,done,0,1,0.5,0.1\n", "line 3", "8 fields"},
                         bad{good_header + good_row + hex_id(2) + ",eg,2,finished,0,1,0.5,0.1,0.9,h,0\n", "line 3", "finished"},
                         bad{good_header + hex_id(2) + ",eg,2,done,0,1,0.5,low,0.9,h,0\n", "line 2", "final_loss"},
                         bad{good_header + good_row + good_row, "line 3", "appears twice"},
                         bad{good_header + hex_id(2) + ",\"eg,2,done,0,1,0.5,0.1,0.9,h,0\n", "line 2", "not closed"}}) {
        write_file(path, b.text);
        INFO(b.text);
        try {
            sweep::summarize_sweep(dir, {});
            FAIL("no error");
        } catch (const user_error& e) {
            const std::string what = e.what();
            INFO(what);
            CHECK(what.find(path + ", " + b.line) != std::string::npos);
            CHECK(what.find(b.problem) != std::string::npos);
        }
    }
}

TEST_CASE("summary.csv reads back to the same numbers, written atomically", "[sweep][summary][files]") {
    const auto dir = fresh_dir();
    write_file(dir + "/manifest.csv", manifest_text(synthetic_runs()));
    const auto s = sweep::summarize_sweep(dir, {});
    const auto written = sweep::write_sweep_summary(dir, s);
    REQUIRE(written == std::vector<std::string>{(fs::path(dir)/"summary.csv").string()});
    CHECK(!fs::exists(dir + "/summary.csv.partial"));
    CHECK(!fs::exists(dir + "/identification.csv")); // not analysed

    std::istringstream in(read_file(written[0]));
    std::string line;
    std::getline(in, line);
    const auto header = split(line);
    REQUIRE(header == std::vector<std::string>{"group", "key", "plasticity.geometry", "plasticity.eta", "runs", "done", "diverged",
                                               "failed", "pending", "running", "final_loss_n", "final_loss_mean", "final_loss_sd",
                                               "final_accuracy_n", "final_accuracy_mean", "final_accuracy_sd"});
    std::vector<const sweep::outcome_row*> rows{&s.all};
    for (auto& r: s.conditions) rows.push_back(&r);
    for (auto& r: s.marginals) rows.push_back(&r);
    std::size_t k = 0;
    for (; std::getline(in, line); ++k) {
        REQUIRE(k < rows.size());
        const auto cells = split(line);
        REQUIRE(cells.size() == header.size());
        const auto& r = *rows[k];
        INFO(line);
        CHECK(cells[0] == r.group);
        CHECK(cells[1] == (r.group == "marginal"? r.fixed[0].first: ""));
        for (std::size_t j = 0; j < 2; ++j) {
            std::string value;
            for (auto& [key, v]: r.fixed)
                if (key == header[2 + j]) value = v;
            CHECK(cells[2 + j] == value);
        }
        const auto& c = r.counts;
        const std::vector<long> counts{c.runs, c.done, c.diverged, c.failed, c.pending, c.running};
        for (std::size_t j = 0; j < counts.size(); ++j) CHECK(std::stol(cells[4 + j]) == counts[j]);
        CHECK(std::stol(cells[10]) == r.final_loss.n);
        CHECK(same_number(cells[11], r.final_loss.mean));
        CHECK(same_number(cells[12], r.final_loss.sd));
        CHECK(std::stol(cells[13]) == r.final_accuracy.n);
        CHECK(same_number(cells[14], r.final_accuracy.mean));
        CHECK(same_number(cells[15], r.final_accuracy.sd));
    }
    CHECK(k == rows.size());
}

TEST_CASE("analyze = true tabulates the identified geometry against the trained one, on real run files", "[sweep][summary][analyze]") {
    const auto dir = fresh_dir();
    fs::create_directories(dir + "/runs");
    const std::string tiny = " --set populations.E.size=40 --set populations.I.size=10 --set task.duration_ms=50 --set task.batch=4"
                             " --set training.steps=2";
    struct planned { std::string id, geometry, extra, status; };
    const std::vector<planned> plan{{hex_id(0xe1), "eg", "", "done"},
                                    {hex_id(0xe2), "euclidean", "", "done"},
                                    {hex_id(0xe3), "pnorm", " --set plasticity.p=3", "done"},
                                    {hex_id(0xe4), "eg", "", "done"},      // its file is missing
                                    {hex_id(0xe5), "euclidean", "", "done"}, // not a run file
                                    {hex_id(0xe6), "eg", "", "diverged"}};   // never analysed
    std::string manifest = "id,plasticity.geometry,training.seed," + outcome_header + "\n";
    for (std::size_t k = 0; k < plan.size(); ++k) {
        const auto& p = plan[k];
        const std::string file = dir + "/runs/" + p.id + ".h5";
        if (k < 3) {
            const auto r = test::run(exe + " run -q" + tiny + " --set plasticity.geometry=" + p.geometry + p.extra + " --out " + file);
            INFO(r.output);
            REQUIRE(r.code == 0);
        } else if (k == 4) {
            write_file(file, "not an HDF5 file");
        }
        manifest += p.id + "," + p.geometry + ",1," + p.status + ",0,1,0.1,0.05,0.7,h,0\n";
    }
    write_file(dir + "/manifest.csv", manifest);

    const auto s = sweep::summarize_sweep(dir, {true});
    REQUIRE(s.analyzed);
    const auto& t = s.identification;
    long done = 0;
    for (auto& p: plan) done += p.status == "done";
    CHECK(static_cast<long>(t.runs.size() + t.not_analysable.size()) == done);
    REQUIRE(t.runs.size() == 3);
    REQUIRE(t.not_analysable.size() == 2);
    CHECK(t.not_analysable[0].id == plan[3].id);
    CHECK(t.not_analysable[0].reason.find("no run file") != std::string::npos);
    CHECK(t.not_analysable[1].id == plan[4].id);
    CHECK(t.not_analysable[1].reason.find(plan[4].id) != std::string::npos);

    // The trained geometry is the one each run's config asked for, as the candidate's name.
    const std::map<std::string, std::string> candidate{{"eg", "eg"}, {"euclidean", "p=2.0"}, {"pnorm", "p=3.0"}};
    long total = 0;
    for (std::size_t k = 0; k < t.runs.size(); ++k) {
        const auto& r = t.runs[k];
        INFO(r.id << ": trained " << r.trained << ", identified " << r.identified);
        CHECK(r.id == plan[k].id);
        CHECK(r.trained_geometry == plan[k].geometry);
        CHECK(r.trained == candidate.at(plan[k].geometry));
        CHECK(r.projection == "recurrent");
        CHECK(r.n_synapses > 0);
        CHECK(std::isfinite(r.best_dcdf));
        CHECK(r.best_dcdf <= r.trained_dcdf);
        CHECK(r.correct == (r.identified == r.trained));
        CHECK(r.trained_consistent == (r.trained_dcdf <= r.best_dcdf + r.floor));
    }
    // The confusion table holds each analysed run once, in its trained row.
    REQUIRE(t.counts.size() == t.trained_labels.size());
    for (std::size_t i = 0; i < t.counts.size(); ++i) {
        REQUIRE(t.counts[i].size() == t.identified_labels.size());
        long row = 0;
        for (auto n: t.counts[i]) row += n;
        long want = 0;
        for (auto& r: t.runs) want += r.trained == t.trained_labels[i];
        CHECK(row == want);
        total += row;
    }
    CHECK(total == static_cast<long>(t.runs.size()));
    long correct = 0;
    for (auto& r: t.runs) correct += r.correct;
    CHECK(t.correct == correct);

    const auto written = sweep::write_sweep_summary(dir, s);
    REQUIRE(written.size() == 2);
    CHECK(written[1] == (fs::path(dir)/"identification.csv").string());
    std::istringstream in(read_file(written[1]));
    std::string line;
    std::getline(in, line);
    const auto header = split(line);
    CHECK(header.front() == "id");
    CHECK(header.back() == "reason");
    long rows = 0;
    while (std::getline(in, line)) {
        const auto cells = split(line);
        REQUIRE(cells.size() == header.size());
        CHECK(cells[0] == plan[static_cast<std::size_t>(rows)].id);
        CHECK(cells[3] == (rows < 3? "1": "0"));
        ++rows;
    }
    CHECK(rows == done);

    std::ostringstream os;
    sweep::print_sweep_summary(os, s);
    INFO(os.str());
    CHECK(os.str().find("confusion") != std::string::npos);
    CHECK(os.str().find("not analysable: " + plan[3].id) != std::string::npos);
}

TEST_CASE("the sweep figure is a PNG, and a python without matplotlib is a clear error", "[sweep][summary][figure]") {
    const auto dir = fresh_dir();
    write_file(dir + "/manifest.csv", manifest_text(synthetic_runs()));
    const auto s = sweep::summarize_sweep(dir, {});
    CHECK_THROWS_AS(sweep::draw_sweep_figure(dir), user_error); // no summary.csv yet
    sweep::write_sweep_summary(dir, s);

    const std::string python = analysis::python_interpreter();
    if (!python_has("matplotlib, numpy")) {
        WARN("skipped: " << python << " cannot import matplotlib and numpy (set EISIM_PYTHON)");
        return;
    }
    sweep::draw_sweep_figure(dir);
    const auto png = read_file(dir + "/summary.png");
    REQUIRE(png.size() > 8);
    CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    CHECK(!fs::exists(dir + "/summary.png.partial"));

    // Only seeds swept: one category, still a figure.
    const auto seeds_only = fresh_dir();
    write_file(seeds_only + "/manifest.csv", "id,training.seed," + outcome_header + "\n" + hex_id(1) + ",1,done,0,1,0.1,0.5,,h,0\n" +
                                                 hex_id(2) + ",2,done,0,1,0.1,0.4,,h,0\n");
    sweep::write_sweep_summary(seeds_only, sweep::summarize_sweep(seeds_only, {}));
    sweep::draw_sweep_figure(seeds_only);
    CHECK(read_file(seeds_only + "/summary.png").substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));

    // python -S cannot import Debian's dist-packages: the script's exit code 3 becomes the message.
    const auto fake = test::temp_path(".sh");
    std::ofstream(fake) << "#!/bin/sh\nexec " << python << " -S \"$@\"\n";
    fs::permissions(fake, fs::perms::owner_all);
    const char* before = std::getenv("EISIM_PYTHON");
    const std::string saved = before? before: "";
    ::setenv("EISIM_PYTHON", fake.c_str(), 1);
    std::string message;
    try {
        sweep::draw_sweep_figure(dir);
    } catch (const user_error& e) {
        message = e.what();
    }
    ::setenv("EISIM_PYTHON", "/nonexistent/python3", 1);
    std::string missing;
    try {
        sweep::draw_sweep_figure(dir);
    } catch (const user_error& e) {
        missing = e.what();
    }
    if (before) ::setenv("EISIM_PYTHON", saved.c_str(), 1);
    else ::unsetenv("EISIM_PYTHON");
    CHECK(message.find("matplotlib") != std::string::npos);
    CHECK(missing.find("cannot run the python interpreter") != std::string::npos);
}
