import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dancejax.maths.filters import one_euro, savgol, savgol_coefficients
from dancejax.maths.losses import class_weights_from_counts, refinement_loss, weighted_cross_entropy
from dancejax.maths.metrics import pck_normalizer, pck_table


def test_refinement_loss_with_hand_picked_hard_joints():
    gt = np.zeros((1, 14, 2), np.float32)
    pred = gt.copy()
    # three hard joints with L1 errors 4, 3, 2; everything else exact
    pred[0, 6] = [2.0, 2.0]
    pred[0, 11] = [3.0, 0.0]
    pred[0, 13] = [0.0, -2.0]
    vis = np.ones((1, 14), np.float32)
    base = (4 + 3 + 2) / 14
    np.testing.assert_allclose(refinement_loss(pred, gt, vis, top_k=2, lam=1.0), base + (4 + 3) / 2, rtol=1e-6)
    np.testing.assert_allclose(refinement_loss(pred, gt, vis, top_k=8, lam=0.5), base + 0.5 * 9 / 8, rtol=1e-6)
    np.testing.assert_allclose(refinement_loss(pred, gt, vis, top_k=0), base, rtol=1e-6)
    vis[0, 6] = 0  # an invisible joint neither counts nor is mined
    np.testing.assert_allclose(refinement_loss(pred, gt, vis, top_k=2, lam=1.0), 5 / 14 + 5 / 2, rtol=1e-6)
    g = jax.grad(lambda p: refinement_loss(p, gt, vis, 2, 1.0))(jnp.asarray(pred))
    assert np.asarray(g)[0, 6].sum() == 0 and np.abs(np.asarray(g)[0, 11]).sum() > 0


def test_weighted_cross_entropy_matches_numpy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4)).astype(np.float32)
    labels = np.array([0, 1, 2, 3, 1, 1])
    w = np.array([1.0, 0.5, 2.0, 1.0], np.float32)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ref = -(w[labels] * logp[np.arange(6), labels]).sum() / w[labels].sum()
    np.testing.assert_allclose(weighted_cross_entropy(logits, labels, w), ref, rtol=1e-5)
    cw = np.asarray(class_weights_from_counts([10, 0, 30, 60]))
    assert cw[1] == 0 and np.isclose(cw[[0, 2, 3]].mean(), 1.0) and cw[0] > cw[2] > cw[3]


def test_pck_by_hand():
    gt = np.zeros((1, 1, 14, 2), np.float32)
    gt[..., 0] = np.arange(14) * 10.0  # bbox max side = 130
    pred = gt.copy()
    pred[..., 13, 0] += 10.0  # head-top 10 px off: inside 0.1·130, outside 0.05·130
    pred[..., 6, 1] += 30.0  # r-wrist 30 px off: outside even 0.2·130 = 26
    vis = np.ones((1, 1, 14), np.float32)
    vis[..., 0] = 0  # r-ankle invisible: not counted
    t = pck_table(pred, gt, vis, (0.2, 0.1, 0.05))
    assert t[0.1]["head"] == 100.0 and t[0.05]["head"] == 50.0
    assert t[0.2]["wrist"] == 50.0 and t[0.2]["ankle"] == 100.0
    np.testing.assert_allclose(t[0.05]["mean"], 100 * 11 / 13)
    np.testing.assert_allclose(pck_normalizer(gt, "bbox"), 130.0)
    with pytest.raises(ValueError, match="Unsupported PCK normaliser"):
        pck_normalizer(gt, "knee")


def test_savgol_keeps_polynomials_and_smooths_noise():
    t = np.arange(30, dtype=float)
    quad = 0.1 * t**2 - t + 3
    np.testing.assert_allclose(savgol(quad[:, None], 7, 2)[3:-3, 0], quad[3:-3], atol=1e-9)
    np.testing.assert_allclose(savgol_coefficients(5, 1), np.full(5, 0.2))
    noisy = np.random.default_rng(0).normal(size=(200, 1))
    assert savgol(noisy, 9, 2).std() < noisy.std()


def test_one_euro_constant_and_lag():
    x = np.full((20, 3), 5.0)
    np.testing.assert_allclose(one_euro(x), x)
    ramp = np.arange(50, dtype=float)[:, None]
    slow = one_euro(ramp, min_cutoff=0.5, beta=0.0)
    fast = one_euro(ramp, min_cutoff=0.5, beta=1.0)
    assert abs(fast[-1, 0] - 49) < abs(slow[-1, 0] - 49)  # β reduces lag on fast motion
