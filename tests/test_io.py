import json
import pickle

import numpy as np
import pytest

from dancejax.data.dataset import cut_windows
from dancejax.errors import DataError
from dancejax.io import (
    load_restricted_pickle,
    project,
    read_asf_amc,
    read_bvh,
    read_bvh_motion,
    read_cameras,
    read_coco_keypoints,
    read_frames_json,
    read_keypoints2d,
    read_keypoints3d,
    read_npz,
    write_frames_json,
    write_npz,
)
from dancejax.io.bvh import CMU_BVH_SCALE, bvh_forward_kinematics
from dancejax.io.sequence import PoseSequence, canonical, resample, to_lsp14
from dancejax.skeleton import CMU31

AIST = "gBR_sBM_cAll_d04_mBR2_ch08"


def bone_lengths(p, edges):
    return np.stack([np.linalg.norm(p[:, i] - p[:, j], axis=-1) for i, j in edges], 1)


def test_asf_amc_fixture_metres_and_rigid_bones(fixtures):
    s = read_asf_amc(fixtures / "05.asf", fixtures / "05_02_head.amc", fps=120)
    assert s.positions.shape == (12, 31, 3) and s.layout == "cmu31" and s.labels["units"] == "m"
    bl = bone_lengths(s.positions, CMU31.edges)
    np.testing.assert_allclose(bl.std(0), 0, atol=1e-5)
    height = s.positions[0, :, 1].max() - s.positions[0, :, 1].min()
    assert 1.3 < height < 2.0  # a standing adult, in metres
    c = canonical(s)
    assert c.layout == "lsp14" and c.fps == 25 and c.num_frames == 3  # 11/120 s -> frames at 0, 40, 80 ms


def test_bvh_fixture_rigid_bones(fixtures):
    s = read_bvh(fixtures / "131_01_head.bvh", scale=CMU_BVH_SCALE)
    assert s.positions.shape == (12, 14, 3) and abs(s.fps - 120) < 0.01
    m = read_bvh_motion(fixtures / "131_01_head.bvh")
    full = bvh_forward_kinematics(m)
    edges = [(j.parent, k) for k, j in enumerate(m.joints) if j.parent >= 0]
    np.testing.assert_allclose(bone_lengths(full, edges).std(0), 0, atol=1e-6)


def _bvh_text(n_joints, six, order, frames):
    """A chain-shaped BVH: ``six`` gives every joint 6 channels with positions = offsets."""
    rng = np.random.default_rng(0)
    offsets = rng.normal(size=(n_joints, 3)).round(4)
    offsets[0] = 0
    rots = rng.uniform(-40, 40, size=(frames, n_joints, 3)).round(4)
    root_pos = rng.normal(size=(frames, 3)).round(4)
    lines, vals = ["HIERARCHY"], [[] for _ in range(frames)]
    rot_names = " ".join(f"{a.upper()}rotation" for a in order)
    for k in range(n_joints):
        lines.append(("ROOT" if k == 0 else "JOINT") + f" j{k}")
        lines.append("{")
        lines.append("OFFSET " + " ".join(map(str, offsets[k])))
        if k == 0 or six:
            lines.append(f"CHANNELS 6 Xposition Yposition Zposition {rot_names}")
        else:
            lines.append(f"CHANNELS 3 {rot_names}")
        for t in range(frames):
            if k == 0:
                vals[t] += list(root_pos[t])
            elif six:
                vals[t] += list(offsets[k])
            vals[t] += list(rots[t, k])
    lines += ["End Site", "{", "OFFSET 0 1 0", "}"] + ["}"] * n_joints
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0333333"]
    lines += [" ".join(map(str, v)) for v in vals]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("order", ["zyx", "xyz", "yxz"])
def test_bvh_22_joints_six_channels_everywhere(tmp_path, order):
    a, b = tmp_path / "six.bvh", tmp_path / "three.bvh"
    a.write_text(_bvh_text(22, True, order, 5))
    b.write_text(_bvh_text(22, False, order, 5))
    pa = bvh_forward_kinematics(read_bvh_motion(a))
    pb = bvh_forward_kinematics(read_bvh_motion(b))
    assert pa.shape == (5, 23, 3)  # 22 joints + the end site
    np.testing.assert_allclose(pa, pb, atol=1e-9)
    m = read_bvh_motion(a)
    edges = [(j.parent, k) for k, j in enumerate(m.joints) if j.parent >= 0]
    np.testing.assert_allclose(bone_lengths(pa, edges).std(0), 0, atol=1e-9)


