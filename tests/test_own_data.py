"""Your own data, all the way (issue 27): style recognition trained on your 3D takes and on your
2D keypoint takes with new style names, run folders that remember their data and split, refine
and predict outputs at your frames with joint names, ASF/AMC skeletons, and the three classes of
malformed input (an ASF root without rotations, a damaged NPZ, contradicting frame-JSON units)."""

import json
import shutil

import numpy as np
import pytest

from dancejax.cli import main as cli
from dancejax.data.user import read_sequence
from dancejax.errors import DataError
from dancejax.io.jsonfmt import read_frames_json, read_npz, write_frames_json, write_npz
from dancejax.io.sequence import PoseSequence, canonical
from dancejax.skeleton import LSP14
from tests.test_bvh_schemes import REAL, long_take

STYLES = ("krump", "popping", "waacking")  # none of the shipped dataset's styles
SPLITS = ("train", "train", "val", "test")


def projected(seq3d: PoseSequence, fps: float, yaw: float = 0.0) -> PoseSequence:
    """A 3D take seen by a pinhole camera 4 m in front of it, as 2D keypoints at ``fps``."""
    c = canonical(seq3d)
    p = c.positions - c.positions[:1, 2:4].mean(1, keepdims=True) * np.array([1, 0, 1])
    rot = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    p = p @ rot.T
    z = 4.0 - p[..., 2:3]
    xy = np.concatenate([p[..., :1], 1.0 - p[..., 1:2]], -1) / z * 1000 + np.array([960, 540])
    two = PoseSequence(xy.astype(np.float32), None, 25.0, "lsp14", {"units": "px"})
    if fps != 25.0:  # the same motion sampled at another rate
        t = np.arange(int(two.num_frames * fps / 25.0)) * 25.0 / fps
        i0 = np.minimum(np.floor(t).astype(int), two.num_frames - 1)
        i1 = np.minimum(i0 + 1, two.num_frames - 1)
        w = (t - i0)[:, None, None]
        two = PoseSequence(two.positions[i0] * (1 - w) + two.positions[i1] * w, None, fps, "lsp14", {"units": "px"})
    return two


