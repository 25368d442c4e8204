"""Run a hyper-parameter study as one vmapped program per shape (dancejax.study).

    python experiments/study.py --config experiments/configs/study_recognition16.json
    python experiments/study.py --config experiments/configs/study_prediction.json --out results/study

The config names the task, the method, the preset, the number of epochs, the grid,
and optionally ``chunk_size`` (settings per compiled batch) and ``patience`` (per-setting
early stopping by masking).  Prints progress per setting and a ranked table (settings,
validation and test scores), saves CSV/JSON and two plots (learning curves; final score
against each hyper-parameter), writes the best setting as an ordinary checkpoint and
evaluates it with the normal evaluation code.

Scores: recognition — mean PCK@0.05 (%, GT-bbox normaliser) on the simulated-noise
validation takes (val) and on the real AIST++ detections of the held-out sequences
(test); prediction — −MPJPE (mm, root-relative frames, all horizons) on validation and
test windows.  Higher is better for both.
"""

import argparse
import dataclasses
import json
from pathlib import Path

import jax
import numpy as np

from dancejax import prediction, recognition
from dancejax.data import load_dataset
from dancejax.study import run_study, save_best, save_tables
from dancejax.train.common import Checkpointer


def base_config(cfg: dict):
    task, method, preset = cfg["task"], cfg.get("method"), cfg.get("preset", "quick")
    if task == "recognition":
        return (recognition.RecognitionConfig.quick if preset == "quick" else recognition.RecognitionConfig.paper)(
            method or "mkff_stgcn")
    if task == "prediction":
        return (prediction.PredictionConfig.quick if preset == "quick" else prediction.PredictionConfig.default)(
            method or "stga_net")
    raise ValueError(f"Unsupported task: {task!r}")


def plots(result, grid, out: Path, task: str, score: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, hist in sorted(result.curves.items()):
        ax.plot([h["epoch"] + 1 for h in hist], [h["val"] for h in hist], "o-", ms=3, label=f"#{i}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {score}")
    ax.grid(alpha=0.3)
    if len(result.curves) <= 16:
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(out / f"study_{task}_curves.png", dpi=100)
    plt.close(fig)
    names = [n for n in sorted(grid) if len(grid[n]) > 1]
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.2 * max(len(names), 1), 3.2), sharey=True, squeeze=False)
    for ax, n in zip(axes[0], names):
        ax.scatter([r[n] for r in result.rows], [r["val"] for r in result.rows], s=14)
        ax.set_xlabel(n)
        if n in ("lr", "weight_decay") and min(grid[n]) > 0:
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"final validation {score}")
    fig.tight_layout()
    fig.savefig(out / f"study_{task}_hparams.png", dpi=100)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(Path(__file__).parent / "configs" / "study_recognition16.json"))
    ap.add_argument("--out", default="results/study")
    ap.add_argument("--best-workdir", default=None, help="where to write the best setting's checkpoint")
    a = ap.parse_args(argv)
    cfg = json.loads(Path(a.config).read_text())
    task = cfg["task"]
    base = base_config(cfg)
    out = Path(a.out)
    result = run_study(task, base, cfg["grid"], cfg["epochs"], chunk_size=cfg.get("chunk_size"),
                       patience=cfg.get("patience"))
    score = "PCK@0.05 (%)" if task == "recognition" else "-MPJPE (mm)"
    names = sorted(cfg["grid"])
    print(f"\nRanked settings ({task}, {cfg.get('method')}, preset {cfg.get('preset', 'quick')}, {cfg['epochs']} epochs; "
          f"val/test = {score}; {'val: simulated-noise validation takes, test: real AIST++ detections' if task == 'recognition' else 'val/test: validation/test-split windows'}; "
          f"{result.seconds:.0f}s for {len(result.rows)} settings)")
    print(f"{'rank':>4} {'#':>3} " + "".join(f"{n:>13}" for n in names) + f"{'val':>10}{'test':>10}{'epochs':>8}")
    for r, row in enumerate(result.rows, 1):
        print(f"{r:>4} {row['setting']:>3} " + "".join(f"{row[n]:>13.4g}" for n in names)
              + f"{row['val']:>10.2f}{row['test']:>10.2f}{row['epochs_run']:>8}")
    save_tables(result, task, out, cfg["grid"])
    plots(result, cfg["grid"], out, task, score)
    best_dir = Path(a.best_workdir or out / f"best_{task}")
    save_best(result, best_dir)
    # evaluate the saved best checkpoint with the normal evaluation code
    bcfg = result.best_config
    mod = recognition if task == "recognition" else prediction
    template = mod.init_state(bcfg, jax.random.key(bcfg.seed))
    ck = Checkpointer(best_dir)
    _, state, _ = ck.restore(template, "best")
    ck.close()
    variables = {"params": state.params, "batch_stats": state.batch_stats}
    if task == "recognition":
        data = recognition.load_data(load_dataset(), bcfg.window, bcfg.stride)
        for name in ("sim_test", "aist_real"):
            pred, logits = recognition.predict_set(bcfg, variables, data.sets[name])
            ev = recognition.evaluate(pred, data.sets[name], logits)
            print(f"best setting #{result.rows[0]['setting']} restored from {best_dir}: {name}: "
                  f"PCK@0.2/0.1/0.05 = {ev['pck'][0.2]['mean']:.1f}/{ev['pck'][0.1]['mean']:.1f}/"
                  f"{ev['pck'][0.05]['mean']:.1f} %, style accuracy {ev['style_acc']:.1f} %")
    else:
        data = prediction.load_data(load_dataset(), bcfg.model.obs, bcfg.model.pred)
        w = np.concatenate(list(data.eval_sets.values()))
        e = prediction.errors_by_horizon(prediction.Predictor(bcfg.model, variables)(w[:, :bcfg.model.obs]),
                                         w[:, bcfg.model.obs:], prediction.horizons_ms(bcfg.model.pred))
        print(f"best setting #{result.rows[0]['setting']} restored from {best_dir}: test MPJPE (mm, root-relative) "
              + ", ".join(f"{h} ms {v:.1f}" for h, v in e["mpjpe_rel"].items()))
    print(f"saved {out}/study_{task}.csv, .json, study_{task}_curves.png, study_{task}_hparams.png; best checkpoint {best_dir}")


if __name__ == "__main__":
    main()
