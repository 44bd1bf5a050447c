#pragma once
// What the analysis tests share: synthetic weights whose change is Gaussian in the dual space of
// a known geometry, and run files written directly with the HDF5 C API (through io/h5.hpp) in
// the documented layout, so that `eisim analyze` is tested on files eisim did not write.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "analysis/stats.hpp"
#include "io/h5.hpp"
#include "tests/support/approx.hpp"

namespace eisim::test {

/// A standard normal draw truncated to |z| ≤ cut (by rejection).
inline double truncated_normal(std::mt19937_64& rng, double cut) {
    std::normal_distribution<double> n01;
    while (true) {
        const double z = n01(rng);
        if (std::abs(z) <= cut) return z;
    }
}

struct weight_pair {
    vector w0, w1; // signed weights before and after
};

/// Log-normal magnitudes (ln m₀ ~ N(mu, sigma²), truncated at ±3 sd), 80% positive signs, and a
/// change drawn in the dual space of `g`: ∇φ(w₁) = ∇φ(w₀) + ε, ε ~ N(0, s²) truncated at ±4 s.
/// EG: s = 0.3. p-norm: s = exp((p−1)(mu − 3 sigma))/4.5, so that |ε| < ∇φ(m₀) for every
/// synapse and no sign can change (the dual change stays exactly the drawn ε).
inline weight_pair dual_gaussian_change(const analysis::geometry& g, long n, std::uint64_t seed, double mu = -1,
                                        double sigma = 2) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u01;
    weight_pair out{vector(n), vector(n)};
    const double s = g.is_eg()? 0.3: std::exp((g.p - 1)*(mu - 3*sigma))/4.5;
    for (long i = 0; i < n; ++i) {
        const double m0 = std::exp(mu + sigma*truncated_normal(rng, 3));
        const double sign = u01(rng) < 0.8? 1.0: -1.0;
        const double y1 = g.dual(sign*m0) + s*truncated_normal(rng, 4);
        // Inverse dual maps, with the sign kept: EG m = exp(sign·y − 1); p-norm m = (sign·y)^(1/(p−1)).
        const double m1 = g.is_eg()? std::exp(sign*y1 - 1): std::pow(sign*y1, 1/(g.p - 1));
        out.w0[i] = sign*m0;
        out.w1[i] = sign*m1;
    }
    return out;
}

/// Synapses grouped by postsynaptic neuron whose change is Gaussian in the dual space of `g`
/// with a mean and a width that belong to the neuron (the regression picture behind the
/// per-neuron geometry test): neuron k has `per_neuron` synapses, ε ~ s c_k (u_k + N(0, 1)
/// truncated at ±4.5: a cut that removes 7·10⁻⁶ of the mass, far below what ΔCDF can see), with
/// the width factor c_k = 10^(−U), U uniform on [0, 2) (widths spread over two decades), and the
/// offset u_k uniform on [−0.5, 0.5]. Magnitudes and signs as in dual_gaussian_change, with
/// s = 0.3 for EG and s = exp((p−1)(mu − 3 sigma))/5.5 for a p-norm (|ε| < 5 s: no sign change).
struct grouped_pair {
    vector w0, w1;
    index_vector post; // the postsynaptic neuron of each synapse (0..neurons−1, in blocks)
};
inline grouped_pair per_neuron_gaussian_change(const analysis::geometry& g, long neurons, long per_neuron,
                                               std::uint64_t seed, double mu = -1, double sigma = 2) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u01;
    const long n = neurons*per_neuron;
    grouped_pair out{vector(n), vector(n), index_vector(n)};
    const double s = g.is_eg()? 0.3: std::exp((g.p - 1)*(mu - 3*sigma))/5.5;
    for (long k = 0; k < neurons; ++k) {
        const double c = std::pow(10.0, -2*u01(rng)), u = u01(rng) - 0.5;
        for (long j = 0; j < per_neuron; ++j) {
            const long i = k*per_neuron + j;
            const double m0 = std::exp(mu + sigma*truncated_normal(rng, 3));
            const double sign = u01(rng) < 0.8? 1.0: -1.0;
            const double y1 = g.dual(sign*m0) + s*c*(u + truncated_normal(rng, 4.5));
            const double m1 = g.is_eg()? std::exp(sign*y1 - 1): std::pow(sign*y1, 1/(g.p - 1));
            out.w0[i] = sign*m0;
            out.w1[i] = sign*m1;
            out.post[i] = k;
        }
    }
    return out;
}

