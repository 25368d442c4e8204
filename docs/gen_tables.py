"""Write the results tables of the docs and the README from committed JSON, so that text and numbers cannot drift.

A table lives between two markers in a Markdown file (``README.md``, ``docs/*.md``)::

    <!-- BEGIN table:recognition_real.overall -->
    ... generated; do not edit by hand ...
    <!-- END table:recognition_real.overall -->

Names:

* ``<file>.<table>``: table ``<table>`` of ``docs/results/<file>.json`` (results transcribed from the runs that
  produced them: each file states its command, protocol, data, seeds and when it was measured);
  ``<file>.about`` is that provenance as a list, and ``<file>.margins`` / ``baseline_parity.summary`` are tables
  computed from the rows;
* ``speed.<name>``: the benchmark results in ``benchmarks/results/*.json``, written by the benchmark scripts;
* ``models.<task>``: the registered methods and what each preset sets, read from ``dancejax.models`` and the
  tasks' ``preset_overrides`` (so the model cards follow the code).

``python docs/gen_tables.py`` rewrites every marked table; ``--check`` writes nothing and exits 1, naming the
files, when a table is out of date (``tests/test_docs.py`` runs it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
BENCH = ROOT / "benchmarks" / "results"
MARKER = re.compile(
    r"(?P<begin><!-- BEGIN table:(?P<name>[\w.\-]+) -->\n)(?P<body>.*?)(?P<end><!-- END table:(?P=name) -->)", re.S
)
BEGIN = re.compile(r"<!-- BEGIN table:([\w.\-]+) -->")


# ------------------------------------------------------------------ formatting


def fmt(v, d: int = 1) -> str:
    """One cell: None → '—', a number with ``d`` decimals, mean ± std, a min–max range, a list joined by ' / '."""
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and "mean" in v:
        return f"{v['mean']:.{d}f} ± {v['std']:.{d}f}"
    if isinstance(v, dict) and "min" in v:
        return f"{v['min']}–{v['max']}"
    if isinstance(v, list):
        return " / ".join(fmt(x, d) for x in v)
    if isinstance(v, int):
        return str(v)
    return f"{v:.{d}f}"


def mean(v):
    """The number a cell is ranked by (None for text and missing cells)."""
    if isinstance(v, dict) and "mean" in v:
        return v["mean"]
    if isinstance(v, int | float) and not isinstance(v, bool):
        return v
    return None


def bold(s: str) -> str:
    return f"**{s}**"


def thousands(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def ms3(x: float) -> str:
    """A time in ms to about three significant digits."""
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ results JSON (docs/results)


def load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{path}: no such results file")
    return json.loads(path.read_text())


def best_marks(table: dict) -> set[tuple[int, int, int]]:
    """(row, column, element) of the best value: per column, or per element within a row (``best_within_row``)."""
    mode = table.get("best")
    if mode is None:
        return set()
    pick = max if mode == "max" else min
    rows, marks = table["rows"], set()
    if table.get("best_within_row"):
        for i, r in enumerate(rows):
            for k in range(len(r["values"][0])):
                vals = [v[k] for v in r["values"]]
                b = pick(vals)
                marks |= {(i, j, k) for j, v in enumerate(vals) if v == b}
        return marks
    for j in table.get("best_columns", range(len(table["columns"]))):
        vals = [mean(r["values"][j]) for r in rows]
        present = [v for v in vals if v is not None]
        if present:
            b = pick(present)
            marks |= {(i, j, -1) for i, v in enumerate(vals) if v == b}
    return marks


def results_table(table: dict) -> str:
    marks = best_marks(table)
    out = []
    for i, r in enumerate(table["rows"]):
        dec = r.get("decimals", table.get("decimals", 1))
        label = bold(r["label"]) if r.get("highlight") else r["label"]
        cells = [label]
        for j, v in enumerate(r["values"]):
            d = dec[j] if isinstance(dec, list) else dec
            if isinstance(v, list):
                cells.append(" / ".join(bold(fmt(x, d)) if (i, j, k) in marks else fmt(x, d) for k, x in enumerate(v)))
            else:
                cells.append(bold(fmt(v, d)) if (i, j, -1) in marks else fmt(v, d))
        out.append(cells)
    if "ratio" in table:
        out.append(["ratio dancejax / original"] + [f"{x:.3f}" for x in table["ratio"]] + [""])
    text = markdown([table.get("label", "")] + table["columns"], out)
    if table.get("best"):
        text += f"\nBold: the {'highest' if table['best'] == 'max' else 'lowest'} mean"
        text += " for each horizon within a row.\n" if table.get("best_within_row") else " in each column.\n"
    return text


def about(d: dict) -> str:
    """The provenance of a results file, as a list."""
    lines = []
    if d.get("command"):
        cmds = d["command"].splitlines()
        lines.append("- **Command:**\n\n  ```bash\n" + "".join(f"  {c}\n" for c in cmds) + "  ```\n")
    elif d.get("command_note"):
        lines.append(f"- **Command:** {d['command_note']}.")
    for key, title in [
        ("preset", "Preset"),
        ("protocol", "Protocol"),
        ("data", "Data"),
        ("seeds_note", "Seeds"),
        ("units", "Units"),
        ("measured", "Measured"),
        ("wall_time", "Wall time"),
        ("code", "Code"),
        ("compare_format", "Original code's results"),
    ]:
        if d.get(key) and d[key] != "—":
            text = d[key]
            if key == "seeds_note" and d.get("seeds"):
                text = f"{', '.join(map(str, d['seeds']))}; {text}"
            lines.append(f"- **{title}:** {text}.")
    lines += [f"- {n}" for n in d.get("notes", [])]
    return "\n".join(lines) + "\n"


def recognition_margins() -> str:
    """MKFF-ST-GCN's mean minus each non-learned baseline's, per threshold and per joint group."""
    d = load("recognition_real")["tables"]
    out = []
    for key, cols in (("overall", slice(0, 3)), ("per_joint_pck005", slice(None))):
        t = d[key]
        rows = {r["label"].split(" (")[0]: r["values"] for r in t["rows"]}
        mine = rows["MKFF-ST-GCN"]
        for base in ("raw detector", "One-Euro"):
            diffs = [f"{mean(a) - mean(b):+.1f}" for a, b in zip(mine[cols], rows[base][cols])]
            out.append((key, base, t["columns"][cols], diffs))
    text = ""
    for key in ("overall", "per_joint_pck005"):
        sel = [o for o in out if o[0] == key]
        header = ["MKFF-ST-GCN (mean) minus"] + (
            list(sel[0][2]) if key == "overall" else [f"{c} (PCK@0.05)" for c in sel[0][2]]
        )
        text += markdown(header, [[o[1]] + o[3] for o in sel]) + "\n"
    return text.rstrip("\n") + "\n"


def prediction_margins() -> str:
    """How much lower STGA-Net's mean MPJPE is than each faithful baseline's (mm; negative = STGA-Net worse)."""
    d = load("prediction_quick")["tables"]
    rows = {r["label"]: r["values"] for r in d["overall"]["rows"]}
    stga = rows["STGA-Net"]
    out = [
        [f"overall, over {name.split(' (')[0]}"] + [f"{mean(b) - mean(a):+.1f}" for a, b in zip(stga, vals)]
        for name, vals in rows.items()
        if "faithful" in name
    ]
    methods = d["per_style"]["columns"]
    for r in d["per_style"]["rows"]:
        s = r["values"][methods.index("STGA-Net")]
        for m in ("LTD", "siMLPe"):
            o = r["values"][methods.index(m)]
            out.append([f"{r['label']}, over {m}"] + [f"{b - a:+.1f}" for a, b in zip(s, o)])
    return markdown(["STGA-Net's gain (mm)"] + d["overall"]["columns"], out)


def parity_summary() -> str:
    """Both parity tables in one: the original code, dancejax, and the ratio of the means."""
    d = load("baseline_parity")["tables"]
    out = []
    for key, name in (("simlpe", "siMLPe"), ("ltd", "LTD")):
        t = d[key]
        orig, mine = t["rows"][0]["values"][:4], t["rows"][1]["values"][:4]
        out.append([f"{name}, original code"] + [fmt(v, 2) for v in orig])
        out.append([f"{name}, dancejax"] + [fmt(v, 2) for v in mine])
        out.append([f"{name}, ratio"] + [f"{x:.3f}" for x in t["ratio"]])
    return markdown(["MPJPE (mm)"] + t["columns"][:4], out)


def results_entry(name: str) -> str:
    file, _, table = name.partition(".")
    special = {
        "recognition_real.margins": recognition_margins,
        "prediction_quick.margins": prediction_margins,
        "baseline_parity.summary": parity_summary,
    }
    if name in special:
        return special[name]()
    d = load(file)
    if table == "about":
        return about(d)
    if table not in d["tables"]:
        raise SystemExit(f"table:{name}: {file}.json has no table {table!r} (it has {', '.join(d['tables'])})")
    t = d["tables"][table]
    caption = f"{t['caption']}:\n\n" if t.get("caption") else ""
    return caption + results_table(t)


# ------------------------------------------------------------------ benchmark JSON (benchmarks/results)

MODEL_NAMES = {
    "stgcn10": "ST-GCN-10",
    "stgcn10_original": "ST-GCN-10, original workload",
    "mkff_stgcn": "MKFF-ST-GCN",
    "stga_net": "STGA-Net",
}


def bench(name: str) -> dict:
    path = BENCH / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{path}: no such benchmark results file")
    return json.loads(path.read_text())


def shape(r: dict) -> str:
    if r["model"] == "stga_net":
        return f"({r['batch']}, {r['frames']} → {r['frames']})"
    return f"({r['batch']}, {r['frames']})"


def speed_stream() -> str:
    out = []
    for file, flip in (("stream_latency", False), ("stream_latency_flip_test", True)):
        d = bench(file)
        stages = dict.fromkeys(r["stage"] for r in d["rows"])
        for stage in stages:
            if flip and "refine" not in stage and stage != "all three":
                continue  # the flip test is the refiner's: the predictor alone does not change
            rows = {r["dancers"]: r for r in d["rows"] if r["stage"] == stage}
            label = {"all three": "all three in one step", "predict": "predict (10 → 10 frames)"}.get(stage, stage)
            label += ", flip test" if flip else ""
            cells = [f"{ms3(rows[n]['median_ms'])} / {ms3(rows[n]['p99_ms'])} ms" for n in sorted(rows)]
            top = max(rows)
            cells.append(f"{rows[top]['dancer_frames_per_s']:.0f} dancer-frames/s")
            out.append([label] + cells)
    d = bench("stream_latency")
    counts = sorted({r["dancers"] for r in d["rows"]})
    header = ["stage"] + [f"{n} dancer{'s' if n > 1 else ''}, median / p99" for n in counts]
    header.append(f"throughput at {counts[-1]}")
    return markdown(header, out)


def speed_video() -> str:
    """Per-stage latency of ``dancejax live`` (benchmarks.video_latency), then the accuracy cost
    of running the detector on every second frame."""
    d = bench("video_latency")
    runs = {r["every"]: r for r in d["runs"]}
    stages = list(runs[1]["stages"])
    head = ["stage"] + [f"detector on every {'frame' if e == 1 else f'{e}nd frame'}, median / p99" for e in runs]
    rows = [
        [s] + [f"{ms3(r['stages'][s]['median_ms'])} / {ms3(r['stages'][s]['p99_ms'])} ms" for r in runs.values()]
        for s in stages
    ]
    rows.append(
        ["dancejax's own stages (refine + style + predict + compare), median"]
        + [f"{ms3(r['own_stages_median_ms'])} ms (target ≤ {d['targets']['own_stages_ms']:g})" for r in runs.values()]
    )
    rows.append(
        ["end to end"]
        + [f"{r['fps_end_to_end']:.1f} frames/s (target ≥ {d['targets']['end_to_end_fps']:g})" for r in runs.values()]
    )
    acc = d["every_second_frame_accuracy"]
    cols = sorted(next(iter(acc["pck"].values())), key=float)
    rows2 = [[k] + [f"{v[c]:.1f}" for c in cols] for k, v in acc["pck"].items()]
    video = f"{d['video']}, {runs[1]['frames']} frames"
    return (
        markdown(head, rows)
        + f"\n\n{d.get('cores', '?')} CPU cores, {video}.\n\n"
        + markdown(["held-out AIST++ detections, PCK %"] + [f"@{c}" for c in cols], rows2)
        + f"\n\n{acc['data']}."
    )


def speed_vs_torch(file: str) -> str:
    d = bench(file)
    out = []
    for r in d["main"]:
        vs = ", vs the original code" if r.get("torch_model") == "net.st_gcn.Model" else ""
        out.append(
            [
                f"{MODEL_NAMES[r['model']]} {shape(r)}{vs}",
                f"{r['train_flops'] / 1e9:.2f} / {r['train_bytes'] / 1e9:.2f}",
                f"{r['jax_train_ms']:.1f}",
                f"{r['torch_eager_train_ms']:.1f}",
                f"{r['jax_train_ms'] / r['torch_eager_train_ms']:.2f}",
                f"{r['jax_train_roofline_pct']:.0f}",
                f"{r['torch_eager_train_roofline_pct']:.0f}",
                f"{r['jax_infer_ms'] / r['torch_eager_infer_ms']:.2f}",
            ]
        )
    header = [
        "model (batch, T)",
        "train GFLOP / GB",
        "JAX ms",
        "eager ms",
        "JAX / eager",
        "JAX % roof",
        "PyTorch % roof",
        "inference JAX / eager",
    ]
    m, p = d["machine"], d["peaks"]
    return markdown(header, out) + (
        f"\nMachine: {m['cpus']} CPUs, JAX {m['jax']}, PyTorch {m['torch']} ({m['torch_threads']} threads), "
        f"{m['precision']}, allocator: {m['malloc']}; measured at the start of the run: GEMM peak "
        f"{p['gemm_gflops']:.0f} GFLOP/s (PyTorch's own GEMM {p['torch_gemm_gflops']:.0f}), copy "
        f"{p['copy_gbs']:.1f} GB/s.\n"
    )


def speed_allocator() -> str:
    d = bench("allocator")
    by = {}
    for r in d["rows"]:
        by.setdefault(r["model"], {})[r["setting"]] = r
    out = []
    for model, s in by.items():
        sy, kp = s["system"], s["keep"]

        def t(x):
            return f"{x:.0f}" if x >= 100 else f"{x:.1f}"

        out.append(
            [
                MODEL_NAMES[model],
                f"{t(sy['jax_ms'])} / {t(kp['jax_ms'])}",
                f"{thousands(sy['jax_faults'])} / {thousands(kp['jax_faults'])}",
                f"{t(sy['torch_ms'])} / {t(kp['torch_ms'])}",
                f"{sy['jax_ms'] / sy['torch_ms']:.2f} / {kp['jax_ms'] / kp['torch_ms']:.2f}",
                f"{min(sy['jax_ms'], kp['jax_ms']) / min(sy['torch_ms'], kp['torch_ms']):.2f}",
            ]
        )
    header = [
        "model",
        "JAX ms, system / kept",
        "JAX faults per step, system / kept",
        "PyTorch ms, system / kept",
        "JAX / PyTorch, system / kept",
        "JAX / PyTorch, each at its faster setting",
    ]
    return markdown(header, out)


OP_COLUMNS = ("convolution", "dot", "xnnpack fusion", "elementwise fusion", "transpose/copy")


def speed_op_profile() -> str:
    d = bench("op_profile")
    out = []
    for r in d["rows"]:
        ops, busy = r["ops_ms"], r["busy_ms"]
        other = sum(v for k, v in ops.items() if k not in OP_COLUMNS)
        cells = [f"{100 * ops.get(k, 0.0) / busy:.1f} %" for k in OP_COLUMNS] + [f"{100 * other / busy:.1f} %"]
        out.append([MODEL_NAMES[r["model"]], f"{r['wall_ms']:.0f} / {r['busy_ms']:.0f}"] + cells)
    header = ["model", "wall / busy ms", "convolution", "dot", "XNNPACK fusions (dots + elementwise)"]
    header += ["elementwise fusions", "transpose / copy", "other"]
    return markdown(header, out)


def speed_ablation() -> str:
    runs = {"3 rounds": bench("ablation"), "7 rounds": bench("ablation_rounds7")}
    table: dict[str, dict[str, str]] = {}
    for run, d in runs.items():
        for r in d["rows"]:
            if r["variant"] != "default":
                table.setdefault(r["model"], {})[f"{r['variant']}, {run}"] = f"{r['ratio']:.2f}"
            elif run == "3 rounds":
                table.setdefault(r["model"], {})["default ms"] = ms3(r["ms"])
    cols = {
        "default ms": "default step (ms, 3 rounds)",
        "nvtc layout, 3 rounds": "layout reverted, 3 rounds",
        "autodiff BN, 3 rounds": "BatchNorm gradient reverted, 3 rounds",
        "nvtc layout, 7 rounds": "layout reverted, 7 rounds",
        "autodiff BN, 7 rounds": "BatchNorm gradient reverted, 7 rounds",
    }
    titles = ["model", *cols.values()]
    out = [[MODEL_NAMES[m]] + [v.get(c, "—") for c in cols] for m, v in table.items()]
    return markdown(titles, out)


def speed_study() -> str:
    rec = [r for r in bench("study_vs_sequential_recognition")["rows"] if r["task"] == "recognition"]
    pred = [r for r in bench("study_vs_sequential")["rows"] if r["task"] == "prediction"]
    out = [
        [
            r["task"],
            str(r["settings"]),
            f"{r['sequential_s_per_setting_epoch']:.2f}",
            f"{r['vmapped_s_per_setting_epoch']:.2f}",
            f"{r['ratio']:.2f}",
            str(r["auto_chunk"]),
            f"{r['auto_ratio']:.2f}",
            f"{r['single_compile_s']:.0f} / {r['vmapped_compile_s']:.0f}",
        ]
        for r in rec + pred
    ]
    header = ["task", "settings N", "sequential s per setting-epoch", "vmapped", "vmapped / sequential"]
    header += ["auto: chunk", "auto / sequential", "compile s, single / vmapped"]
    return markdown(header, out)


def speed_scaling() -> str:
    d = bench("vs_torch_stgcn10")
    out = [
        [
            f"({r['batch']}, {r['frames']})",
            f"{r['jax_infer_ms']:.1f}",
            f"{r['torch_eager_infer_ms']:.1f}",
            f"{r['jax_infer_ms'] / r['torch_eager_infer_ms']:.2f}",
        ]
        for r in d["scaling"]
    ]
    return markdown(["ST-GCN-10 inference (batch, T)", "JAX ms", "eager ms", "JAX / eager"], out)


SPEED: dict[str, Callable[[], str]] = {
    "stream_latency": speed_stream,
    "video_latency": speed_video,
    "vs_torch": lambda: speed_vs_torch("vs_torch"),
    "vs_torch_keep": lambda: speed_vs_torch("vs_torch_keep"),
    "allocator": speed_allocator,
    "op_profile": speed_op_profile,
    "ablation": speed_ablation,
    "study": speed_study,
    "inference_scaling": speed_scaling,
}


# ------------------------------------------------------------------ models (from the code)


def short(v) -> str:
    if hasattr(v, "name") and hasattr(v, "lr"):  # an OptimConfig
        s = v.name + (f" (momentum {v.momentum:g})" if v.name == "sgd" else "")
        s += " (AMSGrad)" if getattr(v, "amsgrad", False) else ""
        s += f", lr {v.lr:g}"
        if v.lr_decay != 1.0:
            every = f"{v.decay_every_steps} steps" if v.decay_every_steps else f"{v.decay_every} epochs"
            s += f" × {v.lr_decay:g} per {every.replace('1 epochs', 'epoch')}"
        if v.boundaries:
            s += ", from step " + ", ".join(f"{b}: × {f:.3g}" for b, f in v.boundaries)
        if v.weight_decay:
            s += f", weight decay {v.weight_decay:g}"
        if v.clip_norm:
            s += f", clip {v.clip_norm:g}"
        return s
    return repr(v)


def model_defaults(task_name: str) -> str:
    """Every registry entry of a task: its module class and its default fields, read from the code."""
    sys.path.insert(0, str(ROOT))
    from dancejax import models

    registry = {
        "recognition": models.RECOGNIZERS,
        "prediction": models.PREDICTORS,
        "refinement": getattr(models, "REFINERS", {}),
    }[task_name]
    out = []
    for name in registry:
        m = models.build(registry, name)
        fields = ", ".join(f"{k}={short(v)}" for k, v in models.model_fields(m).items())
        extra = models.entry_config(registry[name])
        config = ", ".join(f"{k}={short(v)}" for k, v in extra.items()) or ""
        out.append([f"`{name}`", f"`{type(m).__name__}`", fields, config])
    return markdown(["method", "class", "default fields", "task fields the entry sets"], out)


def task_module(name: str):
    """A task of ``dancejax.tasks.TASKS``, or a task-like module of ``dancejax.tasks`` (refinement)."""
    sys.path.insert(0, str(ROOT))
    import importlib

    from dancejax.tasks import TASKS

    return TASKS[name] if name in TASKS else importlib.import_module(f"dancejax.tasks.{name}")


def overrides_of(task, method: str, preset: str, cfg) -> dict:
    import inspect

    if "obs" in inspect.signature(task.preset_overrides).parameters:
        return task.preset_overrides(method, preset, cfg.obs, cfg.pred)
    return task.preset_overrides(method, preset)


def models_table(task_name: str, only: str | None = None) -> str:
    """What each preset sets for every method of a task (or for ``only``), read from the code."""
    task = task_module(task_name)
    if only is not None and only not in task.METHODS:
        raise SystemExit(f"table:models.{task_name}.{only}: no such method")
    out = []
    for method in [only] if only else task.METHODS:
        for preset in task.PRESETS:
            cfg = task.make_config(method, preset)
            over = overrides_of(task, method, preset, cfg)
            model = over.pop("model", {})
            if not task.trainable(cfg):
                out.append([f"`{method}`", "every preset", "(no parameters: not trained)", "", ""])
                break
            fields = ", ".join(f"{k}={short(v)}" for k, v in model.items()) or "(class defaults)"
            steps = getattr(cfg, "iterations", None)
            length = f"{steps} steps" if steps else f"{cfg.epochs} epoch{'s' if cfg.epochs != 1 else ''}"
            if getattr(cfg, "max_train_windows", None):
                length += f" of at most {cfg.max_train_windows} windows"
            train = f"{short(cfg.optim)}; batch {cfg.batch_size}; {length}"
            shown = {"optim", "epochs", "iterations", "batch_size", "max_train_windows"}
            other = ", ".join(f"{k}={short(v)}" for k, v in over.items() if k not in shown)
            out.append([f"`{method}`", f"`{preset}`", fields, train, other])
    header = ["method", "preset", "model fields it sets", "training (optimizer; batch; length)"]
    header.append("other configuration fields it sets")
    return markdown(header, out)


# DMGNN's template takes seconds to trace (a 47 M-parameter graph); its count is left out to keep the check fast
PARAMS_SKIP = {"dmgnn"}


def parameter_counts(task_name: str) -> str:
    """Parameters of every trainable method at each preset's sizes (``jax.eval_shape`` of its init)."""
    sys.path.insert(0, str(ROOT))
    import jax
    import numpy as np

    task = task_module(task_name)
    presets = [p for p in task.PRESETS if p not in ("test", "paper")]
    out, counted = [], {}
    for method in task.METHODS:
        if method in PARAMS_SKIP or not task.trainable(task.make_config(method, presets[0])):
            continue
        cells = [f"`{method}`"]
        for preset in presets:
            cfg = task.make_config(method, preset)
            key = repr(cfg.model)  # presets with the same model fields have the same parameters
            if key not in counted:
                if hasattr(task, "variables_template"):
                    params = task.variables_template(cfg)["params"]
                else:
                    params = jax.eval_shape(lambda cfg=cfg: task.init_state(cfg, jax.random.PRNGKey(0))).params
                counted[key] = sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(params))
            cells.append(thousands(counted[key]))
        out.append(cells)
    return markdown(["method"] + [f"`{p}`" for p in presets], out)


