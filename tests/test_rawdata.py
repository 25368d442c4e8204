"""Tests on the full raw data beside the repository (../shared/data/raw).  They skip, with
a reason, on a user's clone without it; CI has it and runs them."""

import re

import numpy as np

from dancejax.data.build import assign_splits, build
from dancejax.data.dataset import DanceDataset
from dancejax.io import project, read_asf_amc, read_bvh_motion, read_cameras, read_keypoints2d, read_keypoints3d
from dancejax.io.aistpp import read_camera_mapping
from dancejax.io.bvh import bvh_forward_kinematics
from dancejax.skeleton import CMU31


def sources_frame_counts(raw):
    """file or sequence name -> frame count, from the per-file tables of SOURCES.md."""
    out = {}
    for line in (raw / "SOURCES.md").read_text().splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|(.*)", line)
        if not m:
            continue
        for cell in m.group(2).split("|"):
            c = cell.strip().replace(" ", "").replace("\u202f", "")
            if c.isdigit():
                out[m.group(1)] = int(c)
                break
    return out


def test_frame_counts_match_sources(raw):
    counts = sources_frame_counts(raw)
    assert len(counts) >= 37
    checked = 0
    for name, n in counts.items():
        if name.endswith(".amc"):
            subject = name.split("/")[-1].split("_")[0]
            s = read_asf_amc(raw / "cmu_amc" / f"{subject}.asf", raw / name, fps=120)
            assert s.num_frames == n, name
        elif name.endswith(".bvh"):
            assert read_bvh_motion(raw / name).frames.shape[0] == n, name
        elif name.startswith("g"):
            ann = raw / "aistpp" / "annotation"
            assert read_keypoints3d(ann / "keypoints3d" / f"{name}.pkl").num_frames == n, name
            assert read_keypoints2d(ann / "keypoints2d" / f"{name}.pkl")[0].num_frames == n, name
        else:
            continue
        checked += 1
    assert checked == 37


def test_bone_lengths_constant_after_fk(raw):
    for name in ("05_05", "60_01", "61_03"):
        s = read_asf_amc(raw / "cmu_amc" / f"{name[:2]}.asf", raw / "cmu_amc" / f"{name}.amc", fps=120)
        p = s.positions
        bl = np.stack([np.linalg.norm(p[:, i] - p[:, j], axis=-1) for i, j in CMU31.edges], 1)
        assert bl.std(0).max() < 1e-5, name  # metres
    for f in sorted((raw / "cmu_bvh_131").glob("*.bvh")):
        m = read_bvh_motion(f)
        p = bvh_forward_kinematics(m)
        edges = [(j.parent, k) for k, j in enumerate(m.joints) if j.parent >= 0]
        bl = np.stack([np.linalg.norm(p[:, i] - p[:, j], axis=-1) for i, j in edges], 1)
        assert bl.std(0).max() < 1e-6, f.name


def test_aist_projection_lands_on_detections(raw):
    """Median distance, pixels, between projected 3D keypoints and confident real detections."""
    ann = raw / "aistpp" / "annotation"
    mapping = read_camera_mapping(ann / "cameras" / "mapping.txt")
    medians = {}
    for f in sorted((ann / "keypoints3d").glob("*.pkl")):
        k3 = read_keypoints3d(f)
        cams = read_cameras(ann / "cameras" / f"{mapping[f.stem]}.json")
        errs = []
        for v, cam in zip(read_keypoints2d(ann / "keypoints2d" / f.name), cams):
            e = np.linalg.norm(project(k3.positions, cam, 100.0) - v.positions, axis=-1)
            errs.append(e[v.confidence > 0.3])
        medians[f.stem] = float(np.median(np.concatenate(errs)))
    print("median projection error (px):", {k: round(v, 2) for k, v in medians.items()})
    assert all(m < 10.0 for m in medians.values()), medians


def test_shipped_dataset_is_what_the_build_script_makes(raw, tmp_path):
    info = build(raw, tmp_path / "d.npz")
    assert info["bytes"] < 15e6
    fresh, shipped = DanceDataset(tmp_path / "d.npz"), DanceDataset()
    assert [t.name for t in fresh.takes] == [t.name for t in shipped.takes]
    assert [t.split for t in fresh.takes] == [t.split for t in shipped.takes]
    for a, b in zip(fresh.takes, shipped.takes):
        np.testing.assert_allclose(a.positions, b.positions, atol=1e-6)
    np.testing.assert_allclose(fresh.detections[0].det, shipped.detections[0].det, atol=1e-4)


def test_split_assignment_is_deterministic():
    groups = {f"g{i}": "a" if i < 20 else "b" for i in range(25)}
    assert assign_splits(groups) == assign_splits(groups)
    s = assign_splits(groups)
    a = [s[f"g{i}"] for i in range(20)]
    assert a.count("test") == 3 and a.count("val") == 3 and a.count("train") == 14
