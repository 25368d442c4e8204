"""The feedback validation's results for the docs: ``docs/results/feedback_validation.json``
from the ``validation.json`` that ``dancejax feedback-validate`` wrote.

    python experiments/feedback_validation_docs.py results/feedback_validation/validation.json \\
        --measured "2026-12-02, ..." --wall "7 min"

The output holds the tables ``docs/gen_tables.py`` renders into ``docs/feedback-and-live.md``:
``timing`` (offline), ``timing_online`` (causal, as ``dancejax live`` aligns), ``timing_moving``
(both, over the frames outside the reference's still stretches), ``localisation`` and
``auc``, with the command, protocol, data and date that ``tests/test_docs.py`` asks of every
results file.  Nothing is measured here: every number is copied from ``validation.json``.
"""

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "dancejax feedback-validate --out results/feedback_validation"


def _num(x: float) -> str:
    return f"{x:g}"


def timing_table(rows: list[dict], online: bool, moving: bool = False) -> dict:
    """Warps as rows, conditions as columns; each cell median / 95th percentile in frames, ✗
    where the target is missed (the moving-frames table has no mark: the target is on every frame)."""
    sel = [r for r in rows if moving or r["condition"].endswith(", online") == online]
    conds = list(dict.fromkeys(r["condition"] for r in sel))
    warps = list(dict.fromkeys(r["warp"] for r in sel))
    out = []
    for w in warps:
        cells = []
        for c in conds:
            r = next((r for r in sel if r["condition"] == c and r["warp"] == w), None)
            if r is None:
                cells.append(None)
            elif moving:
                cells.append(f"{_num(r['moving_median_frames'])} / {_num(r['moving_p95_frames'])}")
            else:
                mark = "" if r["pass"] else " ✗"
                cells.append(f"{_num(r['median_frames'])} / {_num(r['p95_frames'])}{mark}")
        out.append({"label": w, "values": cells})
    return {"label": "warp", "columns": conds, "rows": out}


def localisation_table(rows: list[dict]) -> dict:
    out = []
    for r in rows:
        out.append(
            {
                "label": r["condition"],
                "values": [
                    r["error"],
                    f"{r['trials']} ({r['hidden_from_camera']})",
                    r["ranked_first"],
                    f"{round(100 * r['hit_rate'])} %",
                    f"{_num(r['median_measure_error'])} / {_num(r['max_measure_error'])} {r['unit']}",
                ],
            }
        )
    cols = ["inserted error", "trials (hidden)", "ranked first", "hit rate", "measure error, median / max"]
    return {"label": "condition", "columns": cols, "rows": out}


def build(res: dict, measured: str, wall: str) -> dict:
    t = res["tables"]
    timing = t["timing"]
    missed = [r for r in timing if not r["pass"]]
    return {
        "title": "Feedback: known-answer validation on the shipped real takes",
        "command": COMMAND,
        "protocol": (
            "Each take against copies of itself under known time warps, moves and detector noise "
            "(dancejax.feedback.validate); the timing error is |matched − true reference frame| per "
            "performance frame, pooled over takes; target: median ≤ 2 and 95th percentile ≤ 5 frames. "
            "Localisation: one inserted error per copy, a hit is rank 1, the right part and side, the "
            "measure within 5° (0.12 s)"
        ),
        "data": f"{len(res['data']['takes'])} takes at {res['data']['fps']} fps; real 2D detections: "
        + ", ".join(res["data"]["real_2d"]),
        "seeds_note": f"seed {res['data']['seed']}",
        "units": "frames at 25 fps (1 frame = 40 ms); degrees; seconds",
        "measured": measured,
        "wall_time": wall,
        "missed": [f"{r['condition']}, {r['warp']}: 95th percentile {_num(r['p95_frames'])} frames" for r in missed],
        "auc": res["auc"],
        "tables": {
            "timing": timing_table(timing, online=False),
            "timing_online": timing_table(timing, online=True),
            "timing_moving": timing_table(timing, online=False, moving=True),
            "localisation": localisation_table(t["localisation"]),
        },
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("validation", help="validation.json written by dancejax feedback-validate")
    ap.add_argument("--measured", required=True, help="when and where it ran")
    ap.add_argument("--wall", required=True, help="its wall time")
    ap.add_argument("--out", default=str(ROOT / "docs" / "results" / "feedback_validation.json"))
    a = ap.parse_args(argv)
    doc = build(json.loads(Path(a.validation).read_text()), a.measured, a.wall)
    Path(a.out).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {a.out}; targets missed: {len(doc['missed'])}")
    for m in doc["missed"]:
        print("  " + m)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