def pretrained_models() -> str:
    """The models shipped in ``dancejax/pretrained/``, from their saved-model files and ``card.json``."""
    sys.path.insert(0, str(ROOT))
    from dancejax import pretrained

    out = []
    for m in pretrained.available():
        scores = "; ".join(f"{k}: {v}" for k, v in m.scores.items()) or "—"
        what = f"{m.task}, `{m.method}`, preset `{m.preset}`, {m.dims}D"
        if m.styles:
            what += f"; styles {', '.join(m.styles)}"
        command = f"`{m.command}`" if m.command else "—"
        out.append([f"`{m.name}`", what, f"{m.size_bytes / 1e6:.1f} MB", m.summary or "—", command, scores])
    return markdown(["name", "what", "size", "for", "trained by", "headline scores"], out)


def feedback_rules() -> str:
    """The feedback's risk rules, read from ``dancejax.feedback.rules.RULES``."""
    sys.path.insert(0, str(ROOT))
    from dancejax.feedback.rules import RULES

    out = []
    for r in RULES:
        title = getattr(r, "title", "")
        literature = getattr(r, "literature", None)
        cells = [f"`{r.name}`" + (f": {title}" if title else ""), f"{r.threshold:g} {r.unit}"]
        cells.append("—" if literature is None else f"{literature:g} {r.unit}")
        cells += [r.source, getattr(r, "calibration", "") or "—", "yes" if r.needs_3d else "no"]
        out.append(cells)
    header = ["rule", "threshold", "the literature's", "what it measures and where from", "calibration", "needs 3D"]
    return markdown(header, out)


