// eisim's Python module, the compiled part (`eisim._eisim`; python/eisim/ wraps it, docs/python.md
// documents it). It binds what the command line does — configs, the network a config builds,
// simulate, train and resume, analyze, export, observe — on the same C++ functions, so that a run
// from Python is the run the CLI writes, dataset for dataset.
//
// Errors are the CLI's: eisim::config_error → eisim.ConfigError (a ValueError, with the key),
// every other user error → eisim.UserError (a ValueError), a diverging run → eisim.DivergenceError,
// storage that ran out (no space, a file-size limit, a quota) → eisim.StorageError (an OSError).
//
// The GIL is released while C++ runs. Learning takes it back once a step to call the callback and
// PyErr_CheckSignals (the module installs no signal handlers of its own): Ctrl-C stops at the end
// of the step, with the step written, and re-raises KeyboardInterrupt; the file can be resumed.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <toml.hpp>

#include "analysis/analyze.hpp"
#include "analysis/export_csv.hpp"
#include "analysis/export_sonata.hpp"
#include "analysis/report.hpp"
#include "analysis/run_file.hpp"
#include "models/error.hpp"
#include "models/integrate.hpp"
#include "models/network.hpp"
#include "models/parallel.hpp"
#include "observe/observe.hpp"
#include "sim/config.hpp"
#include "sim/experiment.hpp"
#include "sim/signals.hpp"
#include "sim/sink.hpp"
#include "sweep/plan.hpp"

namespace eisim {
extern const char* software_version;
extern const char* git_revision;
} // namespace eisim

namespace py = pybind11;
using namespace eisim;

namespace {

// ---- Python values ↔ TOML ------------------------------------------------------------------

// The TOML text of a Python value, for `--set key=<text>` (apply_override reads it as TOML).
std::string toml_literal(py::handle v, const std::string& key) {
    if (py::isinstance<py::bool_>(v)) return v.cast<bool>()? "true": "false";
    if (py::isinstance<py::int_>(v)) return py::str(v).cast<std::string>();
    if (py::isinstance<py::float_>(v)) {
        const double d = v.cast<double>();
        if (std::isnan(d)) return "nan";
        if (std::isinf(d)) return d > 0? "inf": "-inf";
        return toml::format(toml::value(d));
    }
    if (py::isinstance<py::str>(v)) return toml::format(toml::value(v.cast<std::string>()));
    if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
        std::string s = "[";
        for (auto e: v) s += (s.size() > 1? ", ": "") + toml_literal(e, key);
        return s + "]";
    }
    if (py::isinstance<py::dict>(v)) {
        std::string s = "{";
        for (auto [k, e]: v.cast<py::dict>())
            s += (s.size() > 1? ", ": " ") + toml::format(toml::value(py::str(k).cast<std::string>())) + " = " + toml_literal(e, key);
        return s + (s.size() > 1? " }": "}");
    }
    if (py::hasattr(v, "item") && py::hasattr(v, "dtype")) return toml_literal(v.attr("item")(), key); // numpy scalars
    if (py::hasattr(v, "tolist")) return toml_literal(v.attr("tolist")(), key);                        // numpy arrays
    throw py::type_error("'" + key + "': cannot give a value of type " + py::str(py::type::of(v)).cast<std::string>() +
                         " (bool, int, float, str, or lists and dicts of them)");
}

toml::value to_toml_value(py::handle v, const std::string& key) {
    std::istringstream is("v = " + toml_literal(v, key));
    return toml::parse(is, key).as_table().at("v");
}

py::object to_python(const toml::value& v) {
    switch (v.type()) {
    case toml::value_t::boolean: return py::bool_(v.as_boolean());
    case toml::value_t::integer: return py::int_(v.as_integer());
    case toml::value_t::floating: return py::float_(v.as_floating());
    case toml::value_t::string: return py::str(v.as_string().str);
    case toml::value_t::array: {
        py::list l;
        for (auto& e: v.as_array()) l.append(to_python(e));
        return std::move(l);
    }
    case toml::value_t::table: {
        py::dict d;
        for (auto& [k, e]: v.as_table()) d[py::str(k)] = to_python(e);
        return std::move(d);
    }
    default: return py::str(toml::format(v));
    }
}

