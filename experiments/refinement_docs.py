"""The refinement results of the docs: ``docs/results/refinement.json`` and
``docs/results/smoothnet_parity.json`` from the files the two experiments wrote.

    python experiments/refinement_docs.py --benchmark results/refinement/refinement.json \\
        --parity results/smoothnet_parity/parity.json --measured "2026-12-02, ..." \\
        --benchmark-wall "..." --parity-wall "..."

Each output holds the results as the experiment saved them (``methods``; ``parity``) and the
tables ``docs/gen_tables.py`` renders into ``docs/refinement.md`` (``overall``,
``per_group_pck05``, ``per_group_accel``; ``parity``, ``per_seed``, ``verdict``), with the
command, protocol, data, seeds, units and date that ``tests/test_docs.py`` asks of every
results file.  Nothing is measured here: every number is copied from the two JSON files.
"""

import argparse
import json
from pathlib import Path

from dancejax.studies.refinement import LABELS

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = (
    ("pck05", "PCK@0.05 (%)", 1),
    ("pck10", "PCK@0.1 (%)", 1),
    ("pck20", "PCK@0.2 (%)", 1),
    ("accel", "accel. error (px/frame²)", 2),
    ("accel_norm", "accel. error (% box/frame²)", 2),
    ("mpjpe2d", "MPJPE-2D (px)", 1),
    ("mpjpe2d_norm", "MPJPE-2D (% box)", 2),
)


def cell(entry: dict, digits: int):
    """mean ± std for a learned method (several seeds), the number alone for a deterministic one."""
    m, s = round(entry["mean"], digits), round(entry["std"], digits)
    return {"mean": m, "std": s} if s or entry.get("seeds", 1) > 1 else m


def label(key: str) -> str:
    base = LABELS.get(key.removesuffix("_causal"), key)
    return f"{base}, causal" if key.endswith("_causal") else base


def benchmark_doc(res: dict, measured: str, wall: str, command: str) -> dict:
    rows, groups_pck, groups_acc = [], [], []
    for key, r in res["methods"].items():
        seeds = {"seeds": r["seeds"]}
        rows.append(
            {
                "label": f"{label(key)} (`{key}`)",
                "highlight": key.startswith("mkff_stgcn"),
                "values": [r["lookahead"]] + [cell({**r[m], **seeds}, d) for m, _, d in COLUMNS],
            }
        )
        groups_pck.append(
            {"label": label(key), "values": [cell({**v, **seeds}, 1) for v in r["pck05_groups"].values()]}
        )
        groups_acc.append(
            {"label": label(key), "values": [cell({**v, **seeds}, 2) for v in r["accel_groups"].values()]}
        )
    names = list(next(iter(res["methods"].values()))["pck05_groups"])
    return {
        "title": "Refinement on real AIST++ detections: accuracy, jitter and look-ahead, quick preset",
        "command": command,
        "preset": (
            f"{res['preset']}: the recognition refiners at their quick preset with the benchmark's recipe "
            f"{json.dumps(res['recipe'])}; SmoothNet's original recipe for 20 epochs; the filters tuned "
            "on the real validation detections by PCK@0.05"
        ),
        "protocol": (
            "every view of the held-out sequences' real detector keypoints refined as one sequence: learned "
            "methods offline (stride-1 windows, overlapping outputs averaged) or causal (the last frame of "
            "the window ending at each frame); metrics pooled over every frame and joint against the "
            "projected 3D ground truth, all joints counted"
        ),
        "data": res["data"],
        "seeds": res["seeds"],
        "seeds_note": (
            "mean ± std (sample std) over seeds; the seeds share one data order and train as one vmapped "
            "program per method; the raw detector and the filters have no seed"
        ),
        "measured": measured,
        "wall_time": wall,
        "units": "; ".join(f"{k}: {v}" for k, v in res["units"].items()),
        "tables": {
            "overall": {
                "label": "method",
                "columns": ["look-ahead (frames)"] + [n for _, n, _ in COLUMNS],
                "decimals": [0] + [d for _, _, d in COLUMNS],
                "rows": rows,
            },
            "per_group_pck05": {
                "caption": "PCK@0.05 (%) per joint group",
                "label": "method",
                "columns": names,
                "decimals": 1,
                "rows": groups_pck,
            },
            "per_group_accel": {
                "caption": "Acceleration error (px/frame²) per joint group",
                "label": "method",
                "columns": names,
                "decimals": 2,
                "rows": groups_acc,
            },
        },
        "claim": res["claim"],
        "methods": res["methods"],
        "recipe": res["recipe"],
        "seconds": res.get("seconds"),
    }


