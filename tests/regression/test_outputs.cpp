// Outputs that never destroy what they should not (README.md, "Runs that survive being killed";
// docs/design.md, "The run file"): an output that is an input is refused, --overwrite replaces
// only regular files, a run file appears at its path only once it can be resumed, and one
// writer per file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include "io/h5.hpp"
#include "tests/regression/datasets.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;
namespace fs = std::filesystem;

namespace {
const std::string exe = EISIM_EXE;
const std::string small = " --set populations.E.size=40 --set populations.I.size=10 --set task.duration_ms=50 --set task.batch=4";

std::string bytes_of(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string host_name() {
    char buf[256] = {};
    gethostname(buf, sizeof buf - 1);
    return buf;
}

// The lock and temporary files a writer leaves beside `out` (none once it has ended normally).
bool leftovers(const std::string& out) { return fs::exists(out + ".lock") || fs::exists(out + ".partial"); }

// Every dataset of `got` equals the uninterrupted run's `expect`.
void check_same_run(const test::dataset_map& expect, const std::string& got_path) {
    const auto got = test::all_datasets(got_path);
    REQUIRE(got.size() == expect.size());
    for (auto& [name, data]: expect) {
        INFO(name);
        REQUIRE(got.count(name));
        CHECK(test::same_values(got.at(name), data));
    }
}

// The text of a file written by a background shell (a pid, an exit code).
std::string read_word(const std::string& path) {
    std::ifstream f(path);
    std::string w;
    f >> w;
    return w;
}
} // namespace

TEST_CASE("an output that is an input is refused, naming both, and the input is untouched", "[cli][errors][outputs]") {
    const auto run = test::temp_path(".h5"), cfg = test::temp_path(".toml"), sonata = test::temp_path(".sonata");
    REQUIRE(test::run(exe + " run -q" + small + " --set training.steps=2 --out " + run).code == 0);
    REQUIRE(test::run(exe + " export sonata " + run + " --out " + sonata).code == 0);
    std::ofstream(cfg) << "[task]\nduration_ms = 50.0\nbatch = 4\n";
    const auto hard = test::temp_path(".h5"), link = test::temp_path(".h5");
    fs::create_hard_link(run, hard);
    fs::create_symlink(run, link);
    const std::string partial_cfg = test::temp_path(".h5") + ".partial"; // a config named like a run file's temporary file
    fs::copy_file(cfg, partial_cfg);
    const std::string circuit = sonata + "/circuit_config.json", edges = sonata + "/edges.h5";
    const std::string run_dir = fs::path(run).parent_path().string();
    const std::string spelled = run_dir + "/./" + fs::path(run).filename().string(); // the same path, spelled otherwise

    struct refusal { std::string args, input, output_option, input_name; };
    const std::vector<refusal> cases = {
        {" analyze " + run + " --json " + run, run, "--json", "RUN"},
        {" analyze " + run + " --json " + hard, run, "--json", "RUN"},
        {" analyze " + run + " --figures " + run_dir, run, "--figures", "RUN"},
        {" export csv " + run + " --out " + run + " --overwrite", run, "--out", "RUN"},
        {" export csv " + run + " --out " + spelled + " --overwrite", run, "--out", "RUN"},
        {" export csv " + run + " --out " + link + " --overwrite", run, "--out", "RUN"},
        {" export sonata " + run + " --out " + run, run, "--out", "RUN"},
        {" export sonata " + run + " --out " + run_dir + " --overwrite", run, "--out", "RUN"},
        {" run -q " + cfg + " --out " + cfg + " --overwrite", cfg, "--out", "CONFIG"},
        {" run -q " + cfg + " --out " + cfg, cfg, "--out", "CONFIG"},
        {" simulate " + cfg + " --out " + cfg + " --overwrite", cfg, "--out", "CONFIG"},
        {" simulate " + partial_cfg + " --out " + partial_cfg.substr(0, partial_cfg.size() - 8), partial_cfg, "--out", "CONFIG"},
        {" simulate --circuit " + circuit + " --set task.duration_ms=50 --out " + circuit + " --overwrite", circuit, "--out", "--circuit"},
        {" run -q --circuit " + circuit + " --set task.duration_ms=50 --out " + edges + " --overwrite", edges, "--out", "edges file"},
    };
    for (auto& c: cases) {
        const std::string before = bytes_of(c.input);
        REQUIRE(!before.empty());
        const auto r = test::run(exe + c.args);
        INFO(c.args << " -> " << r.output);
        CHECK(r.code == 2);
        CHECK_THAT(r.output, Catch::Contains(c.output_option) && Catch::Contains(c.input_name) && Catch::Contains("input"));
        CHECK(bytes_of(c.input) == before);
    }
    // The input is still what it was: a run file that analyses, the symlink still a symlink.
    CHECK(fs::is_symlink(link));
    CHECK(test::run(exe + " analyze " + run).code == 0);
    // An output beside the input (not it, not a directory holding it) is fine.
    CHECK(test::run(exe + " export csv " + run + " --out " + test::temp_path(".csv")).code == 0);
}

TEST_CASE("with or without --overwrite, only regular files are replaced", "[cli][errors][outputs]") {
    const auto run = test::temp_path(".h5");
    REQUIRE(test::run(exe + " run -q" + small + " --set training.steps=2 --out " + run).code == 0);
    const auto dir = test::temp_path(".d"), fifo = test::temp_path(".fifo"), to_device = test::temp_path(".h5"),
               dangling = test::temp_path(".h5"), to_dir = test::temp_path(".h5");
    fs::create_directory(dir);
    REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
    fs::create_symlink("/dev/null", to_device);
    fs::create_symlink(test::temp_path(".nothing"), dangling);
    fs::create_symlink(dir, to_dir);
    struct target { std::string path, kind; };
    for (auto& t: {target{dir, "a directory"}, target{fifo, "a FIFO"}, target{to_device, "a symlink to a character device"},
                   target{dangling, "a symlink to nothing"}, target{to_dir, "a symlink to a directory"},
                   target{"/dev/null", "a character device"}}) {
        for (const std::string& cmd: {" simulate" + small + " --out ", " run -q" + small + " --set training.steps=1 --out ",
                                      " export csv " + run + " --out "}) {
            for (const char* flag: {" --overwrite", ""}) {
                const auto r = test::run(exe + cmd + t.path + std::string(flag));
                INFO(cmd << t.path << flag << " -> " << r.output);
                CHECK(r.code == 2);
                CHECK_THAT(r.output, Catch::Contains(t.kind + ", not a regular file"));
            }
        }
        // Nothing was made beside it (no lock, no temporary file), and it is what it was.
        CHECK(!leftovers(t.path));
    }
    CHECK(fs::is_directory(fs::symlink_status(dir)));
    CHECK(fs::is_fifo(fs::symlink_status(fifo)));
    CHECK(fs::is_symlink(to_device));
    CHECK(fs::is_character_file(fs::status("/dev/null")));
    // SONATA's files: a FIFO where nodes.h5 would go is refused too, and left as it is.
    const auto sonata = test::temp_path(".sonata");
    fs::create_directory(sonata);
    REQUIRE(mkfifo((sonata + "/nodes.h5").c_str(), 0644) == 0);
    const auto r = test::run(exe + " export sonata " + run + " --out " + sonata + " --overwrite");
    INFO(r.output);
    CHECK(r.code == 2);
    CHECK_THAT(r.output, Catch::Contains("a FIFO, not a regular file"));
    CHECK(fs::is_fifo(fs::symlink_status(sonata + "/nodes.h5")));
}

TEST_CASE("a stale lock is taken over, a live or foreign one is refused", "[reliability][lock]") {
    const auto out = test::temp_path(".h5");
    const std::string lock = out + ".lock";
    // The pid of a process that has ended (a shell that printed its own pid and exited).
    const auto shell = test::run("sh -c 'echo $$'");
    REQUIRE(shell.code == 0);
    const std::string dead = std::to_string(std::stol(shell.output));
    REQUIRE(kill(std::stoi(dead), 0) != 0);
    struct held { std::string holder; bool taken_over; std::string message; };
    for (auto& h: {held{host_name() + " " + std::to_string(getpid()), false, "pid " + std::to_string(getpid())},
                   held{"elsewhere.example.org 1", false, "another host"},
                   held{host_name() + " " + dead, true, "took over the stale lock"}}) {
        std::ofstream(lock) << h.holder << "\n";
        std::ofstream(out + ".partial") << "what a killed start left"; // replaced by the writer that takes the lock
        const auto r = test::run(exe + " simulate" + small + " --out " + out);
        INFO(h.holder << " -> " << r.output);
        CHECK_THAT(r.output, Catch::Contains(h.message));
        if (h.taken_over) {
            CHECK(r.code == 0);
            CHECK(h5::is_hdf5(out));
            CHECK(!leftovers(out)); // the lock removed, the leftover .partial replaced and renamed
        } else {
            CHECK(r.code == 2);
            CHECK_THAT(r.output, Catch::Contains(lock));
            CHECK(bytes_of(lock) == h.holder + "\n"); // the holder's lock is untouched
            CHECK(!fs::exists(out));
        }
    }
}

TEST_CASE("one writer per file: a second run, --overwrite or --resume of a file being written is refused",
          "[reliability][lock][slow]") {
    // About a second of learning (seconds on a loaded machine), so that the others start while it runs.
    const std::string args = small + " --set task.duration_ms=200 --set training.steps=300 --set training.record_every=3"
                                     " --set plasticity.momentum=0.9";
    const auto uninterrupted = test::temp_path(".h5");
    REQUIRE(test::run(exe + " run -q" + args + " --out " + uninterrupted).code == 0);
    const auto expect = test::all_datasets(uninterrupted);

    // Two runs started together: one writes, the other is refused naming it.
    {
        const auto out = test::temp_path(".h5"), log_a = test::temp_path(".log"), log_b = test::temp_path(".log"),
                   rc = test::temp_path(".rc");
        const std::string cmd = exe + " run -q" + args + " --out " + out;
        REQUIRE(test::run("sh -c '" + cmd + " >" + log_a + " 2>&1 & a=$!; " + cmd + " >" + log_b + " 2>&1 & b=$!; wait $a; ra=$?; "
                          "wait $b; rb=$?; echo $a:$ra:$b:$rb > " + rc + "'").code == 0);
        const std::string r = read_word(rc); // pid:exit code of each
        INFO(r << "\nA: " << bytes_of(log_a) << "\nB: " << bytes_of(log_b));
        int pa = 0, ca = 0, pb = 0, cb = 0;
        REQUIRE(std::sscanf(r.c_str(), "%d:%d:%d:%d", &pa, &ca, &pb, &cb) == 4);
        REQUIRE(((ca == 0 && cb == 2) || (ca == 2 && cb == 0)));
        const int winner = ca == 0? pa: pb;
        CHECK_THAT(bytes_of(ca == 0? log_b: log_a), Catch::Contains("being written") && Catch::Contains("host " + host_name()) &&
                                                        Catch::Contains("pid " + std::to_string(winner)));
        check_same_run(expect, out);
        CHECK(!leftovers(out));
    }
    // --resume, --overwrite and a plain run of a file being written: refused, naming the writer,
    // which writes on undisturbed.
    {
        const auto out = test::temp_path(".h5"), pid = test::temp_path(".pid"), rc = test::temp_path(".rc"),
                   log = test::temp_path(".log");
        const std::vector<std::pair<std::string, std::string>> others = {
            {"resume", exe + " run -q --resume " + out},
            {"overwrite", exe + " run -q" + args + " --out " + out + " --overwrite"},
            {"plain", exe + " run -q" + args + " --out " + out}};
        std::string tries;
        std::vector<std::string> logs;
        for (auto& [name, cmd]: others) {
            logs.push_back(test::temp_path(".log"));
            tries += cmd + " >" + logs.back() + " 2>&1; echo " + name + ":$? >>" + rc + "; ";
        }
        // The writer in the background; once its file is there the others try; then it is waited for.
        test::run("sh -c '" + exe + " run -q" + args + " --out " + out + " >" + log + " 2>&1 & w=$!; echo $w >" + pid +
                  "; while [ ! -e " + out + " ] && kill -0 $w 2>/dev/null; do sleep 0.01; done; " + tries +
                  "kill -0 $w && echo running >>" + rc + "; wait $w; echo writer:$? >>" + rc + "'");
        const std::string results = bytes_of(rc), writer = read_word(pid);
        INFO(results << bytes_of(log));
        // Each refused with exit 2 while the writer still ran, and the writer finished.
        CHECK_THAT(results, Catch::Contains("resume:2") && Catch::Contains("overwrite:2") && Catch::Contains("plain:2") &&
                                Catch::Contains("running") && Catch::Contains("writer:0"));
        for (auto& l: logs) CHECK_THAT(bytes_of(l), Catch::Contains("being written") && Catch::Contains("pid " + writer));
        check_same_run(expect, out);
        CHECK(!leftovers(out));
    }
}

TEST_CASE("a run killed while its file is created leaves nothing at its path, and a rerun succeeds", "[reliability][resume][slow]") {
    // Set-up and the first learning step take a while (a teacher's trials, a forward and a backward
    // pass of 250 cells over 8 trials of 2 s): the kill lands before the first checkpoint.
    const std::string args = " --set populations.E.size=200 --set populations.I.size=50 --set task.duration_ms=2000"
                             " --set task.batch=8 --set training.steps=2";
    const auto uninterrupted = test::temp_path(".h5"), out = test::temp_path(".h5");
    REQUIRE(test::run(exe + " run -q" + args + " --out " + uninterrupted).code == 0);
    const auto killed = test::run("sh -c '" + exe + " run -q" + args + " --out " + out + " & p=$!; while [ ! -e " + out +
                                  ".partial ] && kill -0 $p 2>/dev/null; do sleep 0.005; done; kill -KILL $p; wait $p; exit $?'");
    INFO(killed.output);
    REQUIRE(killed.code == 137);
    CHECK(!fs::exists(out));              // nothing at the run file's path that would block a rerun
    CHECK(fs::exists(out + ".partial"));  // only the start, beside it
    CHECK(fs::exists(out + ".lock"));     // and the dead writer's lock
    const auto resume = test::run(exe + " run -q --resume " + out);
    INFO(resume.output);
    CHECK(resume.code == 2);
    CHECK_THAT(resume.output, Catch::Contains("no such file") && Catch::Contains(".partial"));
    const auto rerun = test::run(exe + " run -q" + args + " --out " + out);
    INFO(rerun.output);
    REQUIRE(rerun.code == 0);
    check_same_run(test::all_datasets(uninterrupted), out);
    CHECK(!leftovers(out));
}