toml::value parsed(const config& c) {
    std::istringstream is(to_toml(c, false));
    return toml::parse(is, "config");
}

// A str or os.PathLike as a path.
std::string path_of(py::handle p) { return py::module_::import("os").attr("fspath")(p).cast<std::string>(); }

// ---- Config ----------------------------------------------------------------------------------

struct py_config {
    config c;

    static py_config from_text(const std::string& text, const std::string& origin, const std::string& folder) {
        return {parse_config(text, origin, default_config(), folder)};
    }

    // "section.key" or "populations.NAME.key" / "projections.NAME.key" (NAME.key alone: the element).
    py::object get(const std::string& key) const {
        const toml::value root = parsed(c);
        const auto missing = [&](const std::string& why) {
            return py::key_error("'" + key + "': " + why + " (Config.keys() lists the keys; `eisim config` explains them)");
        };
        const auto dot = key.find('.');
        const std::string sec = key.substr(0, dot);
        if (!root.as_table().count(sec)) throw missing("no section '" + sec + "'");
        const toml::value& table = root.as_table().at(sec);
        if (dot == std::string::npos) return to_python(table);
        std::string rest = key.substr(dot + 1);
        if (sec == "populations" || sec == "projections") {
            const auto d2 = rest.find('.');
            const std::string name = rest.substr(0, d2);
            for (auto& e: table.as_array()) {
                if (e.as_table().at("name").as_string().str != name) continue;
                if (d2 == std::string::npos) return to_python(e);
                const std::string k = rest.substr(d2 + 1);
                if (!e.as_table().count(k)) throw missing("population or projection " + name + " has no key '" + k + "' (with its model)");
                return to_python(e.as_table().at(k));
            }
            throw missing("no element named '" + name + "' in " + sec);
        }
        if (!table.as_table().count(rest))
            throw missing("no key '" + rest + "' in [" + sec + "] (a key of a component that is not chosen is not set)");
        return to_python(table.as_table().at(rest));
    }

    // Validated at once; a refused value leaves the config as it was.
    void set(const std::string& key, py::handle value) {
        config next = c;
        apply_override(next, key + "=" + toml_literal(value, key), true);
        c = std::move(next);
    }

    // Several keys at once, validated together (task.kind and the input's size, say).
    void update(const py::dict& values) {
        config next = c;
        for (auto [k, v]: values) {
            const std::string key = py::str(k).cast<std::string>();
            apply_override(next, key + "=" + toml_literal(v, key), false);
        }
        validate(next);
        c = std::move(next);
    }

    std::vector<std::string> keys() const {
        std::vector<std::string> out;
        const toml::value root = parsed(c);
        for (auto& [sec, table]: root.as_table()) {
            if (table.is_array()) {
                for (auto& e: table.as_array())
                    for (auto& [k, _]: e.as_table())
                        if (k != "name") out.push_back(sec + "." + e.as_table().at("name").as_string().str + "." + k);
            } else if (table.is_table()) {
                for (auto& [k, _]: table.as_table()) out.push_back(sec + "." + k);
            }
        }
        return out;
    }

