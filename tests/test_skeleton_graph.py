import numpy as np
import pytest

from dancejax.errors import DataError
from dancejax.maths.graph import connection_graph, hop_distance, spatial_partition, symmetric_graph
from dancejax.skeleton import LAYOUTS, LSP14, get_layout, to_lsp14_matrix


def counts(a):
    return [int((s > 0).sum()) for s in a]


def test_ntu25_spatial_quirk_golden():
    # Original ST-GCN code: pairs farther than max_hop from the centre compare inf == inf.
    assert counts(spatial_partition("ntu25", "spatial", max_hop=1)) == [25, 40, 8]


def test_ntu25_spatial_corrected():
    assert counts(spatial_partition("ntu25", "spatial", max_hop=1, corrected=True)) == [25, 24, 24]


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize("strategy", ["uniform", "distance", "spatial"])
def test_partition_is_column_normalised(name, strategy):
    a = spatial_partition(name, strategy, max_hop=2 if strategy == "distance" else 1)
    # A·D⁻¹: each column of the summed adjacency sums to one (every joint has a self loop).
    np.testing.assert_allclose(a.sum(0).sum(0), 1.0, rtol=1e-6)
    assert a.dtype == np.float32


def test_uniform_matches_manual_normalisation():
    lay = get_layout("lsp14")
    adj = lay.adjacency() + np.eye(14)
    expected = adj / adj.sum(0, keepdims=True)
    np.testing.assert_allclose(spatial_partition("lsp14", "uniform")[0], expected, rtol=1e-6)


def test_hop_distance_matches_bfs():
    lay = LSP14
    d = hop_distance(14, lay.edges)
    # r_ankle -> head_top: ankle-knee-hip-neck-head = 4 hops
    assert d[0, 13] == 4
    assert np.isinf(hop_distance(14, lay.edges, max_hop=1)[0, 13])


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_consistency(name):
    lay = get_layout(name)
    j = lay.num_joints
    assert all(0 <= a < j and 0 <= b < j for a, b in lay.edges)
    perm = lay.flip_permutation
    np.testing.assert_array_equal(perm[perm], np.arange(j))
    assert 0 <= lay.center < j
    # connected skeleton: every joint reachable from the centre
    assert np.isfinite(hop_distance(j, lay.edges)[lay.center]).all()
    m = to_lsp14_matrix(name)
    assert m.shape == (14, j)
    np.testing.assert_allclose(m.sum(1), 1.0, rtol=1e-6)


def test_unknown_layout_is_a_clear_error():
    with pytest.raises(DataError, match="unknown skeleton layout 'smpl99'.*known layouts"):
        get_layout("smpl99")
    with pytest.raises(DataError, match="unknown ST-GCN partition strategy"):
        spatial_partition("lsp14", "radial")


def test_stga_graphs():
    s = symmetric_graph("lsp14")
    np.testing.assert_array_equal(s, s.T)
    assert s[LSP14.index("r_wrist"), LSP14.index("l_wrist")] == 1
    assert s.sum() == 14 + 2 * 6
    c = connection_graph("lsp14")
    np.testing.assert_array_equal(c, c.T)
    w, sh, el = (LSP14.index(n) for n in ("r_wrist", "r_shoulder", "r_elbow"))
    assert c[w, el] == 1 and c[w, sh] == 1  # distal wrist reaches 2 hops
    k, a = LSP14.index("r_knee"), LSP14.index("l_hip")
    assert c[k, a] == 0  # an ordinary joint reaches 1 hop only
