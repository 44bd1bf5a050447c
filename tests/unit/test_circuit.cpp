// Circuits as data: the description round-trips through the printed TOML, every mistake names its
// key path, the products are the sums of their projections, and the exact gradient of a circuit
// of several projections per product equals central finite differences.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "models/error.hpp"
#include "plasticity/exact_credit.hpp"
#include "analysis/run_file.hpp"
#include "sim/config.hpp"
#include "tests/support/config_error.hpp"
#include "sim/experiment.hpp"
#include "models/integrate.hpp"
#include "tests/support/approx.hpp"

using namespace eisim;

namespace {

// E, PV, SST rate populations; a stimulus and a readout. Several projections per product.
const char* three_classes = R"(
[network]
spectral_radius = 0.7

[[populations]]
name = "E"
size = 12
tau_ms = 20.0
transfer = "softplus"

[[populations]]
name = "PV"
size = 4
sign = "inhibitory"
tau_ms = 8.0
bias = 0.1
transfer = "softplus"

[[populations]]
name = "SST"
size = 3
sign = "inhibitory"
tau_ms = 15.0
transfer = "softplus"

[[populations]]
name = "stim"
model = "input"
size = 3

[[populations]]
name = "out"
model = "readout"
size = 2

[[projections]]
name = "from_E"
pre = "E"
post = ["E", "PV", "SST"]
p = [[0.5], [0.8], [0.6]]
scale = [[1.0], [1.5], [1.0]]

[[projections]]
name = "from_PV"
pre = "PV"
post = ["E", "PV"]
connectivity = "fixed_indegree"
k = [[2], [1]]
weights = "gamma"
mean = 0.3

[[projections]]
name = "from_SST"
pre = "SST"
post = ["E", "PV"]
connectivity = "all_to_all"
weights = "constant"
mean = 0.2

[[projections]]
name = "stim_E"
pre = "stim"
post = "E"
p = 0.7

[[projections]]
name = "stim_PV"
pre = "stim"
post = "PV"
connectivity = "all_to_all"
median = 0.3

[[projections]]
name = "readout"
pre = "E"
post = "out"
connectivity = "all_to_all"
scale = 2.0
)";

std::string error_of(const std::string& text) { return test::config_error_of(text); }

// `three_classes` with `old` replaced by `replacement`.
std::string edited(const std::string& old, const std::string& replacement) {
    std::string s = three_classes;
    const auto at = s.find(old);
    REQUIRE(at != std::string::npos);
    return s.replace(at, old.size(), replacement);
}

} // namespace

TEST_CASE("a circuit of several populations round-trips through the printed TOML", "[circuit][config]") {
    const config c = parse_config(three_classes, "three_classes.toml", default_config());
    REQUIRE(c.circuit.populations.size() == 5);
    REQUIRE(c.circuit.projections.size() == 6);
    CHECK(c.circuit.n() == 19);
    CHECK(c.circuit.n_in() == 3);
    CHECK(c.circuit.n_out() == 2);
    CHECK(c.input.n_in == 3);
    const std::string text = to_toml(c);
    const config d = parse_config(text, "printed", default_config());
    CHECK(to_toml(d) == text);
    CHECK(d.circuit.projections[1].connectivity == "fixed_indegree");
    CHECK(d.circuit.projections[1].k.at(0, 0) == 2.0);
    CHECK(d.circuit.projections[1].weights == "gamma");
    CHECK(d.circuit.projections[4].size_by == "median");
    CHECK(d.circuit.populations[1].keys.real("bias") == 0.1);
    // The default circuit is the E/I template.
    CHECK(to_toml(default_config()).find("pre = [\"E\", \"I\"]") != std::string::npos);
}