/// One projection of a hand-made run file.
struct file_projection {
    std::string name, pre_population, post_population;
    long n_pre = 0, n_post = 0;
    bool plastic = true;
    std::vector<std::int64_t> pre, post;
    std::vector<std::int8_t> sign;
    std::vector<vector> weights; // one signed-weight vector per snapshot
    std::vector<std::string> pre_populations, post_populations; // version 2 (written when not empty)
    std::string connectivity;                                   // version 2 (written when not empty)
};

/// One population of a hand-made version-2 run file (docs/circuits.md).
struct file_population {
    std::string name, model, side;
    long first = 0, size = 0;
    int sign = 0;
    double tau_ms = std::nan(""), bias = std::nan("");
};

/// A hand-made run file in the documented layout.
struct file_spec {
    std::string format = "eisim.run";
    std::int64_t format_version = 1;
    std::string config = "[plasticity]\ngeometry = \"eg\"\nmin_magnitude = 1e-6\n";
    long n_e = 0, n_i = 0, n_in = 0, n_out = 0;
    std::vector<file_population> populations; // /network/populations, written when not empty
    std::vector<double> steps, loss;
    std::vector<file_projection> projections;
    bool with_trajectory = true;
};

/// The population of `spec` on `side` that holds side index `index` (nullptr if none).
inline const file_population* population_at(const file_spec& spec, const std::string& side, long index) {
    for (auto& q: spec.populations)
        if (q.side == side && index >= q.first && index < q.first + q.size) return &q;
    return nullptr;
}

inline void write_run_file(const std::string& path, const file_spec& s) {
    auto f = h5::create_file(path);
    if (!s.format.empty()) h5::write_attr(f, "format", s.format);
    h5::write_attr(f, "format_version", s.format_version);
    h5::write_attr(f, "seed", std::int64_t(7));
    if (!s.config.empty()) h5::write_attr(f, "config", s.config);
    auto net = h5::create_group(f, "network");
    h5::write_attr(net, "n_e", std::int64_t(s.n_e));
    h5::write_attr(net, "n_i", std::int64_t(s.n_i));
    h5::write_attr(net, "n_in", std::int64_t(s.n_in));
    h5::write_attr(net, "n_out", std::int64_t(s.n_out));
    if (!s.populations.empty()) {
        auto g = h5::create_group(net, "populations");
        std::vector<std::string> name, model, side;
        std::vector<std::int64_t> first, size;
        std::vector<std::int8_t> sign;
        std::vector<double> tau, bias;
        for (auto& q: s.populations) {
            name.push_back(q.name);
            model.push_back(q.model);
            side.push_back(q.side);
            first.push_back(q.first);
            size.push_back(q.size);
            sign.push_back(static_cast<std::int8_t>(q.sign));
            tau.push_back(q.tau_ms);
            bias.push_back(q.bias);
        }
        h5::write(g, "name", name);
        h5::write(g, "model", model);
        h5::write(g, "side", side);
        h5::write(g, "first", first);
        h5::write(g, "size", size);
        h5::write(g, "sign", sign);
        h5::write(g, "tau_ms", tau);
        h5::write(g, "bias", bias);
    }
    for (auto& p: s.projections) {
        auto g = h5::create_group(net, p.name);
        h5::write(g, "pre", p.pre);
        h5::write(g, "post", p.post);
        h5::write(g, "sign", p.sign);
        h5::write_attr(g, "plastic", std::int64_t(p.plastic));
        h5::write_attr(g, "pre_population", p.pre_population);
        h5::write_attr(g, "post_population", p.post_population);
        h5::write_attr(g, "n_pre", std::int64_t(p.n_pre));
        h5::write_attr(g, "n_post", std::int64_t(p.n_post));
        if (!p.pre_populations.empty()) h5::write(g, "pre_populations", p.pre_populations);
        if (!p.post_populations.empty()) h5::write(g, "post_populations", p.post_populations);
        if (!p.connectivity.empty()) {
            h5::write_attr(g, "connectivity", p.connectivity);
            h5::write_attr(g, "delay", std::int64_t(0));
        }
    }
    if (!s.with_trajectory) return;
    auto traj = h5::create_group(f, "trajectory");
    const hsize_t T = s.steps.size();
    h5::write(traj, "step", s.steps.data(), {T, 1});
    if (!s.loss.empty()) h5::write(traj, "loss", s.loss.data(), {T, 1});
    for (auto& p: s.projections) {
        auto g = h5::create_group(traj, p.name);
        const hsize_t nnz = p.pre.size();
        std::vector<double> rows;
        for (auto& w: p.weights) rows.insert(rows.end(), w.data(), w.data() + w.size());
        h5::write(g, "weight", rows.data(), {p.weights.size(), nnz});
    }
}