def test_bvh_rotation_order_matters(tmp_path):
    a, b = tmp_path / "a.bvh", tmp_path / "b.bvh"
    a.write_text(_bvh_text(4, False, "zyx", 3))
    b.write_text(_bvh_text(4, False, "xyz", 3))
    assert not np.allclose(bvh_forward_kinematics(read_bvh_motion(a)), bvh_forward_kinematics(read_bvh_motion(b)))


def test_aist_fixtures_project_onto_detections(fixtures):
    k3 = read_keypoints3d(fixtures / f"{AIST}_kp3d_head.pkl")
    views = read_keypoints2d(fixtures / f"{AIST}_kp2d_head.pkl")
    cams = read_cameras(fixtures / "setting1.json")
    assert len(views) == len(cams) == 9 and k3.positions.shape == (30, 17, 3)
    errs = []
    for v, cam in zip(views, cams):
        e = np.linalg.norm(project(k3.positions, cam, 100.0) - v.positions, axis=-1)
        errs.append(e[v.confidence > 0.3])
    assert np.median(np.concatenate(errs)) < 12.0  # pixels


def test_coco_results_json(fixtures):
    s = read_coco_keypoints(fixtures / "aist_view0_coco_results.json", fps=60)
    assert s.layout == "coco17" and s.positions.shape == (8, 17, 2)
    assert 0 <= s.confidence.min() and s.confidence.max() <= 1
    lsp = to_lsp14(s)
    np.testing.assert_allclose(lsp.positions[:, 12], s.positions[:, 5:7].mean(1), rtol=1e-6)


def test_coco_annotation_json(tmp_path):
    kp = np.arange(51, dtype=float).reshape(17, 3)
    kp[:, 2] = 2
    kp[3, 2] = 0
    doc = {
        "images": [{"id": 1}, {"id": 2}],
        "annotations": [
            {"image_id": 2, "keypoints": kp.reshape(-1).tolist()},
            {"image_id": 1, "keypoints": kp.reshape(-1).tolist()},
        ],
    }
    p = tmp_path / "coco.json"
    p.write_text(json.dumps(doc))
    s = read_coco_keypoints(p, fps=30)
    assert s.labels["image_ids"] == [1, 2] and s.confidence[0, 3] == 0 and s.confidence[0, 4] == 1


def test_frames_json_and_npz_round_trip(tmp_path, fixtures):
    s = canonical(read_keypoints2d(fixtures / f"{AIST}_kp2d_head.pkl")[0])
    s.labels["style"] = "breakdance"
    write_frames_json(s, tmp_path / "f.json")
    r = read_frames_json(tmp_path / "f.json")
    assert r.layout == "lsp14" and r.fps == 25 and r.labels["style"] == "breakdance"
    np.testing.assert_allclose(r.positions, s.positions, atol=1e-4)
    np.testing.assert_allclose(r.confidence, s.confidence, atol=1e-6)
    write_npz(s, tmp_path / "s.npz")
    n = read_npz(tmp_path / "s.npz")
    np.testing.assert_array_equal(n.positions, s.positions)
    assert n.labels["style"] == "breakdance"


def test_resample_interpolates_not_drops():
    t = np.arange(121, dtype=np.float32)  # 1 s at 120 fps, x = frame index
    p = np.zeros((121, 14, 3), np.float32)
    p[..., 0] = t[:, None]
    s = resample(PoseSequence(p, None, 120.0, "lsp14"), 25.0)
    assert s.num_frames == 26
    np.testing.assert_allclose(s.positions[:, 0, 0], np.arange(26) * 120 / 25, rtol=1e-5)


# ---- bad input: a clear error naming the file and the problem ----


def test_truncated_bvh(tmp_path, fixtures):
    text = (fixtures / "131_01_head.bvh").read_text()
    p = tmp_path / "cut.bvh"
    p.write_text(text[: len(text) - 500])
    with pytest.raises(DataError, match=r"cut\.bvh.*truncated"):
        read_bvh(p)
    p.write_text(text[:300])
    with pytest.raises(DataError, match=r"cut\.bvh.*truncated"):
        read_bvh(p)


def test_amc_with_missing_bone(tmp_path, fixtures):
    lines = (fixtures / "05_02_head.amc").read_text().splitlines()
    drop = next(i for i, line in enumerate(lines) if line.startswith("rtibia"))
    p = tmp_path / "missing.amc"
    p.write_text("\n".join(lines[:drop] + lines[drop + 1 :]))
    with pytest.raises(DataError, match=r"missing\.amc.*'rtibia'.*frame 1 has no line"):
        read_asf_amc(fixtures / "05.asf", p, fps=120)


