"""Graphs over a skeleton: ST-GCN partitions (Yan et al. 2018, §3.3) and STGA-Net graphs.

Pure NumPy, built once per model; cast to jnp by the layers that use them.

ST-GCN conventions reproduced from the original code, on purpose, so that its
checkpoints load and give the same outputs:

* hop distances are computed up to ``max_hop``; farther pairs get ``inf``;
* the adjacency is normalised by column degree, ``A · D⁻¹``;
* in the *spatial* strategy a neighbour pair whose hop distance to the centre is
  ``inf`` on both sides compares ``inf == inf`` and lands in the root/close subset.
  ``corrected=True`` measures distance to the centre without the ``max_hop`` cap,
  which splits those pairs into centripetal/centrifugal as the paper describes.
"""

from __future__ import annotations

import numpy as np

from dancejax.errors import DataError
from dancejax.skeleton import Layout, get_layout

STRATEGIES = ("uniform", "distance", "spatial")


def hop_distance(num_nodes: int, edges, max_hop: float = np.inf) -> np.ndarray:
    """Shortest-path hop counts with self loops at 0; pairs beyond ``max_hop`` are inf."""
    a = np.eye(num_nodes, dtype=bool)
    for i, j in edges:
        a[i, j] = a[j, i] = True
    dist = np.full((num_nodes, num_nodes), np.inf)
    reach = np.eye(num_nodes, dtype=bool)
    dist[reach] = 0
    step = a.astype(np.int64)
    d = 0
    power = np.eye(num_nodes, dtype=np.int64)
    while d < min(max_hop, num_nodes):
        d += 1
        power = np.minimum(power @ step, 1)
        new = (power > 0) & np.isinf(dist)
        if not new.any():
            break
        dist[new] = d
    return dist


def normalize_digraph(a: np.ndarray) -> np.ndarray:
    """Column normalisation ``A · D⁻¹`` with D the column sums (zero columns stay zero)."""
    deg = a.sum(axis=0)
    inv = np.where(deg > 0, 1.0 / np.where(deg > 0, deg, 1.0), 0.0)
    return a * inv[None, :]


def spatial_partition(
    layout: str | Layout,
    strategy: str = "spatial",
    max_hop: int = 1,
    dilation: int = 1,
    corrected: bool = False,
) -> np.ndarray:
    """ST-GCN adjacency subsets, shape (K, J, J), float32.

    ``A[k, j, i]`` weights the message from joint ``j`` to joint ``i`` (the original
    code's orientation: features are aggregated as ``x' = Σ_k x · A[k]`` over j).
    """
    lay = get_layout(layout)
    if strategy not in STRATEGIES:
        raise DataError(f"unknown ST-GCN partition strategy {strategy!r}; use one of {STRATEGIES}")
    n = lay.num_joints
    hop = hop_distance(n, lay.edges, max_hop)
    valid = range(0, max_hop + 1, dilation)
    adjacency = np.zeros((n, n))
    for h in valid:
        adjacency[hop == h] = 1
    norm = normalize_digraph(adjacency)

    if strategy == "uniform":
        return norm[None].astype(np.float32)
    if strategy == "distance":
        out = np.zeros((len(valid), n, n))
        for k, h in enumerate(valid):
            out[k][hop == h] = norm[hop == h]
        return out.astype(np.float32)

    to_center = hop_distance(n, lay.edges)[:, lay.center] if corrected else hop[:, lay.center]
    subsets = []
    for h in valid:
        at_h = hop == h  # at_h[j, i]
        dj = to_center[:, None]
        di = to_center[None, :]
        root = np.where(at_h & (dj == di), norm, 0.0)
        close = np.where(at_h & (dj > di), norm, 0.0)
        further = np.where(at_h & (dj < di), norm, 0.0)
        if h == 0:
            subsets.append(root)
        else:
            subsets.append(root + close)
            subsets.append(further)
    return np.stack(subsets).astype(np.float32)


def symmetric_graph(layout: str | Layout) -> np.ndarray:
    """STGA-Net symmetric graph (SPEC §5): each joint with itself and its L/R counterpart."""
    lay = get_layout(layout)
    a = np.eye(lay.num_joints, dtype=np.float32)
    for i, j in lay.lr_pairs:
        a[i, j] = a[j, i] = 1.0
    return a


def connection_graph(layout: str | Layout) -> np.ndarray:
    """STGA-Net connection graph: self + 1-hop neighbours; distal joints reach 2 hops."""
    lay = get_layout(layout)
    hop = hop_distance(lay.num_joints, lay.edges)
    a = (hop <= 1).astype(np.float32)
    for d in lay.distal:
        a[d, hop[d] <= 2] = 1.0
        a[hop[d] <= 2, d] = 1.0
    return a
