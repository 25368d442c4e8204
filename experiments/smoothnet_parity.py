"""Outcome parity of SmoothNet: dancejax's ``original`` recipe against the authors' code, trained
and evaluated on the same real AIST++ detections.

    python experiments/smoothnet_parity.py --export /tmp/smoothnet/data            # the sequences
    python experiments/smoothnet_parity.py --seeds 0 1 2 --out results/smoothnet_parity
    python experiments/smoothnet_parity.py --seeds 0 1 2 --out results/smoothnet_parity \\
        --compare /tmp/smoothnet/runs                                                # both tables

Data (``dancejax.tasks.refinement``): every view of the training part of the train-split
sequences is a training sequence (stride-1 windows of 32 frames); every view of the held-out
sequences is a test sequence, refined offline with stride-1 windows and overlapping outputs
averaged (the original's test protocol).  Coordinates are normalised by each view's image
frame, ``(x − size/2) / (max side/2)``.  ``--export DIR`` writes ``DIR/sequences.npz``
(``train``/``test``: the sequences concatenated in time, (frames, 28) normalised, with their
``*_lengths``; ``test_size``, ``test_gt``) so that the original code can be run on exactly
these sequences by a driver of your own; ``--compare DIR`` reads that run's
``DIR/original_seed*.npz`` (``pred``: the refined test sequences concatenated, normalised;
``seconds``) and prints both tables with each metric's ratio and whether dancejax is within
5 % of the original or within the spread of its seeds.  ``--epochs N`` shortens the recipe
(the same on both sides) for a check that fits a session.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from dancejax.data import load_dataset
from dancejax.runtime import enable_compilation_cache, keep_freed_memory
from dancejax.tasks import refinement as F
from dancejax.train.loop import fit, selected_variables

METRICS = (("mpjpe2d", "MPJPE-2D px"), ("accel", "accel px/f²"), ("pck05", "PCK@0.05 %"), ("pck10", "PCK@0.1 %"))


def pooled(preds, seqs) -> dict:
    """Every metric's mean over all frames of all test sequences (``refinement_table`` per
    sequence, weighted by its frames)."""
    from dancejax.studies.refinement import table_of

    return {k: v["mean"] for k, v in table_of(preds, seqs).items()}


def split_back(flat, lengths):
    return np.split(np.asarray(flat), np.cumsum(lengths)[:-1])


def export(path: Path, data: F.RefinementData, ds) -> None:
    train = F.detection_sequences(ds, "train", "train")
    test = data.sets["aist_real"]

    def norm(seqs):
        out = []
        for x, size in zip(seqs["x"], seqs["size"]):
            c, s = F.image_frame(size)
            out.append(((x - c) / s).reshape(len(x), -1))
        return out

    tr, te = norm(train), norm(test)
    path.mkdir(parents=True, exist_ok=True)
    np.savez(
        path / "sequences.npz",
        train=np.concatenate(tr),
        train_lengths=np.array([len(a) for a in tr]),
        test=np.concatenate(te),
        test_lengths=np.array([len(a) for a in te]),
        test_size=np.array(test["size"], float),
        test_gt=np.concatenate([g.reshape(len(g), -1) for g in test["gt"]]),
        train_gt=np.concatenate(
            [
                ((g - F.image_frame(s)[0]) / F.image_frame(s)[1]).reshape(len(g), -1)
                for g, s in zip(train["gt"], train["size"])
            ]
        ),  # fmt: skip
        window=np.array(data.window),
    )
    print(f"wrote {path / 'sequences.npz'}: {len(tr)} training and {len(te)} test sequences (28 channels)")


def table(title, rows, seeds):
    print(f"\n{title}")
    print(f"{'seed':<10}" + "".join(f"{n:>14}" for _, n in METRICS) + f"{'train s':>10}")
    for s, r in zip(seeds, rows):
        print(f"{s!s:<10}" + "".join(f"{r[k]:>14.3f}" for k, _ in METRICS) + f"{r.get('seconds', float('nan')):>10.0f}")
    a = np.array([[r[k] for k, _ in METRICS] for r in rows])
    m, sd = a.mean(0), (a.std(0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1]))
    print(f"{'mean±std':<10}" + "".join(f"{f'{x:.3f}±{y:.3f}':>14}" for x, y in zip(m, sd)))
    return m, sd


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--epochs", type=int, default=None, help="shorten the recipe (both sides must use the same)")
    ap.add_argument("--out", default="results/smoothnet_parity")
    ap.add_argument("--export", default=None, help="write the sequences for the original code here and stop")
    ap.add_argument("--compare", default=None, help="a folder of the original code's original_seed*.npz")
    a = ap.parse_args()
    keep_freed_memory()
    enable_compilation_cache()
    ds = load_dataset()
    over = {} if a.epochs is None else {"epochs": a.epochs}
    cfgs = [F.make_config("smoothnet", "original", seed=s, data_seed=a.seeds[0], **over) for s in a.seeds]
    data = F.load_data(ds, cfgs[0])
    if a.export:
        export(Path(a.export), data, ds)
        return
    test = data.sets["aist_real"]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ours_file = out / f"dancejax_{cfgs[0].epochs}ep.json"
    if ours_file.exists() and json.loads(ours_file.read_text())["seeds"] == a.seeds:
        ours = json.loads(ours_file.read_text())["rows"]
        print(f"read {ours_file}")
    else:
        print(f"training {len(cfgs)} seed(s) as one program: {len(data.train['x'])} windows, {cfgs[0].epochs} epochs")
        res = fit(F, cfgs, data, workdir=out / "checkpoints", log=print)
        ours = []
        for j, c in enumerate(cfgs):
            preds = F.predict_sequences(c, selected_variables(res, c, j), test, "offline")
            ours.append({**pooled(preds, test), "seconds": res.seconds / len(cfgs)})
        ours_file.write_text(json.dumps({"seeds": a.seeds, "epochs": cfgs[0].epochs, "rows": ours}, indent=1))
    raw = pooled(list(test["x"]), test)
    print(
        "\nheld-out real AIST++ detections, "
        f"{len(test['x'])} view sequences, {sum(len(x) for x in test['x'])} frames; raw detector: "
        + ", ".join(f"{n} {raw[k]:.3f}" for k, n in METRICS)
    )
    m_ours, sd_ours = table(f"dancejax SmoothNet, original recipe ({cfgs[0].epochs} epochs)", ours, a.seeds)
    if not a.compare:
        return
    runs = sorted(Path(a.compare).glob("original_seed*.npz"))
    if not runs:
        raise SystemExit(f"{a.compare}: no original_seed*.npz")
    theirs, seeds = [], []
    lengths = [len(x) for x in test["x"]]
    for f in runs:
        z = np.load(f)
        preds = []
        for p, size in zip(split_back(z["pred"], lengths), test["size"]):
            c, s = F.image_frame(size)
            preds.append(p.reshape(len(p), 14, 2) * s + c)
        theirs.append({**pooled(preds, test), "seconds": float(z["seconds"])})
        seeds.append(f.stem.removeprefix("original_seed"))
    m_th, sd_th = table(f"the original code ({len(runs)} seed(s))", theirs, seeds)
    sizes = {tuple(sz) for sz in test["size"]}
    if len(sizes) == 1:  # the original's own metric code, in px: its H36M units × (max side / 2) / 500
        px = max(next(iter(sizes))) / 1000.0
        fix = np.mean([len(x) / (len(x) - 2) for x in test["x"]])  # it pads each sequence's accel with 2 zeros
        for f, r in zip(runs, theirs):
            ev = f.with_name(f.stem + "_eval.json")
            if ev.exists():
                e = json.loads(ev.read_text())
                print(
                    f"  {f.stem}: the original's own evaluation, in px: input MPJPE {e['input_mpjpe'] * px:.3f} "
                    f"(ours {raw['mpjpe2d']:.3f}), input accel {e['input_accel'] * px * fix:.3f} ({raw['accel']:.3f}), "
                    f"SmoothNet MPJPE {e['smoothnet_mpjpe'] * px:.3f} ({r['mpjpe2d']:.3f}), "
                    f"SmoothNet accel {e['smoothnet_accel'] * px * fix:.3f} ({r['accel']:.3f})"
                )
    print(f"\n{'metric':<14}{'dancejax':>18}{'original':>18}{'ratio':>8}  within 5 % or the seed spread")
    verdict = {}
    for i, (k, n) in enumerate(METRICS):
        ratio = float(m_ours[i] / m_th[i])
        ok = bool(abs(ratio - 1) <= 0.05 or abs(m_ours[i] - m_th[i]) <= max(sd_ours[i], sd_th[i]))
        verdict[k] = {
            "label": n,
            "dancejax": {"mean": float(m_ours[i]), "std": float(sd_ours[i])},
            "original": {"mean": float(m_th[i]), "std": float(sd_th[i])},
            "ratio": ratio,
            "within": ok,
        }
        print(f"{n:<14}{m_ours[i]:>12.3f}±{sd_ours[i]:<5.3f}{m_th[i]:>12.3f}±{sd_th[i]:<5.3f}{ratio:>8.3f}  {ok}")
    result = {
        "epochs": cfgs[0].epochs,
        "test": f"{len(test['x'])} held-out view sequences, {sum(lengths)} frames at 25 fps",
        "criterion": "dancejax's mean within 5 % of the original's, or the means closer than the larger seed std",
        "raw": raw,
        "dancejax": {"seeds": a.seeds, "rows": ours},
        "original": {"seeds": [int(s) for s in seeds], "rows": theirs},
        "metrics": verdict,
    }
    (out / "parity.json").write_text(json.dumps(result, indent=1, default=float))
    print(f"saved {out / 'parity.json'}")


if __name__ == "__main__":
    main()
