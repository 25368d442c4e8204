"""Put a trained run's model into the package as a shipped pretrained model, with its card.

    dancejax train --task recognition --method mkff_stgcn --preset quick --seed 0 --run runs/pretrained/refiner_style
    dancejax evaluate runs/pretrained/refiner_style --out runs/pretrained/refiner_style_eval
    python experiments/ship_pretrained.py refiner_style runs/pretrained/refiner_style \\
        --evaluation runs/pretrained/refiner_style_eval/evaluation.json

It copies the run's ``model/`` to ``dancejax/pretrained/NAME/`` (the training-data path in its
metadata made relative to the package), and writes ``card.json`` (summary, command, headline
scores) and ``MODEL_CARD.md`` (command, data, configuration, every score of the evaluation)
from the run's ``run.json`` and the evaluation file that ``dancejax evaluate`` wrote.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dancejax" / "pretrained"
SUMMARIES = {
    "recognition": (
        "Refines noisy 2D keypoints (LSP-14, pixels) in 32-frame windows and recognises the dance style; "
        "`dancejax feedback` refines video detections with it and `dancejax live` runs it in the streaming engine."
    ),
    "prediction": (
        "Predicts the next 10 poses (400 ms at 25 fps) of 2D keypoints (LSP-14, pixels) from the last 10; "
        "`dancejax live` draws them as a ghost."
    ),
}


def command(run: dict) -> str:
    argv = list(run["command"])
    argv[0] = "dancejax"
    return shlex.join(argv)


def headline(ev: dict) -> dict:
    """The scores `dancejax models` lists: on the held-out real data."""
    if "aist_real" in ev and "pck" in ev["aist_real"]:  # a refiner's evaluation
        real = ev["aist_real"]
        out = {f"PCK@{a} held-out AIST++ detections (%)": round(real["pck"][a]["mean"], 1) for a in ("0.05", "0.1")}
        out["style balanced accuracy, same (%)"] = round(real["balanced_acc"], 1)
        return out
    real = ev.get("real", {}).get("aist_real")
    hz = [str(h) for h in ev["horizons_ms"]]
    out = {}
    if real is not None:
        out.update(
            {f"MPJPE@{h}ms held-out AIST++ views ({ev['units']})": round(real["mpjpe_rel"][h], 1) for h in hz[1::2]}
        )
    out[f"MPJPE@{hz[-1]}ms held-out takes, virtual cameras ({ev['units']})"] = round(
        ev["overall"]["mpjpe_rel"][hz[-1]], 1
    )
    return out


def tables(ev: dict) -> str:
    if "aist_real" in ev and "pck" in ev["aist_real"]:
        rows = ["| set | PCK@0.2 | PCK@0.1 | PCK@0.05 | style acc. | balanced |", "|---|---|---|---|---|---|"]
        for name, s in ev.items():
            p = s["pck"]
            rows.append(
                f"| {name} | {p['0.2']['mean']:.1f} | {p['0.1']['mean']:.1f} | {p['0.05']['mean']:.1f} | "
                f"{s.get('style_acc', float('nan')):.1f} | {s.get('balanced_acc', float('nan')):.1f} |"
            )
        groups = [g for g in ev["aist_real"]["pck"]["0.05"] if g != "mean"]
        rows += ["", "PCK@0.05 per joint group on `aist_real`:", ""]
        rows += ["| " + " | ".join(groups) + " |", "|" + "---|" * len(groups)]
        rows.append("| " + " | ".join(f"{ev['aist_real']['pck']['0.05'][g]:.1f}" for g in groups) + " |")
        return "\n".join(rows)
    hz = [str(h) for h in ev["horizons_ms"]]
    rows = [f"| set ({ev['units']}, root-relative MPJPE) | " + " | ".join(f"{h} ms" for h in hz) + " |"]
    rows.append("|---|" + "---|" * len(hz))
    sets = list(ev["per_style"].items()) + [("overall (virtual cameras)", ev["overall"])]
    sets += [(f"{k} (real cameras)", v) for k, v in ev.get("real", {}).items()]
    for name, t in sets:
        rows.append(f"| {name} | " + " | ".join(f"{t['mpjpe_rel'][h]:.1f}" for h in hz) + " |")
    return "\n".join(rows)


CARD = """# Model card: `{name}`

