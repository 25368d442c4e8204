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
from dancejax.io.sequence import canonical, to_lsp14

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


def aist_sequence(ann: Path, name: str, mapping: dict[str, str]):
    """One AIST++ sequence from an annotation folder (``keypoints3d/``, ``keypoints2d/``,
    ``cameras/``): its take metadata, LSP-14 3D positions at 25 fps (metres), and per view the
    real 2D detections, confidences and the projected 3D ground truth (LSP-14, 25 fps), and the
    cameras."""
    parts = name.split("_")
    if len(parts) < 4 or not parts[0].startswith("g"):
        raise DataError(
            f"{ann}: sequence name {name!r} is not an AIST++ name (g<genre>_s<situation>_c<camera>_d<dancer>_...)"
        )
    genre, dancer = parts[0], parts[3]
    f3 = ann / "keypoints3d" / f"{name}.pkl"
    k3 = read_keypoints3d(f3)
    c3 = canonical(k3)
    meta = dict(
        name=name,
        style=AIST_STYLE.get(genre, genre),
        performer=f"aist_{dancer}",
        source="aistpp",
        group=name,
        frames=c3.num_frames,
        source_fps=k3.fps,
        source_frames=k3.num_frames,
    )
    if name not in mapping:
        raise DataError(f"{ann / 'cameras' / 'mapping.txt'}: no camera setting for {name!r}")
    cams = read_cameras(ann / "cameras" / f"{mapping[name]}.json")
    views = read_keypoints2d(ann / "keypoints2d" / f"{name}.pkl")
    if len(views) != len(cams):
        raise DataError(
            f"{ann / 'keypoints2d' / (name + '.pkl')}: {len(views)} detection views but {len(cams)} cameras"
        )
    lsp3d = to_lsp14(k3)
    det, conf, gt = [], [], []
    for v, cam in zip(views, cams):
        d = canonical(v)
        g = canonical(type(lsp3d)(project(lsp3d.positions, cam, 100.0), lsp3d.confidence, lsp3d.fps, "lsp14"))
        n = min(d.num_frames, g.num_frames)
        det.append(d.positions[:n])
        conf.append(d.confidence[:n])
        gt.append(g.positions[:n])
    n = min(len(x) for x in det)
    return (
        meta,
        c3.positions,
        np.stack([x[:n] for x in det]),
        np.stack([x[:n] for x in conf]),
        np.stack([x[:n] for x in gt]),
        cams,
    )


def load_aistpp(root, seed: int = SPLIT_SEED):
    """A ``DanceDataset`` from the official AIST++ annotation folder: ``keypoints3d/``,
    ``keypoints2d/``, ``cameras/`` (with ``mapping.txt``), and, when present, ``splits/``
    (``crossmodal_{train,val,test}.txt``; otherwise 70/15/15 by sequence per genre with
    ``seed``) and ``ignore_list.txt`` (sequences to skip).  Every sequence with both 3D and 2D
    keypoints is a take with its real detections."""
    from dancejax.data.dataset import DanceDataset, DetectionSet, Take

    root = Path(root)
    ann = root / "annotation" if (root / "annotation" / "keypoints3d").is_dir() else root
    for sub in ("keypoints3d", "keypoints2d", "cameras"):
        if not (ann / sub).is_dir():
            raise DataError(f"{ann}: not an AIST++ annotation folder: {sub}/ is missing")
    if not (ann / "cameras" / "mapping.txt").exists():
        raise DataError(f"{ann / 'cameras'}: mapping.txt is missing")
    mapping = read_camera_mapping(ann / "cameras" / "mapping.txt")
    ignore = set()
    if (ann / "ignore_list.txt").exists():
        ignore = {x.strip() for x in (ann / "ignore_list.txt").read_text().split() if x.strip()}
    names = sorted(
        f.stem
        for f in (ann / "keypoints3d").glob("*.pkl")
        if f.stem not in ignore and (ann / "keypoints2d" / f.name).exists()
    )
    if not names:
        raise DataError(f"{ann}: no sequence has both keypoints3d/ and keypoints2d/ pickles")
    split_of = {}
    sdir = ann / "splits"
    for split, fname in (
        ("train", "crossmodal_train.txt"),
        ("val", "crossmodal_val.txt"),
        ("test", "crossmodal_test.txt"),
    ):
        if (sdir / fname).exists():
            for x in (sdir / fname).read_text().split():
                split_of[x.strip()] = split
    seqs = [aist_sequence(ann, n, mapping) for n in names]
    auto = assign_splits({m["group"]: m["style"] for m, *_ in seqs}, seed)
    takes, dets = [], []
    for m, pos3d, det, conf, gt, cams in seqs:
        split = split_of.get(m["name"], auto[m["group"]])
        takes.append(
            Take(m["name"], m["style"], m["performer"], m["source"], m["group"], split, pos3d.astype(np.float32))
        )
        dets.append(
            DetectionSet(
                m["name"],
                m["style"],
                split,
                det.astype(np.float32),
                conf.astype(np.float32),
                gt.astype(np.float32),
                tuple(cams),
            )
        )
    return DanceDataset.from_takes(takes, str(ann), dets, split_seed=seed)


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
        meta, pos3d, det, conf, gt, cams = aist_sequence(ann, f.stem, mapping)
        takes.append(meta)
        arrays.append(pos3d)
        aist["names"].append(f.stem)
        aist["det"].append(det)
        aist["conf"].append(conf)
        aist["gt"].append(gt)
        for key in ("K", "dist", "R", "t"):
            aist[key].append(np.stack([getattr(c, key) for c in cams]))

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
    (out_path.parent / "splits.json").write_text(
        json.dumps(
            {
                "seed": SPLIT_SEED,
                "rule": "70/15/15 by take group per style; salsa 60_k and 61_k share a group",
                "takes": {t["name"]: t["split"] for t in takes},
            },
            indent=1,
        )
    )
    return {"takes": len(takes), "frames": int(offsets[-1]), "bytes": out_path.stat().st_size}
