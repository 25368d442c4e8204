"""The malformed-input corpus: writes each case from the real fixtures and names what must happen.

    python tests/corpus/make_corpus.py OUT_DIR     # writes the files and prints the case list

Every case is a ``Case(name, run, field)``: ``run()`` must raise ``dancejax.errors.DataError``
(or ``SystemExit(2)`` from argument parsing) whose message names the file (or "input") and
contains ``field``.  ``tests/test_corpus.py`` runs every case under a timeout, so a parser that
stops advancing fails instead of hanging.  The cases cover each class of failure found in
round 1: hangs, unbounded recursion, wrong-typed fields, silent garbage, resource bombs,
model inputs, command-line arguments and study configs, and error messages without the file.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dancejax.skeleton import LSP14

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclasses.dataclass
class Case:
    name: str
    run: Callable[[], object]
    field: str  # a substring the message must contain (the field, or the reason)
    names_file: bool = True  # the message must name the file (or "input")


def _w(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def bvh_cases(out: Path) -> list[Case]:
    from dancejax.io import read_bvh

    src = (FIXTURES / "131_01_head.bvh").read_text()
    head, motion = src.split("MOTION")
    lines = motion.strip().split("\n")
    frames = lines[2:]
    first_channels = head.index("CHANNELS 3")
    cases = []

    def add(name, text, field):
        p = _w(out / f"{name}.bvh", text)
        cases.append(Case(f"bvh_{name}", lambda p=p: read_bvh(p), field))

    add("channels_negative", head.replace("CHANNELS 3", "CHANNELS -2", 1) + "MOTION" + motion, "CHANNELS")
    add("channels_huge", head.replace("CHANNELS 3", "CHANNELS 99", 1) + "MOTION" + motion, "CHANNELS")
    add("channel_unknown", head.replace("Zrotation", "Qrotation", 1) + "MOTION" + motion, "CHANNELS")
    add(
        "channel_repeated",
        head[:first_channels]
        + head[first_channels:].replace("Zrotation Yrotation Xrotation", "Zrotation Zrotation Xrotation", 1)
        + "MOTION"
        + motion,
        "CHANNELS",
    )
    add("no_motion", head, "MOTION")
    add("truncated_motion", head + "MOTION" + motion[: len(motion) // 2], "MOTION")
    split = frames[3].split()
    moved = frames[:3] + [" ".join(split[:-1]), split[-1] + " " + frames[4]] + frames[5:]
    add("value_on_wrong_line", head + "MOTION\n" + "\n".join(lines[:2] + moved) + "\n", "MOTION")
    add(
        "non_numeric",
        head + "MOTION\n" + "\n".join(lines[:2] + [frames[0].replace("0.0000", "abc", 1)] + frames[1:]),
        "MOTION",
    )
    add(
        "nan_value",
        head + "MOTION\n" + "\n".join(lines[:2] + [frames[0].replace("0.0000", "nan", 1)] + frames[1:]),
        "MOTION",
    )
    add("frames_not_int", head + "MOTION\nFrames: twelve\n" + "\n".join(lines[1:]), "MOTION")
    add("frame_time_negative", head + "MOTION\n" + lines[0] + "\nFrame Time: -0.1\n" + "\n".join(frames), "Frame Time")
    add("frames_huge", head + "MOTION\nFrames: 999999999999\n" + "\n".join(lines[1:]), "Frames")
    add(
        "second_root",
        head.replace("HIERARCHY", "HIERARCHY\nROOT Extra\n{\nOFFSET 0 0 0\n}", 1) + "MOTION" + motion,
        "ROOT",
    )
    add("unbalanced_brace", head.replace("{", "", 1) + "MOTION" + motion, "outside any joint")
    add("offset_not_numbers", head.replace("OFFSET", "OFFSET x", 1) + "MOTION" + motion, "OFFSET")
    add("empty", "", "HIERARCHY")
    add("binary", "\x00\x01\x02HIERARCHY", "HIERARCHY")
    return cases


def asf_amc_cases(out: Path) -> list[Case]:
    from dancejax.io import read_asf, read_asf_amc

    asf = (FIXTURES / "05.asf").read_text()
    amc = (FIXTURES / "05_02_head.amc").read_text()
    cases = []

    def add_asf(name, text, field):
        p = _w(out / f"{name}.asf", text)
        cases.append(Case(f"asf_{name}", lambda p=p: read_asf(p), field))

    add_asf("cycle", asf.replace("    lfemur ltibia", "    lfemur ltibia\n    ltibia lhipjoint"), "hierarchy")
    add_asf("self_parent", asf.replace("    lfemur ltibia", "    lfemur ltibia lfemur"), "hierarchy")
    add_asf("two_parents", asf.replace("    rfemur rtibia", "    rfemur rtibia ltibia"), "hierarchy")
    add_asf("no_units_length", asf.replace("  length 0.45\n", ""), ":units length")
    add_asf("unknown_dof", asf.replace("dof rx ry rz", "dof rx rq rz", 1), "dof")
    add_asf("unknown_axis", asf.replace("axis 0 0 20  XYZ", "axis 0 0 20  XYQ", 1), "axis")
    add_asf("bone_twice", asf.replace("name ltibia", "name lfemur", 1), "bonedata")
    add_asf("bad_root_order", asf.replace("order TX TY TZ RX RY RZ", "order TX TY TQ RX RY RZ"), ":root order")
    add_asf("bad_angle_unit", asf.replace("angle deg", "angle grad"), ":units angle")
    add_asf("length_not_number", asf.replace("length 2.51848", "length long", 1), "length")
    add_asf("undefined_bone", asf.replace("    lfemur ltibia", "    lfemur ltibia tail"), "hierarchy")
    add_asf("empty", "", "empty")
    asf_ok = _w(out / "ok.asf", asf)

    def add_amc(name, text, field):
        p = _w(out / f"{name}.amc", text)
        cases.append(Case(f"amc_{name}", lambda p=p: read_asf_amc(asf_ok, p, 120.0), field))

    add_amc("frame_gap", amc.replace("\n3\n", "\n5\n", 1), "frame number")
    add_amc("frame_repeat", amc.replace("\n3\n", "\n2\n", 1), "frame number")
    add_amc("first_frame_7", amc.replace("\n1\n", "\n7\n", 1), "frame number")
    first_line = next(line for line in amc.splitlines() if line.startswith("lowerback"))
    add_amc("duplicate_bone", amc.replace(first_line, first_line + "\n" + first_line, 1), "lowerback")
    add_amc("unknown_bone", amc.replace("lowerback", "tailbone", 1), "tailbone")
    add_amc("missing_bone", amc.replace(first_line + "\n", "", 1), "lowerback")
    add_amc("nan_value", amc.replace(first_line, "lowerback nan 0 0", 1), "lowerback")
    add_amc("too_few_values", amc.replace(first_line, "lowerback 1 2", 1), "lowerback")
    return cases


COCO_CROWDPOSE = [
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "head",
    "neck",
]


def coco_cases(out: Path) -> list[Case]:
    from dancejax.io import read_coco_keypoints

    dets = json.loads((FIXTURES / "aist_view0_coco_results.json").read_text())
    kp = dets[0]["keypoints"]
    gt_kp = [round(v) if i % 3 != 2 else 2 for i, v in enumerate(kp)]

    def gt(anns, cats=None):
        d = {"images": [{"id": a["image_id"]} for a in anns if isinstance(a.get("image_id"), int)], "annotations": anns}
        if cats is not None:
            d["categories"] = cats
        return d

    cases = []

    def add(name, doc, field, layout="coco17", raw=None):
        p = _w(out / f"{name}.json", raw if raw is not None else json.dumps(doc))
        cases.append(Case(f"coco_{name}", lambda p=p, layout=layout: read_coco_keypoints(p, 25.0, layout), field))

    add(
        "crowdpose_names",
        gt([{"image_id": 1, "keypoints": gt_kp[:42]}], [{"keypoints": COCO_CROWDPOSE}]),
        "categories[].keypoints",
        layout="lsp14",
    )
    add(
        "h36m_names",
        gt([{"image_id": 1, "keypoints": gt_kp}], [{"keypoints": [f"j{i}" for i in range(17)]}]),
        "categories[].keypoints",
    )
    add("image_id_list", [{**dets[0], "image_id": [1, 2]}], "image_id")
    add("image_id_mixed", [dets[0], {**dets[1], "image_id": "frame_2"}], "image_id")
    add("keypoints_strings", [{**dets[0], "keypoints": [str(v) for v in kp]}], "keypoints")
    add("keypoints_bool", [{**dets[0], "keypoints": [True] * len(kp)}], "keypoints")
    add("negative_visibility", gt([{"image_id": 1, "keypoints": gt_kp[:-1] + [-1]}]), "visibility")
    add("visibility_three", gt([{"image_id": 1, "keypoints": gt_kp[:-1] + [3]}]), "visibility")
    add("wrong_count", [{**dets[0], "keypoints": kp[:-3]}], "keypoints")
    add("score_string", [{**dets[0], "score": "high"}], "score")
    add("deep_nesting", None, "nested", raw="[" * 200_000 + "]" * 200_000)
    add("not_json", None, "JSON", raw="{image_id: 1")
    add("empty", None, "empty", raw="")
    add("nan", None, "non-finite", raw=json.dumps([{**dets[0], "keypoints": [float("nan")] * len(kp)}]))
    return cases


def frames_cases(out: Path) -> list[Case]:
    from dancejax.io import read_frames_json

    base = {
        "format": "dancejax-frames",
        "version": 1,
        "layout": "lsp14",
        "fps": 25.0,
        "units": "px",
        "labels": {"style": "ballet"},
        "frames": [{"frame": t, "keypoints": [[100.0 + j, 200.0 + t, 0.9] for j in range(14)]} for t in range(3)],
    }
    cases = []

    def add(name, change, field, raw=None):
        doc = json.loads(json.dumps(base))
        change(doc)
        p = _w(out / f"frames_{name}.json", raw if raw is not None else json.dumps(doc))
        cases.append(Case(f"frames_{name}", lambda p=p: read_frames_json(p), field))

    add("fps_string", lambda d: d.update(fps="25"), "fps")
    add("fps_null", lambda d: d.update(fps=None), "fps")
    add("fps_list", lambda d: d.update(fps=[25]), "fps")
    add("fps_zero", lambda d: d.update(fps=0), "fps")
    add("labels_list", lambda d: d.update(labels=["ballet"]), "labels")
    add("layout_list", lambda d: d.update(layout=["lsp14"]), "layout")
    add("layout_unknown", lambda d: d.update(layout="h36m"), "layout")
    add("keypoints_strings", lambda d: d["frames"][1].update(keypoints=[["1", "2", "0.5"]] * 14), "keypoints")
    add("keypoints_bool", lambda d: d["frames"][1].update(keypoints=[[True, 2.0, 0.5]] * 14), "keypoints")
    add("keypoints_complex_text", lambda d: d["frames"][1].update(keypoints=[["1+2j", 2.0, 0.5]] * 14), "keypoints")
    add("frames_skip", lambda d: d["frames"][2].update(frame=5), "frame")
    add("confidence_over_one", lambda d: d["frames"][0].update(keypoints=[[1.0, 2.0, 7.0]] * 14), "confidence")
    add(
        "joints_other_order",
        lambda d: d.update(joints=list(reversed(LSP14.joints))),
        "joints",
    )
    return cases


def npz_cases(out: Path) -> list[Case]:
    from dancejax.io import read_npz
    from dancejax.io.jsonfmt import read_npy

    pos = np.random.default_rng(0).normal(size=(5, 14, 3)).astype(np.float32)
    cases = []

    def add(name, field, **arrays):
        base = {"positions": pos, "fps": np.asarray(25.0), "layout": np.asarray("lsp14"), "labels": np.asarray("{}")}
        base.update(arrays)
        base = {k: v for k, v in base.items() if v is not None}
        p = out / f"{name}.npz"
        np.savez(p, **base)
        cases.append(Case(f"npz_{name}", lambda p=p: read_npz(p), field))

    add("fps_array", "fps", fps=np.asarray([25.0, 30.0]))
    add("fps_string", "fps", fps=np.asarray("25"))
    add("labels_not_json", "labels", labels=np.asarray("{style: ballet"))
    add("labels_list", "labels", labels=np.asarray('["ballet"]'))
    add("positions_complex", "positions", positions=pos.astype(np.complex64))
    add("positions_bool", "positions", positions=pos > 0)
    add("positions_inf", "positions", positions=np.where(pos > 1, np.inf, pos))
    add("missing_fps", "fps", fps=None)
    add("layout_unknown", "layout", layout=np.asarray("h36m"))
    np.save(out / "bare.npy", pos)
    cases.append(Case("npy_given_to_read_npz", lambda: read_npz(out / "bare.npy"), "read_npy"))
    cases.append(Case("npy_without_fps", lambda: read_npy(out / "bare.npy"), "fps"))
    return cases


class _Bomb:
    """A pickle that asks for ``bytearray(1.5e9)``: refused before it allocates."""

    def __reduce__(self):
        return (bytearray, (1_500_000_000,))


class _Shell:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def aist_cases(out: Path) -> list[Case]:
    from dancejax.io import load_restricted_pickle, read_cameras, read_keypoints2d, read_keypoints3d

    k3 = load_restricted_pickle(FIXTURES / "gBR_sBM_cAll_d04_mBR2_ch08_kp3d_head.pkl")
    k2 = load_restricted_pickle(FIXTURES / "gBR_sBM_cAll_d04_mBR2_ch08_kp2d_head.pkl")
    cases = []

    def add_pickle(name, obj, field, reader):
        p = _w(out / f"{name}.pkl", pickle.dumps(obj, protocol=4))
        cases.append(Case(f"aist_{name}", lambda p=p: reader(p), field))

    add_pickle("zero_views", {**k2, "keypoints2d": k2["keypoints2d"][:0]}, "keypoints2d", read_keypoints2d)
    inf3 = k3["keypoints3d_optim"].copy()
    inf3[2, 3, 1] = np.inf
    add_pickle("inf_keypoints3d", {**k3, "keypoints3d_optim": inf3}, "keypoints3d_optim", read_keypoints3d)
    add_pickle(
        "wrong_shape",
        {**k3, "keypoints3d_optim": k3["keypoints3d_optim"][..., :2]},
        "keypoints3d_optim",
        read_keypoints3d,
    )
    add_pickle("strings_array", {**k3, "keypoints3d_optim": np.asarray([["a"]])}, "keypoints3d_optim", read_keypoints3d)
    add_pickle("not_a_dict", [1, 2, 3], "expected a dict", read_keypoints3d)
    p = _w(out / "bomb.pkl", pickle.dumps(_Bomb(), protocol=4))
    cases.append(Case("aist_bytearray_bomb", lambda p=p: read_keypoints3d(p), "bytearray"))
    p = _w(out / "shell.pkl", pickle.dumps(_Shell(), protocol=4))
    cases.append(Case("aist_os_system", lambda p=p: read_keypoints3d(p), "system"))
    cams = json.loads((FIXTURES / "setting1.json").read_text())

    def add_cam(name, change, field):
        c = json.loads(json.dumps(cams))
        change(c)
        p = _w(out / f"cam_{name}.json", json.dumps(c).replace("NaN", "NaN"))
        cases.append(Case(f"camera_{name}", lambda p=p: read_cameras(p), field))

    add_cam("matrix_2x2", lambda c: c[0].update(matrix=[[1.0, 0.0], [0.0, 1.0]]), "matrix")
    add_cam("rotation_nan", lambda c: c[1].update(rotation=[float("nan"), 0.0, 0.0]), "rotation")
    add_cam("no_translation", lambda c: c[2].pop("translation"), "translation")
    add_cam("distortions_many", lambda c: c[0].update(distortions=[0.0] * 9), "distortions")
    add_cam("size_strings", lambda c: c[0].update(size=["1920", "1080"]), "size")
    return cases


def model_cases() -> list[Case]:
    import jax

    from dancejax.tasks import prediction as P
    from dancejax.tasks import recognition as R

    rc = R.make_config("mkff_stgcn", "test")
    rs = R.init_state(rc, jax.random.key(0))
    ref = R.Refiner(rc, {"params": rs.params, "batch_stats": rs.batch_stats})
    pc = P.make_config("zero_velocity", "test")
    pred = P.Predictor(pc, {"params": {}, "batch_stats": {}})
    x = np.full((2, 16, 14, 2), 500.0, np.float32)
    c = np.ones((2, 16, 14), np.float32)
    obs = np.zeros((2, 10, 14, 3), np.float32)
    cn = c.copy()
    cn[0, 0, 0] = np.nan
    return [
        Case("refiner_wrong_window", lambda: ref(x[:, :12], c[:, :12]), "keypoints"),
        Case("refiner_unbatched", lambda: ref(x[0], c[0]), "keypoints"),
        Case("refiner_nan_confidence", lambda: ref(x, cn), "NaN"),
        Case("refiner_huge", lambda: ref(x * 1e30, c), "keypoints"),
        Case("refiner_wrong_joints", lambda: ref(np.zeros((2, 16, 17, 2)), np.ones((2, 16, 17))), "keypoints"),
        Case("refiner_strings", lambda: ref(np.full((2, 16, 14, 2), "a"), c), "keypoints"),
        Case("predictor_horizon_zero", lambda: pred(obs, 0), "horizon"),
        Case("predictor_horizon_negative", lambda: pred(obs, -3), "horizon"),
        Case("predictor_huge", lambda: pred(obs + 1e30), "observed"),
        Case("predictor_nan", lambda: pred(obs + np.nan), "observed"),
        Case("predictor_unbatched", lambda: pred(obs[0]), "observed"),
        Case("predictor_2d", lambda: pred(obs[..., :2]), "observed"),
    ]


def cli_cases(out: Path) -> list[Case]:
    from dancejax.cli import main

    def cli(*args):
        rc = main(["--no-cache", *args])
        if rc == 2:
            raise SystemExit(2)
        return rc

    _w(out / "afile", "not a folder")
    cfgs = {
        "study_not_json": "{task: recognition",
        "study_unknown_key": json.dumps({"task": "prediction", "epochs": 1, "grid": {"lr": [0.1]}, "colour": 1}),
        "study_epochs_string": json.dumps({"task": "prediction", "epochs": "3", "grid": {"lr": [0.1]}}),
        "study_epochs_missing": json.dumps({"task": "prediction", "grid": {"lr": [0.1]}}),
        "study_grid_list": json.dumps({"task": "prediction", "epochs": 1, "grid": [["lr", [0.1]]]}),
        "study_chunk_zero": json.dumps({"task": "prediction", "epochs": 1, "grid": {"lr": [0.1]}, "chunk_size": 0}),
        "study_epochs_negative": json.dumps({"task": "prediction", "epochs": -2, "grid": {"lr": [0.1]}}),
        "study_preset_typo": json.dumps({"task": "prediction", "epochs": 1, "preset": "quik", "grid": {"lr": [0.1]}}),
    }
    fields = {
        "study_not_json": "JSON",
        "study_unknown_key": "colour",
        "study_epochs_string": "epochs",
        "study_epochs_missing": "epochs",
        "study_grid_list": "grid",
        "study_chunk_zero": "chunk_size",
        "study_epochs_negative": "epochs",
        "study_preset_typo": "presets are",
    }
    cases = []
    for name, text in cfgs.items():
        p = _w(out / f"{name}.json", text)
        cases.append(
            Case(f"cli_{name}", lambda p=p: cli("study", "--config", str(p), "--out", str(out / "st")), fields[name])
        )
    cases += [
        Case("cli_epochs_zero", lambda: cli("train", "--epochs", "0", "--run", str(out / "r")), "epochs", False),
        Case(
            "cli_batch_not_int",
            lambda: cli("train", "--batch-size", "abc", "--run", str(out / "r")),
            "batch-size",
            False,
        ),
        Case("cli_run_is_file", lambda: cli("train", "--preset", "test", "--run", str(out / "afile")), "run folder"),
        Case(
            "cli_preset_typo", lambda: cli("train", "--preset", "quik", "--run", str(out / "r")), "presets are", False
        ),
        Case(
            "cli_convert_missing_file",
            lambda: cli("convert", str(out / "none.pth"), "--out", str(out / "c")),
            "not found",
        ),
        Case("cli_evaluate_no_model", lambda: cli("evaluate", str(out / "nothing")), "no saved model"),
        Case("cli_manifest_without_data", lambda: cli("summary", "--manifest", str(out / "m.csv")), "--manifest"),
        Case(
            "cli_predict_missing_file",
            lambda: cli("predict", str(out / "nothing"), str(out / "x.bvh")),
            "no saved model",
        ),
    ]
    return cases


def all_cases(out: Path) -> list[Case]:
    out.mkdir(parents=True, exist_ok=True)
    return (
        bvh_cases(out)
        + asf_amc_cases(out)
        + coco_cases(out)
        + frames_cases(out)
        + npz_cases(out)
        + aist_cases(out)
        + model_cases()
        + cli_cases(out)
    )


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus_out")
    cases = all_cases(out)
    print(f"{len(cases)} cases written to {out}:")
    for c in cases:
        print(f"  {c.name}: expects a clear error naming {c.field!r}")
