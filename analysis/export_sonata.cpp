#include "analysis/export_sonata.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>

#include "analysis/export_common.hpp"
#include "analysis/json.hpp"
#include "io/h5.hpp"
#include "models/error.hpp"

namespace eisim::analysis {

namespace fs = std::filesystem;

namespace {

// The SONATA names.
constexpr std::uint32_t sonata_magic = 0x0A7A;
const std::vector<std::uint32_t> sonata_version = {0, 1};
const std::string network_population = "network", input_population = "input";
// node_type_id of each population (node_types.csv; 0 for readouts, which are no nodes): 100 + its
// position among the network's populations (E = 100, I = 101 in the default circuit), then the
// input populations from the next free hundred (200, 201, ... for up to 100 network populations).
std::vector<std::uint64_t> node_type_ids(const run_file& run) {
    const auto& pops = run.populations();
    std::uint64_t networks = 0;
    for (auto& q: pops) networks += q.side == network_population;
    const std::uint64_t input_base = 100*(1 + std::max<std::uint64_t>(1, (networks + 99)/100));
    std::vector<std::uint64_t> ids(pops.size(), 0);
    std::uint64_t n = 0, i = 0;
    for (std::size_t j = 0; j < pops.size(); ++j) {
        if (pops[j].side == network_population) ids[j] = 100 + n++;
        else if (pops[j].side == input_population) ids[j] = input_base + i++;
    }
    return ids;
}

const char* const nodes_file = "nodes.h5";
const char* const edges_file = "edges.h5";
const char* const node_types_file = "node_types.csv";
const char* const edge_types_file = "edge_types.csv";
const char* const config_file = "circuit_config.json";
const char* const spikes_file = "spikes.h5"; // spiking runs: the spikes of trial 0
std::string report_file(const std::string& proj) { return "weights_" + proj + ".h5"; }

// Files are written under a temporary name and renamed together at the end; whatever was not
// committed is removed, so a failed export leaves nothing half-written.
class staged_files {
public:
    explicit staged_files(std::string dir): dir_(std::move(dir)) {}
    staged_files(const staged_files&) = delete;
    staged_files& operator=(const staged_files&) = delete;
    ~staged_files() {
        std::error_code ec;
        for (auto& name: names_) fs::remove(partial(name), ec);
    }
    /// The temporary path to write `name` to.
    std::string add(const std::string& name) {
        names_.push_back(name);
        return partial(name);
    }
    std::vector<std::string> commit() {
        std::vector<std::string> done;
        for (auto& name: names_) {
            std::error_code ec;
            fs::rename(partial(name), final_path(name), ec);
            if (ec) throw user_error("cannot write '" + final_path(name) + "': " + ec.message());
            done.push_back(final_path(name));
        }
        names_.clear();
        return done;
    }
    std::string final_path(const std::string& name) const { return (fs::path(dir_)/name).string(); }

private:
    std::string dir_;
    std::vector<std::string> names_;
    std::string partial(const std::string& name) const { return final_path(name) + ".partial"; }
};

void write_sonata_root(hid_t file) {
    h5::write_attr(file, "magic", sonata_magic);
    h5::write_attr(file, "version", sonata_version);
}

std::vector<std::uint64_t> iota_u64(std::size_t n) {
    std::vector<std::uint64_t> v(n);
    std::iota(v.begin(), v.end(), std::uint64_t{0});
    return v;
}

// The projections SONATA can hold: both ends in a node population.
bool is_sonata_projection(const projection_info& p) {
    const auto node_pop = [](const std::string& s) { return s == network_population || s == input_population; };
    return node_pop(p.pre_population) && node_pop(p.post_population);
}

// What nodes.h5 needs beyond run_file: /network/tau and /network attr transfer (both optional).
struct cell_properties {
    std::vector<double> tau; // ms; empty when the file has none
    std::string transfer;
};

cell_properties read_cell_properties(const run_file& run) {
    cell_properties c;
    auto file = h5::open_file(run.path());
    auto net = h5::open_group(file, "network");
    if (h5::exists(net, "tau")) {
        c.tau = h5::read_double(net, "tau");
        if (static_cast<long>(c.tau.size()) != network_size(run))
            throw file_error("'" + run.path() + "': /network/tau has " + std::to_string(c.tau.size()) +
                             " values for " + std::to_string(network_size(run)) + " cells");
    }
    if (h5::has_attr(net, "transfer")) c.transfer = h5::read_attr_string(net, "transfer");
    return c;
}

// ---- nodes.h5 -------------------------------------------------------------------------------

void write_node_population(hid_t nodes, const std::string& name, const std::vector<std::uint64_t>& type_id) {
    auto pop = h5::create_group(nodes, name);
    h5::write(pop, "node_id", iota_u64(type_id.size()));
    h5::write(pop, "node_type_id", type_id);
    h5::write(pop, "node_group_id", std::vector<std::uint32_t>(type_id.size(), 0));
    h5::write(pop, "node_group_index", iota_u64(type_id.size()));
}

// The node type and the name of each population's nodes on one side, in index order.
struct side_nodes {
    std::vector<std::uint64_t> type;
    std::vector<std::string> pop_name;
    std::vector<const population_info*> population; // of each node
};

side_nodes nodes_of(const run_file& run, const std::string& side) {
    side_nodes n;
    const auto& pops = run.populations();
    const auto type_id = node_type_ids(run);
    for (std::size_t j = 0; j < pops.size(); ++j) {
        if (pops[j].side != side) continue;
        const auto size = static_cast<std::size_t>(pops[j].size);
        n.type.insert(n.type.end(), size, type_id[j]);
        n.pop_name.insert(n.pop_name.end(), size, pops[j].name);
        n.population.insert(n.population.end(), size, &pops[j]);
    }
    return n;
}

void write_nodes(const std::string& path, const run_file& run, const cell_properties& props,
                 const std::vector<bool>& cells) {
    auto file = h5::create_file(path);
    write_sonata_root(file);
    auto nodes = h5::create_group(file, "nodes");
    {
        const auto net = nodes_of(run, network_population);
        const std::size_t N = net.type.size();
        std::vector<std::string> ei(N);
        std::vector<std::int8_t> observed(N);
        for (std::size_t i = 0; i < N; ++i) {
            ei[i] = net.population[i]->sign > 0? "e": "i";
            observed[i] = cells[i]? 1: 0;
        }
        write_node_population(nodes, network_population, net.type);
        auto group = h5::create_group(nodes, network_population + "/0");
        h5::write(group, "ei", ei);
        h5::write(group, "pop_name", net.pop_name);
        if (!props.tau.empty()) h5::write(group, "tau", props.tau);
        h5::write(group, "observed", observed);
    }
    {
        const auto in = nodes_of(run, input_population);
        write_node_population(nodes, input_population, in.type);
        auto group = h5::create_group(nodes, input_population + "/0");
        h5::write(group, "pop_name", in.pop_name);
        h5::write(group, "observed", std::vector<std::int8_t>(in.type.size(), 1));
    }
}

void write_node_types(const std::string& path, const run_file& run, const cell_properties& props) {
    std::ofstream os(path);
    os << "node_type_id population model_type model_template ei pop_name\n";
    const auto& pops = run.populations();
    const auto type_id = node_type_ids(run);
    for (std::size_t j = 0; j < pops.size(); ++j) {
        const auto& q = pops[j];
        // The population's own transfer function (version 2 files), else the network's.
        const std::string& phi = q.transfer.empty()? props.transfer: q.transfer;
        const std::string transfer = phi.empty()? std::string(): "_" + phi;
        if (q.side == network_population)
            os << type_id[j] << ' ' << network_population << " point_neuron eisim:" << q.model << "_neuron" << transfer << ' '
               << (q.sign > 0? "e": "i") << ' ' << q.name << '\n';
        else if (q.side == input_population)
            os << type_id[j] << ' ' << input_population << " virtual NULL NULL " << q.name << '\n';
    }
    if (!os) throw user_error("writing '" + path + "' failed");
}

// ---- edges.h5 -------------------------------------------------------------------------------

struct edge_type {
    std::string population, source_class, target_class; // the projection; the endpoints' populations
    int sign;
};

// edge_type_id = S q + (2 a + [sign < 0]) B + b: q = 1, 2, ... the exported projection's position,
// a and b the positions of the source and target populations in the projection's pre_populations
// and post_populations, B = max(2, #post_populations), S = 100 (or the power of ten that makes
// room for every projection's types). The default circuit keeps fixed ids: recurrent E→E = 100,
// E→I = 101, I→E = 106, I→I = 107; input→E = 200, input→I = 201.
struct edge_type_ids {
    std::uint64_t stride = 100;
    static std::uint64_t span(const projection_info& p) { return std::max<std::uint64_t>(2, p.post_populations.size()); }
    explicit edge_type_ids(const std::vector<const projection_info*>& projections) {
        for (auto* p: projections)
            while (stride < 2*p->pre_populations.size()*span(*p)) stride *= 10;
    }
    std::uint64_t operator()(int q, const projection_info& p, std::size_t a, int sign, std::size_t b) const {
        return stride*static_cast<std::uint64_t>(q) + (2*a + (sign < 0))*span(p) + b;
    }
};

// The position of population `name` in `list`.
std::size_t position_in(const std::vector<std::string>& list, const std::string& name) {
    return static_cast<std::size_t>(std::find(list.begin(), list.end(), name) - list.begin());
}

void write_index(hid_t indices, const std::string& name, const std::vector<std::uint64_t>& node_of_edge, std::uint64_t n_nodes) {
    const auto index = build_edge_index(node_of_edge, n_nodes);
    auto g = h5::create_group(indices, name);
    h5::write(g, "node_id_to_ranges", index.node_id_to_ranges.data(), {n_nodes, 2});
    // bmtk (1.0.6) spells it node_id_to_range: a second name for the same dataset.
    h5::hard_link(g, "node_id_to_ranges", "node_id_to_range");
    h5::write(g, "range_to_edge_id", index.range_to_edge_id.data(), {index.range_to_edge_id.size()/2, 2});
}

void write_edge_population(hid_t edges, const run_file& run, int q, const edge_type_ids& type_id, const observed_edges& e,
                           std::map<std::uint64_t, edge_type>& types) {
    const auto& p = *e.projection;
    const auto n = static_cast<std::size_t>(e.size());
    std::vector<std::uint64_t> source(n), target(n), type(n), synapse(n);
    std::vector<std::int8_t> sign(n);
    for (std::size_t i = 0; i < n; ++i) {
        const long k = e.synapse[i];
        source[i] = static_cast<std::uint64_t>(p.pre[k]);
        target[i] = static_cast<std::uint64_t>(p.post[k]);
        sign[i] = static_cast<std::int8_t>(p.sign[k]);
        synapse[i] = static_cast<std::uint64_t>(k);
        const edge_type t{p.name, run.population_of(p.pre_population, p.pre[k]).name,
                          run.population_of(p.post_population, p.post[k]).name, p.sign[k] < 0? -1: 1};
        type[i] = type_id(q, p, position_in(p.pre_populations, t.source_class), t.sign,
                          position_in(p.post_populations, t.target_class));
        types.emplace(type[i], t);
    }
    auto pop = h5::create_group(edges, p.name);
    h5::write(pop, "source_node_id", source);
    h5::write_attr_vlen(h5::open_dataset(pop, "source_node_id"), "node_population", p.pre_population);
    h5::write(pop, "target_node_id", target);
    h5::write_attr_vlen(h5::open_dataset(pop, "target_node_id"), "node_population", p.post_population);
    h5::write(pop, "edge_type_id", type);
    h5::write(pop, "edge_group_id", std::vector<std::uint32_t>(n, 0));
    h5::write(pop, "edge_group_index", iota_u64(n));
    auto group = h5::create_group(pop, "0");
    h5::write(group, "syn_weight", std::vector<double>(e.weight.data(), e.weight.data() + n));
    h5::write(group, "initial_weight", std::vector<double>(e.initial.data(), e.initial.data() + n));
    h5::write(group, "sign", sign);
    h5::write(group, "synapse_id", synapse);
    auto indices = h5::create_group(pop, "indices");
    write_index(indices, "source_to_target", source, static_cast<std::uint64_t>(run.side_size(p.pre_population)));
    write_index(indices, "target_to_source", target, static_cast<std::uint64_t>(run.side_size(p.post_population)));
}

void write_edge_types(const std::string& path, const std::map<std::uint64_t, edge_type>& types) {
    std::ofstream os(path);
    os << "edge_type_id population source_class target_class sign\n";
    for (auto& [id, t]: types)
        os << id << ' ' << t.population << ' ' << t.source_class << ' ' << t.target_class << ' ' << t.sign << '\n';
    if (!os) throw user_error("writing '" + path + "' failed");
}

// ---- weights_<proj>.h5: the trajectory as a SONATA report --------------------------------------

// [start, stop, step] of the report frames and their unit: learning steps when the kept snapshots
// are evenly spaced (stop is open: one step past the last frame), else frame numbers 0..K−1.
std::pair<std::vector<double>, std::string> report_time(const std::vector<double>& steps) {
    const std::size_t K = steps.size();
    if (K == 1) return {{steps[0], steps[0] + 1, 1}, "learning_step"};
    const double d = steps[1] - steps[0];
    bool even = d > 0;
    for (std::size_t j = 1; j < K && even; ++j) even = steps[j] - steps[j - 1] == d;
    if (even) return {{steps[0], steps[K - 1] + d, d}, "learning_step"};
    return {{0, static_cast<double>(K), 1}, "snapshot"};
}

void write_report(const std::string& path, const run_file& run, const observed_edges& e, const realism& r) {
    const auto& p = *e.projection;
    const auto n = static_cast<std::size_t>(e.size());
    if (n > std::numeric_limits<std::uint32_t>::max())
        throw user_error("projection '" + p.name + "': too many edges for a SONATA report (element_ids are uint32)");
    // Elements: the edges grouped by target node (ascending), by edge id within a node.
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return p.post[e.synapse[a]] < p.post[e.synapse[b]];
    });
    std::vector<std::uint64_t> node_ids, index_pointers;
    std::vector<std::uint32_t> element_ids(n);
    for (std::size_t j = 0; j < n; ++j) {
        const auto node = static_cast<std::uint64_t>(p.post[e.synapse[order[j]]]);
        if (node_ids.empty() || node_ids.back() != node) {
            node_ids.push_back(node);
            index_pointers.push_back(j);
        }
        element_ids[j] = static_cast<std::uint32_t>(order[j]); // the edge id in edges.h5
    }
    index_pointers.push_back(n);

