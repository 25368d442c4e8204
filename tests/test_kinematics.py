import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dancejax.maths.kinematics import acceleration, keypoint_flow, kinematic_features, velocity


def np_reference(p, d):
    """Loop-based reference of SPEC §3 with clamped (edge-replicated) indices."""
    t = p.shape[0]
    at = lambda x, i: x[min(max(i, 0), t - 1)]
    flow = np.stack([(at(p, i - d) + p[i] + at(p, i + d)) / 3 for i in range(t)])
    vel = np.stack([(flow[i] - at(flow, i - d)) / d for i in range(t)])
    acc = np.stack([(vel[i] - at(vel, i - d)) / d for i in range(t)])
    return flow, vel, acc


@pytest.mark.parametrize("d", [1, 2, 3])
def test_against_numpy(d):
    p = np.random.default_rng(d).normal(size=(17, 14, 2)).astype(np.float32)
    f, v, a = np_reference(p.astype(np.float64), d)
    np.testing.assert_allclose(keypoint_flow(p, d), f, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(velocity(p, d), v, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(acceleration(p, d), a, rtol=1e-5, atol=1e-5)


def test_jit_vmap_grad():
    p = jnp.asarray(np.random.default_rng(0).normal(size=(4, 9, 14, 3)), jnp.float32)
    v, a = jax.jit(jax.vmap(kinematic_features))(p)
    assert v.shape == a.shape == p.shape
    for i in range(4):
        _, v_ref, a_ref = np_reference(np.asarray(p[i], np.float64), 1)
        np.testing.assert_allclose(v[i], v_ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(a[i], a_ref, rtol=1e-5, atol=1e-5)
    g = jax.grad(lambda x: (acceleration(x) ** 2).sum())(p[0])
    assert np.isfinite(g).all() and np.abs(g).sum() > 0


def test_constant_velocity_has_zero_acceleration_inside():
    t = np.arange(20, dtype=np.float32)[:, None, None]
    p = np.broadcast_to(t * 0.5, (20, 14, 2))
    v = np.asarray(velocity(p))
    a = np.asarray(acceleration(p))
    np.testing.assert_allclose(v[2:-1], 0.5, atol=1e-5)
    np.testing.assert_allclose(a[3:-2], 0.0, atol=1e-5)