    // The circuit's elements: add one (keys as in [[populations]] / [[projections]]), or remove one.
    void edit(const std::string& array, const std::function<void(toml::array&)>& f) {
        toml::value root = parsed(c);
        f(root.as_table().at(array).as_array());
        config next = parse_config(toml::format(root), "Config", default_config());
        c = std::move(next);
    }
    void add(const std::string& array, const std::string& name, const py::dict& keys) {
        toml::table t;
        t["name"] = name;
        for (auto [k, v]: keys) {
            const std::string key = py::str(k).cast<std::string>();
            t[key] = to_toml_value(v, array + "." + name + "." + key);
        }
        edit(array, [&](toml::array& a) {
            for (auto& e: a)
                if (e.as_table().at("name").as_string().str == name)
                    throw config_error(array + "." + name, "an element of that name exists; change its keys instead");
            a.push_back(toml::value(t));
        });
    }
    void remove(const std::string& array, const std::string& name) {
        edit(array, [&](toml::array& a) {
            for (auto it = a.begin(); it != a.end(); ++it)
                if (it->as_table().at("name").as_string().str == name) { a.erase(it); return; }
            throw config_error(array + "." + name, "no element of that name");
        });
    }
};

// ---- the network a config builds ----------------------------------------------------------------

// A read-only numpy view of memory that `owner` keeps alive.
template <typename T> py::array view(const T* data, std::vector<py::ssize_t> shape, std::vector<py::ssize_t> strides, py::handle owner) {
    py::array a(py::dtype::of<T>(), std::move(shape), std::move(strides), data, owner);
    py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return a;
}
template <typename T> py::array view(const std::vector<T>& v, py::handle owner) {
    return view(v.data(), {static_cast<py::ssize_t>(v.size())}, {static_cast<py::ssize_t>(sizeof(T))}, owner);
}
py::array view(const vector& v, py::handle owner) {
    return view(v.data(), {static_cast<py::ssize_t>(v.size())}, {static_cast<py::ssize_t>(sizeof(double))}, owner);
}
template <typename T> py::array copy_of(const std::vector<T>& v) {
    py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), a.mutable_data());
    return std::move(a);
}
py::array copy_of(const vector& v) {
    py::array_t<double> a(static_cast<py::ssize_t>(v.size()));
    std::copy(v.data(), v.data() + v.size(), a.mutable_data());
    return std::move(a);
}

const char* name_of(layout l) { return l == layout::dense? "dense": "lists"; }
const char* name_of(product k) { return k == product::recurrent? "recurrent": k == product::input? "input": "readout"; }
const char* name_of(side s) { return s == side::network? "network": s == side::input? "input": "output"; }

std::shared_ptr<network> build(const config& c) {
    auto net = std::make_shared<network>();
    {
        py::gil_scoped_release nogil;
        *net = build_network(c.circuit, static_cast<std::uint64_t>(c.training.seed), layout_for(c.integrator, c.circuit));
    }
    return net;
}

// ---- learning from Python ----------------------------------------------------------------------

using clock_type = std::chrono::steady_clock;

// The callback as a sink (sim/sink.hpp): fn(step, loss, accuracy) for every evaluated state, the
// final one included. The stop check after each written step runs PyErr_CheckSignals; an
// exception there or in the callback stops the run at the end of the step and is re-raised.
class python_sink: public sink {
public:
    explicit python_sink(py::object fn): fn_(std::move(fn)) {}
    void evaluated(const evaluated_view& v) override {
        if (fn_.is_none() || error_) return;
        const auto t0 = clock_type::now();
        {
            py::gil_scoped_acquire gil;
            try {
                fn_(v.step, v.loss, v.accuracy);
            } catch (py::error_already_set& e) {
                error_.emplace(std::move(e));
            }
        }
        seconds_ += std::chrono::duration<double>(clock_type::now() - t0).count();
    }
    int stop_requested() {
        const auto t0 = clock_type::now();
        {
            py::gil_scoped_acquire gil;
            if (!error_ && PyErr_CheckSignals() != 0) error_.emplace();
        }
        seconds_ += std::chrono::duration<double>(clock_type::now() - t0).count();
        return error_? SIGINT: 0;
    }
    /// The exception the callback or the signal check raised, handed over once (the GIL held).
    std::optional<py::error_already_set> take_error() { return std::exchange(error_, std::nullopt); }
    double seconds() const { return seconds_; }

private:
    py::object fn_;
    std::optional<py::error_already_set> error_;
    double seconds_ = 0; // in the callback and the stop check, the GIL's taking included
};