TEST_CASE("every circuit mistake names its key path", "[circuit][config][errors]") {
    struct bad { std::string text, key, words; };
    for (auto b: {bad{edited("pre = \"PV\"", "pre = \"PV2\""), "projections[1].pre", "known: E, PV, SST, stim, out"},
                  bad{edited("name = \"SST\"\nsize = 3", "name = \"PV\"\nsize = 3"), "populations[2].name", "second population"},
                  bad{edited("sign = \"inhibitory\"\ntau_ms = 8.0", "sign = \"negative\"\ntau_ms = 8.0"), "populations[1].sign", "inhibitory"},
                  bad{edited("p = [[0.5], [0.8], [0.6]]", "p = [[0.5], [0.8]]"), "projections[0].p", "one per post population"},
                  bad{edited("p = [[0.5], [0.8], [0.6]]", "p = [[0.5], [1.8], [0.6]]"), "projections[0].p", "[0.0, 1.0]"},
                  bad{edited("k = [[2], [1]]", "k = [[2], [4]]"), "projections[1].k", "at most 3"},
                  bad{edited("pre = \"stim\"\npost = \"E\"", "pre = \"stim\"\npost = \"out\""), "projections[3].post", "input to readout"},
                  bad{edited("pre = \"E\"\npost = \"out\"", "pre = [\"E\", \"stim\"]\npost = \"out\""), "projections[5].pre", "one kind"},
                  bad{edited("name = \"stim_PV\"", "name = \"stim_E\""), "projections[4].name", "second projection"},
                  bad{edited("connectivity = \"fixed_indegree\"", "connectivity = \"ring\""), "projections[1].connectivity", "one_to_one"},
                  bad{edited("weights = \"constant\"", "weights = \"file\""), "projections[2].weights", "connectivity = \"file\""},
                  bad{edited("p = 0.7", "p = 0.7\ndelay = 2"), "projections[3].delay", "no synaptic delay"},
                  bad{edited("p = 0.7", "p = 0.7\nstrength = 2"), "projections[3].strength", "known keys"},
                  bad{edited("transfer = \"softplus\"\n\n[[populations]]\nname = \"SST\"", "transfer = \"sigmoid\"\n\n[[populations]]\nname = \"SST\""),
                      "populations[1].transfer", "one of: relu"},
                  bad{edited("name = \"from_SST\"\npre = \"SST\"", "name = \"from_SST\""), "projections[2].pre", "missing"},
                  bad{edited("spectral_radius = 0.7", "spectral_radius = 0.7\nspectral_radius_of = [\"stim_E\"]"), "network.spectral_radius_of",
                      "not among rate populations"}}) {
        INFO(b.key);
        const std::string e = error_of(b.text);
        CHECK_THAT(e, Catch::Contains("'" + b.key + "'") && Catch::Contains(b.words));
    }
    // Old (format-1) keys say where the circuit went.
    CHECK_THAT(error_of("[network]\nn_e = 3\n"), Catch::Contains("network.n_e") && Catch::Contains("[[populations]]"));
    CHECK_THAT(error_of("[connectivity]\np_ee = 0.1\n"), Catch::Contains("[[projections]]"));
    // A feedforward circuit (E1 -> E2 -> E3) has spectral radius 0 and cannot be rescaled.
    std::string ff;
    for (auto name: {"E1", "E2", "E3"}) ff += std::string("[[populations]]\nname = \"") + name + "\"\nsize = 5\n";
    ff += "[[populations]]\nname = \"u\"\nmodel = \"input\"\nsize = 2\n[[populations]]\nname = \"y\"\nmodel = \"readout\"\nsize = 1\n"
          "[[projections]]\nname = \"a\"\npre = \"E1\"\npost = \"E2\"\nconnectivity = \"all_to_all\"\n"
          "[[projections]]\nname = \"b\"\npre = \"E2\"\npost = \"E3\"\nconnectivity = \"all_to_all\"\n"
          "[[projections]]\nname = \"in\"\npre = \"u\"\npost = \"E1\"\nconnectivity = \"all_to_all\"\n"
          "[[projections]]\nname = \"out\"\npre = \"E3\"\npost = \"y\"\nconnectivity = \"all_to_all\"\n";
    config c = parse_config(ff, "ff.toml", default_config());
    CHECK_THROWS_WITH(build_network(c.circuit, 1), Catch::Contains("network.spectral_radius") && Catch::Contains("no cycle"));
    c.circuit.spectral_radius = 0;
    CHECK(build_network(c.circuit, 1).get("a").size() == 25);
}

TEST_CASE("overrides address elements by name, or every element with *", "[circuit][config]") {
    config c = parse_config(three_classes, "three_classes.toml", default_config());
    apply_override(c, "populations.PV.size=6");
    apply_override(c, "projections.from_E.p=0.25");
    apply_override(c, "populations.*.transfer=tanh");
    apply_override(c, "projections.stim_PV.plastic=false");
    CHECK(c.circuit.populations[1].size == 6);
    CHECK(c.circuit.projections[0].p.at(2, 0) == 0.25);
    for (auto& p: c.circuit.populations) if (p.model == "rate") CHECK(p.keys.text("transfer") == "tanh");
    CHECK(!c.circuit.projections[4].plastic);
    CHECK_THROWS_WITH(apply_override(c, "projections.nope.p=0.1"), Catch::Contains("known: from_E, from_PV"));
    CHECK_THROWS_WITH(apply_override(c, "populations.*.name=X"), Catch::Contains("name of its own"));
}