def dataset_table(which: str) -> str:
    """The shipped dataset (``dancejax/data/dance_lsp14.npz``): its takes, detections, or totals per style and split."""
    sys.path.insert(0, str(ROOT))
    from dancejax.data import load_dataset

    ds = load_dataset()
    if which == "takes":
        out = [
            [f"`{t.name}`", t.style, t.performer, t.source, t.group, t.split, str(t.num_frames), f"{t.seconds:.1f}"]
            for t in ds.takes
        ]
        return markdown(["take", "style", "performer", "source", "split group", "split", "frames", "seconds"], out)
    if which == "detections":
        out = [[f"`{d.name}`", d.style, d.split, str(d.det.shape[0]), str(d.det.shape[1])] for d in ds.detections]
        return markdown(["sequence", "style", "split", "views", "frames (25 fps)"], out)
    if which != "splits":
        raise SystemExit(f"table:dataset.{which}: use dataset.takes, dataset.splits or dataset.detections")
    out = []
    for style in ds.styles:
        cells = [style]
        for split in ("train", "val", "test"):
            ts = [t for t in ds.takes if t.style == style and t.split == split]
            cells.append(f"{len(ts)} / {sum(t.seconds for t in ts):.1f}")
        out.append(cells)
    header = ["style", "train: takes / seconds", "val: takes / seconds", "test: takes / seconds"]
    return markdown(header, out)


