// Spiking populations (models/spiking.hpp): the LIF propagator is exact (spike times from the
// closed-form membrane potential, to the step; a PSP crosses threshold exactly when its
// closed-form peak does), spikes arrive after their delay in the documented update order, the
// refractory period and the adaptive threshold act as their equations say, Poisson inputs fire at
// their rate, and a trial's result depends on its own streams only. Brian2 checks the same
// simulator independently (tests/spiking/brian2_rasters.py).
#include <catch2/catch.hpp>

#include <cmath>

#include "models/circuit.hpp"
#include "models/error.hpp"
#include "models/network.hpp"
#include "models/parallel.hpp"
#include "models/spiking.hpp"
#include "sim/config.hpp"
#include "sim/experiment.hpp"
#include "tests/support/config_error.hpp"

using namespace eisim;

namespace {

constexpr double h = 0.1; // ms

// `n` LIF cells (model `model`) driven by one input channel through an explicit list: synapse
// c → c of magnitude w[c] and delay `delay` (no synapses when w is empty).
circuit_desc cells(int n, const std::vector<double>& w, int delay = 1, const std::string& model = "lif") {
    circuit_desc c;
    c.spectral_radius = 0.0;
    population_desc E;
    E.name = "E";
    E.model = model;
    E.size = n;
    E.keys.set("v_init", "reset");
    population_desc in;
    in.name = "in";
    in.model = "input";
    in.size = 1;
    c.populations = {E, in};
    if (!w.empty()) {
        projection_desc p;
        p.name = "input";
        p.pre = {"in"};
        p.post = {"E"};
        p.connectivity = "file";
        p.weights = "file";
        p.delay = delay;
        for (int i = 0; i < n; ++i) p.listed.push_back({0, i, w[static_cast<std::size_t>(i)]});
        c.projections = {p};
    }
    validate_circuit(c);
    return c;
}

std::vector<spiking_trial> run(const circuit_desc& c, const input_grid& u, std::uint64_t seed = 1) {
    const network net = build_network(c, seed);
    return simulate_spiking(lower_spiking(net, c, u.dt), u, seed);
}

std::vector<int> steps_of(const spike_list& s, int cell) {
    std::vector<int> out;
    for (std::size_t q = 0; q < s.size(); ++q) if (s.cell[q] == cell) out.push_back(s.step[q]);
    return out;
}

// Integrations from v_reset until v > threshold under constant drive: the smallest m with
// v∞ + (v_reset − v∞) e^{−m h/τ} > v_th, from the closed form (not the step-by-step recursion).
int steps_to_threshold(double v_inf, double v_reset, double v_th, double tau) {
    int m = 1;
    while (!(v_inf + (v_reset - v_inf)*std::exp(-m*h/tau) > v_th)) ++m;
    return m;
}

} // namespace

TEST_CASE("LIF under constant drive spikes when the closed-form potential crosses threshold, refractory periods included", "[spiking][lif]") {
    for (double t_ref: {0.0, 2.0, 5.05}) {
        circuit_desc c = cells(1, {});
        population_desc& E = c.populations[0];
        E.keys.set("bias_mV", 13.7); // v∞ = −60 + 13.7 = −46.3 mV, above v_th = −50
        E.keys.set("t_ref_ms", t_ref);
        const input_grid u(h, 2000, 1, 1); // 200 ms
        const auto tr = run(c, u);
        const int m = steps_to_threshold(-46.3, -60.0, -50.0, 20.0);
        const int n_ref = static_cast<int>(std::lround(t_ref/h));
        // The first spike after m integrations (steps 0..m−1); each next one n_ref (at least 1)
        // steps later than its reset to resume integrating, then m integrations again.
        std::vector<int> expect;
        for (int k = m - 1; k < 2000; k += std::max(n_ref, 1) + m - 1) expect.push_back(k);
        INFO("t_ref " << t_ref << ", m " << m << ", n_ref " << n_ref);
        CHECK(steps_of(tr[0].network, 0) == expect);
        // The continuous-time interval τ ln((v∞ − v_reset)/(v∞ − v_th)) + n_ref h, to within a step.
        const double isi = 20.0*std::log(13.7/3.7) + std::max(n_ref, 1)*h;
        CHECK(std::abs((expect[2] - expect[1])*h - isi) <= h + 1e-12);
    }
}

