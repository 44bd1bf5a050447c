#include "models/circuit.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "models/error.hpp"
#include "models/transfer.hpp"

namespace eisim {

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (auto& e: v) s += (s.empty()? "": ", ") + e;
    return s;
}

std::string number(double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

std::string at(const char* array, std::size_t i, const char* key) {
    return std::string(array) + "[" + std::to_string(i) + "]." + key;
}

// The side a population's model puts it on.
const neuron_model& model_of(const population_desc& p) { return neuron_models().get(p.model); }

// Whether a population is of the network (a model with dynamics: rate or spiking).
bool in_network(const population_desc* p) {
    return p && neuron_models().contains(p->model) && neuron_models().get(p->model).has_dynamics;
}

// Whether a projection joins network populations (its sides are of one kind each: the first tells).
bool among_rate(const circuit_desc& c, const projection_desc& p) {
    return !p.pre.empty() && !p.post.empty() && in_network(c.find(p.pre[0])) && in_network(c.find(p.post[0]));
}

// "relu ([x]+), ..., power (k [x]+^n; keys: transfer_k, transfer_n), ...".
std::string transfer_listing() {
    std::string s;
    for (auto& name: transfer_registry().names()) {
        const transfer_info& t = transfer_registry().get(name);
        std::string keys;
        for (auto& k: t.keys) keys += (keys.empty()? "": ", ") + k.name;
        s += (s.empty()? "": ", ") + name + " (" + t.doc + (keys.empty()? "": "; keys: " + keys) + ")";
    }
    return s;
}

} // namespace

const registry<neuron_model>& neuron_models() {
    static const registry<neuron_model> r("neuron model", [] {
        neuron_model rate{"rate neurons: tau dx/dt = -x + W r + W_in u + b, r = phi(x)", true, true, "rate",
                          {real_key("tau_ms", 20.0, 0, 1e6, "membrane time constant (ms)", true),
                           real_key("bias", 0.0, -1e6, 1e6, "constant input b to every cell"),
                           choice_key("transfer", "relu", transfer_registry().names(), "transfer function r = phi(x): " + transfer_listing())},
                          "transfer", {}};
        for (auto& name: transfer_registry().names()) rate.chosen_keys.emplace_back(name, transfer_registry().get(name).keys);
        // Leaky integrate-and-fire (models/spiking.hpp), and its adaptive-threshold variant.
        std::vector<key_spec> lif_keys = {
            real_key("tau_m_ms", 20.0, 0, 1e6, "membrane time constant tau_m (ms)", true),
            real_key("v_rest_mV", -60.0, -1e3, 1e3, "resting (leak reversal) potential E_L (mV)"),
            real_key("v_th_mV", -50.0, -1e3, 1e3, "spike threshold: a spike when v > v_th (mV)"),
            real_key("v_reset_mV", -60.0, -1e3, 1e3, "potential after a spike (mV)"),
            real_key("t_ref_ms", 5.0, 0, 1e4, "refractory period: v held at v_reset, no spike (ms)"),
            real_key("bias_mV", 0.0, -1e3, 1e3, "constant input I_e: tau_m dv/dt = -(v - E_L) + I_syn + I_e (mV)"),
            real_key("tau_syn_e_ms", 5.0, 0, 1e6, "synaptic time constant of excitatory inputs (ms; a projection's tau_syn_ms overrides)", true),
            real_key("tau_syn_i_ms", 10.0, 0, 1e6, "synaptic time constant of inhibitory inputs (ms; a projection's tau_syn_ms overrides)", true),
            choice_key("v_init", "uniform", {"uniform", "reset", "rest"},
                       "initial potential: uniform in [v_reset, v_th) (seeded), v_reset or v_rest"),
        };
        std::vector<key_spec> alif_keys = lif_keys;
        alif_keys.push_back(real_key("tau_a_ms", 2000.0, 0, 1e7, "adaptation time constant tau_a (ms; Bellec et al. 2020: 2000)", true));
        alif_keys.push_back(real_key("beta_mV", 1.7, 0, 1e3, "threshold increase per unit of adaptation: A = v_th + beta a (mV)"));
        return std::vector<std::pair<std::string, neuron_model>>{
            {"rate", rate},
            {"lif", {"leaky integrate-and-fire: tau_m dv/dt = -(v - E_L) + I_syn + I_e, spike when v > v_th, reset, refractory",
                     true, true, "spiking", lif_keys, "", {}}},
            {"alif", {"adaptive LIF (Bellec et al. 2018): a LIF whose threshold v_th + beta a rises by beta with each spike and decays with tau_a",
                      true, true, "spiking", alif_keys, "", {}}},
            {"input", {"input channels u(t): the task's or the [input] generator's (spiking circuits: Poisson spikes at spike_rate_hz [u]+, "
                       "or their mean as a current)",
                       true, false, "", {real_key("spike_rate_hz", 100.0, 0, 1e5, "spiking circuits: a channel of value u fires Poisson spikes at spike_rate_hz [u]+ (Hz)"),
                                         choice_key("drive", "poisson", {"poisson", "current"},
                                                    "spiking circuits: poisson (spikes), or current (their mean without shot noise: each step adds "
                                                    "w spike_rate_hz [u]+ dt/1000 to the synaptic current after the delay)")}, "", {}}},
            {"readout", {"readout units: y = W_out r of rate cells; of spiking cells the leaky integrator y <- kappa y + W_out z, kappa = exp(-dt/tau_out)",
                         false, false, "", {real_key("tau_out_ms", 20.0, 0, 1e6, "spiking circuits: time constant of the leaky readout of spikes (ms)", true)}, "", {}}},
        };
    }());
    return r;
}