@pytest.fixture(scope="module")
def takes3d(tmp_path_factory):
    """A folder of BVH takes of four naming schemes, three new styles, four takes each."""
    from tests.conftest import FIXTURES

    root = tmp_path_factory.mktemp("takes3d")
    rows, names = ["file,style,performer,split"], sorted(REAL)
    for s, style in enumerate(STYLES):
        for k, split in enumerate(SPLITS):
            src = FIXTURES / "bvh_schemes" / names[(s + k) % len(names)]
            long_take(src, root / f"{style}_{k}.bvh", seconds=2.5 + 0.5 * k)
            rows.append(f"{style}_{k}.bvh,{style},p{k},{split}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def recognition_run(takes3d, tmp_path_factory):
    import contextlib
    import io

    run = tmp_path_factory.mktemp("rec") / "run"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli(
            ["--no-cache", "train", "--task", "recognition", "--preset", "test", "--data", str(takes3d)]
            + ["--run", str(run), "--epochs", "1"]
        )
    assert rc == 0, out.getvalue()[-3000:]
    return run, out.getvalue()


def test_recognition_trains_on_your_3d_takes_with_the_shipped_calibration(recognition_run, takes3d):
    run, out = recognition_run
    assert "uses the shipped AIST++ calibration" in out
    meta = json.loads((run / "model" / "dancejax_model.json").read_text())
    assert meta["styles"] == list(STYLES) and meta["config"]["model"]["num_styles"] == 3
    record = json.loads((run / "run.json").read_text())
    assert record["data"]["data"] == str(takes3d.resolve())  # absolute, whatever the working directory
    assert record["splits"] == {f"{st}_{k}": sp for st in STYLES for k, sp in enumerate(SPLITS)}
    assert "uses the shipped AIST++ calibration" in record["data_notes"][0]
    lines = out.splitlines()
    top = lines.index(next(x for x in lines if x.startswith("split of 12 takes")))
    assert lines[top + 2].split() == ["krump", "2", "1", "1"]
    assert lines[top + 5] == "  train: " + ", ".join(f"{s}_{k}" for s in STYLES for k in (0, 1))
    assert (run / "checkpoints" / "periodic").is_dir() and not (run / "periodic").exists()  # one layout


def test_refine_reports_the_models_own_styles_at_the_inputs_frames(recognition_run, fixtures, tmp_path, capsys):
    from dancejax.data.user import read_sequence

    run, _ = recognition_run
    clip = projected(read_sequence(fixtures / "bvh_schemes" / "leftright_plain.bvh"), fps=30.0, yaw=0.4)
    write_frames_json(clip, tmp_path / "clip.json")
    assert cli(["--no-cache", "refine", str(run), str(tmp_path / "clip.json"), "--out", str(tmp_path / "r.json")]) == 0
    said = capsys.readouterr().out
    assert "(of the model's 3 styles: krump, popping, waacking)" in said and "style: " in said
    assert said.split("style: ")[1].split()[0] in STYLES
    back = read_frames_json(tmp_path / "r.json")
    assert back.num_frames == clip.num_frames and back.fps == 30.0 and back.layout == "lsp14"
    assert set(back.labels["style_posterior"]) == set(STYLES)
    assert json.loads((tmp_path / "r.json").read_text())["joints"] == list(LSP14.joints)
    # a clip shorter than the window is padded, and the output keeps its frames; one frame is refused
    short = PoseSequence(clip.positions[:5], None, 30.0, "lsp14", {"units": "px"})
    write_frames_json(short, tmp_path / "short.json")
    assert cli(["--no-cache", "refine", str(run), str(tmp_path / "short.json"), "--out", str(tmp_path / "s.json")]) == 0
    assert "padded by repeating its first and last frames" in capsys.readouterr().out
    assert read_frames_json(tmp_path / "s.json").num_frames == 5
    one = PoseSequence(clip.positions[:1], None, 30.0, "lsp14", {"units": "px"})
    write_frames_json(one, tmp_path / "one.json")
    assert cli(["--no-cache", "refine", str(run), str(tmp_path / "one.json")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "one.json") in err and "the refiner needs motion" in err


def test_evaluate_from_another_directory_and_on_moved_data(recognition_run, takes3d, tmp_path, monkeypatch, capsys):
    run, out = recognition_run
    table = split_table_of(out)
    monkeypatch.chdir(tmp_path)
    assert cli(["--no-cache", "evaluate", str(run), "--out", str(tmp_path)]) == 0
    assert split_table_of(capsys.readouterr().out) == table  # the same takes in the same splits
    moved = tmp_path / "moved"
    shutil.copytree(takes3d, moved)
    record = json.loads((run / "run.json").read_text())
    record["data"]["data"] = str(tmp_path / "gone")  # as if the data had moved away
    (tmp_path / "run2").mkdir()
    shutil.copytree(run / "model", tmp_path / "run2" / "model")
    (tmp_path / "run2" / "run.json").write_text(json.dumps(record))
    assert cli(["--no-cache", "evaluate", str(tmp_path / "run2")]) == 2
    assert "give --data (or --aistpp) to re-point the run" in capsys.readouterr().err
    assert cli(["--no-cache", "evaluate", str(tmp_path / "run2"), "--data", str(moved)]) == 0
    again = split_table_of(capsys.readouterr().out)
    assert again[1:] == table[1:] and str(moved) in again[0]  # the recorded split, on the moved data


def split_table_of(text: str) -> list[str]:
    """The split table a command printed: its title, column heads, 3 styles and 3 lists of takes."""
    lines = text.splitlines()
    top = next(i for i, x in enumerate(lines) if x.startswith("split of"))
    return lines[top : top + 8]


def test_a_style_without_a_test_take_warns_or_fails_under_strict(takes3d, tmp_path, capsys):
    data = tmp_path / "few"
    shutil.copytree(takes3d, data)
    rows = (data / "manifest.csv").read_text().splitlines()
    (data / "manifest.csv").write_text("\n".join(rows[:-4] + [rows[-4].replace(",train", ",")]) + "\n")  # one take
    args = ["--no-cache", "train", "--task", "prediction", "--preset", "test", "--data", str(data)]
    assert cli([*args, "--run", str(tmp_path / "r"), "--strict"]) == 2
    err = capsys.readouterr().err
    assert "style 'waacking' has 1 take(s), none in the test split" in err and "(--strict)" in err


def two_d_folder(root, fixtures):
    from dancejax.data.user import read_sequence

    names = sorted(REAL)
    rows = ["file,style,split"]
    for s, style in enumerate(STYLES):
        for k, split in enumerate(SPLITS):
            long_take(fixtures / "bvh_schemes" / names[(s + k) % len(names)], root / "tmp.bvh", 3.0)
            clip = projected(read_sequence(root / "tmp.bvh"), fps=25.0, yaw=0.3 * k + s)
            write_frames_json(clip, root / f"{style}_{k}.json")
            rows.append(f"{style}_{k}.json,{style},{split}")
    (root / "tmp.bvh").unlink()
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def test_recognition_trains_on_2d_keypoint_takes_with_style_labels(fixtures, tmp_path, capsys):
    (tmp_path / "kp").mkdir()
    data = two_d_folder(tmp_path / "kp", fixtures)
    run = tmp_path / "run"
    args = ["--no-cache", "train", "--task", "recognition", "--preset", "test", "--data", str(data)]
    assert cli([*args, "--run", str(run), "--epochs", "1", "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    assert "no ground truth: on their windows the refinement loss is off" in out
    assert "selected by balanced style accuracy" in out and "shipped AIST++ calibration" not in out
    ev = json.loads((run / "evaluation.json").read_text())
    assert "no ground truth" in ev["real_val"]["note"] and ev["real_val"]["style_acc"] >= 0
    assert json.loads((run / "model" / "dancejax_model.json").read_text())["styles"] == list(STYLES)
    assert cli(["--no-cache", "refine", str(run), str(data / "popping_3.json"), "--out", str(tmp_path / "o.json")]) == 0
    said = capsys.readouterr().out
    assert "(of the model's 3 styles: krump, popping, waacking)" in said and "refined keypoints are untrained" in said


def test_coco_person_rank_picks_one_person_per_image(tmp_path):
    from dancejax.io.jsonfmt import read_coco_keypoints

    rng = np.random.default_rng(0)
    anns = []
    for img in range(4):
        for score in (0.9, 0.5) if img != 2 else (0.9,):
            kp = np.concatenate([rng.uniform(0, 500, (17, 2)), np.full((17, 1), score)], 1)
            anns.append({"image_id": img, "keypoints": kp.ravel().tolist(), "score": score})
    (tmp_path / "det.json").write_text(json.dumps(anns))
    first = read_coco_keypoints(tmp_path / "det.json", 25.0)
    second = read_coco_keypoints(tmp_path / "det.json", 25.0, person=1)
    assert np.allclose(first.confidence, 0.9) and first.labels["max_people"] == 2
    assert np.allclose(second.confidence[[0, 1, 3]], 0.5) and (second.confidence[2] == 0).all()
    with pytest.raises(DataError, match="det.json: field 'person': rank 2 asked, but no image has more than 2"):
        read_coco_keypoints(tmp_path / "det.json", 25.0, person=2)


# ---------------------------------------------------------------- prediction outputs


@pytest.fixture(scope="module")
def prediction_run(takes3d, tmp_path_factory):
    import contextlib
    import io

    run = tmp_path_factory.mktemp("pred") / "run"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli(
            ["--no-cache", "train", "--task", "prediction", "--preset", "test", "--data", str(takes3d)]
            + ["--run", str(run), "--batch-size", "4"]
        )
    assert rc == 0, out.getvalue()[-3000:]
    return run, out.getvalue()


def test_prediction_evaluation_has_zero_and_constant_velocity_rows(prediction_run):
    run, out = prediction_run
    rows = [x.split()[0] for x in out.split("MPJPE (mm, root-relative)")[1].splitlines()[2:] if x.strip()]
    assert rows[-4:-1] == ["overall", "zero", "const."]
    ev = json.loads((run / "evaluation.json").read_text())
    assert set(ev["baselines"]) == {"zero velocity", "const. velocity"}
    assert "'val' is −MPJPE (mm, root-relative, all predicted frames); higher is better" in out


def test_predict_slides_over_the_take_in_every_format_with_a_plot(prediction_run, takes3d, tmp_path, capsys):
    run, _ = prediction_run
    take = str(takes3d / "krump_3.bvh")
    assert cli(["--no-cache", "predict", run.as_posix(), take, "--every", "5", "--out", str(tmp_path / "p.json")]) == 0
    said = capsys.readouterr().out
    assert "predictions; wrote" in said and "mean MPJPE" in said and "zero velocity" in said
    doc = json.loads((tmp_path / "p.json").read_text())
    n = canonical(read_sequence(take)).num_frames
    assert doc["format"] == "dancejax-predictions" and doc["joints"] == list(LSP14.joints)
    assert [p["first_frame"] for p in doc["predictions"]] == list(range(10, n + 1, 5))
    assert doc["predictions"][0]["mpjpe_mm"] > 0 and doc["predictions"][-1]["mpjpe_mm"] is None
    args = ["--no-cache", "predict", str(run), take, "--every", "5", "--format", "npz"]
    assert cli([*args, "--out", str(tmp_path / "p.npz"), "--plot", str(tmp_path / "p.png")]) == 0
    with np.load(tmp_path / "p.npz") as z:
        assert z["predicted"].shape == (len(doc["predictions"]), 10, 14, 3) and list(z["joints"]) == list(LSP14.joints)
    assert (tmp_path / "p.png").stat().st_size > 10_000
    assert cli(["--no-cache", "predict", str(run), take, "--format", "bvh", "--out", str(tmp_path / "p.bvh")]) == 0
    from dancejax.io.bvh import read_bvh

    back = read_bvh(tmp_path / "p.bvh", scale=None)  # a BVH any reader takes, dancejax's included
    assert back.num_frames == 10 and back.labels["joint_names"] == list(LSP14.joints)
    assert cli(["--no-cache", "predict", str(run), take, "--out", str(tmp_path / "one.json")]) == 0
    single = read_frames_json(tmp_path / "one.json")
    np.testing.assert_allclose(back.positions, single.positions, atol=1e-5)
    assert "confidence" in single.labels and single.labels["first_predicted_frame"] == n


def test_asf_alone_and_skeleton_option(prediction_run, fixtures, tmp_path, capsys):
    run, _ = prediction_run
    assert cli(["--no-cache", "predict", str(run), str(fixtures / "05.asf")]) == 2
    assert "give the .amc motion file and this skeleton with it (--skeleton 05.asf" in capsys.readouterr().err
    amc = tmp_path / "dance.amc"  # a name whose subject part finds no .asf
    amc.write_text("\n".join(long_amc(fixtures)))
    assert cli(["--no-cache", "predict", str(run), str(amc), "--fps", "120"]) == 2
    assert "give it with --skeleton FILE.asf" in capsys.readouterr().err
    args = ["--no-cache", "predict", str(run), str(amc), "--fps", "120", "--skeleton", str(fixtures / "05.asf")]
    assert cli([*args, "--out", str(tmp_path / "a.json")]) == 0


def long_amc(fixtures):
    """The AMC fixture's frames played forward and back to one second at 120 fps."""
    lines = (fixtures / "05_02_head.amc").read_text().splitlines()
    head = lines[:3]
    frames, cur = [], None
    for x in lines[3:]:
        if x.strip().isdigit():
            cur = []
            frames.append(cur)
        elif cur is not None:
            cur.append(x)
    cycle = frames + frames[-2:0:-1]
    out = list(head)
    for i in range(120):
        out.append(str(i + 1))
        out.extend(cycle[i % len(cycle)])
    return out


def test_run_exported_names_its_outputs_as_the_signature_does(prediction_run, tmp_path, capsys):
    from dancejax.cli import build_parser

    run, _ = prediction_run
    helptext = build_parser()._subparsers._group_actions[0].choices["run-exported"].format_help()
    assert 'np.savez("inputs.npz", observed=' in helptext
    assert cli(["--no-cache", "export", str(run), str(tmp_path / "exp")]) == 0
    np.savez(tmp_path / "in.npz", observed=np.zeros((2, 10, 14, 3), np.float32))
    assert cli(["--no-cache", "run-exported", str(tmp_path / "exp"), str(tmp_path / "in.npz")]) == 0
    with np.load(tmp_path / "in.out.npz") as z:
        assert list(z.files) == ["predicted"] and z["predicted"].shape == (2, 10, 14, 3)


# ---------------------------------------------------------------- malformed input, by class


@pytest.mark.parametrize("order", ["TX TY TZ", "TZ TX TY", ""])
def test_asf_root_without_rotation_channels_is_read(fixtures, tmp_path, order):
    """The class 'root order with no rotation channels' (translation only, or none): the root never turns."""
    from dancejax.io import read_asf_amc

    asf = (fixtures / "05.asf").read_text().replace("order TX TY TZ RX RY RZ", f"order {order}".rstrip())
    (tmp_path / "05.asf").write_text(asf)
    keep = order.split()
    full = ["TX", "TY", "TZ", "RX", "RY", "RZ"]
    lines = []
    for x in (fixtures / "05_02_head.amc").read_text().splitlines():
        if x.startswith("root "):
            vals = dict(zip(full, x.split()[1:]))
            x = " ".join(["root"] + [vals[c] for c in keep])
        lines.append(x)
    (tmp_path / "05_02.amc").write_text("\n".join(lines) + "\n")
    s = read_asf_amc(tmp_path / "05.asf", tmp_path / "05_02.amc", fps=120)
    assert np.isfinite(s.positions).all() and s.positions.shape == (12, 31, 3)
    if keep:
        np.testing.assert_allclose(s.positions[:, 0, 0] * 0.45 / 0.0254, [float(v) for v in root_tx(fixtures)], 1e-4)


def root_tx(fixtures):
    return [x.split()[1] for x in (fixtures / "05_02_head.amc").read_text().splitlines() if x.startswith("root ")]


@pytest.mark.parametrize("cut", ["head", "half", "tail", "flip"])
def test_damaged_npz_is_a_clear_error_naming_the_file(tmp_path, cut):
    """The class 'damaged .npz': truncated anywhere or corrupted inside, for every reader of one."""
    from dancejax.data.dataset import DanceDataset
    from dancejax.io.validate import load_npz

    seq = PoseSequence(np.random.default_rng(0).normal(size=(50, 14, 3)), None, 25.0, "lsp14", {"units": "m"})
    write_npz(seq, tmp_path / "ok.npz")
    data = (tmp_path / "ok.npz").read_bytes()
    bad = {
        "head": data[:30],
        "half": data[: len(data) // 2],
        "tail": data[:-1],
        "flip": data[:200] + bytes(b ^ 0xFF for b in data[200:260]) + data[260:],
    }[cut]
    path = tmp_path / "bad.npz"
    path.write_bytes(bad)
    for read in (read_npz, lambda p: load_npz(p, "inputs"), DanceDataset):
        with pytest.raises(DataError, match=str(path)):
            read(path)


def test_frames_json_units_and_label_units_must_agree(tmp_path):
    seq = PoseSequence(np.zeros((3, 14, 2)), None, 25.0, "lsp14", {"units": "px"})
    write_frames_json(seq, tmp_path / "f.json")
    doc = json.loads((tmp_path / "f.json").read_text())
    for label, ok in (("px", True), ("m", False), (None, True)):
        d = json.loads(json.dumps(doc))
        if label is not None:
            d["labels"]["units"] = label
        (tmp_path / "g.json").write_text(json.dumps(d))
        if ok:
            assert read_frames_json(tmp_path / "g.json").labels["units"] == "px"
        else:
            with pytest.raises(
                DataError, match=r"g.json: field 'labels.units': 'm' contradicts the declared units 'px'"
            ):
                read_frames_json(tmp_path / "g.json")
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + (tmp_path / "f.json").read_bytes())
    assert read_frames_json(bom).num_frames == 3


# ---------------------------------------------------------------- Ctrl-C


def _train_until(args, cwd, wait_for, env):
    """Start ``dancejax train``; once a stdout line contains ``wait_for``, send SIGINT; return
    (exit status, stdout lines, stderr)."""
    import signal
    import subprocess
    import sys

    p = subprocess.Popen(
        [sys.executable, "-m", "dancejax.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in p.stdout:  # stderr stays small (a pipe holds it) until communicate reads it
        lines.append(line.rstrip("\n"))
        if wait_for in line:
            p.send_signal(signal.SIGINT)
            break
    rest, err = p.communicate(timeout=120)
    return p.returncode, lines + rest.splitlines(), err


def test_ctrl_c_stops_cleanly_with_one_line_and_resumes(tmp_path):
    import os
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1"}
    run = tmp_path / "run"
    args = [
        "train",
        "--task",
        "prediction",
        "--preset",
        "test",
        "--epochs",
        "400",
        "--run",
        str(run),
        "--log-every",
        "1",
    ]
    rc, out, err = _train_until(args, tmp_path, "] epoch 3/400:", env)
    assert rc == 130, (out[-20:], err[-3000:])
    said = [x for x in err.splitlines() if x.strip()]
    assert len(said) == 1 and "Traceback" not in err, err[-3000:]
    m = re.fullmatch(
        r"dancejax train: interrupted at epoch (\d+), step (\d+); the last checkpoint is epoch (\d+); "
        r"run the same command to resume",
        said[0],
    )
    assert m, said[0]
    at, last = int(m[1]), int(m[3])
    assert last >= 3 and at in (last, last + 1)
    assert not list(run.rglob("*orbax-checkpoint-tmp*"))
    assert not any("Waiting for previous save" in x for x in out)
    rc, out, err = _train_until(args, tmp_path, "step", env)  # the same command: it resumes
    assert rc == 130
    resumed = next(x for x in out if "resumed from" in x)
    assert f"after epoch {last}/400; continuing with epoch {last + 1}" in resumed
    first = next(x for x in out if "] epoch " in x and " step " in x)
    assert f"] epoch {last + 1} step " in first  # progress lines count epochs as the resume message does


def test_manifest_detections_calibrate_the_noise_simulator(takes3d, tmp_path):
    """A 3D take with its own real detections and camera: calibration uses them, not the shipped ones."""
    from dancejax.data.noise import calibrate, shipped_calibration
    from dancejax.data.user import from_folder
    from dancejax.io.aistpp import Camera, project

    data = tmp_path / "det"
    shutil.copytree(takes3d, data)
    cam = {"name": "c1", "size": [1920, 1080], "matrix": [[1000, 0, 960], [0, 1000, 540], [0, 0, 1]]}
    cam.update(rotation=[0.0, 0.0, 0.0], translation=[0.0, -1.0, 4.0], distortions=[0, 0, 0, 0, 0])
    (data / "camera.json").write_text(json.dumps([cam]))
    k = np.asarray(cam["matrix"], float)
    c = Camera("c1", (1920, 1080), k, np.zeros(5), np.eye(3), np.asarray(cam["translation"]))
    rows = (data / "manifest.csv").read_text().splitlines()
    rows[0] += ",detections,camera"
    rng = np.random.default_rng(0)
    for i in range(1, len(rows)):
        name = rows[i].split(",")[0]
        take = canonical(read_sequence(data / name))
        px = project(take.positions, c, 1.0) + rng.normal(0, 4.0, take.positions.shape[:2] + (2,))
        conf = np.where(rng.uniform(size=px.shape[:2]) < 0.05, 0.0, 0.9)
        write_frames_json(PoseSequence(px, conf, 25.0, "lsp14", {"units": "px"}), data / f"{name}.det.json")
        rows[i] += f",{name}.det.json,camera.json"
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    ds = from_folder(data, log=lambda m: None)
    assert len(ds.detections) == 12 and all(d.has_gt for d in ds.detections)
    said = []
    own = calibrate(ds, log=said.append)
    assert said == []  # no word of the shipped calibration
    assert not np.allclose(own.jitter, shipped_calibration().jitter)
    assert 0.0 < float(np.median(own.jitter)) < 0.05  # box units: a few pixels of a ~400 px body
    bare = type(ds).from_takes(ds.takes, "bare")
    calibrate(bare, log=said.append)
    assert "uses the shipped AIST++ calibration" in said[0]


def test_study_curves_are_labelled_by_their_settings():
    from dancejax.studies.study import curve_label

    assert curve_label({"lr": 0.001, "dropout": 0.1, "val": 3.0}, ["dropout", "lr"], 2) == "dropout=0.1, lr=0.001"
    assert curve_label({}, [], 3) == "#3"
