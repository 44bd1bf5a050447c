// The configuration: defaults are valid, every key round-trips through the printed TOML, and each
// kind of mistake is an error that names the key.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "models/error.hpp"
#include "models/network.hpp"
#include "sim/config.hpp"
#include "sim/cpu_check.hpp"
#include "tests/support/config_error.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {
std::string error_of(const std::string& text) { return test::config_error_of(text); }
} // namespace

TEST_CASE("the printed default config parses back to itself", "[config]") {
    const config c = default_config();
    const std::string text = to_toml(c);
    const config d = parse_config(text, "printed", config{});
    CHECK(to_toml(d) == text);
}

TEST_CASE("changed values round-trip through the printed TOML", "[config]") {
    config c = default_config();
    apply_override(c, "populations.E.size=123");
    apply_override(c, "populations.*.transfer=softplus");
    apply_override(c, "projections.recurrent.plastic=false");
    apply_override(c, "projections.input.plastic=false");
    apply_override(c, "integrator.dt_ms=0.1");
    apply_override(c, "task.fresh_trials=true");
    const config d = parse_config(to_toml(c), "printed", default_config());
    CHECK(d.circuit.populations[0].size == 123);
    CHECK(d.circuit.populations[0].keys.text("transfer") == "softplus");
    CHECK(d.circuit.populations[1].keys.text("transfer") == "softplus");
    CHECK(!d.circuit.projections[0].plastic);
    CHECK(!d.circuit.projections[1].plastic);
    CHECK(d.circuit.projections[2].plastic);
    CHECK(d.integrator.dt_ms == 0.1);
    CHECK(d.task.fresh_trials);
}

TEST_CASE("unknown keys and sections are named", "[config][errors]") {
    CHECK(error_of("[network]\nn_excitatory = 3\n").find("network.n_excitatory") != std::string::npos);
    CHECK(error_of("[netwrk]\nn_e = 3\n").find("netwrk") != std::string::npos);
}

TEST_CASE("wrong types are named with what is allowed", "[config][errors]") {
    const auto e = error_of("[network]\nspectral_radius = \"many\"\n");
    CHECK(e.find("network.spectral_radius") != std::string::npos);
    CHECK(e.find("number") != std::string::npos);
    CHECK(error_of("[training]\nsteps = 3.5\n").find("training.steps") != std::string::npos);
    CHECK(error_of("[task]\nfresh_trials = 1\n").find("task.fresh_trials") != std::string::npos);
    CHECK(error_of("[integrator]\nstepper = \"heun\"\n").find("rk4") != std::string::npos);
}

TEST_CASE("out-of-range values are named with the range", "[config][errors]") {
    const auto e = error_of("[integrator]\nsparse_below = 1.5\n");
    CHECK(e.find("integrator.sparse_below") != std::string::npos);
    CHECK(e.find("<= 1") != std::string::npos);
    CHECK(error_of("[integrator]\ndt_ms = 0\n").find("integrator.dt_ms") != std::string::npos);
    CHECK(error_of("[integrator]\ndt_ms = nan\n").find("integrator.dt_ms") != std::string::npos);
    CHECK(error_of("[plasticity]\np = 1.0\n").find("plasticity.p") != std::string::npos);
}

TEST_CASE("cross-key checks", "[config][errors]") {
    CHECK(error_of("[task]\nduration_ms = 10.5\n").find("task.duration_ms") != std::string::npos);
    CHECK(error_of("[training]\nactivity_trials = 100\n").find("training.activity_trials") != std::string::npos);
    CHECK(error_of("[integrator]\nstepper = \"dopri5\"\n[network]\nnoise_sigma = 0.1\n").find("noise_sigma") != std::string::npos);
}

TEST_CASE("invalid TOML is a config error", "[config][errors]") {
    CHECK(error_of("[network\nn_e = 3").find("not valid TOML") != std::string::npos);
    CHECK(error_of(std::string("\x00\xff\x13garbage", 10)).size() > 0);
}

TEST_CASE("overrides with errors name the key", "[config][errors]") {
    config c = default_config();
    CHECK_THROWS_WITH(apply_override(c, "populations.E.size=-3"), Catch::Contains("populations[0].size"));
    CHECK_THROWS_WITH(apply_override(c, "populations.X.size=3"), Catch::Contains("known: E, I, in, out"));
    CHECK_THROWS_WITH(apply_override(c, "network.bogus=1"), Catch::Contains("network.bogus"));
    CHECK_THROWS_WITH(apply_override(c, "n_e"), Catch::Contains("section.key=value"));
}