std::vector<key_spec> neuron_model::keys_of(const parameters& values) const {
    std::vector<key_spec> out = keys;
    if (!chooser.empty())
        for (auto& [name, own]: chosen_keys)
            if (values.text(chooser) == name) out.insert(out.end(), own.begin(), own.end());
    return out;
}

population_desc::population_desc() {
    for (auto& name: neuron_models().names()) {
        const neuron_model& m = neuron_models().get(name);
        keys.declare(m.keys);
        for (auto& c: m.chosen_keys) keys.declare(c.second);
    }
}

int circuit_desc::n() const {
    int n = 0;
    for (auto& p: populations) if (in_network(&p)) n += p.size;
    return n;
}

std::string circuit_desc::family() const {
    for (auto& p: populations) if (in_network(&p)) return neuron_models().get(p.model).family;
    return "";
}

int circuit_desc::side_size(const std::string& model) const {
    int n = 0;
    for (auto& p: populations) if (p.model == model) n += p.size;
    return n;
}

const population_desc* circuit_desc::find(const std::string& name) const {
    for (auto& p: populations) if (p.name == name) return &p;
    return nullptr;
}

const projection_desc* circuit_desc::find_projection(const std::string& name) const {
    for (auto& p: projections) if (p.name == name) return &p;
    return nullptr;
}

std::vector<std::string> circuit_desc::rescaled() const {
    if (!spectral_radius_of.empty()) return spectral_radius_of;
    std::vector<std::string> out;
    for (auto& p: projections) if (among_rate(*this, p)) out.push_back(p.name);
    return out;
}

double expected_synapses(const circuit_desc& c, const projection_desc& p) {
    if (p.is_listed()) return static_cast<double>(p.listed.size());
    double total = 0.0;
    for (std::size_t x = 0; x < p.post.size(); ++x)
        for (std::size_t y = 0; y < p.pre.size(); ++y) {
            const population_desc* X = c.find(p.post[x]);
            const population_desc* Y = c.find(p.pre[y]);
            if (!X || !Y) continue;
            const double nx = X->size, ny = Y->size;
            const double self = (!p.autapses && X == Y)? nx: 0.0; // the diagonal
            if (p.connectivity == "bernoulli") total += p.p.at(x, y)*(nx*ny - self);
            else if (p.connectivity == "fixed_indegree") total += p.k.at(x, y)*nx;
            else if (p.connectivity == "all_to_all") total += nx*ny - self;
            else if (p.connectivity == "one_to_one") total += (X == Y && !p.autapses)? 0.0: std::min(nx, ny);
        }
    return total;
}