TEST_CASE("a PSP crosses threshold exactly when its closed-form peak does (the propagator is exact)", "[spiking][lif]") {
    // The potential j steps after a current step of w arrives: w τs/(τs − τm) (e^{−j h/τs} − e^{−j h/τm}).
    for (double tau_s: {5.0, 10.0, 20.0}) { // 20: τs = τm, the limit w (j h/τm) e^{−j h/τm}
        const double tau_m = 20.0, theta = 10.0; // v_th − v_rest
        double peak = 0.0;
        for (int j = 1; j < 2000; ++j) {
            const double t = j*h;
            const double u1 = tau_s == tau_m? t/tau_m*std::exp(-t/tau_m): tau_s/(tau_s - tau_m)*(std::exp(-t/tau_s) - std::exp(-t/tau_m));
            peak = std::max(peak, u1);
        }
        const double w = theta/peak;
        circuit_desc c = cells(2, {w*(1 + 1e-9), w*(1 - 1e-9)}, 3);
        c.populations[0].keys.set("tau_syn_e_ms", tau_s);
        c.populations[0].keys.set("v_init", "rest");
        input_grid u(h, 2500, 1, 1);
        u.at(20)(0, 0) = 1e3/(100.0*h); // p = 1: the input channel spikes at step 20 only
        const auto tr = run(c, u);
        INFO("tau_s " << tau_s << ", w " << w);
        REQUIRE(tr[0].input.size() == 1);
        CHECK(tr[0].input.step[0] == 20);
        CHECK(steps_of(tr[0].network, 0).size() == 1); // just above: one spike
        CHECK(steps_of(tr[0].network, 1).empty());     // just below: none
    }
}

TEST_CASE("a spike arrives after its delay: an input at step k makes a spike at step k + d + 1", "[spiking][lif]") {
    // Step k: the input spikes and is queued; step k + d: it arrives after that step's
    // integration; step k + d + 1: the integration lifts v over threshold.
    for (int d: {1, 2, 7}) {
        circuit_desc c = cells(1, {5000.0}, d); // one step lifts v by about w h/τm = 25 mV
        c.populations[0].keys.set("v_init", "rest");
        input_grid u(h, 100, 1, 1);
        u.at(30)(0, 0) = 1e3/(100.0*h);
        const auto spikes = steps_of(run(c, u)[0].network, 0);
        REQUIRE(!spikes.empty());
        CHECK(spikes.front() == 30 + d + 1); // (the current outlasts the refractory period: more follow)
    }
}

TEST_CASE("ALIF: each spike raises the threshold by beta, which decays with tau_a", "[spiking][alif]") {
    circuit_desc c = cells(1, {}, 1, "alif");
    population_desc& E = c.populations[0];
    E.keys.set("bias_mV", 13.7);
    E.keys.set("t_ref_ms", 2.0);
    E.keys.set("beta_mV", 0.5);
    E.keys.set("tau_a_ms", 100.0);
    const input_grid u(h, 3000, 1, 1);
    const auto spikes = steps_of(run(c, u)[0].network, 0);
    // The spike steps from the closed forms: between spikes v(j) = v∞ + (v_reset − v∞) e^{−j h/τm}
    // after j integrations, and the threshold at step k is v_th + β Σ_spikes e^{−(k − k_s) h/τa}.
    std::vector<int> expect;
    int resume = 0; // the first step that integrates
    while (true) {
        int k = resume, j = 1;
        for (; k < 3000; ++k, ++j) {
            double a = 0.0;
            for (int s: expect) a += std::exp(-(k - s)*h/100.0);
            if (-46.3 + (-60.0 + 46.3)*std::exp(-j*h/20.0) > -50.0 + 0.5*a) break; // from v_reset = −60
        }
        if (k >= 3000) break;
        expect.push_back(k);
        resume = k + 20;
    }
    REQUIRE(expect.size() >= 5);
    CHECK(spikes == expect);
    // Adaptation lengthens the intervals.
    CHECK(expect[4] - expect[3] > expect[1] - expect[0]);
}

TEST_CASE("Poisson input channels fire at spike_rate_hz times [u]+", "[spiking][input][stats]") {
    circuit_desc c = cells(1, {});
    c.populations[1].size = 200;
    c.populations[1].keys.set("spike_rate_hz", 40.0);
    validate_circuit(c);
    input_grid u(h, 10000, 200, 1); // 1 s
    for (int k = 0; k <= 10000; ++k)
        for (int ch = 0; ch < 200; ++ch) u.at(k)(ch, 0) = ch < 100? 1.0: -1.0; // [u]+ = 0 for the second half
    const auto tr = run(c, u);
    long first = 0, second = 0;
    for (int ch: tr[0].input.cell) (ch < 100? first: second) += 1;
    // 100 channels × 40 Hz × 1 s: a Binomial(10⁶, 4e-3) count, mean 4000, sd 63; within 5 sd.
    CHECK(std::abs(first - 4000.0) < 5*std::sqrt(4000.0*(1 - 4e-3)));
    CHECK(second == 0);
}

