#!/usr/bin/env python3
"""eisim's SONATA export read by the Allen Institute's Brain Modeling Toolkit (Debian python3-bmtk
1.0.6) with bmtk's own readers, as they stand (no renaming, no patching):

  * bmtk.utils.sonata.File opens nodes.h5 + node_types.csv and edges.h5 + edge_types.csv: every
    node's id, pop_name, ei and model_type are those of the run file's populations; every edge of
    every edge population (in edge order) has the run file's source and target, sign,
    initial_weight and, as syn_weight, the weight of /trajectory/<proj>/weight at the exported
    snapshot; get_target(t) and get_source(s) (bmtk's use of the indices, which need its spelling
    node_id_to_range) return each edge of node t (s) exactly once, for every node;
  * bmtk.utils.reports.CompartmentReport opens each weights_<proj>.h5 (--trajectory): variable
    syn_weight, the recorded steps as its time axis, and for every target node its elements are
    that node's edges, with data equal to the recorded weights of those synapses at every
    snapshot (float32, as the report stores them).
Every expectation is computed from the run file (h5py). The snapshot exported is a middle one
(--step), whose weights differ from the last snapshot's, so syn_weight is checked at that step.

  bmtk_export.py --eisim BUILD/eisim --source SOURCE_DIR --work DIR
Exit 0 when every check passes, 1 when one fails, 77 when bmtk (or h5py, numpy) cannot be imported.
"""
import argparse
import os
import subprocess
import sys


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eisim", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    try:
        import h5py
        import numpy as np
        from bmtk.utils.reports import CompartmentReport
        from bmtk.utils.sonata import File
    except ImportError as e:
        print(f"skipped: {e} (apt-get install python3-bmtk)")
        return 77

    os.makedirs(a.work, exist_ok=True)
    failures = []

    def check(ok, what):
        if not ok:
            print("FAIL: " + what)
            failures.append(what)
        return ok

    # A small four-population circuit (E, PV, SST, VIP; input onto E and PV only, so some nodes
    # have no input edge), 4 learning steps recorded every 2: snapshots at steps 0, 2, 4.
    run = os.path.join(a.work, "v1.h5")
    sizes = {"E": 24, "PV": 4, "SST": 3, "VIP": 3, "in": 6}
    cmd = [a.eisim, "run", os.path.join(a.source, "examples", "v1_four_populations.toml"), "--out", run,
           "--overwrite", "--quiet", "--set", "task.batch=4", "--set", "task.duration_ms=50",
           "--set", "training.steps=4", "--set", "training.record_every=2"]
    for name, size in sizes.items():
        cmd += ["--set", f"populations.{name}.size={size}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    # The expectation, from the run file.
    with h5py.File(run, "r") as f:
        steps = f["trajectory/step"][()].ravel()
        pops = f["network/populations"]
        populations = [dict(name=text(n), side=text(s), first=int(b), size=int(z), sign=int(g))
                       for n, s, b, z, g in zip(pops["name"][()], pops["side"][()], pops["first"][()],
                                                pops["size"][()], pops["sign"][()])]
        projections = {}
        for name, g in f["network"].items():
            if name == "populations" or not isinstance(g, h5py.Group):
                continue
            projections[name] = dict(pre=g["pre"][()], post=g["post"][()], sign=g["sign"][()],
                                     pre_side=text(g.attrs["pre_population"]),
                                     post_side=text(g.attrs["post_population"]),
                                     weight=f["trajectory/" + name + "/weight"][()])
    side_size = {}
    for p in populations:
        side_size[p["side"]] = max(side_size.get(p["side"], 0), p["first"] + p["size"])
    node_sides = ("network", "input")
    exported = {n: p for n, p in projections.items() if p["pre_side"] in node_sides and p["post_side"] in node_sides}
    T = len(steps)
    row = T // 2  # a middle snapshot
    step = int(steps[row])
    check(all(not np.array_equal(p["weight"][row], p["weight"][-1]) for p in exported.values()),
          "the exported snapshot's weights differ from the last snapshot's")

    out = os.path.join(a.work, "sonata")
    subprocess.run([a.eisim, "export", "sonata", run, "--out", out, "--trajectory", "--step", str(step), "--overwrite"],
                   check=True, stdout=subprocess.DEVNULL)

    def path(name):
        return os.path.join(out, name)

    net = File(data_files=[path("nodes.h5"), path("edges.h5")],
               data_type_files=[path("node_types.csv"), path("edge_types.csv")])

    # Nodes: the run file's populations, side by side.
    check(sorted(net.nodes.population_names) == sorted(node_sides), "node populations network and input")
    for side in node_sides:
        nodes = net.nodes[side]
        check(len(nodes) == side_size[side], f"{side}: {side_size[side]} nodes")
        for p in (q for q in populations if q["side"] == side):
            for i in range(p["first"], p["first"] + p["size"]):
                node = nodes.get_node_id(i)
                where = f"{side} node {i}"
                check(node.node_id == i, where + ": node_id")
                check(text(node["pop_name"]) == p["name"], where + ": pop_name " + p["name"])
                check(node["model_type"] == ("point_neuron" if side == "network" else "virtual"), where + ": model_type")
                if side == "network":
                    check(text(node["ei"]) == ("e" if p["sign"] > 0 else "i"), where + ": ei")

    # Edges: one population per projection between node populations, edge id = synapse id.
    check(sorted(net.edges.population_names) == sorted(exported), "edge populations " + ", ".join(sorted(exported)))
    for name, p in exported.items():
        pop = net.edges[name]
        w, w0 = p["weight"][row], p["weight"][0]
        n = len(p["pre"])
        check(pop.source_population == p["pre_side"] and pop.target_population == p["post_side"],
              f"{name}: source and target populations")
        check(len(pop) == n, f"{name}: {n} edges")
        count = 0
        for k, edge in enumerate(pop):
            count += 1
            ok = (edge["synapse_id"] == k and edge.source_node_id == p["pre"][k] and edge.target_node_id == p["post"][k]
                  and edge["sign"] == p["sign"][k] and edge["syn_weight"] == w[k] and edge["initial_weight"] == w0[k])
            if not check(ok, f"{name}: edge {k} is synapse {k} (ends, sign, syn_weight at step {step}, initial_weight)"):
                break
        check(count == n, f"{name}: iterating gives {n} edges")
        for direction, lookup, ends, other, side in (("get_target", pop.get_target, p["post"], p["pre"], p["post_side"]),
                                                     ("get_source", pop.get_source, p["pre"], p["post"], p["pre_side"])):
            for node in range(side_size[side]):
                edges = list(lookup(node))
                found = sorted(int(e["synapse_id"]) for e in edges)
                where = f"{name}: {direction}({node})"
                if not check(found == list(np.flatnonzero(ends == node)), where + ": each of the node's edges once"):
                    break
                mine = [(e.target_node_id, e.source_node_id) if direction == "get_target" else
                        (e.source_node_id, e.target_node_id) for e in edges]
                check(all(m == node and o == other[int(e["synapse_id"])] for (m, o), e in zip(mine, edges)),
                      where + ": the edges' ends")
                check(all(e["syn_weight"] == w[int(e["synapse_id"])] for e in edges), where + ": syn_weight")

    # The weight trajectory: bmtk's compartment-report reader, elements = edges by target node.
    for name, p in exported.items():
        report = CompartmentReport(path("weights_" + name + ".h5"))
        where = f"weights_{name}.h5"
        n = len(p["pre"])
        check(report.populations == [p["post_side"]], where + ": population " + p["post_side"])
        check(report.variable() == "syn_weight", where + ": variable syn_weight")
        check(report.tstart() == steps[0] and report.dt() == steps[1] - steps[0] and report[p["post_side"]].n_steps() == T,
              where + ": time axis = the recorded learning steps")
        check(report.data().shape == (T, n), where + f": data [{T} x {n}]")
        nodes = [int(i) for i in report.node_ids()]
        check(nodes == sorted(set(int(t) for t in p["post"])), where + ": node_ids = the targets with an edge")
        seen = []
        for node in nodes:
            elements = [int(e) for e in report.element_ids(node_id=node)]
            seen += elements
            check(all(p["post"][e] == node for e in elements), where + f": node {node}'s elements are its edges")
            check(report.n_elements(node_id=node) == len(elements), where + f": node {node}'s element_pos")
            expected = p["weight"][:, elements].astype(np.float32)
            check(np.array_equal(report.data(node_id=node), expected), where + f": node {node}'s data = the recorded weights")
        check(sorted(seen) == list(range(n)), where + ": every edge once")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print(f"ok: bmtk reads eisim's export of {run} at step {step} (" +
          ", ".join(f"{name} {len(p['pre'])} edges" for name, p in exported.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
