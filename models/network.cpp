#include "models/network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include "models/error.hpp"

namespace eisim {

matrix projection::dense() const {
    matrix W;
    dense(W);
    return W;
}

void projection::dense(matrix& out) const {
    if (is_dense()) { out = W; return; }
    out.setZero(n_post, n_pre);
    for (std::size_t s = 0; s < size(); ++s) out(post[s], pre[s]) = sign[s]*m[s];
}

vector projection::magnitudes() const {
    if (!is_dense()) return m;
    vector out(static_cast<long>(size()));
    magnitudes(0, size(), out.data());
    return out;
}

void projection::magnitudes(std::size_t begin, std::size_t n, double* out) const {
    for_each([&](std::size_t s, int, int, int, double ms) { out[s - begin] = ms; }, begin, begin + n);
}

void projection::set_magnitudes(const vector& values) {
    EISIM_ASSERT(static_cast<std::size_t>(values.size()) == size());
    if (!is_dense()) { m = values; return; }
    update_magnitudes([&](Eigen::Ref<vector> block, long s0) { block = values.segment(s0, block.size()); return 0L; });
}

void projection::scale(double c) {
    if (is_dense()) W *= c; // absent entries stay 0
    else m *= c;
}

long projection::update_magnitudes(const std::function<long(Eigen::Ref<vector>, long)>& f) {
    if (!is_dense()) return f(m, 0);
    long count = 0;
    vector block;
    for (long j = 0; j < n_pre; ++j) {
        const long n = first[j + 1] - first[j];
        if (n == 0) continue;
        const double sg = pre_sign[j];
        const auto col = static_cast<std::size_t>(j*n_post);
        block.resize(n);
        for (long i = 0, k = 0; i < n_post; ++i) if (present[col + i]) block[k++] = sg*W(i, j);
        count += f(block, first[j]);
        for (long i = 0, k = 0; i < n_post; ++i) if (present[col + i]) W(i, j) = sg*block[k++];
    }
    return count;
}

void projection::signed_weights(std::size_t begin, std::size_t n, double* out) const {
    for_each([&](std::size_t s, int, int, int sg, double ms) { out[s - begin] = sg*ms; }, begin, begin + n);
}

vector projection::signed_weights() const {
    vector w(static_cast<long>(size()));
    signed_weights(0, size(), w.data());
    return w;
}

projection::synapse_lists projection::lists() const {
    synapse_lists out;
    out.pre.resize(size());
    out.post.resize(size());
    out.sign.resize(size());
    for_each([&](std::size_t s, int i, int j, int sg, double) { out.post[s] = i; out.pre[s] = j; out.sign[s] = static_cast<std::int8_t>(sg); });
    return out;
}

void projection::gather(const Eigen::Ref<const matrix>& G, vector& g) const {
    g.resize(static_cast<long>(size()));
    for_each([&](std::size_t s, int i, int j, int sg, double) { g[static_cast<long>(s)] = sg*G(i, j); });
}

vector projection::gather(vector G) const {
    EISIM_ASSERT(G.size() == static_cast<long>(n_post)*n_pre);
    const std::size_t n = size();
    const auto at = [&](std::size_t s) { return static_cast<long>(pre[s])*n_post + post[s]; };
    bool ordered = true;
    if (!is_dense())
        for (std::size_t s = 1; s < n && ordered; ++s) ordered = at(s - 1) < at(s);
    if (!ordered) {
        vector g(static_cast<long>(n));
        for (std::size_t s = 0; s < n; ++s) g[static_cast<long>(s)] = sign[s]*G[at(s)];
        return g;
    }
    // Column-major order: synapse s sits at entry j·n_post + i ≥ s, so every read is at or ahead
    // of the write, in a part of G not yet overwritten.
    for_each([&](std::size_t s, int i, int j, int sg, double) {
        G[static_cast<long>(s)] = sg*G[static_cast<long>(j)*n_post + i];
    });
    G.conservativeResize(static_cast<long>(n)); // a vector's conservativeResize reallocates in place
    return G;
}

projection& network::get(const std::string& name) {
    const int i = index_of(name);
    if (i >= 0) return projections[static_cast<std::size_t>(i)];
    std::string known;
    for (auto& p: projections) known += (known.empty()? "": ", ") + p.name;
    throw user_error("unknown projection '" + name + "'; known: " + known);
}
const projection& network::get(const std::string& name) const {
    return const_cast<network*>(this)->get(name);
}

int network::index_of(const std::string& name) const {
    for (std::size_t i = 0; i < projections.size(); ++i) if (projections[i].name == name) return static_cast<int>(i);
    return -1;
}

const population* network::find(const std::string& name) const {
    for (auto& p: populations) if (p.name == name) return &p;
    return nullptr;
}

std::vector<int> network::of(product k) const {
    std::vector<int> out;
    for (std::size_t i = 0; i < projections.size(); ++i) if (projections[i].kind == k) out.push_back(static_cast<int>(i));
    return out;
}

namespace {

// Collects a projection's synapses as they are drawn, in either layout.
struct synapse_sink {
    projection& P;
    std::vector<double> mags; // lists layout

