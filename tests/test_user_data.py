"""Your own data: NTU, Kinetics-skeleton and AIST++-layout readers, datasets from a folder with a
manifest, saved models, and the ``dancejax`` command end to end on a folder of BVH takes."""

import json
import shutil

import numpy as np
import pytest

from dancejax.cli import main as cli
from dancejax.data.build import load_aistpp
from dancejax.data.user import from_folder, read_manifest, read_sequence
from dancejax.errors import DataError
from dancejax.io import kinetics, ntu
from dancejax.io.sequence import canonical

FORMATS = "formats"


def test_ntu_skeleton_reader(fixtures):
    path = fixtures / FORMATS / "ntu_S001C001P001R001A001_head.skeleton"
    pos, conf, ids = ntu.read_ntu_bodies(path)
    assert pos.shape == (2, 6, 25, 3) and len(ids) == 2
    assert (conf[1, [0, 1, 5]] == 0).all() and (conf[1, 2:5] > 0).all()  # the second body in frames 2-4
    assert conf[0, 3, 7] == 0.5  # trackingState 1 (inferred)
    seq = ntu.read_ntu_skeleton(path)
    assert seq.layout == "ntu25" and seq.fps == 30.0 and seq.labels["body_id"] == ids[0]
    lsp = canonical(seq)
    assert lsp.layout == "lsp14" and np.isfinite(lsp.positions).all()
    assert ntu.stgcn_input(path).shape == (2, 6, 25, 3)


@pytest.mark.parametrize(
    "edit,match",
    [
        (lambda t: t.replace("\n25\n", "\n24\n", 1), "expected 25 joints, got 24"),
        (lambda t: "\n".join(t.split("\n")[:40]), "file ends early"),
        (lambda t: t.replace(" 2\n", " x\n", 1), "expected numbers"),
        (lambda t: "9999999\n" + t.split("\n", 1)[1], "frame count"),
        (lambda t: t.replace("\n1\n", "\n77\n", 1), "body count.*expected 0..16"),
    ],
)
def test_ntu_skeleton_bad_files(fixtures, tmp_path, edit, match):
    text = (fixtures / FORMATS / "ntu_S001C001P001R001A001_head.skeleton").read_text()
    bad = tmp_path / "bad.skeleton"
    bad.write_text(edit(text))
    with pytest.raises(DataError, match=match):
        ntu.read_ntu_bodies(bad)


def test_kinetics_json_reader(fixtures, tmp_path):
    path = fixtures / FORMATS / "kinetics_dance_head.json"
    seq = kinetics.read_kinetics_json(path)
    assert seq.layout == "openpose18" and seq.positions.shape == (5, 18, 2) and seq.labels["label"] == "dancing ballet"
    assert (seq.confidence[:, 16:] == 0).all() and (seq.confidence[:, :16] > 0.5).all()
    x = kinetics.stgcn_input(path)
    assert x.shape == (2, 5, 18, 3) and np.allclose(x[0, :, 16:], 0.0)
    assert canonical(seq).layout == "lsp14"
    d = json.loads(path.read_text())
    for mutate, match in (
        (lambda d: d.pop("data"), "'data' list"),
        (lambda d: d["data"][0]["skeleton"][0].update(pose=[0.1] * 10), "36 pose values"),
        (lambda d: d["data"][1].update(frame_index="2"), "frame_index"),
        (lambda d: d["data"][0]["skeleton"][0].update(score=["a"] * 18), "lists of numbers"),
    ):
        bad = json.loads(json.dumps(d))
        mutate(bad)
        (tmp_path / "k.json").write_text(json.dumps(bad))
        with pytest.raises(DataError, match=match):
            kinetics.read_kinetics_people(tmp_path / "k.json")


