"""Build the compact dataset shipped inside the package from the raw sources.

Run ``python experiments/build_dataset.py --raw ../shared/data/raw`` (the raw
files are listed with their licences in that folder's SOURCES.md).  Every take is
converted to LSP-14 at 25 fps by linear interpolation:

* CMU ASF/AMC (subjects 05, 60, 61): forward kinematics, bone end points, metres.
  Subject 05 is 120 fps, subjects 60/61 are 60 fps (SOURCES.md explains why).
* CMU BVH 131: forward kinematics, metres (Acclaim unit 1/0.45 inch).  This
  conversion lacks the thorax offset: its upper body sits 11.2 cm lower than in
  CMU's own ASF; we keep it as recorded (walks only, labelled ``walk``).
* AIST++: ``keypoints3d_optim`` COCO-17 → LSP-14 (neck = mid-shoulders, head-top
  extrapolated from the ears, see ``dancejax.skeleton``), metres.  The real 2D
  detections of all 9 views are converted the same way, and the 3D LSP-14 ground
  truth is projected through each view's camera.

Splits are 70/15/15 by take group, per style, from a fixed seed; the salsa
partners 60_k and 61_k form one group, so they always fall on the same side.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.io.aistpp import project, read_camera_mapping, read_cameras, read_keypoints2d, read_keypoints3d
from dancejax.io.asf_amc import read_asf_amc
from dancejax.io.bvh import CMU_BVH_SCALE, read_bvh
from dancejax.sequence import canonical, to_lsp14

SPLIT_SEED = 20261125
AIST_STYLE = {"gBR": "breakdance", "gJS": "street_jazz", "gHO": "house", "gKR": "krump", "gMH": "middle_hiphop"}
SALSA_FPS = 60.0
CMU05_FPS = 120.0


def _cmu_takes(raw: Path):
    amc = raw / "cmu_amc"
    for f in sorted(amc.glob("*.amc")):
        subject, trial = f.stem.split("_")
        if subject == "05":
            style = "walk" if trial == "01" else "ballet_modern"
            fps, group = CMU05_FPS, f.stem
        elif subject in ("60", "61"):
            style, fps, group = "salsa", SALSA_FPS, f"salsa_{trial}"
        else:
            continue
        seq = read_asf_amc(amc / f"{subject}.asf", f, fps)
        yield dict(name=f.stem, style=style, performer=f"cmu{subject}", source="cmu_amc", group=group), seq
    for f in sorted((raw / "cmu_bvh_131").glob("*.bvh")):
        seq = read_bvh(f, scale=CMU_BVH_SCALE)
        yield dict(name=f.stem, style="walk", performer="cmu131", source="cmu_bvh", group=f.stem), seq


def assign_splits(groups: dict[str, str], seed: int = SPLIT_SEED) -> dict[str, str]:
    """group -> split.  Per style: shuffle groups; 15 % test and 15 % val (at least one
    test group when a style has two, at least one of each from three), the rest train."""
    rng = np.random.default_rng(seed)
    by_style: dict[str, list[str]] = {}
    for g, style in sorted(groups.items()):
        by_style.setdefault(style, []).append(g)
    out = {}
    for style in sorted(by_style):
        gs = sorted(by_style[style])
        rng.shuffle(gs)
        n = len(gs)
        n_test = max(1, round(0.15 * n)) if n >= 2 else 0
        n_val = max(1, round(0.15 * n)) if n >= 3 else 0
        for k, g in enumerate(gs):
            out[g] = "test" if k < n_test else "val" if k < n_test + n_val else "train"
    return out


def build(raw_dir, out_path) -> dict:
    raw = Path(raw_dir)
    if not (raw / "SOURCES.md").exists():
        raise DataError(f"{raw}: not the raw data folder (no SOURCES.md)")
    takes, arrays = [], []
    for meta, seq in _cmu_takes(raw):
        c = canonical(seq)
        takes.append({**meta, "frames": c.num_frames, "source_fps": seq.fps, "source_frames": seq.num_frames})
        arrays.append(c.positions)

    ann = raw / "aistpp" / "annotation"
    mapping = read_camera_mapping(ann / "cameras" / "mapping.txt")
    aist = {"names": [], "det": [], "conf": [], "gt": [], "K": [], "dist": [], "R": [], "t": []}
    for f in sorted((ann / "keypoints3d").glob("*.pkl")):
        name = f.stem
        genre, _, _, dancer = name.split("_")[:4]
        k3 = read_keypoints3d(f)
        c3 = canonical(k3)
        takes.append(dict(name=name, style=AIST_STYLE.get(genre, genre), performer=f"aist_{dancer}",
                          source="aistpp", group=name, frames=c3.num_frames, source_fps=k3.fps,
                          source_frames=k3.num_frames))
        arrays.append(c3.positions)
        cams = read_cameras(ann / "cameras" / f"{mapping[name]}.json")
        views = read_keypoints2d(ann / "keypoints2d" / f.name)
        if len(views) != len(cams):
            raise DataError(f"{f}: {len(views)} detection views but {len(cams)} cameras")
        lsp3d_60 = to_lsp14(k3)
        det, conf, gt = [], [], []
        for v, cam in zip(views, cams):
            d = canonical(v)
            g = canonical(type(lsp3d_60)(project(lsp3d_60.positions, cam, 100.0), lsp3d_60.confidence,
                                         lsp3d_60.fps, "lsp14"))
            det.append(d.positions)
            conf.append(d.confidence)
            gt.append(g.positions)
        aist["names"].append(name)
        aist["det"].append(np.stack(det))
        aist["conf"].append(np.stack(conf))
        aist["gt"].append(np.stack(gt))
        for key, attr in (("K", "K"), ("dist", "dist"), ("R", "R"), ("t", "t")):
            aist[key].append(np.stack([getattr(c, attr) for c in cams]))

    splits = assign_splits({t["group"]: t["style"] for t in takes})
    for t in takes:
        t["split"] = splits[t["group"]]
    offsets = np.cumsum([0] + [a.shape[0] for a in arrays])
    aist_offsets = np.cumsum([0] + [a.shape[1] for a in aist["det"]])
    out = dict(
        positions3d=np.concatenate(arrays).astype(np.float32),
        take_offsets=offsets.astype(np.int64),
        takes_json=np.asarray(json.dumps(takes)),
        aist_names=np.asarray(aist["names"]),
        aist_offsets=aist_offsets.astype(np.int64),
        aist_det2d=np.concatenate(aist["det"], 1).astype(np.float32),
        aist_conf2d=np.concatenate(aist["conf"], 1).astype(np.float32),
        aist_gt2d=np.concatenate(aist["gt"], 1).astype(np.float32),
        aist_cam_K=np.stack(aist["K"]).astype(np.float32),
        aist_cam_dist=np.stack(aist["dist"]).astype(np.float32),
        aist_cam_R=np.stack(aist["R"]).astype(np.float32),
        aist_cam_t=np.stack(aist["t"]).astype(np.float32),
        split_seed=np.asarray(SPLIT_SEED),
        fps=np.asarray(25.0),
    )
    out_path = Path(out_path)
    np.savez_compressed(out_path, **out)
    (out_path.parent / "splits.json").write_text(json.dumps(
        {"seed": SPLIT_SEED, "rule": "70/15/15 by take group per style; salsa 60_k and 61_k share a group",
         "takes": {t["name"]: t["split"] for t in takes}}, indent=1))
    return {"takes": len(takes), "frames": int(offsets[-1]), "bytes": out_path.stat().st_size}