{summary}

| | |
|---|---|
| task | {task} |
| method | `{method}` |
| preset | `{preset}` |
| pose dimension | {dims}D, LSP-14 |
| size on disk | {size_kb:.0f} kB |
| styles | {styles} |
| dancejax version | {version} |

## How it was trained

```bash
{command}
```

(run inside `flock /tmp/dancejax_heavy.lock ...` on the shared 2-core CPU machine.)  Full
configuration: `dancejax_model.json` in this folder.

## Data

{data}

## Scores on held-out data

Printed by

```bash
{eval_command}
```

Protocol: {protocol}

{tables}

{notes}
"""

DATA = {
    "recognition": (
        "The dataset shipped in the package (`dancejax/data/dance_lsp14.npz`, see its NOTICE): the 3D training takes "
        "projected through random virtual cameras with simulated detector noise, and (three quarters of every "
        "batch) the real AIST++ detector keypoints of the training-split sequences against their projected 3D "
        "ground truth; selection on the real validation detections (the last 20 % of those sequences' frames). "
        "The held-out AIST++ sequences (`aist_real`) are never seen in training or selection."
    ),
    "prediction": (
        "The 3D training takes of the shipped dataset (`dancejax/data/dance_lsp14.npz`), each window projected "
        "through its own random virtual camera (azimuth all round, 3.5–6 m away, 0.8–1.8 m high, focal 900–1500 "
        "px, 1920×1080) every epoch, mirrored with p = 0.5; each window divided by its observed torso length "
        "inside the model. The held-out takes and the AIST++ held-out sequences are never seen in training."
    ),
}
PROTOCOL = {
    "recognition": (
        "mean PCK (%) with the ground-truth box's larger side as the normaliser, flip test on; `aist_real` = the "
        "real detector keypoints of the 2 held-out AIST++ sequences in all 9 camera views, in "
        "32-frame windows; style accuracy per window."
    ),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name")
    ap.add_argument("run", help="the run folder dancejax train wrote")
    ap.add_argument("--evaluation", required=True, help="evaluation.json written by dancejax evaluate")
    ap.add_argument("--notes", default="", help="a paragraph added to the card")
    a = ap.parse_args()
    run_dir = Path(a.run)
    run = json.loads((run_dir / "run.json").read_text())
    ev = json.loads(Path(a.evaluation).read_text())
    dest = PACKAGE / a.name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(run_dir / "model", dest)
    meta_file = dest / "dancejax_model.json"
    meta = json.loads(meta_file.read_text())
    src = meta.get("data", {}).get("source", "")
    if src.endswith("dance_lsp14.npz"):
        meta["data"]["source"] = "dancejax/data/dance_lsp14.npz (the dataset shipped in the package)"
    meta_file.write_text(json.dumps(meta, indent=1))
    task = meta["task"]
    cmd = command(run)
    scores = headline(ev)
    size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
    card = {"name": a.name, "summary": SUMMARIES[task], "command": cmd, "scores": scores}
    (dest / "card.json").write_text(json.dumps(card, indent=1))
    model = meta["config"].get("model", {})
    text = CARD.format(
        name=a.name,
        summary=SUMMARIES[task],
        task=task,
        method=meta["method"],
        preset=meta["preset"],
        dims=model.get("dims", 2),
        size_kb=size / 1e3,
        styles=", ".join(meta.get("styles") or []) or "—",
        version=meta.get("dancejax_version"),
        command=cmd,
        data=DATA[task],
        eval_command=f"dancejax evaluate {a.run} --out {Path(a.evaluation).parent}",
        protocol=ev.get("protocol") or PROTOCOL[task],
        tables=tables(ev),
        notes=a.notes,
    )
    (dest / "MODEL_CARD.md").write_text(text.rstrip() + "\n")
    print(f"shipped {a.name}: {size / 1e3:.0f} kB in {dest}; scores {scores}")


if __name__ == "__main__":
    main()