double expected_density(const circuit_desc& c) {
    const double n = c.n();
    if (n == 0) return 0.0;
    double total = 0.0;
    for (auto& p: c.projections) if (among_rate(c, p)) total += expected_synapses(c, p);
    return total/(n*n);
}

void validate_circuit(const circuit_desc& c) {
    std::vector<std::string> names;
    for (auto& p: c.populations) names.push_back(p.name);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < c.populations.size(); ++i) {
        const population_desc& p = c.populations[i];
        if (p.name.empty()) throw config_error(at("populations", i, "name"), "every population needs a name");
        if (!seen.insert(p.name).second)
            throw config_error(at("populations", i, "name"), "\"" + p.name + "\": a second population of that name");
        model_of(p); // a known model
    }
    if (c.n() == 0) throw config_error("populations", "the circuit has no network population (model = \"rate\", \"lif\" or \"alif\")");
    // One neuron kind per circuit: rate or spiking network populations, not both.
    const std::string family = c.family();
    for (std::size_t i = 0; i < c.populations.size(); ++i) {
        const population_desc& p = c.populations[i];
        if (in_network(&p) && model_of(p).family != family) {
            std::string first;
            for (auto& q: c.populations) if (in_network(&q) && first.empty()) first = q.name + " (" + q.model + ")";
            throw config_error(at("populations", i, "model"), "= \"" + p.model + "\": a circuit holds one neuron kind, and " + first + " is " + family +
                                                              "; rate and spiking populations cannot be mixed");
        }
    }
    for (std::size_t i = 0; i < c.populations.size(); ++i) {
        const population_desc& p = c.populations[i];
        if (in_network(&p) && model_of(p).family == "spiking" && !(p.keys.real("v_reset_mV") < p.keys.real("v_th_mV")))
            throw config_error(at("populations", i, "v_reset_mV"), "= " + number(p.keys.real("v_reset_mV")) + " must lie below v_th_mV = " +
                                                                   number(p.keys.real("v_th_mV")));
    }
    if (family == "rate" && c.n_out() == 0) throw config_error("populations", "the circuit has no readout population (model = \"readout\")");

    seen.clear();
    for (std::size_t i = 0; i < c.projections.size(); ++i) {
        const projection_desc& p = c.projections[i];
        if (p.name.empty()) throw config_error(at("projections", i, "name"), "every projection needs a name");
        if (p.name == "populations") throw config_error(at("projections", i, "name"), "\"populations\" is reserved; choose another name");
        if (!seen.insert(p.name).second)
            throw config_error(at("projections", i, "name"), "\"" + p.name + "\": a second projection of that name");
        // pre and post: known populations, each side of one kind.
        std::string kinds[2];
        for (int s = 0; s < 2; ++s) {
            const auto& pops = s == 0? p.pre: p.post;
            const char* key = s == 0? "pre": "post";
            if (pops.empty()) throw config_error(at("projections", i, key), "names no population");
            std::set<std::string> once;
            for (auto& name: pops) {
                const population_desc* pop = c.find(name);
                if (!pop) throw config_error(at("projections", i, key), "\"" + name + "\": no population of that name (known: " + join(names) + ")");
                if (!once.insert(name).second) throw config_error(at("projections", i, key), "\"" + name + "\" is listed twice");
                const std::string kind = in_network(pop)? model_of(*pop).family: pop->model; // lif and alif are one kind
                if (kinds[s].empty()) kinds[s] = kind;
                else if (kind != kinds[s])
                    throw config_error(at("projections", i, key), "mixes populations of models " + kinds[s] + " and " + pop->model +
                                                                      " (\"" + name + "\"); a projection's " + key + " populations are of one kind");
            }
        }
        const bool allowed = (kinds[0] == family && kinds[1] == family) || (kinds[0] == "input" && kinds[1] == family) ||
                             (kinds[0] == family && kinds[1] == "readout");
        if (!allowed)
            throw config_error(at("projections", i, "post"), "a projection from " + kinds[0] + " to " + kinds[1] + " populations; allowed: " +
                                                                 family + " -> " + family + ", input -> " + family + ", " + family + " -> readout");
        // Per-block tables: one row per post population, one column per pre population.
        const auto check_table = [&](const block_values& v, const char* key, double lo, double hi) {
            if (v.is_table()) {
                if (v.table.size() != p.post.size())
                    throw config_error(at("projections", i, key), "a table of " + std::to_string(v.table.size()) + " rows; it needs one per post population (" +
                                                                      std::to_string(p.post.size()) + ")");
                for (auto& row: v.table)
                    if (row.size() != p.pre.size())
                        throw config_error(at("projections", i, key), "a table row of " + std::to_string(row.size()) +
                                                                          " values; it needs one per pre population (" + std::to_string(p.pre.size()) + ")");
            }
            for (std::size_t x = 0; x < p.post.size(); ++x)
                for (std::size_t y = 0; y < p.pre.size(); ++y) {
                    const double v_xy = v.at(x, y);
                    if (!(v_xy >= lo && v_xy <= hi))
                        throw config_error(at("projections", i, key), "block " + p.pre[y] + " -> " + p.post[x] + " is " + number(v_xy) +
                                                                          ", outside [" + number(lo) + ", " + number(hi) + "]");
                }
        };
        if (p.connectivity == "bernoulli") check_table(p.p, "p", 0.0, 1.0);
        if (p.connectivity == "fixed_indegree") {
            check_table(p.k, "k", 0.0, 1e9);
            for (std::size_t x = 0; x < p.post.size(); ++x)
                for (std::size_t y = 0; y < p.pre.size(); ++y) {
                    const double k = p.k.at(x, y);
                    const int ny = c.find(p.pre[y])->size - ((!p.autapses && p.pre[y] == p.post[x])? 1: 0);
                    if (k != std::floor(k) || k > ny)
                        throw config_error(at("projections", i, "k"), "block " + p.pre[y] + " -> " + p.post[x] + ": k = " + number(k) +
                                                                          " must be a whole number of at most " + std::to_string(ny) +
                                                                          " (the presynaptic candidates)");
                }
        }
        if (p.connectivity == "one_to_one")
            for (std::size_t x = 0; x < p.post.size(); ++x)
                for (std::size_t y = 0; y < p.pre.size(); ++y)
                    if (c.find(p.pre[y])->size != c.find(p.post[x])->size)
                        throw config_error(at("projections", i, "connectivity"), "one_to_one needs populations of one size: " + p.pre[y] + " has " +
                                                                                     std::to_string(c.find(p.pre[y])->size) + ", " + p.post[x] + " has " +
                                                                                     std::to_string(c.find(p.post[x])->size));
        if (p.is_listed()) {
            // Ids index the concatenated cells of the pre and post lists.
            const auto concatenated = [&](const std::vector<std::string>& pops) {
                std::vector<int> first{0};
                for (auto& name: pops) first.push_back(first.back() + c.find(name)->size);
                return first;
            };
            const std::vector<int> pre_first = concatenated(p.pre), post_first = concatenated(p.post);
            const int npre = pre_first.back(), npost = post_first.back();
            // The position in its list of the population holding concatenated id `id`, and the id within it.
            const auto cell = [](const std::vector<int>& first, std::int64_t id) {
                std::size_t a = 0;
                while (id >= first[a + 1]) ++a;
                return std::make_pair(a, id - first[a]);
            };
            std::vector<std::vector<char>> same(p.pre.size(), std::vector<char>(p.post.size())); // [pre a][post b]: one population
            for (std::size_t a = 0; a < p.pre.size(); ++a)
                for (std::size_t b = 0; b < p.post.size(); ++b) same[a][b] = p.pre[a] == p.post[b];
            const auto autapse = [&](const listed_synapse& s) {
                const auto [a, i] = cell(pre_first, s.pre);
                const auto [b, j] = cell(post_first, s.post);
                return same[a][b] && i == j;
            };
            const auto cells_of = [](const std::vector<std::string>& pops, int n) {
                return (pops.size() == 1? pops[0]: "the concatenated " + join(pops)) + " (size " + std::to_string(n) + ", ids 0.." +
                       std::to_string(n - 1) + ")";
            };
            const bool sonata = p.connectivity == "sonata";
            const char* key = sonata? "connectivity": "file";
            // The first row that repeats an earlier row's pair, if any (by sorting (pair, row) keys).
            std::size_t repeat = p.listed.size();
            if (npre > 0 && npost > 0) {
                std::vector<std::pair<std::uint64_t, std::size_t>> keys;
                keys.reserve(p.listed.size());
                for (std::size_t r = 0; r < p.listed.size(); ++r) {
                    const listed_synapse& s = p.listed[r];
                    if (s.pre >= 0 && s.pre < npre && s.post >= 0 && s.post < npost)
                        keys.emplace_back(static_cast<std::uint64_t>(s.pre)*static_cast<std::uint64_t>(npost) + static_cast<std::uint64_t>(s.post), r);
                }
                std::sort(keys.begin(), keys.end());
                for (std::size_t k = 1; k < keys.size(); ++k)
                    if (keys[k].first == keys[k - 1].first) repeat = std::min(repeat, keys[k].second);
            }
            for (std::size_t r = 0; r < p.listed.size(); ++r) {
                const listed_synapse& s = p.listed[r];
                const std::string where = "'" + p.file + "' " + (sonata? "edge " + std::to_string(r): "row " + std::to_string(r + 2)) + ": ";
                if (s.pre < 0 || s.pre >= npre)
                    throw config_error(at("projections", i, key), where + "pre = " + std::to_string(s.pre) + " is not a cell of " + cells_of(p.pre, npre));
                if (s.post < 0 || s.post >= npost)
                    throw config_error(at("projections", i, key), where + "post = " + std::to_string(s.post) + " is not a cell of " + cells_of(p.post, npost));
                if (r == repeat)
                    throw config_error(at("projections", i, key), where + "the synapse " + std::to_string(s.pre) + " -> " + std::to_string(s.post) + " is listed twice");
                if (!p.autapses && autapse(s))
                    throw config_error(at("projections", i, key), where + "an autapse (" + std::to_string(s.pre) + " -> " + std::to_string(s.post) +
                                                                         ") while autapses = false");
                if (p.weights == "file" && !(s.magnitude >= 0.0 && std::isfinite(s.magnitude)))
                    throw config_error(at("projections", i, key), where + "magnitude " + number(s.magnitude) + " is not a finite number >= 0");
            }
        } else if (p.weights == "file") {
            throw config_error(at("projections", i, "weights"), "file takes the magnitudes of an explicit list: it needs connectivity = \"file\"");
        }
        if (p.weights != "file") {
            const block_values& size = p.size_by == "median"? p.median: p.size_by == "mean"? p.mean: p.scale;
            check_table(size, p.size_by.c_str(), 0.0, 1e6);
            if (p.size_by == "median" && p.weights != "lognormal")
                throw config_error(at("projections", i, "median"), "sizes lognormal magnitudes only; " + p.weights + " takes mean or scale");
        }
        if (family == "rate" && p.delay != 0)
            throw config_error(at("projections", i, "delay"), "= " + std::to_string(p.delay) + ": rate populations take no synaptic delay (only 0)");
        const bool to_readout = kinds[1] == "readout";
        if (family == "spiking" && to_readout && (p.delay != 0 || p.tau_syn_ms != 0.0))
            throw config_error(at("projections", i, p.delay != 0? "delay": "tau_syn_ms"),
                               "a readout of spikes is a leaky integrator (the readout population's tau_out_ms): it takes no delay or tau_syn_ms");
        if (family == "spiking" && !to_readout && p.delay < 1)
            throw config_error(at("projections", i, "delay"), "= " + std::to_string(p.delay) + ": a spike is delivered after at least one time "
                                                              "step; give delay >= 1 (time steps of integrator.dt_ms)");
        if (family == "rate" && p.tau_syn_ms != 0.0)
            throw config_error(at("projections", i, "tau_syn_ms"), "= " + number(p.tau_syn_ms) + ": rate populations have no synaptic time constant (only 0)");
    }
    if (c.spectral_radius > 0.0) {
        const auto rescaled = c.rescaled();
        if (rescaled.empty())
            throw config_error("network.spectral_radius", "= " + number(c.spectral_radius) + ", but the circuit has no projection among rate "
                                                          "populations to rescale (a feedforward circuit): set network.spectral_radius = 0");
        for (auto& name: rescaled) {
            const projection_desc* p = c.find_projection(name);
            if (!p) throw config_error("network.spectral_radius_of", "\"" + name + "\": no projection of that name");
            if (!among_rate(c, *p))
                throw config_error("network.spectral_radius_of", "\"" + name + "\" is not among rate populations (only those form the recurrent matrix)");
        }
    }
}