    const auto rows = kept_time_points(r.time_points, run.snapshots());
    std::vector<double> steps;
    for (long t: rows) steps.push_back(run.steps()[static_cast<std::size_t>(t)]);

    auto file = h5::create_file(path);
    write_sonata_root(file);
    auto report = h5::create_group(file, "report");
    auto pop = h5::create_group(report, p.post_population);
    h5::write_attr_vlen(pop, "edge_population", p.name);
    h5::write_attr_vlen(pop, "variable", std::string("syn_weight"));
    if (n > 0) {
        h5::row_appender data(pop, "data", n, /*float32=*/true);
        std::vector<double> row(n);
        for (long t: rows) {
            const vector w = measure(r, p.name, t, run.weights(p.name, t), e.synapse);
            for (std::size_t j = 0; j < n; ++j) row[j] = w[static_cast<long>(order[j])];
            data.append(row.data());
        }
    } else {
        h5::write(pop, "data", static_cast<const double*>(nullptr), {rows.size(), 0});
    }
    h5::write_attr_vlen(h5::open_dataset(pop, "data"), "units", std::string("1"));
    // bmtk's CompartmentReport reads the variable from the data, not from the population group.
    h5::write_attr_vlen(h5::open_dataset(pop, "data"), "variable", std::string("syn_weight"));
    auto mapping = h5::create_group(pop, "mapping");
    h5::write(mapping, "node_ids", node_ids);
    h5::write_attr(h5::open_dataset(mapping, "node_ids"), "sorted", std::int8_t{1});
    h5::write(mapping, "index_pointers", index_pointers);
    // bmtk (1.0.6) spells it index_pointer: a second name for the same dataset.
    h5::hard_link(mapping, "index_pointers", "index_pointer");
    h5::write(mapping, "element_ids", element_ids);
    // bmtk needs each element's position along its section; a point neuron has none, and bmtk's
    // own point-neuron reports (pointnet's multimeter) write 0.0.
    h5::write(mapping, "element_pos", std::vector<double>(n, 0.0));
    const auto [time, unit] = report_time(steps);
    h5::write(mapping, "time", time);
    h5::write_attr_vlen(h5::open_dataset(mapping, "time"), "units", unit);
    h5::write(mapping, "learning_step", steps);
}