def test_aistpp_layout_loader(fixtures, tmp_path):
    ds = load_aistpp(fixtures / FORMATS / "aistpp_layout")
    assert len(ds.takes) == 4 and len(ds.detections) == 4
    assert {t.split for t in ds.takes} == {"train", "test"}  # from splits/crossmodal_*.txt
    assert set(ds.styles) == {"breakdance", "street_jazz"}
    d = ds.detections[0]
    assert d.det.shape[0] == len(d.cameras) and d.det.shape[1:] == d.gt.shape[1:]
    # projected ground truth lies near the real detections (pixels)
    err = np.linalg.norm(d.det - d.gt, axis=-1)[d.conf > 0.3]
    assert np.median(err) < 15
    broken = tmp_path / "broken"
    shutil.copytree(fixtures / FORMATS / "aistpp_layout", broken)
    (broken / "cameras" / "mapping.txt").unlink()
    with pytest.raises(DataError, match="mapping.txt is missing"):
        load_aistpp(broken)
    shutil.rmtree(broken / "keypoints2d")
    with pytest.raises(DataError, match="keypoints2d/ is missing"):
        load_aistpp(broken)


def bvh_folder(fixtures, root, takes=6):
    """Takes made from the real CMU 131 BVH fixture: its 12 frames played back and forth to two
    seconds, each take from a different starting frame; styles 'walk' and 'hop'."""
    text = (fixtures / "131_01_head.bvh").read_text()
    head, motion = text.split("MOTION")
    lines = motion.strip().split("\n")
    frames = lines[2:]
    rows = ["file,style,performer,split"]
    splits = ["train", "train", "test", "train", "val", "test"]
    for k in range(takes):
        order = [
            frames[(k + i) % len(frames)]
            if (i // len(frames)) % 2 == 0
            else frames[len(frames) - 1 - (k + i) % len(frames)]
            for i in range(240)
        ]
        body = f"MOTION\nFrames: {len(order)}\nFrame Time: .0083333\n" + "\n".join(order) + "\n"
        (root / f"take_{k}.bvh").write_text(head + body)
        rows.append(f"take_{k}.bvh,{'walk' if k < 3 else 'hop'},cmu131,{splits[k]}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root / "manifest.csv"


def test_dataset_from_folder_and_manifest_errors(fixtures, tmp_path):
    m = bvh_folder(fixtures, tmp_path)
    logs = []
    ds = from_folder(tmp_path, m, log=logs.append)
    assert len(ds.takes) == 6 and ds.styles == ["hop", "walk"]
    assert any("BVH in cmu" in x for x in logs)  # the CMU Acclaim unit, detected from the height
    heights = [np.ptp(t.positions[0, :, 1]) for t in ds.takes]
    assert all(1.2 < h < 2.3 for h in heights)
    bad = tmp_path / "bad.csv"
    bad.write_text("file,style,colour\ntake_0.bvh,walk,red\n")
    with pytest.raises(DataError, match=r"bad\.csv: row 1: unknown column\(s\) \['colour'\]"):
        read_manifest(bad)
    bad.write_text("file,style\nnope.bvh,walk\n")
    with pytest.raises(DataError, match=r"row 1: field 'file': 'nope.bvh' does not exist"):
        read_manifest(bad)
    bad.write_text("file,style,fps\ntake_0.bvh,walk,fast\n")
    with pytest.raises(DataError, match="field 'fps': expected a number, got 'fast'"):
        read_manifest(bad)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no manifest.csv or manifest.json, and no readable takes"):
        from_folder(empty)
    with pytest.raises(DataError, match="AMC files carry no frame rate"):
        read_sequence(fixtures / "05_02_head.amc")


def test_cli_train_evaluate_predict_on_your_own_takes(fixtures, tmp_path, capsys):
    data = tmp_path / "takes"
    data.mkdir()
    m = bvh_folder(fixtures, data)
    run = tmp_path / "run"
    assert (
        cli(
            [
                "--no-cache",
                "train",
                "--task",
                "prediction",
                "--method",
                "stga_net",
                "--preset",
                "test",
                "--data",
                str(data),
                "--manifest",
                str(m),
                "--run",
                str(run),
                "--batch-size",
                "4",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "saved model" in out and "MPJPE (mm, root-relative)" in out
    assert (run / "model" / "dancejax_model.json").exists() and (run / "evaluation.json").exists()
    assert cli(["--no-cache", "evaluate", str(run)]) == 0
    assert "overall" in capsys.readouterr().out
    pred = tmp_path / "next.json"
    assert cli(["--no-cache", "predict", str(run), str(data / "take_2.bvh"), "--out", str(pred)]) == 0
    doc = json.loads(pred.read_text())
    assert doc["format"] == "dancejax-frames" and len(doc["frames"]) == 10
    assert cli(["--no-cache", "predict", str(run), str(data / "take_2.bvh"), "--horizon", "99"]) == 2
    assert "horizon 99 frames is longer" in capsys.readouterr().err


def test_cli_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli(["train", "--epochs", "abc", "--run", str(tmp_path / "r")])
    assert e.value.code == 2 and "expected a positive integer, got 'abc'" in capsys.readouterr().err
    for bad in (["--batch-size", "0"], ["--epochs", "0"]):
        with pytest.raises(SystemExit):
            cli(["train", *bad, "--run", str(tmp_path / "r")])
    (tmp_path / "file").write_text("x")
    assert cli(["--no-cache", "train", "--preset", "test", "--run", str(tmp_path / "file")]) == 2
    assert "run folder is a file" in capsys.readouterr().err
    assert cli(["--no-cache", "train", "--preset", "test", "--batch-size", "100000", "--run", str(tmp_path / "r")]) == 2
    assert "batch size 100000 is larger than the" in capsys.readouterr().err
    assert cli(["--no-cache", "train", "--preset", "quik", "--run", str(tmp_path / "r")]) == 2
    assert "presets are test, quick, default, original, paper" in capsys.readouterr().err


def test_saved_model_errors(tmp_path):
    import dancejax
    from dancejax.deploy.saved import save_model
    from dancejax.tasks import prediction as P

    cfg = P.make_config("zero_velocity", "test")
    with pytest.raises(DataError, match="no saved model here"):
        dancejax.load_model(tmp_path / "none")
    path = save_model(tmp_path / "m", P, cfg, {"params": {"w": np.zeros(2)}, "batch_stats": {}})
    meta = json.loads((path / "dancejax_model.json").read_text())
    (path / "dancejax_model.json").write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(DataError, match="newer format \\(version 99"):
        dancejax.load_model(path)
    (path / "dancejax_model.json").unlink()
    with pytest.raises(DataError, match="incomplete saved model: dancejax_model.json is missing"):
        dancejax.load_model(path)
    path = save_model(tmp_path / "m2", P, cfg, {"params": {"w": np.zeros(2)}, "batch_stats": {}})
    shutil.rmtree(path / "variables")
    with pytest.raises(DataError, match="'variables' folder is missing"):
        dancejax.load_model(path)


def test_saved_model_round_trip(tmp_path):
    import jax

    import dancejax
    from dancejax.deploy.saved import save_model
    from dancejax.tasks import recognition as R

    cfg = R.make_config("mkff_stgcn", "test", model={"residual": "gated", "skip_input": True}, flip_test=True)
    st = R.init_state(cfg, jax.random.key(3))
    v = {"params": st.params, "batch_stats": st.batch_stats}
    save_model(tmp_path / "m", R, cfg, v, styles=["a", "b", "c", "d", "e"])
    ref = dancejax.load_model(tmp_path / "m")
    assert ref.cfg == cfg and ref.styles == ["a", "b", "c", "d", "e"]
    x = np.random.default_rng(0).normal(500, 50, (2, 16, 14, 2)).astype(np.float32)
    c = np.ones((2, 16, 14), np.float32)
    a, b = R.Refiner(cfg, v)(x, c), ref(x, c)
    np.testing.assert_array_equal(np.asarray(a[0]), np.asarray(b[0]))