TEST_CASE("a trial's spikes depend on its own streams only: any batch size, any thread count", "[spiking][reproducibility]") {
    // A recurrent E/I network driven by Poisson inputs.
    config cfg = parse_config(R"(
[network]
spectral_radius = 0.0
[task]
batch = 3
duration_ms = 200.0
[training]
activity_trials = 1
[integrator]
dt_ms = 0.1
[input]
mean = 0.5
[[populations]]
name = "E"
model = "lif"
size = 80
[[populations]]
name = "I"
model = "alif"
size = 20
sign = "inhibitory"
[[populations]]
name = "in"
model = "input"
size = 10
[[projections]]
name = "recurrent"
pre = ["E", "I"]
post = ["E", "I"]
p = 0.2
weights = "constant"
mean = [[1.5, 6.0], [1.5, 6.0]]
delay = 2
[[projections]]
name = "input"
pre = "in"
post = ["E", "I"]
p = 0.5
weights = "constant"
mean = 8.0
delay = 1
)", "test", default_config());
    const network net = build_network(cfg.circuit, 5);
    const spiking_network s = lower_spiking(net, cfg.circuit, 0.1);
    input_grid u(0.1, 2000, 10, 3);
    u.U.setConstant(0.5);
    const auto three = simulate_spiking(s, u, 5);
    input_grid u1(0.1, 2000, 10, 1);
    u1.U.setConstant(0.5);
    set_threads(1);
    const auto one = simulate_spiking(s, u1, 5);
    set_threads(2);
    const auto again = simulate_spiking(s, u, 5);
    set_threads(threads());
    REQUIRE(three[0].network.size() > 100);
    CHECK(one[0].network.step == three[0].network.step);
    CHECK(one[0].network.cell == three[0].network.cell);
    CHECK(one[0].input.cell == three[0].input.cell);
    for (int b = 0; b < 3; ++b) {
        CHECK(again[b].network.step == three[b].network.step);
        CHECK(again[b].network.cell == three[b].network.cell);
    }
    CHECK(three[1].network.step != three[0].network.step); // trials differ
    // Dale's law: every synapse from I is inhibitory.
    const projection& rec = net.get("recurrent");
    rec.for_each([&](std::size_t, int, int pre, int sign, double) { CHECK(sign == (pre < 80? 1: -1)); });
}

TEST_CASE("spiking circuits: mistakes exit 2 naming the key", "[spiking][config][errors]") {
    const std::string base = R"(
[network]
spectral_radius = 0.0
[[populations]]
name = "E"
model = "lif"
size = 10
[[populations]]
name = "in"
model = "input"
size = 2
)";
    const auto with_input = [&](const std::string& extra) {
        return base + extra + "\n[[projections]]\nname = \"input\"\npre = \"in\"\npost = \"E\"\ndelay = 1\n";
    };
    CHECK(test::config_error_of(with_input("")).empty());
    const std::string mixed = test::config_error_of(with_input("[[populations]]\nname = \"R\"\nmodel = \"rate\"\nsize = 3\n"));
    CHECK(mixed.find("populations[2].model") != std::string::npos);
    CHECK(mixed.find("cannot be mixed") != std::string::npos);
    const std::string no_delay = test::config_error_of(base + "[[projections]]\nname = \"input\"\npre = \"in\"\npost = \"E\"\n");
    CHECK(no_delay.find("projections[0].delay") != std::string::npos);
    CHECK(no_delay.find("at least one time step") != std::string::npos);
    CHECK(test::config_error_of(with_input("").replace(with_input("").find("size = 10"), 9, "size = 10\nv_reset_mV = -40.0"))
              .find("populations[0].v_reset_mV") != std::string::npos);
    CHECK(test::config_error_of(with_input("").replace(with_input("").find("size = 10"), 9, "size = 10\ntau_ms = 5.0"))
              .find("neuron model rate") != std::string::npos);
    // Readouts of spikes are leaky integrators: no delay, no tau_syn_ms.
    const std::string readout = with_input("[[populations]]\nname = \"out\"\nmodel = \"readout\"\nsize = 2\n") +
                                "[[projections]]\nname = \"readout\"\npre = \"E\"\npost = \"out\"\n";
    CHECK(test::config_error_of(readout).empty());
    const std::string delayed = test::config_error_of(readout + "delay = 1\n");
    CHECK(delayed.find("projections[1].delay") != std::string::npos);
    CHECK(delayed.find("leaky integrator") != std::string::npos);
    // e-prop is for spiking circuits; a spiking circuit refuses the rate circuits' rules when it learns.
    const std::string rate_eprop = test::config_error_of("[plasticity]\ncredit = \"eprop\"\n");
    CHECK(rate_eprop.find("plasticity.credit") != std::string::npos);
    CHECK(rate_eprop.find("spiking circuits") != std::string::npos);
    config c = parse_config(readout, "test.toml", default_config());
    run_options opt;
    opt.out = "unused.h5";
    opt.quiet = true;
    const auto message_of_learning = [&](const config& k) {
        try { learn(k, opt); } catch (const config_error& e) { return std::string(e.what()); }
        return std::string();
    };
    const std::string exact = message_of_learning(c);
    CHECK(exact.find("plasticity.credit") != std::string::npos);
    CHECK(exact.find("learn with eprop or surrogate_bptt") != std::string::npos);
    apply_override(c, "plasticity.credit=eprop", false);
    const std::string teacher = message_of_learning(c); // the default task, teacher_student
    CHECK(teacher.find("task.kind") != std::string::npos);
    CHECK(teacher.find("rate teacher") != std::string::npos);
}