/// A network of n_e + n_i cells, fully connected without self-connections, whose recurrent
/// weights change by a Gaussian in the dual space of `g` (half of it by step 10, all by step 20);
/// a frozen input projection; and a plastic readout from the E cells to 2 outputs, three of whose
/// synapses end held at the bound 1e-6 of the config.
inline file_spec synthetic_run(const analysis::geometry& g, long n_e = 160, long n_i = 40, std::uint64_t seed = 11) {
    file_spec s;
    s.n_e = n_e;
    s.n_i = n_i;
    s.n_in = 4;
    s.n_out = 2;
    s.steps = {0, 10, 20};
    s.loss = {1.0, 0.5, 0.25};
    if (!g.is_eg()) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "[plasticity]\ngeometry = \"pnorm\"\np = %.1f\nmin_magnitude = 1e-6\n", g.p);
        s.config = buf;
    }
    const long N = n_e + n_i;

    file_projection rec{"recurrent", "network", "network", N, N};
    for (long post = 0; post < N; ++post)
        for (long pre = 0; pre < N; ++pre)
            if (pre != post) {
                rec.pre.push_back(pre);
                rec.post.push_back(post);
            }
    const long nnz = static_cast<long>(rec.pre.size());
    const auto pair = dual_gaussian_change(g, nnz, seed);
    // Dale's law: the sign belongs to the presynaptic cell; magnitudes come from the synthetic pair.
    vector w0(nnz), w1(nnz), wmid(nnz);
    for (long k = 0; k < nnz; ++k) {
        const double sgn = rec.pre[k] < n_e? 1.0: -1.0;
        rec.sign.push_back(static_cast<std::int8_t>(sgn));
        // Put the synthetic synapse on this sign: magnitudes (and the dual change, up to its sign,
        // which is symmetric) are unchanged.
        const double m0 = std::abs(pair.w0[k]), m1 = std::abs(pair.w1[k]);
        w0[k] = sgn*m0;
        w1[k] = sgn*m1;
        // Halfway in the dual space of g.
        const double y = 0.5*(g.dual(m0) + g.dual(m1));
        wmid[k] = sgn*(g.is_eg()? std::exp(y - 1): std::pow(y, 1/(g.p - 1)));
    }
    rec.weights = {w0, wmid, w1};
    s.projections.push_back(rec);

    file_projection in{"input", "input", "network", s.n_in, N};
    in.plastic = false;
    for (long c = 0; c < N; ++c) {
        in.pre.push_back(c % s.n_in);
        in.post.push_back(c);
        in.sign.push_back(1);
    }
    vector win = vector::Constant(N, 0.5);
    in.weights = {win, win, win};
    s.projections.push_back(in);

    file_projection out{"readout", "network", "output", N, s.n_out};
    for (long o = 0; o < s.n_out; ++o)
        for (long c = 0; c < n_e; ++c) {
            out.pre.push_back(c);
            out.post.push_back(o);
            out.sign.push_back(1);
        }
    const long nr = static_cast<long>(out.pre.size());
    const auto rp = dual_gaussian_change(g, nr, seed + 1);
    vector r0 = rp.w0.cwiseAbs(), r1 = rp.w1.cwiseAbs();
    for (long k = 0; k < 3; ++k) r1[k] = 1e-6; // held at the bound
    out.weights = {r0, 0.5*(r0 + r1), r1};
    s.projections.push_back(out);
    return s;
}

/// `s` as version 2: the default circuit's populations (E, I, in, out; docs/circuits.md's
/// migration note) and, per projection, the populations of each side that its indices touch.
inline file_spec as_version_2(file_spec s) {
    s.format_version = 2;
    s.populations = {{"E", "rate", "network", 0, s.n_e, 1, 20.0, 0.0}};
    if (s.n_i > 0) s.populations.push_back({"I", "rate", "network", s.n_e, s.n_i, -1, 20.0, 0.0});
    s.populations.push_back({"in", "input", "input", 0, s.n_in, 1});
    s.populations.push_back({"out", "readout", "output", 0, s.n_out, 0});
    for (auto& p: s.projections)
        for (auto [list, side, idx]: {std::tuple{&p.pre_populations, &p.pre_population, &p.pre},
                                      std::tuple{&p.post_populations, &p.post_population, &p.post}}) {
            list->clear();
            for (auto& q: s.populations)
                if (q.side == *side && std::any_of(idx->begin(), idx->end(), [&](std::int64_t i) { return population_at(s, *side, i) == &q; }))
                    list->push_back(q.name);
        }
    return s;
}