    synapse_sink(projection& p, layout storage, double expected): P(p) {
        P.storage = storage;
        if (P.is_dense()) {
            P.W.setZero(P.n_post, P.n_pre);
            P.present.assign(static_cast<std::size_t>(P.n_post)*P.n_pre, false);
            P.pre_sign.assign(static_cast<std::size_t>(P.n_pre), 1);
            return;
        }
        // Room for a Bernoulli count of mean `expected` (+ 6 sd): without it, growth by doubling
        // can leave up to twice the memory the synapse lists need.
        const auto n = static_cast<std::size_t>(expected + 6.0*std::sqrt(expected) + 1.0);
        P.pre.reserve(n);
        P.post.reserve(n);
        P.sign.reserve(n);
        mags.reserve(n);
    }
    void add(int i, int j, int sign, double m) {
        if (P.is_dense()) {
            P.W(i, j) = sign*m;
            P.present[static_cast<std::size_t>(j)*P.n_post + i] = true;
            P.pre_sign[j] = static_cast<std::int8_t>(sign); // one sign per presynaptic cell (Dale)
            return;
        }
        P.pre.push_back(j);
        P.post.push_back(i);
        P.sign.push_back(static_cast<std::int8_t>(sign));
        mags.push_back(m);
    }
    void finish() {
        if (!P.is_dense()) {
            P.m = Eigen::Map<const vector>(mags.data(), static_cast<long>(mags.size()));
            return;
        }
        P.first.assign(static_cast<std::size_t>(P.n_pre) + 1, 0);
        for (int j = 0; j < P.n_pre; ++j) {
            std::int64_t n = 0;
            for (int i = 0; i < P.n_post; ++i) n += P.present[static_cast<std::size_t>(j)*P.n_post + i];
            P.first[j + 1] = P.first[j] + n;
        }
    }
};

// The typical magnitude of block (x, y): the median (lognormal) or mean (gamma, constant), from
// scale / max(expected in-degree, 1), or given directly.
double typical_magnitude(const projection_desc& d, std::size_t x, std::size_t y, double in_degree) {
    if (d.size_by == "median") return d.median.at(x, y);
    if (d.size_by == "mean") {
        const double mean = d.mean.at(x, y);
        return d.weights == "lognormal"? mean*std::exp(-0.5*d.sigma_ln*d.sigma_ln): mean;
    }
    return d.scale.at(x, y)/std::max(in_degree, 1.0);
}

// One draw of a magnitude of the projection's distribution with typical value `typical`.
double draw_magnitude(const projection_desc& d, double typical, rng& g) {
    if (d.weights == "gamma") return gamma_variate(d.shape, typical/d.shape, g);
    if (d.weights == "constant") return typical;
    return std::exp(std::log(typical) + d.sigma_ln*normal(g)); // lognormal, median `typical`
}

// The synapses of one projection, drawn from its own stream. Column-major order: pre cell outer
// (its populations in the order listed), post cell inner; a file keeps its rows' order.
// bernoulli draws a uniform per candidate pair and a magnitude per synapse, interleaved;
// fixed_indegree draws every block's partners first (per post cell, without replacement), then
// the magnitudes in synapse order.
void draw_synapses(const projection_desc& d, const network& net, synapse_sink& out, rng& g) {
    std::vector<const population*> pre, post;
    for (auto& n: d.pre) pre.push_back(net.find(n));
    for (auto& n: d.post) post.push_back(net.find(n));
    const auto autapse = [&](std::size_t x, std::size_t y, int il, int jl) { return !d.autapses && post[x] == pre[y] && il == jl; };
    if (d.is_listed()) { // ids index the concatenated cells of the pre and post lists
        const auto side_index = [](const std::vector<const population*>& pops, std::int64_t id, const population** of = nullptr) {
            std::size_t a = 0;
            while (id >= pops[a]->size) id -= pops[a++]->size;
            if (of) *of = pops[a];
            return pops[a]->first + static_cast<int>(id);
        };
        int n_post = 0;
        for (auto* X: post) n_post += X->size;
        const double in_degree = static_cast<double>(d.listed.size())/std::max(n_post, 1);
        const double typical = d.weights == "file"? 0.0: typical_magnitude(d, 0, 0, in_degree);
        for (auto& s: d.listed) {
            const population* Y = nullptr;
            const int j = side_index(pre, s.pre, &Y);
            out.add(side_index(post, s.post), j, Y->sign, d.weights == "file"? s.magnitude: draw_magnitude(d, typical, g));
        }
        return;
    }
    // fixed_indegree: the partners of every post cell, kept as the post cells of every pre cell.
    std::vector<std::vector<std::vector<int>>> chosen; // [y][pre cell] post side indices
    if (d.connectivity == "fixed_indegree") {
        chosen.resize(pre.size());
        for (std::size_t y = 0; y < pre.size(); ++y) chosen[y].resize(static_cast<std::size_t>(pre[y]->size));
        std::vector<char> taken;
        for (std::size_t x = 0; x < post.size(); ++x)
            for (std::size_t y = 0; y < pre.size(); ++y) {
                const int k = static_cast<int>(d.k.at(x, y));
                const bool skip_self = !d.autapses && post[x] == pre[y];
                const int n = pre[y]->size - (skip_self? 1: 0); // candidates; with skip_self, index ≥ il is cell index + 1
                for (int il = 0; il < post[x]->size; ++il) {
                    taken.assign(static_cast<std::size_t>(n), 0);
                    for (int r = n - k; r < n; ++r) { // Floyd's sampling of k of n without replacement
                        const int t = static_cast<int>(uniform_index(static_cast<std::uint64_t>(r), g));
                        taken[static_cast<std::size_t>(taken[static_cast<std::size_t>(t)]? r: t)] = 1;
                    }
                    for (int t = 0; t < n; ++t)
                        if (taken[static_cast<std::size_t>(t)])
                            chosen[y][static_cast<std::size_t>(skip_self && t >= il? t + 1: t)].push_back(post[x]->first + il);
                }
            }
        for (auto& per_y: chosen) for (auto& col: per_y) std::sort(col.begin(), col.end());
    }
    for (std::size_t y = 0; y < pre.size(); ++y) {
        const population& Y = *pre[y];
        for (int jl = 0; jl < Y.size; ++jl) {
            const int j = Y.first + jl;
            if (d.connectivity == "fixed_indegree") {
                std::size_t x = 0;
                for (int i: chosen[y][static_cast<std::size_t>(jl)]) {
                    while (i >= post[x]->first + post[x]->size) ++x;
                    out.add(i, j, Y.sign, draw_magnitude(d, typical_magnitude(d, x, y, d.k.at(x, y)), g));
                }
                continue;
            }
            for (std::size_t x = 0; x < post.size(); ++x) {
                const population& X = *post[x];
                if (d.connectivity == "one_to_one") {
                    if (!autapse(x, y, jl, jl)) out.add(X.first + jl, j, Y.sign, draw_magnitude(d, typical_magnitude(d, x, y, 1.0), g));
                    continue;
                }
                const double p = d.connectivity == "all_to_all"? 1.0: d.p.at(x, y);
                if (p <= 0.0) continue;
                const double typical = typical_magnitude(d, x, y, p*Y.size);
                for (int il = 0; il < X.size; ++il) {
                    if (autapse(x, y, il, jl)) continue;
                    if (p < 1.0 && uniform(g) >= p) continue;
                    out.add(X.first + il, j, Y.sign, draw_magnitude(d, typical, g));
                }
            }
        }
    }
}

// Whether the projection's synapses come out in column-major order of its sides (pre then post
// index ascending), as a dense layout holds them.
bool column_major(const projection_desc& d, const network& net) {
    if (d.is_listed()) return false;
    for (const auto* pops: {&d.pre, &d.post})
        for (std::size_t a = 1; a < pops->size(); ++a)
            if (net.find((*pops)[a])->first < net.find((*pops)[a - 1])->first) return false;
    return true;
}

// Whether the synapses of these projections (on the N network cells) form no directed cycle:
// Kahn's topological sort removes every cell.
bool acyclic(const std::vector<projection*>& projections, int N) {
    std::vector<std::vector<int>> out(static_cast<std::size_t>(N));
    std::vector<int> in_degree(static_cast<std::size_t>(N), 0);
    for (auto* P: projections)
        P->for_each([&](std::size_t, int i, int j, int, double) {
            out[static_cast<std::size_t>(j)].push_back(i);
            ++in_degree[static_cast<std::size_t>(i)];
        });
    std::vector<int> ready;
    for (int i = 0; i < N; ++i) if (in_degree[static_cast<std::size_t>(i)] == 0) ready.push_back(i);
    int removed = 0;
    while (!ready.empty()) {
        const int j = ready.back();
        ready.pop_back();
        ++removed;
        for (int i: out[static_cast<std::size_t>(j)]) if (--in_degree[static_cast<std::size_t>(i)] == 0) ready.push_back(i);
    }
    return removed == N;
}

} // namespace

network build_network(const circuit_desc& d, std::uint64_t seed, layout storage) {
    network net;
    int count[3] = {0, 0, 0}; // cells of each side
    for (auto& pd: d.populations) {
        population p;
        p.name = pd.name;
        p.model = pd.model;
        const neuron_model& model = neuron_models().get(pd.model);
        p.side = model.has_dynamics? side::network: pd.model == "input"? side::input: side::output;
        p.first = count[static_cast<int>(p.side)];
        p.size = pd.size;
        count[static_cast<int>(p.side)] += pd.size;
        p.sign = p.side == side::output? 0: pd.sign == "inhibitory"? -1: 1;
        if (model.family == "rate") { p.tau_ms = pd.keys.real("tau_ms"); p.bias = pd.keys.real("bias"); }
        else if (model.family == "spiking") { p.tau_ms = pd.keys.real("tau_m_ms"); p.bias = pd.keys.real("bias_mV"); }
        else p.tau_ms = p.bias = std::numeric_limits<double>::quiet_NaN();
        net.populations.push_back(p);
    }
    const int N = count[0];
    net.n_in = count[1];
    net.n_out = count[2];
    net.tau.resize(N);
    net.cell_sign.resize(N);
    net.bias.resize(N);
    for (std::size_t k = 0; k < d.populations.size(); ++k) {
        const population& p = net.populations[k];
        if (p.side != side::network) continue;
        (p.sign > 0? net.n_e: net.n_i) += p.size;
        net.tau.segment(p.first, p.size).setConstant(p.tau_ms);
        net.cell_sign.segment(p.first, p.size).setConstant(p.sign);
        net.bias.segment(p.first, p.size).setConstant(p.bias);
        if (p.model == "rate") net.phi.add(p.first, p.size, make_transfer(d.populations[k].keys.text("transfer"), d.populations[k].keys));
    }
    net.noise_sigma = d.noise_sigma;

    for (auto& pd: d.projections) {
        projection P;
        P.name = pd.name;
        P.pre_populations = pd.pre;
        P.post_populations = pd.post;
        const side pre = net.find(pd.pre[0])->side, post = net.find(pd.post[0])->side;
        P.kind = pre == side::input? product::input: post == side::output? product::readout: product::recurrent;
        P.pre_population = pre == side::input? "input": "network";
        P.post_population = post == side::output? "output": "network";
        P.n_pre = count[static_cast<int>(pre)];
        P.n_post = count[static_cast<int>(post)];
        P.connectivity = pd.connectivity;
        P.delay = pd.delay;
        P.plastic = pd.plastic;
        net.projections.push_back(std::move(P));
    }
    for (std::size_t k = 0; k < d.projections.size(); ++k) {
        const projection_desc& pd = d.projections[k];
        projection& P = net.projections[k];
        const bool alone = net.of(P.kind).size() == 1;
        const layout here = storage == layout::dense && alone && column_major(pd, net)? layout::dense: layout::lists;
        auto g = stream(seed, pd.name);
        synapse_sink out(P, here, expected_synapses(d, pd));
        draw_synapses(pd, net, out, g);
        out.finish();
    }
    if (d.spectral_radius > 0.0) {
        std::vector<projection*> rescaled;
        for (auto& name: d.rescaled()) rescaled.push_back(&net.get(name));
        // A matrix without a cycle of synapses (a feedforward circuit) is nilpotent: its spectral
        // radius is exactly 0 (computed eigenvalues are round-off), so no factor reaches the target.
        if (acyclic(rescaled, N))
            throw config_error("network.spectral_radius", "the rescaled projections have no cycle of synapses (a feedforward circuit): "
                                                          "their matrix has spectral radius 0 and cannot be rescaled; set "
                                                          "network.spectral_radius = 0");
        matrix lowered;
        const matrix* W = &lowered;
        if (rescaled.size() == 1 && rescaled[0]->is_dense()) W = &rescaled[0]->W;
        else {
            lowered.setZero(N, N);
            for (auto* P: rescaled) P->for_each([&](std::size_t, int i, int j, int sign, double m) { lowered(i, j) += sign*m; });
        }
        const double rho = spectral_radius(*W);
        lowered.resize(0, 0);
        if (!(rho > 0.0))
            throw config_error("network.spectral_radius", "the signed matrix of the rescaled projections has spectral radius 0, "
                                                          "so it cannot be rescaled: set network.spectral_radius = 0");
        for (auto* P: rescaled) P->scale(d.spectral_radius/rho);
    }
    return net;
}

double spectral_radius(const matrix& W, int exact_limit) {
    EISIM_ASSERT(W.rows() == W.cols());
    const long n = W.rows();
    if (n == 0) return 0.0;
    if (n <= exact_limit) {
        // The real Schur form T = Qᵀ W Q (Q not formed: two n × n matrices, not EigenSolver's
        // five): quasi-triangular, with a real eigenvalue per 1 × 1 diagonal block and a complex
        // pair per 2 × 2 block [a b; c d], |λ|² = ad − bc.
        const Eigen::RealSchur<matrix> schur(W, false);
        const matrix& T = schur.matrixT();
        double rho = 0.0;
        for (long i = 0; i < n; ++i) {
            if (i + 1 < n && T(i + 1, i) != 0.0) {
                rho = std::max(rho, std::sqrt(std::abs(T(i, i)*T(i + 1, i + 1) - T(i, i + 1)*T(i + 1, i))));
                ++i;
            } else {
                rho = std::max(rho, std::abs(T(i, i)));
            }
        }
        return rho;
    }
    // Power iteration on the growth rate: ρ = lim ‖Wᵏv‖^{1/k} (Gelfand), averaged over the last
    // half of the iterations so that complex dominant pairs do not make it oscillate.
    auto g = stream(0, "power-iteration");
    vector v(n);
    for (long i = 0; i < n; ++i) v[i] = normal(g);
    v.normalize();
    const int iters = 400;
    double log_sum = 0.0;
    int counted = 0;
    for (int k = 0; k < iters; ++k) {
        if (const int sig = stop_signal) // an iteration takes at most a second or so (N = 20,000: 0.4 s)
            throw interrupted(sig, std::string(sig == SIGINT? "SIGINT": "SIGTERM") + " during set-up (the spectral radius of " +
                                       std::to_string(n) + " cells, power iteration " + std::to_string(k) + " of " + std::to_string(iters) +
                                       "); nothing was written");
        vector w = W*v;
        const double nw = w.norm();
        if (nw == 0.0) return 0.0;
        if (k >= iters/2) { log_sum += std::log(nw); ++counted; }
        v = w/nw;
    }
    return std::exp(log_sum/counted);
}

double svd_entropy(const matrix& W) {
    Eigen::BDCSVD<matrix> svd(W);
    const vector s = svd.singularValues();
    const double total = s.sum();
    if (total <= 0.0 || s.size() < 2) return 0.0;
    double h = 0.0;
    for (long i = 0; i < s.size(); ++i) {
        const double q = s[i]/total;
        if (q > 0) h -= q*std::log(q);
    }
    return h/std::log(static_cast<double>(s.size()));
}

} // namespace eisim
