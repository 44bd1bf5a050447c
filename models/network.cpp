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

void projection::dense(matrix& W) const {
    W.setZero(n_post, n_pre);
    for (std::size_t s = 0; s < size(); ++s) W(post[s], pre[s]) = sign[s]*m[s];
}

void projection::gather(const matrix& G, vector& g) const {
    g.resize(size());
    for (std::size_t s = 0; s < size(); ++s) g[s] = sign[s]*G(post[s], pre[s]);
}

vector projection::gather(vector G) const {
    EISIM_ASSERT(G.size() == static_cast<long>(n_post)*n_pre);
    const std::size_t n = size();
    const auto at = [&](std::size_t s) { return static_cast<long>(pre[s])*n_post + post[s]; };
    bool ordered = true;
    for (std::size_t s = 1; s < n && ordered; ++s) ordered = at(s - 1) < at(s);
    if (!ordered) {
        vector g(n);
        for (std::size_t s = 0; s < n; ++s) g[s] = sign[s]*G[at(s)];
        return g;
    }
    // at(s) is strictly increasing from at(0) ≥ 0, so at(s) ≥ s: every read is at or ahead of
    // the write, in a part of G not yet overwritten.
    for (std::size_t s = 0; s < n; ++s) G[static_cast<long>(s)] = sign[s]*G[at(s)];
    G.conservativeResize(static_cast<long>(n)); // a vector's conservativeResize reallocates in place
    return G;
}

vector projection::signed_weights() const {
    vector w(size());
    for (std::size_t s = 0; s < size(); ++s) w[s] = sign[s]*m[s];
    return w;
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

// Append a Bernoulli(p) block of synapses pre ∈ [pre0, pre0+npre), post ∈ [post0, post0+npost)
// with log-normal magnitudes of median `median`. Column-major order (pre outer, post inner).
void bernoulli_block(projection& P, std::vector<double>& mags, rng& g, int pre0, int npre, int post0,
                     int npost, double p, int sign, double median, double sigma_ln, bool no_autapses) {
    if (p <= 0.0 || npre == 0 || npost == 0) return;
    const double mu = std::log(median);
    for (int j = pre0; j < pre0 + npre; ++j) {
        for (int i = post0; i < post0 + npost; ++i) {
            if (no_autapses && i == j) continue;
            if (p < 1.0 && uniform(g) >= p) continue;
            P.pre.push_back(j);
            P.post.push_back(i);
            P.sign.push_back(static_cast<std::int8_t>(sign));
            mags.push_back(std::exp(mu + sigma_ln*normal(g)));
        }
    }
}

// Room for a Bernoulli count of mean `expected` (+ 6 sd): without it, growth by doubling can leave
// up to twice the memory the synapse lists need.
void reserve(projection& P, std::vector<double>& mags, double expected) {
    const auto n = static_cast<std::size_t>(expected + 6.0*std::sqrt(expected) + 1.0);
    P.pre.reserve(n);
    P.post.reserve(n);
    P.sign.reserve(n);
    mags.reserve(n);
}

void set_magnitudes(projection& P, const std::vector<double>& mags) {
    P.m = Eigen::Map<const vector>(mags.data(), static_cast<long>(mags.size()));
}

} // namespace

network build_network(const network_desc& d, std::uint64_t seed) {
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
        std::vector<double> mags;
        const double ne = d.n_e, ni = d.n_i;
        reserve(R, mags, d.p_ee*ne*ne + d.p_ei*ne*ni + d.p_ie*ni*ne + d.p_ii*ni*ni);
        auto median = [&](double scale, double p, int npre) { return scale/std::max(p*npre, 1.0); };
        // Column-major over the whole matrix: pre E columns then pre I columns, post E then I rows.
        for (int j = 0; j < N; ++j) {
            const bool pre_e = j < d.n_e;
            const int sgn = pre_e? 1: -1;
            const double p_to_e = pre_e? d.p_ee: d.p_ei, p_to_i = pre_e? d.p_ie: d.p_ii;
            const double s_to_e = pre_e? d.scale_ee: d.scale_ei, s_to_i = pre_e? d.scale_ie: d.scale_ii;
            const int npre = pre_e? d.n_e: d.n_i;
            bernoulli_block(R, mags, g, j, 1, 0, d.n_e, p_to_e, sgn, median(s_to_e, p_to_e, npre), d.sigma_ln, true);
            bernoulli_block(R, mags, g, j, 1, d.n_e, d.n_i, p_to_i, sgn, median(s_to_i, p_to_i, npre), d.sigma_ln, true);
        }
        set_magnitudes(R, mags);
        if (d.spectral_radius > 0.0 && R.size() > 0) {
            const double rho = spectral_radius(R.dense());
            if (rho > 0.0) R.m *= d.spectral_radius/rho;
        }
    }
    // Input: excitatory afferents.
    {
        auto g = stream(seed, "input");
        projection& P = net.input;
        P.name = "input"; P.pre_population = "input"; P.post_population = "network";
        P.n_pre = d.n_in; P.n_post = N;
        const double median = d.scale_in/std::max(d.p_in*d.n_in, 1.0);
        std::vector<double> mags;
        reserve(P, mags, d.p_in*d.n_in*N);
        bernoulli_block(P, mags, g, 0, d.n_in, 0, N, d.p_in, +1, median, d.sigma_ln, false);
        set_magnitudes(P, mags);
    }
    // Readout: from E cells (or all cells), all-to-all, sign of the presynaptic cell.
    {
        auto g = stream(seed, "readout");
        projection& P = net.readout;
        P.name = "readout"; P.pre_population = "network"; P.post_population = "output";
        P.n_pre = N; P.n_post = d.n_out;
        const int npre = d.readout_from == "all"? N: d.n_e;
        const double median = d.scale_out/std::max(npre, 1);
        std::vector<double> mags;
        bernoulli_block(P, mags, g, 0, d.n_e, 0, d.n_out, 1.0, +1, median, d.sigma_ln, false);
        if (d.readout_from == "all")
            bernoulli_block(P, mags, g, d.n_e, d.n_i, 0, d.n_out, 1.0, -1, median, d.sigma_ln, false);
        set_magnitudes(P, mags);
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
