#pragma once
// Transfer functions r = φ(x): firing rate (dimensionless, or Hz per unit) of the synaptic input x.
//
//   linear    φ(x) = x                      φ'(x) = 1          (tests: a linear network)
//   relu      φ(x) = [x]₊                   φ'(x) = H(x)       (φ'(0) = 0)
//   softplus  φ(x) = ln(1 + eˣ)             φ'(x) = 1/(1 + e⁻ˣ)
//   tanh      φ(x) = [tanh x]₊              φ'(x) = (1 − tanh²x) H(x)   (rectified tanh)
//   power     φ(x) = k [x]₊ⁿ                φ'(x) = k n [x]₊ⁿ⁻¹  (stabilised supralinear network,
//                                                                  Ahmadian, Rubin & Miller 2013)
// Each is a small value type with a name; `apply` and `derivative` work element-wise on a batch.
// The functions are components chosen by name (a rate population's key `transfer`), each with
// its own keys.
// A network's rate cells take their population's function (cell_transfer: one piece per run of
// populations with the same function).
#include <cmath>
#include <string>
#include <vector>

#include "models/parameters.hpp"
#include "models/registry.hpp"
#include "models/types.hpp"

namespace eisim {

struct transfer {
    enum class kind { linear, relu, softplus, tanh, power };
    std::string name;
    kind type = kind::relu;
    double k = 1.0; // gain of `power`
    double n = 2.0; // exponent of `power`

    double value(double x) const {
        switch (type) {
        case kind::linear: return x;
        case kind::relu: return x > 0? x: 0.0;
        case kind::softplus: return x > 30? x: std::log1p(std::exp(x));
        case kind::tanh: return x > 0? std::tanh(x): 0.0;
        case kind::power: return x > 0? k*std::pow(x, n): 0.0;
        }
        return 0.0;
    }
    double derivative(double x) const {
        switch (type) {
        case kind::linear: return 1.0;
        case kind::relu: return x > 0? 1.0: 0.0;
        case kind::softplus: return 1.0/(1.0 + std::exp(-x));
        case kind::tanh: { if (x <= 0) return 0.0; double t = std::tanh(x); return 1.0 - t*t; }
        case kind::power: return x > 0? k*n*std::pow(x, n - 1.0): 0.0;
        }
        return 0.0;
    }

    // r = φ(x), element-wise; the switch is outside the loop.
    void apply(const matrix& x, matrix& r) const {
        r.resize(x.rows(), x.cols());
        switch (type) {
        case kind::linear: r = x; break;
        case kind::relu: r = x.cwiseMax(0.0); break;
        default: r = x.unaryExpr([this](double v) { return value(v); }); break;
        }
    }
    // d = φ'(x), element-wise.
    void derivative(const matrix& x, matrix& d) const {
        d.resize(x.rows(), x.cols());
        switch (type) {
        case kind::linear: d.setOnes(); break;
        case kind::relu: d = (x.array() > 0.0).cast<double>(); break;
        default: d = x.unaryExpr([this](double v) { return derivative(v); }); break;
        }
    }
};

/// A transfer function by name: its doc, its kind and its own config keys (power: the gain
/// transfer_k and the exponent transfer_n; keys of the population that chose it).
struct transfer_info {
    std::string doc;
    transfer::kind type;
    std::vector<key_spec> keys;
};

inline const registry<transfer_info>& transfer_registry() {
    static const registry<transfer_info> r("transfer function", {
        {"relu", {"[x]+", transfer::kind::relu, {}}},
        {"softplus", {"ln(1 + e^x)", transfer::kind::softplus, {}}},
        {"tanh", {"[tanh x]+", transfer::kind::tanh, {}}},
        {"power", {"k [x]+^n, the stabilised supralinear network's", transfer::kind::power,
                   {real_key("transfer_k", 1.0, 0, 1e6, "gain k of the power transfer function", true),
                    real_key("transfer_n", 2.0, 1, 10, "exponent n of the power transfer function")}}},
        {"linear", {"x", transfer::kind::linear, {}}},
    });
    return r;
}

inline transfer make_transfer(const std::string& name, double k = 1.0, double n = 2.0) {
    return transfer{name, transfer_registry().get(name).type, k, n};
}

/// The transfer function `name` with its own keys read from `keys` (a population's).
inline transfer make_transfer(const std::string& name, const parameters& keys) {
    const transfer_info& t = transfer_registry().get(name);
    return t.type == transfer::kind::power? make_transfer(name, keys.real("transfer_k"), keys.real("transfer_n")): make_transfer(name);
}

/// The transfer functions of a network's rate cells: each population's own on its rows
/// [first, first + size) of the N × B state x. Adjacent populations with the same function share
/// a piece, so a circuit with one transfer function has one piece, applied to the whole state.
struct cell_transfer {
    struct piece {
        long first = 0, size = 0;
        transfer phi;
    };
    std::vector<piece> pieces;

    /// Add the rows [first, first + size) with transfer `phi` after the existing ones.
    void add(long first, long size, const transfer& phi) {
        const transfer* last = pieces.empty()? nullptr: &pieces.back().phi;
        const bool same = last && last->type == phi.type && (phi.type != transfer::kind::power || (last->k == phi.k && last->n == phi.n));
        if (same) pieces.back().size += size;
        else pieces.push_back({first, size, phi});
    }
    bool uniform() const { return pieces.size() <= 1; }
    /// The transfer function of row (cell) i.
    const transfer& of(long i) const {
        for (auto& p: pieces) if (i < p.first + p.size) return p.phi;
        return pieces.back().phi;
    }
    /// The function's name, or the pieces' names joined by '+' where they differ.
    std::string name() const {
        std::string s;
        for (auto& p: pieces) s += (s.empty()? "": "+") + p.phi.name;
        return s;
    }

    // r = φ(x), each piece on its rows.
    void apply(const matrix& x, matrix& r) const { piecewise(x, r, &transfer::apply); }
    // d = φ'(x), each piece on its rows.
    void derivative(const matrix& x, matrix& d) const { piecewise(x, d, &transfer::derivative); }

private:
    // out = f(x) with each piece's function on its rows (one piece: on the whole state, no copy).
    void piecewise(const matrix& x, matrix& out, void (transfer::*f)(const matrix&, matrix&) const) const {
        if (uniform()) { (pieces.front().phi.*f)(x, out); return; }
        out.resize(x.rows(), x.cols());
        matrix block, y;
        for (auto& p: pieces) {
            block = x.middleRows(p.first, p.size);
            (p.phi.*f)(block, y);
            out.middleRows(p.first, p.size) = y;
        }
    }
};

} // namespace eisim
