// The configuration: defaults are valid, every key round-trips through the printed TOML, and each
// kind of mistake is an error that names the key.
#include <catch2/catch.hpp>

#include "models/error.hpp"
#include "sim/config.hpp"

using namespace eisim;

namespace {
std::string error_of(const std::string& text) {
    try {
        parse_config(text, "test.toml", default_config());
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST_CASE("the printed default config parses back to itself", "[config]") {
    const config c = default_config();
    const std::string text = to_toml(c);
    const config d = parse_config(text, "printed", config{});
    CHECK(to_toml(d) == text);
}

TEST_CASE("changed values round-trip through the printed TOML", "[config]") {
    config c = default_config();
    apply_override(c, "network.n_e=123");
    apply_override(c, "network.transfer=softplus");
    apply_override(c, "plasticity.plastic=[\"readout\"]");
    apply_override(c, "integrator.dt_ms=0.1");
    apply_override(c, "task.fresh_trials=true");
    const config d = parse_config(to_toml(c), "printed", default_config());
    CHECK(d.network.n_e == 123);
    CHECK(d.network.transfer == "softplus");
    CHECK(d.plasticity.plastic == std::vector<std::string>{"readout"});
    CHECK(d.integrator.dt_ms == 0.1);
    CHECK(d.task.fresh_trials);
}

TEST_CASE("unknown keys and sections are named", "[config][errors]") {
    CHECK(error_of("[network]\nn_excitatory = 3\n").find("network.n_excitatory") != std::string::npos);
    CHECK(error_of("[netwrk]\nn_e = 3\n").find("netwrk") != std::string::npos);
}

TEST_CASE("wrong types are named with what is allowed", "[config][errors]") {
    const auto e = error_of("[network]\nn_e = \"many\"\n");
    CHECK(e.find("network.n_e") != std::string::npos);
    CHECK(e.find("integer") != std::string::npos);
    CHECK(error_of("[network]\nn_e = 3.5\n").find("network.n_e") != std::string::npos);
    CHECK(error_of("[task]\nfresh_trials = 1\n").find("task.fresh_trials") != std::string::npos);
    CHECK(error_of("[network]\ntransfer = \"sigmoid\"\n").find("relu") != std::string::npos);
}

TEST_CASE("out-of-range values are named with the range", "[config][errors]") {
    const auto e = error_of("[connectivity]\np_ee = 1.5\n");
    CHECK(e.find("connectivity.p_ee") != std::string::npos);
    CHECK(e.find("<= 1") != std::string::npos);
    CHECK(error_of("[network]\ntau_e_ms = 0\n").find("network.tau_e_ms") != std::string::npos);
    CHECK(error_of("[network]\ntau_e_ms = nan\n").find("network.tau_e_ms") != std::string::npos);
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
    CHECK_THROWS_WITH(apply_override(c, "network.n_e=-3"), Catch::Contains("network.n_e"));
    CHECK_THROWS_WITH(apply_override(c, "network.bogus=1"), Catch::Contains("network.bogus"));
    CHECK_THROWS_WITH(apply_override(c, "n_e"), Catch::Contains("section.key=value"));
}