// ---- circuit_config.json --------------------------------------------------------------------

json file_entry(const char* key, const std::string& file, const char* types_key, const std::string& types_file,
                const std::vector<std::pair<std::string, std::string>>& populations) {
    json e = json::object();
    e[key] = "$BASE_DIR/" + file;
    e[types_key] = "$BASE_DIR/" + types_file;
    json pops = json::object();
    for (auto& [name, type]: populations) {
        json pop = json::object();
        pop["type"] = type;
        pops[name] = pop;
    }
    e["populations"] = pops;
    return e;
}

void write_circuit_config(const std::string& path, const run_file& run, const sonata_export_summary& s,
                          const std::vector<std::string>& edge_populations, const sonata_export_options& o, bool spikes) {
    json root = json::object();
    root["version"] = 2;
    json manifest = json::object();
    manifest["$BASE_DIR"] = ".";
    root["manifest"] = manifest;
    root["components"] = json::object();
    json networks = json::object();
    json nodes = json::array(), edges = json::array();
    nodes.push_back(file_entry("nodes_file", nodes_file, "node_types_file", node_types_file,
                               {{network_population, "point_neuron"}, {input_population, "virtual"}}));
    std::vector<std::pair<std::string, std::string>> eps;
    for (auto& name: edge_populations) eps.emplace_back(name, "chemical");
    edges.push_back(file_entry("edges_file", edges_file, "edge_types_file", edge_types_file, eps));
    networks["nodes"] = nodes;
    networks["edges"] = edges;
    root["networks"] = networks;
    // Provenance (an implementation-specific section, which SONATA readers ignore).
    json eisim = json::object();
    std::error_code ec;
    eisim["run_file"] = fs::absolute(run.path(), ec).lexically_normal().string();
    eisim["snapshot"] = s.snapshot;
    eisim["learning_step"] = std::llround(s.step);
    eisim["realism"] = o.measure.describe();
    if (o.trajectory) {
        json reports = json::object();
        for (auto& name: edge_populations) reports[name] = "$BASE_DIR/" + report_file(name);
        eisim["weight_reports"] = reports;
    }
    if (spikes) {
        eisim["spikes"] = "$BASE_DIR/" + std::string(spikes_file);
        eisim["spikes_trial"] = 0;
    }
    root["eisim"] = eisim;
    std::ofstream os(path);
    os << dump(root) << '\n';
    if (!os) throw user_error("writing '" + path + "' failed");
}