TEST_CASE("the products are the sums of their projections, in the populations' index ranges", "[circuit][network]") {
    const config c = parse_config(three_classes, "three_classes.toml", default_config());
    for (auto storage: {layout::lists, layout::dense}) {
        const network net = build_network(c.circuit, 3, storage);
        REQUIRE(net.n() == 19);
        CHECK(net.n_e == 12);
        CHECK(net.n_i == 7);
        // Populations are index ranges of their side, in order.
        CHECK(net.find("PV")->first == 12);
        CHECK(net.find("SST")->first == 16);
        CHECK(net.find("out")->first == 0);
        CHECK(net.tau[13] == 8.0);
        CHECK(net.bias[13] == 0.1);
        CHECK(net.cell_sign[16] == -1.0);
        // W_rec by hand from every synapse of every recurrent projection.
        matrix W = matrix::Zero(19, 19), W_in = matrix::Zero(19, 3), W_out = matrix::Zero(2, 19);
        for (auto& P: net.projections) {
            matrix& M = P.kind == product::recurrent? W: P.kind == product::input? W_in: W_out;
            const auto lists = P.lists();
            const vector m = P.magnitudes();
            for (std::size_t s = 0; s < P.size(); ++s) {
                const population* pre = nullptr;
                for (auto& name: P.pre_populations) {
                    const population* q = net.find(name);
                    if (lists.pre[s] >= q->first && lists.pre[s] < q->first + q->size) pre = q;
                }
                REQUIRE(pre); // every synapse starts in one of the projection's populations
                CHECK(lists.sign[s] == pre->sign); // Dale's law
                M(lists.post[s], lists.pre[s]) += lists.sign[s]*m[static_cast<long>(s)];
            }
        }
        const lowered_network low(net);
        CHECK(test::rel_err(low.W_rec, W) <= test::roundoff);
        CHECK(test::rel_err(low.W_in, W_in) <= test::roundoff);
        CHECK(test::rel_err(low.W_out, W_out) <= test::roundoff);
        CHECK(spectral_radius(W) == Approx(0.7).epsilon(1e-10));
        sparse_recurrent S;
        S.update(net);
        CHECK(test::rel_err(matrix(S.W), W) <= test::roundoff);
        // fixed_indegree: every E and PV cell has exactly k PV partners, distinct, no autapse.
        const projection& pv = net.get("from_PV");
        const auto lists = pv.lists();
        std::vector<std::set<int>> partners(19);
        for (std::size_t s = 0; s < pv.size(); ++s) {
            CHECK(partners[lists.post[s]].insert(lists.pre[s]).second);
            CHECK(lists.post[s] != lists.pre[s]);
        }
        for (int i = 0; i < 12; ++i) CHECK(partners[i].size() == 2);
        for (int i = 12; i < 16; ++i) CHECK(partners[i].size() == 1);
        // constant magnitudes
        CHECK(net.get("from_SST").magnitudes().isApproxToConstant(net.get("from_SST").magnitudes()[0]));
    }
    // The same synapses and values in either layout.
    const network a = build_network(c.circuit, 3, layout::lists), b = build_network(c.circuit, 3, layout::dense);
    for (std::size_t k = 0; k < a.projections.size(); ++k) {
        CHECK(a.projections[k].lists().pre == b.projections[k].lists().pre);
        CHECK(a.projections[k].lists().post == b.projections[k].lists().post);
        CHECK(test::rel_err(a.projections[k].magnitudes(), b.projections[k].magnitudes()) <= test::roundoff);
    }
}