circuit_desc ei_circuit(const network_desc& d) {
    circuit_desc c;
    c.spectral_radius = d.spectral_radius;
    c.noise_sigma = d.noise_sigma;
    population_desc E;
    E.name = "E"; E.size = d.n_e;
    E.keys.set("tau_ms", d.tau_e_ms);
    E.keys.set("bias", d.bias);
    E.keys.set("transfer", d.transfer);
    if (d.transfer == "power") { E.keys.set("transfer_k", d.transfer_k); E.keys.set("transfer_n", d.transfer_n); }
    population_desc I = E;
    I.name = "I"; I.size = d.n_i; I.sign = "inhibitory"; I.keys.set("tau_ms", d.tau_i_ms);
    population_desc in;
    in.name = "in"; in.model = "input"; in.size = d.n_in;
    population_desc out;
    out.name = "out"; out.model = "readout"; out.size = d.n_out;
    c.populations = {E};
    if (d.n_i > 0) c.populations.push_back(I);
    c.populations.push_back(in);
    c.populations.push_back(out);
    const std::vector<std::string> network = d.n_i > 0? std::vector<std::string>{"E", "I"}: std::vector<std::string>{"E"};
    const auto table = [&](double ee, double ei, double ie, double ii) {
        using table_t = std::vector<std::vector<double>>;
        return d.n_i > 0? block_values(table_t{{ee, ei}, {ie, ii}}): block_values(table_t{{ee}});
    };

    projection_desc rec;
    rec.name = "recurrent"; rec.pre = network; rec.post = network;
    rec.p = table(d.p_ee, d.p_ei, d.p_ie, d.p_ii);
    rec.scale = table(d.scale_ee, d.scale_ei, d.scale_ie, d.scale_ii);
    rec.sigma_ln = d.sigma_ln;
    projection_desc input;
    input.name = "input"; input.pre = {"in"}; input.post = network;
    input.p = d.p_in; input.scale = d.scale_in; input.sigma_ln = d.sigma_ln;
    projection_desc readout;
    readout.name = "readout"; readout.connectivity = "all_to_all"; readout.post = {"out"};
    readout.sigma_ln = d.sigma_ln;
    if (d.readout_from == "all" && d.n_i > 0) { // median scale/N on every block, as version 1 drew it
        readout.pre = network;
        readout.size_by = "median";
        readout.median = d.scale_out/std::max(d.n(), 1);
    } else {
        readout.pre = {"E"};
        readout.scale = d.scale_out;
    }
    c.projections = {rec, input, readout};
    return c;
}

} // namespace eisim
