"""Outcome parity of the faithful baselines: dancejax's ``original`` presets on the salsa takes.

    python experiments/baseline_parity.py --methods simlpe ltd --seeds 0 1 2 --out results/parity

Trains each method with its authors' recipe (``make_config(method, "original")``: see each
model's ``recipe``) on the shipped dataset's salsa **train** takes (every window at stride 1)
and evaluates on every salsa **test** window at stride 1 (10 observed -> 10 predicted frames at
25 fps, LSP-14, root-relative MPJPE in mm at 80/160/320/400 ms).  The seeds train as one vmapped
program; the run resumes from ``--out/<method>`` if interrupted.  Expected time on 2 CPU cores:
about 9 h for siMLPe (40 000 steps) and 4 h for LTD (50 epochs), three seeds each.
``--iterations N`` / ``--epochs N`` run the same recipe at another length (a step-based
schedule's boundaries scale with it; see ``shorten``), for a parity check that fits a
session.  ``--methods stga_net`` trains STGA-Net's ``default`` preset on the same windows, so
that it can be compared with the faithful baselines.

``--export-windows FILE`` writes the exact train/val/test windows (global metres) so that the
original PyTorch code can be run on them by a driver of your own; ``--compare DIR`` reads that
run's results, ``DIR/<method>_orig_seed*.json`` with ``{"mpjpe_mm": {"80": ..., ...},
"train_seconds": ...}``, and prints both tables with the ratio at each horizon and whether
dancejax is within 5 % of the original or within the spread of its seeds.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from dancejax.data import load_dataset
from dancejax.io.tables import write_csv
from dancejax.runtime import enable_compilation_cache, keep_freed_memory
from dancejax.tasks import prediction as P
from dancejax.train.loop import fit

HORIZONS = (80, 160, 320, 400)
ORIGINAL = ("simlpe", "ltd", "dmgnn")  # methods with an 'original' recipe; others run their 'default' preset


def export_windows(path: Path, data: P.PredictionData):
    np.savez(path, train=data.train, val=data.val, test=np.concatenate(list(data.eval_sets.values())))
    print(
        f"wrote {path}: train {data.train.shape}, val {data.val.shape}, "
        f"test {sum(len(v) for v in data.eval_sets.values())} windows"
    )


def mean_std(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([[r[str(h)] for h in HORIZONS] for r in rows], float)
    return a.mean(0), a.std(0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1])


def table(title: str, rows: list[dict], seeds):
    print(f"\n{title}")
    print(f"{'seed':<9}" + " ".join(f"{str(h) + ' ms':>10}" for h in HORIZONS) + f"{'train s':>10}")
    for s, r in zip(seeds, rows):
        print(
            f"{s!s:<9}" + " ".join(f"{r[str(h)]:>10.2f}" for h in HORIZONS) + f"{r.get('seconds', float('nan')):>10.0f}"
        )
    m, sd = mean_std(rows)
    print(f"{'mean±std':<9}" + " ".join(f"{f'{a:.2f}±{b:.2f}':>10}" for a, b in zip(m, sd)))
    return m, sd


def shorten(cfg: P.PredictionConfig, iterations: int | None, epochs: int | None) -> P.PredictionConfig:
    """The recipe at another length: step boundaries of the learning-rate schedule scale with it.

    A boundary at step ``b`` of an ``I``-step recipe moves to ``round(b * iterations / I)``; boundaries
    at the first steps (warm-up, ``b <= 1``) stay.  Epoch-based schedules need no change: a shorter
    run is the first ``epochs`` of the same schedule.
    """
    import dataclasses

    changes = {}
    if iterations:
        changes["iterations"] = iterations
        if cfg.iterations and cfg.optim.boundaries:
            f = iterations / cfg.iterations
            bounds = tuple((b if b <= 1 else max(2, round(b * f)), s) for b, s in cfg.optim.boundaries)
            changes["optim"] = dataclasses.replace(cfg.optim, boundaries=bounds)
    if epochs:
        changes["epochs"] = epochs
    return dataclasses.replace(cfg, **changes)


def run(methods, seeds, out: Path, compare: Path | None, export: Path | None, iterations=None, epochs=None):
    ds = load_dataset()
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for method in methods:
        preset = "original" if method in ORIGINAL else "default"
        cfgs = [P.make_config(method, preset, seed=s, data_seed=seeds[0]) for s in seeds]
        if iterations or epochs:
            cfgs = [shorten(c, iterations, epochs) for c in cfgs]
        data = P.load_data(ds, cfgs[0], per_style=None, styles=["salsa"])
        if export is not None:
            export_windows(export, data)
        from dancejax.models import model_fields

        print(
            f"\n{method}: preset {preset!r} ({model_fields(cfgs[0].model)}); {len(data.train)} training windows; "
            f"protocol: {data.protocol}",
            flush=True,
        )
        res = fit(P, cfgs, data, workdir=out / method, validate=False, log_every=500)
        rows = []
        for c, v in zip(cfgs, res.variables):
            ev = P.evaluate(P.prepare(c, data), v, data)
            rows.append(
                {**{str(h): ev["overall"]["mpjpe_rel"][h] for h in HORIZONS}, "seconds": res.seconds / len(cfgs)}
            )
        results[method] = {
            "seeds": list(seeds),
            "dancejax": rows,
            "protocol": data.protocol,
            "seconds_all_seeds": res.seconds,
        }
        m, sd = table(
            f"dancejax {method} ({preset} preset), salsa test, root-relative MPJPE (mm); {data.protocol}", rows, seeds
        )
        if compare is not None:
            files = sorted(compare.glob(f"{method}_orig_seed*.json"))
            if not files:
                print(f"(no {method}_orig_seed*.json in {compare})")
                continue
            orig = [json.loads(f.read_text()) for f in files]
            orows = [{**o["mpjpe_mm"], "seconds": o.get("train_seconds", float("nan"))} for o in orig]
            om, osd = table(
                f"original {method} PyTorch code, same windows and recipe", orows, [o.get("seed", "?") for o in orig]
            )
            results[method]["original"] = orows
            print(f"\n{'horizon':<10}{'dancejax':>16}{'original':>16}{'ratio':>8}   within 5 % | within seed spread")
            for i, h in enumerate(HORIZONS):
                spread = 2 * max(sd[i], osd[i])
                ok5 = abs(m[i] / om[i] - 1) <= 0.05
                oks = abs(m[i] - om[i]) <= spread
                print(
                    f"{str(h) + ' ms':<10}{m[i]:>10.2f}±{sd[i]:<5.2f}{om[i]:>10.2f}±{osd[i]:<5.2f}{m[i] / om[i]:>8.3f}"
                    f"   {'yes' if ok5 else 'no':>9} | {'yes' if oks else 'no'}"
                )
    rows = [
        {"method": m, "who": who, "seed": s, **{f"{h}ms": round(r[str(h)], 3) for h in HORIZONS}}
        for m, res in results.items()
        for who in ("dancejax", "original")
        if who in res
        for s, r in zip(res["seeds"] if who == "dancejax" else range(len(res[who])), res[who])
    ]
    if rows:
        write_csv(out / "parity.csv", rows)
    (out / "parity.json").write_text(json.dumps(results, indent=1, default=float))
    print(f"\nsaved {out / 'parity.csv'} and {out / 'parity.json'}")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="+", default=["simlpe", "ltd"], choices=[*ORIGINAL, "stga_net"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--out", default="results/parity")
    ap.add_argument("--compare", default=None, help="folder with the original code's <method>_orig_seed*.json")
    ap.add_argument("--export-windows", default=None, help="write the windows to this .npz and continue")
    ap.add_argument(
        "--iterations", type=int, default=None, help="override the recipe's length; schedule boundaries scale with it"
    )
    ap.add_argument("--epochs", type=int, default=None, help="override the recipe's length (checks only)")
    a = ap.parse_args()
    keep_freed_memory()
    enable_compilation_cache()
    if len(a.seeds) < 1:
        ap.error("give at least one seed")
    run(
        a.methods,
        a.seeds,
        Path(a.out),
        Path(a.compare) if a.compare else None,
        Path(a.export_windows) if a.export_windows else None,
        a.iterations,
        a.epochs,
    )
