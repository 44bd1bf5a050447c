// Components chosen by name carry their own config keys (models/parameters.hpp): every registered
// geometry, credit rule, input generator and stepper declares its keys with a default inside its
// own range and a comment; `eisim config` shows a component's keys while it is chosen; a key of a
// component that is not chosen is refused with the component named (a stored config's goes back
// to its default, with a note); and each key set in the TOML reaches the component.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/error.hpp"
#include "models/input.hpp"
#include "models/integrate.hpp"
#include "models/tasks.hpp"
#include "plasticity/local_credit.hpp"
#include "plasticity/optimizer.hpp"
#include "sim/config.hpp"
#include "tests/support/config_error.hpp"

using namespace eisim;

namespace {

template <typename R>
void check_keys_declared(const R& reg) {
    for (auto& name: reg.names()) {
        const auto& entry = reg.get(name);
        INFO(reg.what() << " " << name);
        CHECK(!entry.doc.empty());
        for (const key_spec& k: entry.keys) {
            INFO("key " << k.name);
            CHECK(!k.doc.empty());
            CHECK(k.check(k.fallback).empty()); // the default is allowed
        }
    }
}

std::string error_of(const std::string& text) { return test::config_error_of(text); }

bool shows(const config& c, const std::string& line) { return to_toml(c, false).find("\n" + line + "\n") != std::string::npos; }

} // namespace

TEST_CASE("every registered component documents itself and declares allowed defaults", "[config][components]") {
    check_keys_declared(geometry_registry());
    check_keys_declared(credit_registry());
    check_keys_declared(input_registry());
    check_keys_declared(stepper_registry());
    check_keys_declared(task_registry());
}

TEST_CASE("a component's keys are printed while it is chosen, and only then", "[config][components]") {
    config c = default_config(); // eg, exact, ou, euler
    CHECK(!shows(c, "p = 3.0"));
    CHECK(!shows(c, "perturbation_sigma = 0.05"));
    CHECK(!shows(c, "atol = 1e-06"));
    CHECK(shows(c, "tau_ms = 50.0")); // ou's
    CHECK(!shows(c, "amplitude = 1.0"));
    apply_override(c, "plasticity.geometry=pnorm", false);
    apply_override(c, "plasticity.p=2.5", false);
    apply_override(c, "plasticity.credit=node_perturbation", false);
    apply_override(c, "plasticity.perturbation_samples=7", false);
    apply_override(c, "integrator.stepper=rk4", false);
    apply_override(c, "input.kind=step", false);
    apply_override(c, "input.onset_ms=20", false);
    validate(c);
    CHECK(shows(c, "p = 2.5"));
    CHECK(shows(c, "perturbation_samples = 7"));
    CHECK(shows(c, "perturbation_sigma = 0.05"));
    CHECK(!shows(c, "atol = 1e-06")); // rk4 has no tolerances
    CHECK(shows(c, "onset_ms = 20.0"));
    CHECK(!shows(c, "tau_ms = 50.0"));
    // The printed config reads back to the same values.
    const config d = parse_config(to_toml(c), "printed", config{});
    CHECK(d.plasticity.keys.real("p") == 2.5);
    CHECK(d.plasticity.keys.integer("perturbation_samples") == 7);
    CHECK(d.input.keys.real("onset_ms") == 20.0);
    CHECK(to_toml(d) == to_toml(c));
}

TEST_CASE("a key of a component that is not chosen is refused, naming its component", "[config][components][errors]") {
    const std::string e1 = error_of("[plasticity]\np = 4\n"); // geometry eg
    CHECK(e1.find("plasticity.p") != std::string::npos);
    CHECK(e1.find("geometry pnorm") != std::string::npos);
    const std::string e2 = error_of("[plasticity]\nrflo_form = \"online\"\n"); // credit exact
    CHECK(e2.find("plasticity.rflo_form") != std::string::npos);
    CHECK(e2.find("credit rule rflo") != std::string::npos);
    const std::string e3 = error_of("[integrator]\natol = 1e-3\n"); // euler
    CHECK(e3.find("stepper dopri5") != std::string::npos);
    const std::string e4 = error_of("[task]\ncoherence = 0.2\n"); // teacher_student
    CHECK(e4.find("task.coherence") != std::string::npos);
    CHECK(e4.find("perceptual_decision or context_integration or working_memory") != std::string::npos);
    // At its default it is harmless (earlier versions printed every key).
    CHECK(error_of("[plasticity]\np = 3.0\n").empty());
    // Chosen, it is accepted in any order of the keys.
    CHECK(error_of("[plasticity]\np = 4\ngeometry = \"pnorm\"\n").empty());
    // Range and type are the key's own.
    CHECK(error_of("[plasticity]\ngeometry = \"pnorm\"\np = 1.0\n").find("a number > 1") != std::string::npos);
    CHECK(error_of("[plasticity]\ncredit = \"node_perturbation\"\nperturbation_samples = 1.5\n").find("an integer") != std::string::npos);
    CHECK(error_of("[plasticity]\ncredit = \"rflo\"\nrflo_form = \"sometimes\"\n").find("one of: trial, online") != std::string::npos);
}

TEST_CASE("a stored config's keys of components not chosen go back to their defaults, with a note", "[config][components]") {
    std::string text = to_toml(default_config()); // geometry eg
    text.replace(text.find("[plasticity]\n"), 13, "[plasticity]\np = 4.0\n");
    const config c = parse_stored_config(text, "run.h5:/config");
    CHECK(c.plasticity.keys.real("p") == 3.0);
    REQUIRE(c.notes.size() == 1);
    CHECK(c.notes[0].find("plasticity.p") != std::string::npos);
}

TEST_CASE("the keys set in the config reach the components", "[config][components]") {
    config c = default_config();
    apply_override(c, "plasticity.geometry=pnorm", false);
    apply_override(c, "plasticity.p=2.0", false);
    validate(c);
    // p = 2 is the euclidean step: the optimizer's geometry must have received p.
    optimizer pn(c.plasticity, 1);
    plasticity_desc e;
    e.geometry = "euclidean";
    e.learning_rate = c.plasticity.learning_rate = 0.1;
    optimizer pn2(c.plasticity, 1), eu(e, 1);
    vector m = vector::LinSpaced(8, 0.1, 0.8), g = vector::LinSpaced(8, -1.0, 1.0), a = m, b = m;
    pn2.apply("w", a, g, 0);
    eu.apply("w", b, g, 0);
    CHECK((a - b).cwiseAbs().maxCoeff() <= 1e-15);
    // The geometry's default learning rate is its registration's.
    CHECK(pn.learning_rate(0) == geometry_registry().get("pnorm").default_learning_rate);
    // The input generator's keys: a step of the configured amplitude between onset and offset.
    input_desc in;
    in.kind = "step";
    in.n_in = 1;
    in.keys.set("amplitude", 0.7);
    in.keys.set("onset_ms", 2.0);
    in.keys.set("offset_ms", 4.0);
    rng r(1);
    const input_grid u = make_input(in, 1.0, 6, 1, r);
    for (int k = 0; k <= 6; ++k) CHECK(u.at(k)(0, 0) == (k >= 2 && k < 4? 0.7: 0.0));
}