def test_amc_unknown_bone(tmp_path, fixtures):
    p = tmp_path / "extra.amc"
    p.write_text((fixtures / "05_02_head.amc").read_text().replace("rtibia", "rtentacle", 1))
    with pytest.raises(DataError, match="rtentacle.*not in the skeleton"):
        read_asf_amc(fixtures / "05.asf", p, fps=120)


def test_nan_coordinates(tmp_path):
    p = np.zeros((5, 14, 2), np.float32)
    p[3, 6, 1] = np.nan
    with pytest.raises(DataError, match=r"clip\.npz.*'positions'.*non-finite.*frame 3, joint 6 \(r_wrist\)"):
        PoseSequence(p, None, 25, "lsp14", source="clip.npz")
    np.savez(tmp_path / "nan.npz", positions=p, fps=25.0, layout="lsp14")
    with pytest.raises(DataError, match=r"nan\.npz.*non-finite"):
        read_npz(tmp_path / "nan.npz")


def test_wrong_joint_count(tmp_path):
    with pytest.raises(DataError, match="layout 'lsp14' has 14 joints, but the data has 17"):
        PoseSequence(np.zeros((4, 17, 2)), None, 25, "lsp14")
    doc = {
        "format": "dancejax-frames",
        "version": 1,
        "layout": "lsp14",
        "fps": 25,
        "frames": [{"frame": 0, "keypoints": [[0, 0, 1]] * 13}],
    }
    (tmp_path / "f.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match=r"f\.json.*frames\[0\]\.keypoints.*14 rows"):
        read_frames_json(tmp_path / "f.json")


def test_unknown_layout_in_file(tmp_path):
    doc = {
        "format": "dancejax-frames",
        "version": 1,
        "layout": "h36m-99",
        "fps": 25,
        "frames": [{"frame": 0, "keypoints": [[0, 0, 1]] * 14}],
    }
    (tmp_path / "f.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match="unknown skeleton layout 'h36m-99'"):
        read_frames_json(tmp_path / "f.json")


def test_empty_json(tmp_path):
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(DataError, match=r"empty\.json.*empty"):
        read_frames_json(tmp_path / "empty.json")
    with pytest.raises(DataError, match=r"empty\.json.*empty"):
        read_coco_keypoints(tmp_path / "empty.json", fps=25)
    (tmp_path / "none.json").write_text("[]")
    with pytest.raises(DataError, match="no annotations"):
        read_coco_keypoints(tmp_path / "none.json", fps=25)


def test_sequence_shorter_than_window():
    with pytest.raises(DataError, match="has 10 frames, shorter than the window of 32"):
        cut_windows([np.zeros((40, 14, 2)), np.zeros((10, 14, 2))], 32, 8)


def test_confidence_out_of_range():
    with pytest.raises(DataError, match="'confidence'.*\\[0, 1\\]"):
        PoseSequence(np.zeros((3, 14, 2)), np.full((3, 14), 1.5), 25, "lsp14")


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_that_builds_anything_but_arrays(tmp_path, capsys):
    p = tmp_path / "evil.pkl"
    p.write_bytes(pickle.dumps({"keypoints3d_optim": Evil()}))
    with pytest.raises(DataError, match=r"evil\.pkl.*refusing to unpickle builtins\.print"):
        load_restricted_pickle(p)
    assert "pwned" not in capsys.readouterr().out
    import os

    p.write_bytes(pickle.dumps({"x": os.getcwd}))
    with pytest.raises(DataError, match="refusing to unpickle posix.getcwd"):
        read_keypoints3d(p)


def test_broken_pickle_and_missing_field(tmp_path):
    p = tmp_path / "broken.pkl"
    p.write_bytes(b"\x80\x04garbage")
    with pytest.raises(DataError, match=r"broken\.pkl.*not a readable pickle"):
        load_restricted_pickle(p)
    p.write_bytes(pickle.dumps({"keypoints3d": np.zeros((3, 17, 3))}))
    with pytest.raises(DataError, match="'keypoints3d_optim'.*missing"):
        read_keypoints3d(p)


def test_not_a_bvh(tmp_path):
    p = tmp_path / "x.bvh"
    p.write_text("hello")
    with pytest.raises(DataError, match=r"x\.bvh.*not a BVH"):
        read_bvh(p)