py::list summaries(const std::vector<projection_summary>& v) {
    py::list l;
    for (auto& p: v) {
        py::dict d;
        d["name"] = p.name, d["n"] = p.n, d["mean_ln"] = p.mean_ln, d["sd_ln"] = p.sd_ln;
        d["held_at_bound"] = p.held_at_bound, d["sign_changes"] = p.sign_changes, d["zero"] = p.zero;
        l.append(d);
    }
    return l;
}

py::dict learn_from_python(const config& c, run_options opt, py::object callback, std::optional<int> threads) {
    if (threads) {
        if (*threads < 1) throw py::value_error("threads must be at least 1");
        set_threads(*threads);
    }
    python_sink sink(std::move(callback));
    opt.own_signal_handlers = false;
    opt.stop_requested = [&] { return sink.stop_requested(); };
    run_summary s;
    try {
        py::gil_scoped_release nogil;
        s = learn(c, opt, {&sink});
    } catch (const interrupted& e) {
        const std::string note = std::string("eisim: stopped ") + e.what() + " (from Python: eisim.resume('" + opt.out + "'))";
        if (auto raised = sink.take_error()) {
            if (py::hasattr(raised->value(), "add_note")) raised->value().attr("add_note")(note);
            throw *raised;
        }
        throw std::runtime_error(note);
    }
    if (auto raised = sink.take_error()) throw *raised; // raised while the final state was evaluated: nothing is lost
    py::dict d;
    d["out"] = opt.out;
    d["initial_loss"] = s.initial_loss, d["final_loss"] = s.final_loss;
    d["initial_accuracy"] = s.initial_accuracy, d["final_accuracy"] = s.final_accuracy;
    d["accuracy_measure"] = s.accuracy_measure;
    d["heldout_trials"] = s.heldout_trials;
    d["initial_heldout_accuracy"] = s.initial_heldout_accuracy, d["final_heldout_accuracy"] = s.final_heldout_accuracy;
    d["steps"] = s.steps, d["seconds"] = s.seconds;
    d["step_seconds"] = copy_of(s.step_seconds);
    d["binding_seconds"] = sink.seconds();
    d["initial"] = summaries(s.initial), d["final"] = summaries(s.final);
    return d;
}

// ---- analysis ----------------------------------------------------------------------------------

analysis::realism realism_of(const py::kwargs& kw, const std::string& what) {
    analysis::realism r;
    for (auto [k, v]: kw) {
        const std::string key = py::str(k).cast<std::string>();
        if (key == "observe_synapses") r.observe_synapses = v.cast<double>();
        else if (key == "observe_neurons") r.observe_neurons = v.cast<double>();
        else if (key == "noise_multiplicative") r.noise_multiplicative = v.cast<double>();
        else if (key == "noise_additive") r.noise_additive = v.cast<double>();
        else if (key == "detection_threshold") r.detection_threshold = v.cast<double>();
        else if (key == "time_points") r.time_points = v.cast<long>();
        else if (key == "realism_seed") r.seed = v.cast<std::uint64_t>();
        else
            throw py::type_error(what + "() got an unexpected keyword argument '" + key +
                                 "' (the measurement's: observe_synapses, observe_neurons, noise_multiplicative, noise_additive, "
                                 "detection_threshold, time_points, realism_seed)");
    }
    r.validate();
    return r;
}

std::string analyze_json(const std::string& path, std::optional<double> from_step, std::optional<double> to_step,
                         const std::string& standardize, const py::kwargs& kw) {
    analysis::analysis_options o;
    o.from_step = from_step, o.to_step = to_step;
    o.standardize = analysis::standardization_named(standardize);
    o.measure = realism_of(kw, "analyze");
    py::gil_scoped_release nogil;
    return analysis::dump(analysis::to_json(analysis::analyze(analysis::run_file(path), o)));
}

} // namespace