// ---- spikes.h5: a spiking run's spikes (docs/spiking.md), SONATA's spike file ---------------

// Where the spikes to export are: /spikes (eisim simulate), or the spikes a learning run recorded
// at the exported snapshot's learning step (/activity/step_<k>/spikes); "" if neither.
std::string spikes_group(const run_file& run, long step) {
    auto f = h5::open_file(run.path());
    if (h5::exists(f, "spikes")) return "spikes";
    const std::string at = "activity/step_" + std::to_string(step) + "/spikes";
    return h5::exists(f, at)? at: "";
}

// The spikes of trial 0 in group `from` of the run, one SONATA population per node population ("network",
// "input"), node ids those of nodes.h5 (the side index), sorted by time then node; the network's
// only of the observed cells (a measurement records the cells it observes).
void write_spikes(const std::string& path, const run_file& run, const std::string& from, const std::vector<bool>& cells) {
    auto in = h5::open_file(run.path());
    auto out = h5::create_file(path);
    write_sonata_root(out);
    auto spikes = h5::create_group(out, "spikes");
    for (const std::string& side: {network_population, input_population}) {
        std::vector<std::pair<double, std::uint64_t>> all;
        for (auto& p: run.populations()) {
            if (p.side != side || !h5::exists(in, from + "/" + p.name)) continue;
            auto g = h5::open_group(in, from + "/" + p.name);
            const auto t = h5::read_double(g, "timestamps");
            const auto node = h5::read_int(g, "node_ids");
            const auto trial = h5::read_int(g, "trial_ids");
            for (std::size_t q = 0; q < t.size(); ++q) {
                const auto id = static_cast<std::uint64_t>(p.first + node[q]);
                if (trial[q] == 0 && (side != network_population || cells[static_cast<std::size_t>(id)])) all.emplace_back(t[q], id);
            }
        }
        std::sort(all.begin(), all.end());
        std::vector<double> t(all.size());
        std::vector<std::uint64_t> node(all.size());
        for (std::size_t q = 0; q < all.size(); ++q) std::tie(t[q], node[q]) = all[q];
        auto g = h5::create_group(spikes, side);
        h5::write_attr(g, "sorting", std::string("by_time"));
        h5::write(g, "timestamps", t);
        {
            h5::handle ts(H5Dopen2(g, "timestamps", H5P_DEFAULT), H5Dclose);
            h5::write_attr(ts, "units", std::string("ms"));
        }
        h5::write(g, "node_ids", node);
    }
}