TEST_CASE("an explicit synapse list over population lists indexes their concatenation", "[config][file]") {
    const std::string csv = test::temp_path(".csv");
    // pre = [E (3 cells), I (2)]: ids 0..2 are E, 3..4 are I; post = [I, E]: ids 0..1 are I, 2..4 are E.
    std::ofstream(csv) << "pre,post,magnitude\n0,1,0.5\n4,2,0.25\n2,3,0.125\n3,1,1.0\n";
    std::string toml = "[network]\nspectral_radius = 0.0\n"
                       "[[populations]]\nname = \"E\"\nsize = 3\n"
                       "[[populations]]\nname = \"I\"\nsize = 2\nsign = \"inhibitory\"\n"
                       "[[populations]]\nname = \"in\"\nmodel = \"input\"\nsize = 2\n"
                       "[[populations]]\nname = \"out\"\nmodel = \"readout\"\nsize = 1\n"
                       "[[projections]]\nname = \"rec\"\npre = [\"E\", \"I\"]\npost = [\"I\", \"E\"]\nconnectivity = \"file\"\n"
                       "weights = \"file\"\nfile = \"" + csv + "\"\n"
                       "[[projections]]\nname = \"readout\"\npre = \"E\"\npost = \"out\"\nconnectivity = \"all_to_all\"\n";
    const config c = parse_config(toml, "list.toml", default_config());
    const network net = build_network(c.circuit, 1);
    const projection& p = net.get("rec");
    REQUIRE(p.size() == 4);
    // Side indices: E = cells 0..2, I = cells 3..4.
    CHECK(std::vector<int>(p.pre.begin(), p.pre.end()) == std::vector<int>{0, 4, 2, 3});
    CHECK(std::vector<int>(p.post.begin(), p.post.end()) == std::vector<int>{4, 0, 1, 4});
    CHECK(std::vector<int>(p.sign.begin(), p.sign.end()) == std::vector<int>{1, -1, 1, -1});
    CHECK(p.m[0] == 0.5);
    CHECK(p.m[1] == 0.25);
    CHECK(p.m[2] == 0.125);
    CHECK(p.m[3] == 1.0);

    // pre 3 (I cell 0) onto post 0 (I cell 0) is an autapse; id 5 is past the concatenation.
    std::ofstream(csv) << "pre,post,magnitude\n3,0,1.0\n";
    CHECK_THROWS_WITH(parse_config(toml, "list.toml", default_config()), Catch::Contains("row 2: an autapse (3 -> 0) while autapses = false"));
    std::ofstream(csv) << "pre,post,magnitude\n5,0,1.0\n";
    CHECK_THROWS_WITH(parse_config(toml, "list.toml", default_config()),
                      Catch::Contains("pre = 5 is not a cell of the concatenated E, I (size 5, ids 0..4)"));
    std::ofstream(csv) << "pre,post,magnitude\n0,1,1.0\n1,1,1.0\n0,1,2.0\n";
    CHECK_THROWS_WITH(parse_config(toml, "list.toml", default_config()), Catch::Contains("row 4: the synapse 0 -> 1 is listed twice"));
}

TEST_CASE("a native build names the extensions the CPU lacks", "[cpu]") {
    // The comparison the executable makes at start (sim/cpu_check.cpp), on made-up CPUs.
    cpu_extensions built, here;
    CHECK(missing_extensions(built, here).empty());
    for (std::size_t i = 0; i < cpu_extensions::names.size(); ++i) built.has[i] = here.has[i] = true;
    CHECK(missing_extensions(built, here).empty()); // a CPU with everything runs anything
    here.has[2] = here.has[3] = false;              // an AVX machine without AVX2 and FMA
    CHECK(missing_extensions(built, here) == std::string(cpu_extensions::names[2]) + ", " + cpu_extensions::names[3]);
    for (auto& h: built.has) h = false; // a portable build needs nothing
    CHECK(missing_extensions(built, here).empty());
}

