#!/usr/bin/env python3
"""A small E/I circuit written by the Allen Institute's Brain Modeling Toolkit (bmtk.builder),
for tests/export/test_sonata_import.cpp: `eisim run --circuit` must read what bmtk writes.

    bmtk_circuit.py OUT_DIR

writes OUT_DIR/network/{v1,lgn}_nodes.h5, *_node_types.csv, v1_v1_edges.h5, lgn_v1_edges.h5,
*_edge_types.csv (NetworkBuilder.save) and OUT_DIR/circuit_config.json (bmtk's own
build_env_pointnet, which uses the manifest variables ${configdir} and $NETWORK_DIR).

What it exercises:
  * pop_name and ei in the node types CSV (one node type per add_nodes call), and for the last
    E nodes ei per node in the nodes file's group (bmtk puts list-valued attributes there, in a
    group of their own); the two E node types are not adjacent (E, PV, E), so population E's cells
    are not consecutive node ids;
  * syn_weight in the edge types CSV, inhibitory ones negative (NEST's convention), and nsyns per
    edge in the edges file's group (connection rules that return counts);
  * a virtual node population (model_type virtual, no ei) whose edges carry syn_weight per edge
    in the group (add_properties);
  * delays in the edge types CSV (eisim leaves them out, with a note).
Exit code 3 if bmtk cannot be imported (the test then skips).
"""
import os
import sys

try:
    import numpy as np
    from bmtk.builder import NetworkBuilder
    from bmtk.utils.sim_setup import build_env_pointnet
except ImportError as e:  # the test skips
    print("bmtk is not available: %s" % e, file=sys.stderr)
    sys.exit(3)


def main(out_dir):
    network_dir = os.path.join(out_dir, "network")
    rng = np.random.RandomState(7)

    v1 = NetworkBuilder("v1")
    v1.add_nodes(N=12, pop_name="E", ei="e", model_type="point_process", model_template="nest:iaf_psc_alpha")
    v1.add_nodes(N=4, pop_name="PV", ei="i", model_type="point_process", model_template="nest:iaf_psc_alpha")
    v1.add_nodes(N=3, pop_name="E", ei=["e", "e", "e"], model_type="point_process", model_template="nest:iaf_psc_alpha",
                 depth=[100.0, 200.0, 300.0])

    def pairs(source, target, p):
        # 0 (no edge) or 1..3 synapses; never an autapse
        if source.node_id == target.node_id or rng.rand() >= p:
            return 0
        return int(rng.randint(1, 4))

    v1.add_edges(source={"ei": "e"}, target={"ei": "e"}, connection_rule=pairs, connection_params={"p": 0.3},
                 syn_weight=0.05, delay=2.0, dynamics_params="ExcToExc.json", model_template="static_synapse")
    v1.add_edges(source={"ei": "e"}, target={"ei": "i"}, connection_rule=pairs, connection_params={"p": 0.5},
                 syn_weight=0.08, delay=2.0, dynamics_params="ExcToInh.json", model_template="static_synapse")
    v1.add_edges(source={"ei": "i"}, target={"ei": "e"}, connection_rule=pairs, connection_params={"p": 0.6},
                 syn_weight=-0.12, delay=2.0, dynamics_params="InhToExc.json", model_template="static_synapse")
    v1.add_edges(source={"ei": "i"}, target={"ei": "i"}, connection_rule=pairs, connection_params={"p": 0.6},
                 syn_weight=-0.09, delay=2.0, dynamics_params="InhToInh.json", model_template="static_synapse")
    v1.build()
    v1.save(output_dir=network_dir)

    lgn = NetworkBuilder("lgn")
    lgn.add_nodes(N=5, pop_name="LGN", model_type="virtual")
    cm = lgn.add_edges(source=lgn.nodes(), target=v1.nodes(pop_name="E"),
                       connection_rule=lambda s, t: 1 if rng.rand() < 0.4 else 0,
                       delay=1.0, dynamics_params="LGNToE.json", model_template="static_synapse")
    cm.add_properties("syn_weight", rule=lambda s, t: float(rng.uniform(0.02, 0.2)), dtypes=float)
    lgn.build()
    lgn.save(output_dir=network_dir)

    build_env_pointnet(base_dir=out_dir, network_dir=network_dir, tstop=100.0, dt=0.1)
    if not os.path.exists(os.path.join(out_dir, "circuit_config.json")):
        print("bmtk wrote no circuit_config.json", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