std::vector<std::string> planned_files(const std::vector<const projection_info*>& projections, bool trajectory, bool spikes) {
    std::vector<std::string> names = {nodes_file, edges_file, node_types_file, edge_types_file, config_file};
    if (spikes) names.push_back(spikes_file);
    if (trajectory)
        for (auto* p: projections) names.push_back(report_file(p->name));
    return names;
}

} // namespace

edge_index build_edge_index(const std::vector<std::uint64_t>& node_of_edge, std::uint64_t n_nodes) {
    // The runs of consecutive edges with the same node, collected per node in edge order.
    std::vector<std::vector<std::uint64_t>> ranges(static_cast<std::size_t>(n_nodes));
    const std::size_t n = node_of_edge.size();
    for (std::size_t start = 0; start < n;) {
        std::size_t end = start + 1;
        while (end < n && node_of_edge[end] == node_of_edge[start]) ++end;
        const auto node = node_of_edge[start];
        EISIM_ASSERT(node < n_nodes);
        ranges[static_cast<std::size_t>(node)].push_back(start);
        ranges[static_cast<std::size_t>(node)].push_back(end);
        start = end;
    }
    edge_index index;
    index.node_id_to_ranges.reserve(2*static_cast<std::size_t>(n_nodes));
    std::uint64_t offset = 0;
    for (auto& r: ranges) {
        const std::uint64_t count = r.size()/2;
        index.node_id_to_ranges.push_back(offset);
        index.node_id_to_ranges.push_back(offset + count);
        index.range_to_edge_id.insert(index.range_to_edge_id.end(), r.begin(), r.end());
        offset += count;
    }
    return index;
}

