#include "models/network.hpp"

#include <algorithm>
#include <cmath>
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

void projection::gather(const matrix& G, vector& g) const {
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
    if (name == "recurrent") return recurrent;
    if (name == "input") return input;
    if (name == "readout") return readout;
    throw user_error("unknown projection '" + name + "'; known: recurrent, input, readout");
}
const projection& network::get(const std::string& name) const {
    return const_cast<network*>(this)->get(name);
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

// Add a Bernoulli(p) block of synapses pre ∈ [pre0, pre0+npre), post ∈ [post0, post0+npost) with
// log-normal magnitudes of median `median`. Column-major order (pre outer, post inner).
void bernoulli_block(synapse_sink& out, rng& g, int pre0, int npre, int post0, int npost, double p, int sign,
                     double median, double sigma_ln, bool no_autapses) {
    if (p <= 0.0 || npre == 0 || npost == 0) return;
    const double mu = std::log(median);
    for (int j = pre0; j < pre0 + npre; ++j) {
        for (int i = post0; i < post0 + npost; ++i) {
            if (no_autapses && i == j) continue;
            if (p < 1.0 && uniform(g) >= p) continue;
            out.add(i, j, sign, std::exp(mu + sigma_ln*normal(g)));
        }
    }
}

} // namespace

double expected_density(const network_desc& d) {
    const double ne = d.n_e, ni = d.n_i, n = d.n();
    if (n == 0) return 0.0;
    return (d.p_ee*ne*(ne - 1) + d.p_ei*ne*ni + d.p_ie*ni*ne + d.p_ii*ni*(ni - 1))/(n*n);
}

network build_network(const network_desc& d, std::uint64_t seed, layout storage) {
    network net;
    net.n_e = d.n_e; net.n_i = d.n_i; net.n_in = d.n_in; net.n_out = d.n_out;
    const int N = d.n();
    net.tau.resize(N);
    net.cell_sign.resize(N);
    for (int i = 0; i < N; ++i) {
        const bool exc = i < d.n_e;
        net.tau[i] = exc? d.tau_e_ms: d.tau_i_ms;
        net.cell_sign[i] = exc? 1.0: -1.0;
    }
    net.phi = make_transfer(d.transfer, d.transfer_k, d.transfer_n);
    net.bias = d.bias;
    net.noise_sigma = d.noise_sigma;

    // Recurrent: one stream for structure and magnitudes; blocks in a fixed order (pre E, then pre I).
    {
        auto g = stream(seed, "recurrent");
        projection& R = net.recurrent;
        R.name = "recurrent"; R.pre_population = "network"; R.post_population = "network";
        R.n_pre = N; R.n_post = N;
        synapse_sink out(R, storage, expected_density(d)*N*N);
        auto median = [&](double scale, double p, int npre) { return scale/std::max(p*npre, 1.0); };
        // Column-major over the whole matrix: pre E columns then pre I columns, post E then I rows.
        for (int j = 0; j < N; ++j) {
            const bool pre_e = j < d.n_e;
            const int sgn = pre_e? 1: -1;
            const double p_to_e = pre_e? d.p_ee: d.p_ei, p_to_i = pre_e? d.p_ie: d.p_ii;
            const double s_to_e = pre_e? d.scale_ee: d.scale_ei, s_to_i = pre_e? d.scale_ie: d.scale_ii;
            const int npre = pre_e? d.n_e: d.n_i;
            bernoulli_block(out, g, j, 1, 0, d.n_e, p_to_e, sgn, median(s_to_e, p_to_e, npre), d.sigma_ln, true);
            bernoulli_block(out, g, j, 1, d.n_e, d.n_i, p_to_i, sgn, median(s_to_i, p_to_i, npre), d.sigma_ln, true);
        }
        out.finish();
        if (d.spectral_radius > 0.0 && R.size() > 0) {
            matrix lowered;
            const matrix& W = R.is_dense()? R.W: (lowered = R.dense());
            const double rho = spectral_radius(W);
            lowered.resize(0, 0);
            if (rho > 0.0) R.scale(d.spectral_radius/rho);
        }
    }
    // Input: excitatory afferents.
    {
        auto g = stream(seed, "input");
        projection& P = net.input;
        P.name = "input"; P.pre_population = "input"; P.post_population = "network";
        P.n_pre = d.n_in; P.n_post = N;
        const double median = d.scale_in/std::max(d.p_in*d.n_in, 1.0);
        synapse_sink out(P, storage, d.p_in*d.n_in*N);
        bernoulli_block(out, g, 0, d.n_in, 0, N, d.p_in, +1, median, d.sigma_ln, false);
        out.finish();
    }
    // Readout: from E cells (or all cells), all-to-all, sign of the presynaptic cell.
    {
        auto g = stream(seed, "readout");
        projection& P = net.readout;
        P.name = "readout"; P.pre_population = "network"; P.post_population = "output";
        P.n_pre = N; P.n_post = d.n_out;
        const int npre = d.readout_from == "all"? N: d.n_e;
        const double median = d.scale_out/std::max(npre, 1);
        synapse_sink out(P, storage, static_cast<double>(npre)*d.n_out);
        bernoulli_block(out, g, 0, d.n_e, 0, d.n_out, 1.0, +1, median, d.sigma_ln, false);
        if (d.readout_from == "all")
            bernoulli_block(out, g, d.n_e, d.n_i, 0, d.n_out, 1.0, -1, median, d.sigma_ln, false);
        out.finish();
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