TEST_CASE("nesting is bounded and --set takes one value", "[config][errors]") {
    // 10,000 levels overflowed the parser's stack (SIGSEGV) and 2,000 took 38 s: refused at once
    for (int depth: {65, 2000, 10000}) {
        const std::string deep = std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']');
        CHECK_THAT(test::config_error_of("[training]\nsteps = " + deep + "\n"), Catch::Contains("more than 64 levels deep"));
        config c = default_config();
        CHECK_THROWS_WITH(apply_override(c, "projections.recurrent.p=" + deep), Catch::Contains("more than 64 levels deep"));
    }
    // brackets inside strings and comments are not nesting
    CHECK(test::config_error_of("[plasticity]\n# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\ngeometry = \"eg\"\n") == "");
    config c = default_config();
    CHECK_THROWS_WITH(apply_override(c, "training.steps=5\nseed = 3"), Catch::Contains("holds more than the value"));
    apply_override(c, "training.steps=5");
    CHECK(c.training.steps == 5);
}

TEST_CASE("learning rates per geometry: the chosen geometry's entry, else learning_rate, else its default", "[config][components]") {
    config c = default_config();
    apply_override(c, "plasticity.learning_rates={ eg = 0.3, euclidean = 0.04 }");
    // the optimizer's eta for each geometry the config may be switched to
    const auto eta = [](config c, const std::string& geometry) {
        apply_override(c, "plasticity.geometry=" + geometry);
        return optimizer(c.plasticity, 1).learning_rate(0);
    };
    CHECK(eta(c, "eg") == 0.3);
    CHECK(eta(c, "euclidean") == 0.04);
    CHECK(eta(c, "pnorm") == geometry_registry().get("pnorm").default_learning_rate); // no entry, learning_rate 0
    apply_override(c, "plasticity.learning_rate=0.07");
    CHECK(eta(c, "pnorm") == 0.07); // the single rate applies where the table has no entry ...
    CHECK(eta(c, "eg") == 0.3);     // ... and the table's entry wins where it has one
    // ... which the user is told: learning_rate beside the chosen geometry's entry has no effect.
    const auto inert = [](config c, const std::string& geometry) {
        apply_override(c, "plasticity.geometry=" + geometry);
        return inert_settings(c);
    };
    REQUIRE(inert(c, "eg").size() == 1);
    CHECK(inert(c, "eg").front() == "plasticity.learning_rate = 0.07 has no effect: plasticity.learning_rates.eg = 0.3 is the rate of "
                                    "the chosen geometry (set that entry to change it)");
    CHECK(inert(c, "pnorm").empty());        // no entry: learning_rate is the rate
    CHECK(inert(default_config(), "eg").empty()); // learning_rate 0 (the geometry's default) beside no table
    // one entry by its dotted name; the table round-trips through the printed TOML
    apply_override(c, "plasticity.learning_rates.pnorm=0.001");
    const config d = parse_config(to_toml(c), "printed", default_config());
    CHECK(d.plasticity.learning_rates == std::map<std::string, double>{{"eg", 0.3}, {"euclidean", 0.04}, {"pnorm", 0.001}});
    CHECK(to_toml(d) == to_toml(c));
    // a TOML sub-table is the same table
    const config e = parse_config("[plasticity.learning_rates]\neg = 0.25\n", "file", default_config());
    CHECK(e.plasticity.learning_rates == std::map<std::string, double>{{"eg", 0.25}});
}

TEST_CASE("learning rates per geometry refuse what is not a geometry's positive rate", "[config][errors]") {
    CHECK(error_of("[plasticity]\nlearning_rates = { hebb = 0.1 }\n").find("expected one of: eg, euclidean, pnorm") != std::string::npos);
    CHECK(error_of("[plasticity]\nlearning_rates = { eg = 0 }\n").find("plasticity.learning_rates.eg") != std::string::npos);
    CHECK(error_of("[plasticity]\nlearning_rates = { eg = \"fast\" }\n").find("expected a number > 0") != std::string::npos);
    CHECK(error_of("[plasticity]\nlearning_rates = 0.2\n").find("a table of NAME = number") != std::string::npos);
    config c = default_config();
    const config before = c;
    CHECK_THROWS_WITH(apply_override(c, "plasticity.learning_rates.eg=-1"), Catch::Contains("plasticity.learning_rates.eg"));
    CHECK_THROWS_WITH(apply_override(c, "plasticity.learning_rates.oja=1"), Catch::Contains("expected one of"));
    CHECK(to_toml(c) == to_toml(before)); // a refused entry changes nothing
}