PYBIND11_MODULE(_eisim, m) {
    m.doc() = "eisim's compiled core (use the eisim package: import eisim)";
    m.attr("version") = software_version;
    m.attr("git_revision") = git_revision;

    // Tried last-registered first: the most specific error wins.
    static py::exception<user_error> user_exc(m, "UserError", PyExc_ValueError);
    static py::exception<config_error> config_exc(m, "ConfigError", user_exc.ptr());
    static py::exception<divergence_error> divergence_exc(m, "DivergenceError", PyExc_RuntimeError);
    static py::exception<storage_error> storage_exc(m, "StorageError", PyExc_OSError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const config_error& e) {
            py::object err = py::reinterpret_borrow<py::object>(config_exc.ptr())(e.what());
            err.attr("key") = e.key;
            PyErr_SetObject(config_exc.ptr(), err.ptr());
        } catch (const user_error& e) {
            user_exc(e.what());
        } catch (const storage_error& e) {
            storage_exc(e.what());
        } catch (const divergence_error& e) {
            py::object err = py::reinterpret_borrow<py::object>(divergence_exc.ptr())(e.what());
            err.attr("step") = e.step;
            PyErr_SetObject(divergence_exc.ptr(), err.ptr());
        }
    });

    m.def("threads", [] { return threads(); }, "threads of the hot products (OpenMP's count)");
    m.def("set_threads", [](int n) {
        if (n < 1) throw py::value_error("threads must be at least 1");
        set_threads(n);
    }, py::arg("n"), "set the threads of the hot products (results do not depend on it)");

    py::class_<py_config>(m, "Config", "A validated run configuration (the CLI's: `eisim config` prints and explains every key).")
        .def_static("default", [] { return py_config{default_config()}; }, "the built-in defaults")
        .def_static("from_toml", [](py::object path, py::object circuit) {
            return py_config{load_config(path_of(path), circuit.is_none()? std::string(): path_of(circuit))};
        }, py::arg("path"), py::arg("circuit") = py::none(), "a TOML file on top of the defaults (circuit: a SONATA circuit_config.json to import)")
        .def_static("from_string", &py_config::from_text, py::arg("text"), py::arg("origin") = "<string>", py::arg("folder") = "",
                    "TOML text on top of the defaults (folder: where relative files are found)")
        .def_static("from_run", [](py::object path) { return py_config{config_of_run(path_of(path))}; }, py::arg("path"),
                    "the configuration a run file was written with")
        .def("to_toml", [](const py_config& self, bool comments) { return to_toml(self.c, comments); }, py::arg("comments") = false)
        .def("__getitem__", &py_config::get)
        .def("__setitem__", &py_config::set)
        .def("__contains__", [](const py_config& self, const std::string& key) {
            try {
                self.get(key);
                return true;
            } catch (py::key_error&) {
                return false;
            }
        })
        .def("update", &py_config::update, py::arg("values"), "set several keys, validated together")
        .def("keys", &py_config::keys)
        .def("add_population", [](py_config& self, const std::string& name, py::kwargs kw) { self.add("populations", name, kw); },
             py::arg("name"))
        .def("add_projection", [](py_config& self, const std::string& name, py::kwargs kw) { self.add("projections", name, kw); },
             py::arg("name"))
        .def("remove_population", [](py_config& self, const std::string& name) { self.remove("populations", name); })
        .def("remove_projection", [](py_config& self, const std::string& name) { self.remove("projections", name); })
        .def_property_readonly("populations", [](const py_config& self) {
            py::list l;
            for (auto& p: self.c.circuit.populations) l.append(p.name);
            return l;
        })
        .def_property_readonly("projections", [](const py_config& self) {
            py::list l;
            for (auto& p: self.c.circuit.projections) l.append(p.name);
            return l;
        })
        .def_property_readonly("notes", [](const py_config& self) {
            std::vector<std::string> notes = self.c.notes; // what reading it noted, then the settings that have no effect
            for (auto& n: inert_settings(self.c))
                if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
            return notes;
        })
        .def("copy", [](const py_config& self) { return self; })
        .def("__copy__", [](const py_config& self) { return self; })
        .def("__deepcopy__", [](const py_config& self, py::dict) { return self; })
        .def("__eq__", [](const py_config& a, const py_config& b) { return to_toml(a.c, false) == to_toml(b.c, false); })
        .def("__repr__", [](const py_config& self) {
            std::string pops;
            for (auto& p: self.c.circuit.populations) pops += (pops.empty()? "": ", ") + p.name + ":" + std::to_string(p.size);
            return "<eisim.Config task=" + self.c.task.kind + " credit=" + self.c.plasticity.credit + " geometry=" +
                   self.c.plasticity.geometry + " populations=[" + pops + "]>";
        });

    py::class_<projection>(m, "Projection", "A projection's synapses (models/network.hpp). Arrays are read-only.")
        .def_readonly("name", &projection::name)
        .def_readonly("pre_populations", &projection::pre_populations)
        .def_readonly("post_populations", &projection::post_populations)
        .def_readonly("connectivity", &projection::connectivity)
        .def_readonly("delay", &projection::delay)
        .def_readonly("plastic", &projection::plastic)
        .def_readonly("n_pre", &projection::n_pre)
        .def_readonly("n_post", &projection::n_post)
        .def_property_readonly("kind", [](const projection& p) { return name_of(p.kind); })
        .def_property_readonly("layout", [](const projection& p) { return name_of(p.storage); })
        .def("__len__", &projection::size)
        .def_property_readonly("pre", [](py::object self) {
            auto& p = self.cast<const projection&>();
            return p.is_dense()? copy_of(p.lists().pre): view(p.pre, self);
        }, "presynaptic index of every synapse on the pre side (a view in the lists layout, a copy in the dense one)")
        .def_property_readonly("post", [](py::object self) {
            auto& p = self.cast<const projection&>();
            return p.is_dense()? copy_of(p.lists().post): view(p.post, self);
        })
        .def_property_readonly("sign", [](py::object self) {
            auto& p = self.cast<const projection&>();
            return p.is_dense()? copy_of(p.lists().sign): view(p.sign, self);
        }, "+1 or -1: the presynaptic population's sign (Dale's law)")
        .def_property_readonly("magnitudes", [](py::object self) {
            auto& p = self.cast<const projection&>();
            return p.is_dense()? copy_of(p.magnitudes()): view(p.m, self);
        }, "m >= 0 of every synapse; the weight is sign * m")
        .def_property_readonly("weights", [](const projection& p) { return copy_of(p.signed_weights()); }, "sign * m (a copy)")
        .def_property_readonly("W", [](py::object self) -> py::array {
            auto& p = self.cast<const projection&>();
            const auto r = static_cast<py::ssize_t>(p.n_post), k = static_cast<py::ssize_t>(p.n_pre);
            if (p.is_dense()) return view(p.W.data(), {r, k}, {8, 8*r}, self);
            const matrix W = p.dense();
            py::array_t<double, py::array::f_style> a({r, k});
            std::copy(W.data(), W.data() + W.size(), a.mutable_data());
            return std::move(a);
        }, "the signed n_post x n_pre matrix (a view in the dense layout, a copy in the lists one)")
        .def_property_readonly("mask", [](const projection& p) {
            const auto r = static_cast<py::ssize_t>(p.n_post), k = static_cast<py::ssize_t>(p.n_pre);
            py::array_t<bool, py::array::f_style> a({r, k});
            bool* d = a.mutable_data();
            if (p.is_dense()) std::copy(p.present.begin(), p.present.end(), d);
            else {
                std::fill(d, d + r*k, false);
                for (std::size_t s = 0; s < p.pre.size(); ++s) d[static_cast<std::size_t>(p.pre[s])*r + p.post[s]] = true;
            }
            return a;
        }, "which entries of W are synapses (a copy)")
        .def("_address", [](const projection& p, const std::string& what) -> std::uintptr_t {
            if (what == "pre") return reinterpret_cast<std::uintptr_t>(p.pre.data());
            if (what == "post") return reinterpret_cast<std::uintptr_t>(p.post.data());
            if (what == "sign") return reinterpret_cast<std::uintptr_t>(p.sign.data());
            if (what == "magnitudes") return reinterpret_cast<std::uintptr_t>(p.m.data());
            if (what == "W") return reinterpret_cast<std::uintptr_t>(p.W.data());
            throw py::value_error(what);
        }, "where the C++ side holds an array (tests: the views are zero-copy)")
        .def("__repr__", [](const projection& p) {
            return "<eisim.Projection " + p.name + ": " + std::to_string(p.size()) + " synapses, " + name_of(p.kind) + ", " +
                   name_of(p.storage) + ">";
        });

    py::class_<network, std::shared_ptr<network>>(m, "Network", "The network a config builds (its initial state).")
        .def_readonly("n_e", &network::n_e)
        .def_readonly("n_i", &network::n_i)
        .def_readonly("n_in", &network::n_in)
        .def_readonly("n_out", &network::n_out)
        .def_property_readonly("n", &network::n)
        .def_property_readonly("tau", [](py::object self) { return view(self.cast<const network&>().tau, self); }, "[N] ms")
        .def_property_readonly("cell_sign", [](py::object self) { return view(self.cast<const network&>().cell_sign, self); })
        .def_property_readonly("bias", [](py::object self) { return view(self.cast<const network&>().bias, self); })
        .def_property_readonly("populations", [](const network& n) {
            py::list l;
            for (auto& p: n.populations) {
                py::dict d;
                d["name"] = p.name, d["model"] = p.model, d["side"] = name_of(p.side), d["first"] = p.first, d["size"] = p.size;
                d["sign"] = p.sign, d["tau_ms"] = p.tau_ms, d["bias"] = p.bias;
                l.append(d);
            }
            return l;
        })
        .def_property_readonly("projections", [](py::object self) {
            auto& n = self.cast<network&>();
            py::dict d;
            for (auto& p: n.projections) d[py::str(p.name)] = py::cast(&p, py::return_value_policy::reference_internal, self);
            return d;
        });

    m.def("build", [](const py_config& c) { return build(c.c); }, py::arg("config"),
          "the network the config builds, drawn from its seed (as `eisim run` does)");

    m.def("simulate", [](const py_config& c, const std::string& out, bool overwrite) {
        run_options opt;
        opt.out = out, opt.overwrite = overwrite, opt.quiet = true;
        py::gil_scoped_release nogil;
        simulate(c.c, opt);
    }, py::arg("config"), py::arg("out"), py::arg("overwrite") = false);

    m.def("train", [](const py_config& c, const std::string& out, py::object callback, bool overwrite, bool quiet, std::optional<int> threads) {
        // A setting that has no effect (the CLI's note): a UserWarning, whether quiet or not.
        for (auto& n: inert_settings(c.c))
            if (PyErr_WarnEx(PyExc_UserWarning, ("eisim: " + n).c_str(), 1) != 0) throw py::error_already_set();
        run_options opt;
        opt.out = out, opt.overwrite = overwrite, opt.quiet = quiet;
        return learn_from_python(c.c, opt, std::move(callback), threads);
    }, py::arg("config"), py::arg("out"), py::arg("callback") = py::none(), py::arg("overwrite") = false, py::arg("quiet") = true,
       py::arg("threads") = py::none());

    m.def("resume", [](const std::string& path, py::object callback, bool quiet, std::optional<int> threads) {
        run_options opt;
        opt.out = path, opt.resume = true, opt.quiet = quiet;
        const config c = config_of_run(path);
        return learn_from_python(c, opt, std::move(callback), threads);
    }, py::arg("path"), py::arg("callback") = py::none(), py::arg("quiet") = true, py::arg("threads") = py::none());

    m.def("analyze_json", &analyze_json, py::arg("path"), py::arg("from_step") = py::none(), py::arg("to_step") = py::none(),
          py::arg("standardize") = "per-neuron");

    m.def("export_sonata", [](const std::string& run, const std::string& out_dir, const std::string& step, bool trajectory,
                              bool overwrite, py::kwargs kw) {
        analysis::sonata_export_options o;
        o.out_dir = out_dir, o.step = step, o.trajectory = trajectory, o.overwrite = overwrite;
        o.measure = realism_of(kw, "export_sonata");
        analysis::sonata_export_summary s;
        {
            py::gil_scoped_release nogil;
            s = analysis::export_sonata(analysis::run_file(run), o);
        }
        py::dict d;
        d["files"] = s.files, d["snapshot"] = s.snapshot, d["step"] = s.step;
        py::dict edges;
        for (auto& [pop, n]: s.edges) edges[py::str(pop)] = n;
        d["edges"] = edges;
        return d;
    }, py::arg("run"), py::arg("out_dir"), py::arg("step") = "last", py::arg("trajectory") = false, py::arg("overwrite") = false);

    m.def("export_csv", [](const std::string& run, const std::string& out, bool overwrite, py::kwargs kw) {
        analysis::csv_export_options o;
        o.out = out, o.overwrite = overwrite;
        o.measure = realism_of(kw, "export_csv");
        py::gil_scoped_release nogil;
        return analysis::export_csv(analysis::run_file(run), o);
    }, py::arg("run"), py::arg("out"), py::arg("overwrite") = false);

    m.def("sweep_plan", [](py::object path) {
        const sweep::sweep_plan plan = sweep::read_sweep(path_of(path));
        py::list points;
        for (auto& p: plan.points) {
            py::dict values;
            for (std::size_t k = 0; k < plan.swept_keys.size() && k < p.values.size(); ++k) {
                std::istringstream is("v = " + p.values[k].toml); // as TOML writes it
                values[py::str(plan.swept_keys[k])] = to_python(toml::parse(is, "sweep").as_table().at("v"));
            }
            py::dict d;
            d["id"] = p.id, d["combination"] = p.combination, d["values"] = values, d["config"] = py_config{p.resolved};
            points.append(d);
        }
        py::dict d;
        d["file"] = plan.file, d["base"] = plan.base, d["sets"] = plan.sets, d["swept_keys"] = plan.swept_keys;
        d["combinations"] = plan.combinations, d["points"] = points, d["notes"] = plan.notes;
        return d;
    }, py::arg("path"));

    m.def("observe", [](const std::vector<std::string>& inputs, const std::string& out, double noise, long subsample_period,
                        int probe_trials, std::uint64_t probe_seed, bool geometry_test, bool overwrite, bool quiet, py::kwargs kw) {
        observe::observe_options o;
        o.out = out, o.noise = noise, o.subsample_period = subsample_period, o.probe_trials = probe_trials;
        o.probe_seed = probe_seed, o.geometry_test = geometry_test, o.overwrite = overwrite, o.quiet = quiet;
        o.measure = realism_of(kw, "observe");
        observe::observe_summary s;
        {
            py::gil_scoped_release nogil;
            s = observe::observe(inputs, o);
        }
        py::dict d;
        d["runs"] = s.runs, d["rows"] = s.rows, d["features"] = s.features, d["dropped"] = s.dropped, d["left_out"] = s.left_out;
        return d;
    }, py::arg("inputs"), py::arg("out"), py::arg("noise") = 0.0, py::arg("subsample_period") = 0, py::arg("probe_trials") = 32,
       py::arg("probe_seed") = 1, py::arg("geometry_test") = true, py::arg("overwrite") = false, py::arg("quiet") = true);
}