TEST_CASE("an explicit synapse list sets structure, ids and magnitudes", "[circuit][config]") {
    const auto csv = test::temp_path(".csv");
    std::ofstream(csv) << "pre,post,magnitude\n3,0,0.25\n0,1,0.5\n11,3,0.125\n";
    const std::string text = edited("name = \"stim_PV\"\npre = \"stim\"\npost = \"PV\"\nconnectivity = \"all_to_all\"\nmedian = 0.3",
                                    "name = \"stim_PV\"\npre = \"E\"\npost = \"PV\"\nconnectivity = \"file\"\nfile = \"" + csv + "\"\nweights = \"file\"");
    const config c = parse_config(text, "listed.toml", default_config());
    config unscaled = c;
    unscaled.circuit.spectral_radius = 0;
    const network net = build_network(unscaled.circuit, 1);
    const projection& P = net.get("stim_PV");
    const auto lists = P.lists();
    REQUIRE(P.size() == 3);
    // ids follow the file's rows; pre local to E (first 0), post local to PV (first 12).
    CHECK(lists.pre == std::vector<std::int32_t>{3, 0, 11});
    CHECK(lists.post == std::vector<std::int32_t>{12, 13, 15});
    CHECK(P.magnitudes() == (vector(3) << 0.25, 0.5, 0.125).finished());
    // Its mistakes name the file and the row.
    std::ofstream(csv) << "pre,post,magnitude\n3,0,0.25\n3,0,0.5\n";
    CHECK_THAT(error_of(text), Catch::Contains("projections[4].file") && Catch::Contains("row 3") && Catch::Contains("twice"));
    std::ofstream(csv) << "pre,post,magnitude\n12,0,0.25\n";
    CHECK_THAT(error_of(text), Catch::Contains("pre = 12") && Catch::Contains("size 12"));
    std::ofstream(csv) << "source,target\n1,2\n";
    CHECK_THAT(error_of(text), Catch::Contains("lacks pre and post"));
    std::remove(csv.c_str());
    CHECK_THAT(error_of(text), Catch::Contains("cannot read"));
}

TEST_CASE("the exact gradient of a circuit with several projections per product equals finite differences",
          "[circuit][gradient]") {
    const config c = parse_config(three_classes, "three_classes.toml", default_config());
    network net = build_network(c.circuit, 7);
    integrator_desc integ;
    integ.dt_ms = 0.5;
    input_desc in;
    in.n_in = 3;
    in.keys.set("tau_ms", 5.0);
    rng g(4);
    const int T = 30, B = 3;
    trial_batch trials;
    trials.u = make_input(in, integ.dt_ms, T, B, g);
    trials.x0 = matrix::Random(19, B)*0.5;
    trials.target = matrix::Random(2, B*(T + 1));
    trials.mask.assign(T + 1, 1.0);
    const auto loss_of = [&](const network& n) {
        const lowered_network low(n);
        rng noise(9);
        return trajectory_loss(n, low, integrate(n, low, trials.u, trials.x0, integ, noise), trials);
    };
    const lowered_network low(net);
    rng noise(9);
    const trajectory tr = integrate(net, low, trials.u, trials.x0, integ, noise);
    const gradients exact = exact_gradient(net, low, tr, trials, plastic_of(net, {"from_E", "from_PV", "from_SST", "stim_E", "stim_PV", "readout"}));
    for (std::size_t k = 0; k < net.projections.size(); ++k) {
        projection& P = net.projections[k];
        vector m = P.magnitudes(), fd(m.size());
        for (long s = 0; s < m.size(); ++s) {
            const double m0 = m[s], h = 1e-5*m0;
            m[s] = m0 + h;
            P.set_magnitudes(m);
            const double up = loss_of(net);
            m[s] = m0 - h;
            P.set_magnitudes(m);
            const double down = loss_of(net);
            m[s] = m0;
            P.set_magnitudes(m);
            fd[s] = (up - down)/(2*h);
        }
        INFO(P.name);
        CHECK(test::rel_err(exact.projection[k], fd) < test::fd_fixed);
    }
    // A frozen projection gets no gradient; the others are unchanged by freezing it.
    const gradients some = exact_gradient(net, low, tr, trials, plastic_of(net, {"from_PV", "readout"}));
    CHECK(some.projection[0].size() == 0);
    CHECK(test::rel_err(some.projection[1], exact.projection[1]) <= test::roundoff);
    CHECK_THROWS_WITH(plastic_of(net, {"from_VIP"}), Catch::Contains("known: from_E"));
}

TEST_CASE("a circuit's run file keeps its populations and its projections' order", "[circuit][recording]") {
    config c = parse_config(three_classes, "three_classes.toml", default_config());
    for (auto s: {"task.duration_ms=20", "task.batch=2", "training.steps=1", "training.activity_trials=1"}) apply_override(c, s, false);
    validate(c);
    const auto out = test::temp_path(".h5");
    run_options opt;
    opt.out = out;
    opt.quiet = true;
    learn(c, opt);
    const analysis::run_file f(out);
    std::vector<std::string> names;
    for (auto& p: f.projections()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"from_E", "from_PV", "from_SST", "stim_E", "stim_PV", "readout"});
    REQUIRE(f.populations().size() == 5);
    CHECK(f.populations()[1].name == "PV");
    CHECK(f.populations()[1].first == 12);
    CHECK(f.populations()[1].sign == -1);
    CHECK(f.projection("from_PV").post_populations == std::vector<std::string>{"E", "PV"});
    CHECK(f.projection("from_PV").connectivity == "fixed_indegree");
}