sonata_export_summary export_sonata(const run_file& run, const sonata_export_options& o) {
    o.measure.validate();
    if (o.measure.time_points != 0 && !o.trajectory)
        throw user_error("--time-points thins the weight trajectory: use it with --trajectory");
    if (o.out_dir.empty()) throw user_error("export sonata needs --out DIR");
    sonata_export_summary s;
    s.snapshot = snapshot_index(run, o.step);
    s.step = run.steps()[static_cast<std::size_t>(s.snapshot)];
    std::vector<const projection_info*> projections;
    for (auto& p: run.projections())
        if (is_sonata_projection(p)) projections.push_back(&p);
    if (projections.empty()) throw file_error("'" + run.path() + "' holds no projection between cells or input channels");

    // Check everything before writing anything.
    std::error_code ec;
    if (fs::exists(o.out_dir, ec) && !fs::is_directory(o.out_dir, ec))
        throw user_error("--out '" + o.out_dir + "' exists and is not a directory");
    const std::string spikes_from = spikes_group(run, s.step);
    const bool spiking = !spikes_from.empty();
    const auto names = planned_files(projections, o.trajectory, spiking);
    for (auto& name: names) check_new_file((fs::path(o.out_dir)/name).string(), o.overwrite);
    const auto props = read_cell_properties(run);
    const auto cells = observed_cells(o.measure, network_size(run));
    std::vector<observed_edges> observed;
    for (auto* p: projections) observed.push_back(observe_edges(run, *p, o.measure, cells, s.snapshot));

    fs::create_directories(o.out_dir, ec);
    if (ec) throw user_error("cannot create the directory '" + o.out_dir + "': " + ec.message());
    staged_files staged(o.out_dir);
    write_nodes(staged.add(nodes_file), run, props, cells);
    write_node_types(staged.add(node_types_file), run, props);
    const edge_type_ids type_id(projections);
    std::map<std::uint64_t, edge_type> types;
    std::vector<std::string> edge_populations;
    {
        auto file = h5::create_file(staged.add(edges_file));
        write_sonata_root(file);
        auto edges = h5::create_group(file, "edges");
        for (std::size_t q = 0; q < observed.size(); ++q) {
            write_edge_population(edges, run, static_cast<int>(q) + 1, type_id, observed[q], types);
            edge_populations.push_back(observed[q].projection->name);
            s.edges.emplace_back(observed[q].projection->name, observed[q].size());
        }
    }
    write_edge_types(staged.add(edge_types_file), types);
    if (o.trajectory)
        for (auto& e: observed) write_report(staged.add(report_file(e.projection->name)), run, e, o.measure);
    if (spiking) write_spikes(staged.add(spikes_file), run, spikes_from, cells);
    write_circuit_config(staged.add(config_file), run, s, edge_populations, o, spiking);
    s.files = staged.commit();
    return s;
}

} // namespace eisim::analysis