TEST_CASE("an input current is the Poisson drive's mean: the subthreshold potential is the mean over Poisson trials", "[spiking][input][current][stats]") {
    // One LIF cell below threshold (v_th far away), one channel at u = 1, 200 Hz, w = 2 mV, over
    // 300 ms. The dynamics are linear, so E[v_Poisson(t)] = v_current(t) exactly; and at the end
    // the current drive sits at its closed-form fixed point
    //   I* = x w / (1 − e^{−h/τ_s}),  v* = v∞ + I* g / (1 − e^{−h/τ_m}),  x = rate u h / 1000,
    //   g = τ_s/(τ_s − τ_m) (e^{−h/τ_s} − e^{−h/τ_m})  (the propagator, models/spiking.hpp).
    const double w = 2.0, rate = 200.0;
    const int T = 3000, B = 400;
    circuit_desc poisson = cells(1, {w});
    poisson.populations[0].keys.set("v_th_mV", 1e4);
    poisson.populations[0].keys.set("v_init", "rest");
    poisson.populations[1].keys.set("spike_rate_hz", rate);
    validate_circuit(poisson);
    circuit_desc current = poisson;
    current.populations[1].keys.set("drive", "current");
    validate_circuit(current);
    input_grid u(h, T, 1, B), u1(h, T, 1, 1);
    for (int k = 0; k <= T; ++k) u.at(k).setOnes(), u1.at(k).setOnes();
    const auto sim = [&](const circuit_desc& c, const input_grid& g) {
        const network net = build_network(c, 1);
        return simulate_spiking(lower_spiking(net, c, h), g, 1, 0, 0.3); // gamma > 0: v recorded
    };
    const auto p = sim(poisson, u);
    const auto q = sim(current, u1);
    REQUIRE(q[0].input.size() == 0); // a current sends no spikes
    REQUIRE(p[0].input.size() > 0);
    const auto& pd = poisson.populations[0].keys;
    const double tau_m = pd.real("tau_m_ms"), tau_s = pd.real("tau_syn_e_ms"), v_inf = pd.real("v_rest_mV") + pd.real("bias_mV");
    const double x = rate*h*1e-3, g = tau_s/(tau_s - tau_m)*(std::exp(-h/tau_s) - std::exp(-h/tau_m));
    const double v_star = v_inf + x*w/(1 - std::exp(-h/tau_s))*g/(1 - std::exp(-h/tau_m));
    CHECK(q[0].v.back() == Approx(v_star).epsilon(1e-6)); // 300 ms ≫ τ_m, τ_s: at the fixed point
    CHECK(v_star - v_inf > 1.0); // the drive matters
    for (int k: {200, 1000, T - 1}) {
        double mean = 0, sq = 0;
        for (auto& tr: p) mean += tr.v[static_cast<std::size_t>(k)]/B;
        for (auto& tr: p) sq += std::pow(tr.v[static_cast<std::size_t>(k)] - mean, 2)/(B - 1);
        INFO("step " << k << ": Poisson mean " << mean << " (sd " << std::sqrt(sq) << "), current " << q[0].v[static_cast<std::size_t>(k)]);
        CHECK(std::abs(mean - q[0].v[static_cast<std::size_t>(k)]) < 5*std::sqrt(sq/B));
    }
}