/// A version-2 run file of a circuit with four rate populations, E (40 cells), PV (10), SST (8)
/// and VIP (6), one input population `stim` (3 channels) and one readout `out` (2 units):
///   recurrent  [E, PV, SST, VIP] → [E, PV, SST, VIP], bernoulli p = 0.3 without autapses, except
///              that VIP → E and SST → SST hold no synapse; weights change by a Gaussian in the
///              EG dual space (as synthetic_run), signs by the presynaptic population;
///   input      stim → [E, PV] (channel c mod 3 onto cell c), plastic;
///   readout    E → out, all to all, plastic.
/// Synapses in the circuit order: pre cell outer, post cell inner.
inline file_spec four_population_run(std::uint64_t seed = 5) {
    file_spec s;
    s.format_version = 2;
    s.populations = {{"E", "rate", "network", 0, 40, 1, 20.0, 0.0},    {"PV", "rate", "network", 40, 10, -1, 10.0, 0.0},
                     {"SST", "rate", "network", 50, 8, -1, 20.0, 0.5}, {"VIP", "rate", "network", 58, 6, -1, 15.0, 0.0},
                     {"stim", "input", "input", 0, 3, 1},              {"out", "readout", "output", 0, 2, 0}};
    s.n_e = 40;
    s.n_i = 24;
    s.n_in = 3;
    s.n_out = 2;
    s.steps = {0, 10, 20};
    s.loss = {1.0, 0.5, 0.25};
    const long N = s.n_e + s.n_i;
    const std::vector<std::string> rates = {"E", "PV", "SST", "VIP"};
    const auto eg = analysis::eg_geometry();
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u01;

    // Signed weights at the three snapshots: magnitudes of a Gaussian EG dual change (the middle
    // snapshot halfway in the dual space), with the given signs.
    const auto set_weights = [&](file_projection& p, std::uint64_t stream) {
        const long n = static_cast<long>(p.pre.size());
        const auto pair = dual_gaussian_change(eg, n, stream);
        vector w0(n), wmid(n), w1(n);
        for (long k = 0; k < n; ++k) {
            const double sgn = p.sign[k], m0 = std::abs(pair.w0[k]), m1 = std::abs(pair.w1[k]);
            w0[k] = sgn*m0;
            w1[k] = sgn*m1;
            wmid[k] = sgn*std::exp(0.5*(eg.dual(m0) + eg.dual(m1)) - 1);
        }
        p.weights = {w0, wmid, w1};
    };

    file_projection rec{"recurrent", "network", "network", N, N};
    rec.pre_populations = rec.post_populations = rates;
    rec.connectivity = "bernoulli";
    for (long pre = 0; pre < N; ++pre)
        for (long post = 0; post < N; ++post) {
            const auto& a = population_at(s, "network", pre)->name;
            const auto& b = population_at(s, "network", post)->name;
            const bool none = (a == "VIP" && b == "E") || (a == "SST" && b == "SST");
            if (u01(rng) < 0.3 && pre != post && !none) {
                rec.pre.push_back(pre);
                rec.post.push_back(post);
                rec.sign.push_back(static_cast<std::int8_t>(population_at(s, "network", pre)->sign));
            }
        }
    set_weights(rec, seed + 1);
    s.projections.push_back(rec);

    file_projection in{"input", "input", "network", s.n_in, N};
    in.pre_populations = {"stim"};
    in.post_populations = {"E", "PV"};
    in.connectivity = "file";
    for (long c = 0; c < 50; ++c) {
        in.pre.push_back(c % s.n_in);
        in.post.push_back(c);
        in.sign.push_back(1);
    }
    set_weights(in, seed + 2);
    s.projections.push_back(in);

    file_projection out{"readout", "network", "output", N, s.n_out};
    out.pre_populations = {"E"};
    out.post_populations = {"out"};
    out.connectivity = "all_to_all";
    for (long c = 0; c < s.n_e; ++c)
        for (long o = 0; o < s.n_out; ++o) {
            out.pre.push_back(c);
            out.post.push_back(o);
            out.sign.push_back(1);
        }
    set_weights(out, seed + 3);
    s.projections.push_back(out);
    return s;
}

} // namespace eisim::test
