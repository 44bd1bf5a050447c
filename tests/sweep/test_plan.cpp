// The sweep plan: what a sweep file expands to. The expected combinations are computed here by
// nested loops and by resolving each config independently (load_config + apply_override), and
// every refusal names the axis and the combination.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <cstdlib>
#include <set>

#include "models/error.hpp"
#include "plasticity/optimizer.hpp"
#include "sim/config.hpp"
#include "sweep/engine.hpp"
#include "sweep/plan.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;
using sweep::parse_sweep;

namespace {

const std::string examples = std::string(EISIM_SOURCE_DIR) + "/examples";

sweep::sweep_plan plan_of(const std::string& text, const std::string& folder = examples) { return parse_sweep(text, "test.toml", folder); }

// The config eisim run would build from the base and these --set assignments.
config resolved(const std::string& base, const std::vector<std::string>& sets) {
    config c = load_config(base);
    for (auto& s: sets) apply_override(c, s, false);
    drop_stray_keys(c);
    c.notes.clear();
    validate(c);
    return c;
}

std::string error_of(const std::string& text) {
    try {
        plan_of(text);
    } catch (const user_error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("a grid is the cartesian product, its first axis slowest, each run the config --set would make", "[sweep][plan]") {
    const std::vector<std::string> geometries{"eg", "euclidean"};
    const std::vector<double> etas{0.01, 0.02, 0.5};
    const int first = 3, last = 6;
    const auto p = plan_of("base = \"perceptual_decision.toml\"\n[set]\n\"training.steps\" = 7\n"
                           "[grid]\n\"plasticity.geometry\" = [\"eg\", \"euclidean\"]\n"
                           "plasticity.learning_rate = [0.01, 0.02, 0.5]\n" // a dotted key, not quoted: the same
                           "\"training.seed\" = { range = [3, 6] }\n");
    const std::size_t n = geometries.size()*etas.size()*(last - first + 1);
    REQUIRE(p.combinations == n);
    REQUIRE(p.points.size() == n);
    CHECK(p.merged.empty());
    CHECK(p.swept_keys == std::vector<std::string>{"plasticity.geometry", "plasticity.learning_rate", "training.seed"});
    CHECK(p.base == std::filesystem::absolute(examples + "/perceptual_decision.toml").lexically_normal().string());
    std::size_t k = 0;
    std::set<std::string> ids;
    for (auto& g: geometries)
        for (double eta: etas)
            for (int seed = first; seed <= last; ++seed, ++k) {
                const auto& point = p.points[k];
                INFO("combination " << k + 1);
                CHECK(point.combination == k + 1);
                CHECK(point.values[0].shown == g);
                CHECK(point.values[0].toml == "\"" + g + "\"");
                CHECK(std::stod(point.values[1].shown) == eta);
                CHECK(point.values[2].shown == std::to_string(seed));
                const config c = resolved(p.base, {"training.steps=7", "plasticity.geometry=" + g,
                                                   "plasticity.learning_rate=" + point.values[1].toml, "training.seed=" + std::to_string(seed)});
                CHECK(to_toml(point.resolved, false) == to_toml(c, false));
                CHECK(point.id == sweep::run_id(c));
                CHECK(point.resolved.plasticity.geometry == g);
                CHECK(point.resolved.training.seed == seed);
                CHECK(point.resolved.training.steps == 7);
                ids.insert(point.id);
            }
    CHECK(ids.size() == n); // distinct configs, distinct ids
}

TEST_CASE("a run's id is its config's: the config file a sweep writes reads back to the same id", "[sweep][plan]") {
    const auto p = plan_of("[grid]\n\"training.seed\" = [1, 2]\n\"plasticity.geometry\" = [\"pnorm\"]\n");
    REQUIRE(p.points.size() == 2);
    for (auto& point: p.points) {
        const auto file = test::temp_path(".toml");
        std::ofstream(file) << to_toml(point.resolved); // what configs/<id>.toml holds
        CHECK(sweep::run_id(load_config(file)) == point.id);
        CHECK(point.id.size() == 16);
        CHECK(point.id.find_first_not_of("0123456789abcdef") == std::string::npos);
    }
    // The built-in defaults are the base when none is given.
    CHECK(p.base.empty());
    CHECK(to_toml(p.points[0].resolved, false) == to_toml(resolved("", {"training.seed=1", "plasticity.geometry=\"pnorm\""}), false));
}

TEST_CASE("ranges include both ends and take a step", "[sweep][plan]") {
    for (auto [a, b, step]: {std::tuple{1, 20, 1}, std::tuple{2, 9, 3}, std::tuple{5, 5, 2}}) {
        const auto p = plan_of("[grid]\n\"training.seed\" = { range = [" + std::to_string(a) + ", " + std::to_string(b) +
                               "], step = " + std::to_string(step) + " }\n");
        const std::size_t n = static_cast<std::size_t>((b - a)/step + 1);
        REQUIRE(p.points.size() == n);
        for (std::size_t i = 0; i < n; ++i) CHECK(p.points[i].resolved.training.seed == a + static_cast<int>(i)*step);
    }
}

TEST_CASE("zip lists vary together as one axis, combined with the grid", "[sweep][plan]") {
    const std::vector<double> durations{100.0, 150.0, 200.0};
    const std::vector<int> batches{4, 8, 16};
    const auto p = plan_of("[grid]\n\"plasticity.geometry\" = [\"eg\", \"euclidean\"]\n"
                           "[zip]\n\"task.duration_ms\" = [100.0, 150.0, 200.0]\n\"task.batch\" = [4, 8, 16]\n");
    REQUIRE(p.points.size() == 2*durations.size());
    std::size_t k = 0;
    for (auto g: {"eg", "euclidean"})
        for (std::size_t z = 0; z < durations.size(); ++z, ++k) {
            CHECK(p.points[k].resolved.plasticity.geometry == g);
            CHECK(p.points[k].resolved.task.duration_ms == durations[z]);
            CHECK(p.points[k].resolved.task.batch == batches[z]);
        }
    // Several zip axes: [[zip]] tables.
    const auto q = plan_of("[[zip]]\n\"training.seed\" = [1, 2]\n\"task.teacher_seed\" = [10, 20]\n"
                           "[[zip]]\n\"task.batch\" = [4, 8, 16]\n");
    CHECK(q.combinations == 6);
    CHECK(q.swept_keys.size() == 3);
}

TEST_CASE("combinations that resolve to the same config run once, and the plan says which", "[sweep][plan]") {
    // rflo_form is a key of the RFLO credit: under exact credit both of its values are the same run.
    const auto p = plan_of("[grid]\n\"plasticity.credit\" = [\"exact\", \"rflo\"]\n\"plasticity.rflo_form\" = [\"trial\", \"online\"]\n");
    CHECK(p.combinations == 4);
    REQUIRE(p.points.size() == 3);
    REQUIRE(p.merged.size() == 1);
    CHECK(p.merged[0].combination == 2);
    CHECK(p.merged[0].same_as == 1);
    CHECK(p.points[0].resolved.plasticity.credit == "exact");
    CHECK(p.points[1].resolved.plasticity.credit == "rflo");
    CHECK(p.points[2].resolved.plasticity.credit == "rflo");
    CHECK(p.points[1].id != p.points[2].id);
    CHECK(!p.notes.empty()); // the key left out where it has no effect
}

TEST_CASE("a swept learning_rate that a learning_rates entry overrides is noted, not silently ignored", "[sweep][plan]") {
    // perceptual_decision.toml gives eg 0.2 and euclidean 0.02 in plasticity.learning_rates; pnorm has no entry.
    const auto p = plan_of("base = \"perceptual_decision.toml\"\n[[zip]]\n\"plasticity.geometry\" = [\"eg\", \"pnorm\"]\n"
                           "\"plasticity.learning_rate\" = [0.1, 0.05]\n");
    REQUIRE(p.points.size() == 2);
    const auto eta = [](const config& c) { return optimizer(c.plasticity, 1).learning_rate(0); };
    CHECK(eta(p.points[0].resolved) == 0.2);  // the table's entry, not the axis's 0.1 ...
    CHECK(eta(p.points[1].resolved) == 0.05); // ... where it has one
    CHECK(p.notes == std::vector<std::string>{"plasticity.learning_rate = 0.1 has no effect: plasticity.learning_rates.eg = 0.2 is the "
                                              "rate of the chosen geometry (set that entry to change it)"});
}

TEST_CASE("a bad sweep file is refused, naming the axis, the value and the combination", "[sweep][plan][errors]") {
    struct bad { std::string text; std::vector<std::string> named; };
    for (auto& b: std::vector<bad>{
             {"[grid]\n\"plasticity.geometry\" = [\"eg\", \"hyperbolic\"]\n\"training.seed\" = [1, 2]\n",
              {"axis 'plasticity.geometry' = hyperbolic", "combination 3 of 4", "training.seed = 1"}},
             {"[grid]\n\"plasticity.nonsense\" = [1, 2]\n", {"plasticity.nonsense", "combination 1 of 2", "unknown key"}},
             {"[grid]\n\"training.steps\" = [10, -1]\n", {"axis 'training.steps' = -1", "combination 2 of 2"}},
             {"[grid]\n\"training.seed\" = 3\n", {"'training.seed'", "a list"}},
             {"[grid]\n\"training.seed\" = []\n", {"'training.seed'", "empty"}},
             {"[grid]\n\"training.seed\" = { range = [5, 1] }\n", {"'training.seed'", "empty"}},
             {"[grid]\n\"training.seed\" = { range = [1.5, 3] }\n", {"'training.seed'", "two integers"}},
             {"[zip]\n\"training.seed\" = [1, 2, 3]\n\"task.batch\" = [4, 8]\n", {"'task.batch' has 2 values", "'training.seed' has 3"}},
             {"[set]\n\"training.seed\" = 1\n[grid]\n\"training.seed\" = [1, 2]\n", {"'training.seed' is given twice"}},
             {"[set]\n\"training.steps\" = \"many\"\n", {"[set]", "training.steps"}},
             {"[sweep]\nx = 1\n", {"unknown key 'sweep'"}},
             {"base = \"no_such_config.toml\"\n", {"no_such_config.toml", "neither beside"}},
             {"this is = not = toml\n", {"not valid TOML"}},
             // cross-key validation: the combination, not one key, is wrong
             {"[grid]\n\"task.duration_ms\" = [100.0, 100.05]\n", {"combination 2 of 2", "task.duration_ms = 100.05", "multiple"}},
         }) {
        const std::string e = error_of(b.text);
        INFO(b.text << "-> " << e);
        CHECK(e.find("test.toml") != std::string::npos);
        for (auto& n: b.named) CHECK(e.find(n) != std::string::npos);
    }
}

TEST_CASE("a relative base is found beside the sweep file first", "[sweep][plan]") {
    namespace fs = std::filesystem;
    const fs::path dir = test::temp_path(".sweepdir");
    fs::create_directories(dir/"sub");
    std::ofstream(dir/"sub"/"base.toml") << "[training]\nsteps = 11\n";
    std::ofstream(dir/"sub"/"s.toml") << "base = \"base.toml\"\n[grid]\n\"training.seed\" = [1]\n";
    const auto p = sweep::read_sweep((dir/"sub"/"s.toml").string());
    REQUIRE(p.points.size() == 1);
    CHECK(p.points[0].resolved.training.steps == 11);
    CHECK(fs::equivalent(p.base, dir/"sub"/"base.toml"));
    CHECK_THROWS_AS(sweep::read_sweep((dir/"sub"/"none.toml").string()), user_error);
    fs::remove_all(dir);
}

TEST_CASE("every sweep example plans", "[sweep][plan][examples]") {
    int found = 0;
    for (auto& entry: std::filesystem::directory_iterator(examples + "/sweeps")) {
        if (entry.path().extension() != ".toml") continue;
        INFO(entry.path());
        const auto p = sweep::read_sweep(entry.path().string());
        CHECK(p.points.size() + p.merged.size() == p.combinations);
        CHECK(!p.points.empty());
        ++found;
    }
    CHECK(found >= 1);
}

TEST_CASE("a start under mpirun or srun is told from the environment", "[sweep][mpi]") {
    // What decides between the MPI engine and the local one (and, in a build without MPI, the
    // refusal that names mpirun): the launchers' size variables.
    for (const char* name: {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) ::unsetenv(name);
    CHECK(sweep::launched_ranks() == 1);
    for (const char* name: {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
        ::setenv(name, "3", 1);
        CHECK(sweep::launched_ranks() == 3);
        ::unsetenv(name);
    }
    ::setenv("SLURM_NTASKS", "8", 1); // an allocation, not a launch: srun sets PMI_SIZE for its tasks
    CHECK(sweep::launched_ranks() == 1);
    ::unsetenv("SLURM_NTASKS");
}

TEST_CASE("the identification study's sweeps make what examples/README.md says they make", "[sweep][plan][study]") {
    const auto eta = [](const config& c) { return optimizer(c.plasticity, 1).learning_rate(0); };
    // The rate arm: 4 credit rules x 20 seeds x 3 geometries x 2 tasks; feedback alignment with a
    // random recurrent feedback too (Lillicrap et al.'s, every transposed weight replaced); EG at 0.1.
    const auto rate = sweep::read_sweep(examples + "/sweeps/identify_rules.toml");
    REQUIRE(rate.points.size() == 480);
    std::map<std::string, int> per_credit;
    for (const auto& p: rate.points) {
        const config& c = p.resolved;
        ++per_credit[c.plasticity.credit];
        CHECK(c.training.steps == 100);
        CHECK(c.training.record_every == 5);
        CHECK(eta(c) == (c.plasticity.geometry == "eg"? 0.1: 0.02));
        if (c.plasticity.credit == "feedback_alignment") CHECK(c.plasticity.keys.flag("feedback_recurrent"));
        if (c.plasticity.credit == "node_perturbation") CHECK(c.plasticity.keys.integer("perturbation_samples") == 4);
    }
    CHECK(per_credit == std::map<std::string, int>{{"exact", 120}, {"feedback_alignment", 120}, {"node_perturbation", 120}, {"rflo", 120}});
    // The spiking arm: e-prop (random feedback) and surrogate BPTT x 20 seeds x 3 geometries x 2 tasks.
    const auto spiking = sweep::read_sweep(examples + "/sweeps/identify_rules_spiking.toml");
    REQUIRE(spiking.points.size() == 240);
    std::map<std::string, int> per_rule, per_task;
    for (const auto& p: spiking.points) {
        const config& c = p.resolved;
        CHECK(c.circuit.spiking());
        ++per_rule[c.plasticity.credit];
        ++per_task[c.task.kind];
        CHECK(c.training.steps == 100);
        CHECK(c.training.record_every == 5);
        if (c.plasticity.credit == "eprop") CHECK(c.plasticity.keys.text("eprop_feedback") == "random");
        CHECK(eta(c) == std::map<std::string, double>{{"eg", 2.0}, {"euclidean", 0.03}, {"pnorm", 0.0003}}.at(c.plasticity.geometry));
    }
    CHECK(per_rule == std::map<std::string, int>{{"eprop", 120}, {"surrogate_bptt", 120}});
    CHECK(per_task == std::map<std::string, int>{{"perceptual_decision", 120}, {"working_memory", 120}});
    // Every example sweep plans (its combinations resolve and validate).
    for (const auto& e: std::filesystem::directory_iterator(examples + "/sweeps"))
        if (e.path().extension() == ".toml") CHECK_NOTHROW(sweep::read_sweep(e.path().string()));
}