# ------------------------------------------------------------------ files


def generate(name: str) -> str:
    kind, _, rest = name.partition(".")
    if kind == "speed":
        if rest not in SPEED:
            raise SystemExit(f"table:{name}: unknown speed table (known: {', '.join(SPEED)})")
        return SPEED[rest]()
    if kind == "dataset":
        return dataset_table(rest)
    if name == "pretrained.models":
        return pretrained_models()
    if name == "feedback.rules":
        return feedback_rules()
    if kind == "params":
        return parameter_counts(rest)
    if kind == "modelfields":
        return model_defaults(rest)
    if kind == "models":
        task, _, method = rest.partition(".")
        return models_table(task, method or None)
    return results_entry(name)


def render(text: str, path: Path) -> str:
    begins = BEGIN.findall(text)
    matched = [m.group("name") for m in MARKER.finditer(text)]
    unclosed = sorted(set(begins) - set(matched))
    if unclosed:
        raise SystemExit(f"{path}: no END marker for table:{', table:'.join(unclosed)}")
    cache: dict[str, str] = {}

    def sub(m: re.Match) -> str:
        name = m.group("name")
        if name not in cache:
            cache[name] = generate(name)
        return m.group("begin") + "\n" + cache[name] + "\n" + m.group("end")

    return MARKER.sub(sub, text)


def targets() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a table is out of date")
    a = ap.parse_args(argv)
    stale = []
    for path in targets():
        old = path.read_text()
        new = render(old, path)
        if new != old:
            stale.append(path.relative_to(ROOT))
            if not a.check:
                path.write_text(new)
    if a.check and stale:
        print("out of date (run python docs/gen_tables.py): " + ", ".join(map(str, stale)))
        return 1
    print("up to date" if a.check else "wrote " + (", ".join(map(str, stale)) or "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