TEST_CASE("Adam's keys belong to normalisation = adam, which has its own first moment instead of momentum", "[config][errors][adam]") {
    CHECK(error_of("[plasticity]\nnormalisation = \"adam\"\nadam_beta2 = 0.99\n").empty());
    CHECK(error_of("[plasticity]\nnormalisation = \"rmsprop\"\n").find("expected one of: none, adam") != std::string::npos);
    const std::string stray = error_of("[plasticity]\nadam_beta1 = 0.5\n");
    CHECK(stray.find("plasticity.adam_beta1") != std::string::npos);
    CHECK(stray.find("adam") != std::string::npos);
    CHECK(error_of("[plasticity]\nnormalisation = \"adam\"\nadam_beta1 = 1.0\n").find("plasticity.adam_beta1") != std::string::npos);
    CHECK(error_of("[plasticity]\nnormalisation = \"adam\"\nadam_epsilon = 0\n").find("plasticity.adam_epsilon") != std::string::npos);
    const std::string both = error_of("[plasticity]\nnormalisation = \"adam\"\nmomentum = 0.9\n");
    CHECK(both.find("plasticity.momentum") != std::string::npos);
    CHECK(both.find("adam_beta1") != std::string::npos);
}

TEST_CASE("learning refuses a circuit whose outputs cannot depend on its inputs; simulation does not", "[config][errors]") {
    const config c = default_config();
    CHECK_NOTHROW(validate_for_learning(c));
    const auto refusal = [](const config& bad) {
        CHECK_NOTHROW(validate(bad)); // a circuit one may simulate
        try {
            validate_for_learning(bad);
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    config no_input = c; // the input population and every projection from it gone
    auto& pops = no_input.circuit.populations;
    pops.erase(std::remove_if(pops.begin(), pops.end(), [](auto& p) { return p.model == "input"; }), pops.end());
    auto& qs = no_input.circuit.projections;
    qs.erase(std::remove_if(qs.begin(), qs.end(), [](auto& q) { return q.pre == std::vector<std::string>{"in"}; }), qs.end());
    CHECK(refusal(no_input).find("no input channels") != std::string::npos);

    config silent_input = c;
    apply_override(silent_input, "projections.input.p=0");
    CHECK(refusal(silent_input).find("no projection carries the input channels") != std::string::npos);

    config no_readout = c;
    auto& rq = no_readout.circuit.projections;
    rq.erase(std::remove_if(rq.begin(), rq.end(), [](auto& q) { return q.post == std::vector<std::string>{"out"}; }), rq.end());
    CHECK(refusal(no_readout).find("no projection reaches the readout") != std::string::npos);

    // One silent projection among others that carry the input is not a refusal.
    config one_of_two = c;
    auto extra = *one_of_two.circuit.find_projection("input");
    extra.name = "input2";
    extra.p = 0.0;
    one_of_two.circuit.projections.push_back(extra);
    CHECK_NOTHROW(validate_for_learning(one_of_two));
}

TEST_CASE("messages that quote a shortened value stay UTF-8", "[config][errors]") {
    // Whether `s` is well-formed UTF-8 (no sequence cut short, no stray continuation byte).
    const auto utf8 = [](const std::string& s) {
        for (std::size_t i = 0; i < s.size();) {
            const auto c = static_cast<unsigned char>(s[i]);
            const int n = c < 0x80? 0: (c >> 5) == 6? 1: (c >> 4) == 14? 2: (c >> 3) == 30? 3: -1;
            if (n < 0 || i + n >= s.size() + (n == 0? 1: 0)) return false;
            for (int k = 1; k <= n; ++k)
                if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
            i += n + 1;
        }
        return true;
    };
    for (auto ch: {std::string("\xc3\xa9"), std::string("\xe2\x82\xac"), std::string("\xf0\x9f\x98\x80")}) { // é € 😀
        std::string many;
        for (int k = 0; k < 400; ++k) many += ch;
        for (auto text: {"[training]\nsteps = \"" + many + "\"\n", "[training]\nsteps = 1" + many + "\n", many + " = 1\n"}) {
            const auto e = error_of(text);
            INFO(e);
            CHECK(e.find("...") != std::string::npos); // shortened
            CHECK(utf8(e));
        }
    }
}
