// Components chosen by name carry their own config keys (models/parameters.hpp): every registered
// geometry, credit rule, input generator and stepper declares its keys with a default inside its
// own range and a comment; `eisim config` shows a component's keys while it is chosen; a key of a
// component that is not chosen is refused with the component named (a stored config's goes back
// to its default, with a note); and each key set in the TOML reaches the component. Neuron models
// and the transfer functions of rate populations are components of a [[populations]] table.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/error.hpp"
#include "models/circuit.hpp"
#include "models/input.hpp"
#include "models/integrate.hpp"
#include "models/tasks.hpp"
#include "models/network.hpp"
#include "models/transfer.hpp"
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
    check_keys_declared(neuron_models());
    check_keys_declared(transfer_registry());
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

TEST_CASE("a population's keys are its neuron model's and its transfer function's", "[config][components][circuit]") {
    // The default config's text with population E's rate keys replaced by `keys`, or with `keys`
    // added after the line `after` (its first occurrence).
    const std::string base = to_toml(default_config(), false), E = "tau_ms = 20.0\nbias = 0.0\ntransfer = \"relu\"\n";
    const auto E_with = [&](const std::string& keys) { return std::string(base).replace(base.find(E), E.size(), keys); };
    const auto with = [&](const std::string& after, const std::string& keys) {
        return std::string(base).insert(base.find(after + "\n") + after.size() + 1, keys);
    };
    // Shown while chosen: rate's keys on rate populations, power's on populations that chose it.
    const config c = parse_config(E_with("transfer = \"power\"\ntransfer_n = 3\ntau_ms = 7\n"), "test", config{});
    const std::string text = to_toml(c, false);
    CHECK(text.find("tau_ms = 7.0\nbias = 0.0\ntransfer = \"power\"\ntransfer_k = 1.0\ntransfer_n = 3.0\n") != std::string::npos);
    CHECK(text.find("model = \"input\"\nsize = 20\nsign = \"excitatory\"\nspike_rate_hz = 100.0\ndrive = \"poisson\"\n\n") != std::string::npos); // input's, no rate keys
    // ... and they reach the network (built without rescaling to a spectral radius: the keys reach
    // the cells whatever the weights' scale, and the exact radius of the 1000-cell matrix, a real
    // Schur form, was nearly all of this test's time: 146 s of 150 under the sanitizers).
    circuit_desc unscaled = c.circuit;
    unscaled.spectral_radius = 0.0;
    const network net = build_network(unscaled, 1);
    CHECK(net.phi.of(0).type == transfer::kind::power);
    CHECK(net.phi.of(0).n == 3.0);
    CHECK(net.phi.of(799).n == 3.0);
    CHECK(net.phi.of(800).type == transfer::kind::relu); // I's
    CHECK(net.tau(0) == 7.0);
    CHECK(net.tau(800) == 10.0);
    CHECK(to_toml(parse_config(to_toml(c), "printed", config{})) == to_toml(c));
    // Not chosen: refused, naming the component.
    const std::string e1 = error_of(E_with(E + "transfer_k = 2\n"));
    CHECK(e1.find("populations[0].transfer_k") != std::string::npos);
    CHECK(e1.find("transfer function power") != std::string::npos);
    CHECK(e1.find("transfer = relu") != std::string::npos);
    const std::string e2 = error_of(with("model = \"readout\"", "bias = 0.5\n"));
    CHECK(e2.find("populations[3].bias") != std::string::npos);
    CHECK(e2.find("neuron model rate") != std::string::npos);
    // At its default it is harmless (as for sections' keys).
    CHECK(error_of(E_with(E + "transfer_k = 1.0\n")).empty());
    // Range and type are the key's own.
    CHECK(error_of(E_with("tau_ms = 0\n")).find("a number > 0") != std::string::npos);
    CHECK(error_of(E_with("transfer = \"power\"\ntransfer_n = 0.5\n")).find("a number >= 1") != std::string::npos);
    CHECK(error_of(E_with("bias = \"high\"\n")).find("a number") != std::string::npos);
    // --set populations.*.key sets a model's key on the populations of that model only.
    config d = default_config();
    apply_override(d, "populations.*.bias=0.2", false);
    validate(d);
    for (auto& p: d.circuit.populations) CHECK(p.keys.given("bias") == (p.model == "rate"));
    bool refused = false;
    try {
        apply_override(d, "populations.*.transfer_k=2", false); // no population chose power
    } catch (const config_error& e) {
        refused = std::string(e.what()).find("populations.*.transfer_k") != std::string::npos;
    }
    CHECK(refused);
    // A stored config's stray population key goes back to its default, with a note.
    const config s = parse_stored_config(E_with(E + "transfer_k = 4.0\n"), "run.h5:/config");
    CHECK(s.circuit.populations[0].keys.real("transfer_k") == 1.0);
    REQUIRE(s.notes.size() == 1);
    CHECK(s.notes[0].find("populations[0].transfer_k") != std::string::npos);
}