def parity_doc(p: dict, measured: str, wall: str, command: str) -> dict:
    keys = list(p["metrics"])
    names = [p["metrics"][k]["label"] for k in keys]

    def per_seed(side):
        return [
            {"label": f"{side}, seed {s}", "values": [round(r[k], 3) for k in keys] + [round(r["seconds"])]}
            for s, r in zip(p[side]["seeds"], p[side]["rows"])
        ]

    ours, theirs = p["dancejax"]["rows"], p["original"]["rows"]
    secs = sorted(round(r["seconds"]) for r in theirs)
    return {
        "title": "SmoothNet: outcome parity with the original code on real AIST++ detections",
        "command": command,
        "compare_format": (
            "DIR holds the original code's results as original_seed<k>.npz (pred: the refined test "
            "sequences concatenated, image-normalised; seconds), written by a driver outside the repository "
            "that runs the authors' unmodified lib/ (model, loss, Trainer epoch loop, learning-rate decay, "
            "test protocol) on the sequences that --export writes"
        ),
        "preset": (
            f"SmoothNet's original recipe (window 32, hidden 512, residual 128, 5 blocks, dropout 0.25, batch "
            f"1024, AMSGrad 1e-3 × 0.95 per epoch, L1 positions + 0.1 × L1 accelerations, the final model) "
            f"for {p['epochs']} epochs on both sides"
        ),
        "protocol": (
            "both sides train on every view of the training part of the train-split sequences (image-"
            "normalised) and refine every view of the held-out sequences offline (stride-1 windows, "
            f"overlapping outputs averaged): {p['test']}; dancejax's metrics on both sides' outputs, pooled "
            "over every frame and joint; verdict: " + p["criterion"]
        ),
        "data": "the shipped dataset's real AIST++ detections (dancejax/data/dance_lsp14.npz)",
        "seeds": p["dancejax"]["seeds"],
        "seeds_note": (
            "mean ± std (sample std) over seeds on each side; dancejax trains its seeds as one vmapped "
            "program (its train time per seed is that program's time / 3)"
        ),
        "measured": measured,
        "wall_time": wall,
        "units": "px (MPJPE-2D); px/frame² (acceleration error); % (PCK); seconds (train time per seed)",
        "tables": {
            "parity": {
                "label": "",
                "columns": names + ["train s / seed"],
                "decimals": [2, 2, 1, 1, 0],
                "rows": [
                    {"label": "raw detector", "values": [round(p["raw"][k], 3) for k in keys] + [None]},
                    {
                        "label": f"original code, seeds {'/'.join(map(str, p['original']['seeds']))}",
                        "values": [
                            {"mean": round(v["original"]["mean"], 3), "std": round(v["original"]["std"], 3)}
                            for v in p["metrics"].values()
                        ]
                        + [{"min": secs[0], "max": secs[-1]}],
                    },
                    {
                        "label": "dancejax `smoothnet`, `original`",
                        "values": [
                            {"mean": round(v["dancejax"]["mean"], 3), "std": round(v["dancejax"]["std"], 3)}
                            for v in p["metrics"].values()
                        ]
                        + [round(ours[0]["seconds"])],
                    },
                ],
                "ratio": [round(p["metrics"][k]["ratio"], 3) for k in keys],
            },
            "per_seed": {
                "label": "",
                "columns": names + ["train s"],
                "decimals": [3, 3, 2, 2, 0],
                "rows": per_seed("original") + per_seed("dancejax"),
            },
            "verdict": {
                "label": "metric",
                "columns": [
                    "dancejax / original",
                    "difference (absolute)",
                    "larger seed std",
                    "within 5 % or the spread",
                ],
                "decimals": 3,
                "rows": [
                    {
                        "label": v["label"],
                        "values": [
                            round(v["ratio"], 3),
                            round(abs(v["dancejax"]["mean"] - v["original"]["mean"]), 3),
                            round(max(v["dancejax"]["std"], v["original"]["std"]), 3),
                            "yes" if v["within"] else "no",
                        ],
                    }
                    for v in p["metrics"].values()
                ],
            },
        },
        "parity": p,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmark", default="results/refinement/refinement.json")
    ap.add_argument("--parity", default="results/smoothnet_parity/parity.json")
    ap.add_argument("--measured", required=True, help="when and where both were run")
    ap.add_argument("--benchmark-wall", required=True)
    ap.add_argument("--parity-wall", required=True)
    ap.add_argument(
        "--benchmark-command",
        default="python experiments/refinement.py --preset quick --seeds 0 1 2 --out results/refinement",
    )
    ap.add_argument(
        "--parity-command",
        default=(
            "python experiments/smoothnet_parity.py --export /tmp/smoothnet/data\n"
            "python experiments/smoothnet_parity.py --seeds 0 1 2 --epochs 20 --out results/smoothnet_parity "
            "--compare DIR"
        ),
    )
    ap.add_argument("--note", action="append", default=[], help="a note for the benchmark file (repeatable)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "results"))
    a = ap.parse_args()
    out = Path(a.out)
    if a.benchmark and Path(a.benchmark).exists():
        res = json.loads(Path(a.benchmark).read_text())
        doc = benchmark_doc(res, a.measured, a.benchmark_wall, a.benchmark_command)
        doc["notes"] = a.note
        (out / "refinement.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {out / 'refinement.json'}")
    if a.parity and Path(a.parity).exists():
        doc = parity_doc(json.loads(Path(a.parity).read_text()), a.measured, a.parity_wall, a.parity_command)
        (out / "smoothnet_parity.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {out / 'smoothnet_parity.json'}")


if __name__ == "__main__":
    main()
