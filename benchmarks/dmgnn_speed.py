"""DMGNN's train step: dancejax against the original code, same batch, same run.

    python -m benchmarks.dmgnn_speed --original /tmp/dmgnn_orig/h36m-short
    python -m benchmarks.dmgnn_speed --presets quick original --rounds 3 --repeats 5
    python -m benchmarks.dmgnn_speed --original ... --before /tmp/dancejax_before   # + an earlier version
    python -m benchmarks.dmgnn_speed --tiny          # dancejax only, the 'test' preset (a smoke test)

Run from the repository root.  Each side runs in its own worker process (so that each one's
peak resident memory is its own), started once, and the parent alternates timed rounds between
the workers: each round runs ``--repeats`` train steps on every side in turn, after one untimed
warm-up step.  The figure per side is the median step over all its timed steps.

* dancejax: ``make_config('dmgnn', preset)`` (10 observed → 10 predicted frames, LSP-14) and the
  prediction task's own jitted train step (``make_train_step``: standardisation, forward, L1 loss,
  backward, Adam with weight decay and gradient clipping, BatchNorm statistics), on random-walk
  windows.  Compile time is the jit's ``lower`` plus ``compile``; the HLO size is the lowered
  module's text length in lines.
* the original: ``net/model.py`` of limaosen0/DMGNN (``--original``: its ``h36m-short`` folder),
  unmodified, in train mode with its training step (``processor/recognition.py``: L1 loss, Adam
  1e-4 with weight decay 1e-4, gradient norm clipped at 0.5), on random data of the same batch
  and length.  Adapted, because the code as shipped cannot run this setting on a CPU: (1) it
  calls ``.cuda()`` on the decoder's mask and noise, so ``torch.Tensor.cuda`` returns the tensor
  itself; (2) the cross-scale modules' input widths are written for 49 encoder frames (800 =
  32·25, 832 = 64·13), so the eight ``S*_to_S*`` modules are rebuilt with the widths of 9
  encoder frames (the observed frames but the last), with the same classes and arguments; (3) it
  runs on its own H3.6M scales (20 joints, 10 parts, 5 bodies) rather than LSP-14's 14/7/5.
  The weights are initialised as the original's ``weights_init`` does.

Writes ``--out`` (JSON).  The original side needs the torch extra.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import save_results

PRESETS = ("test", "quick", "original")
OBS, PRED, BATCH = 10, 10, 32


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def dancejax_worker(preset: str, batch: int):
    """Set up and compile dancejax's train step; return (info, step callable)."""
    import jax
    import jax.numpy as jnp

    from dancejax.models import dmgnn as dmgnn_module
    from dancejax.tasks.prediction.config import make_config
    from dancejax.tasks.prediction.data import PredictionData
    from dancejax.tasks.prediction.step import hparams, init_state, make_train_step

    cfg = make_config("dmgnn", preset, obs=OBS, pred=PRED, batch_size=batch)
    rng = np.random.default_rng(0)
    walk = np.cumsum(0.01 * rng.standard_normal((max(2 * batch, 64), OBS + PRED, 14, 3)), 1).astype(np.float32)
    data = PredictionData(["random"], walk, walk[:batch], {}, "random walks", OBS + PRED)
    step = make_train_step(cfg, data)
    state = init_state(cfg, jax.random.key(0))
    hp = hparams(cfg)
    batch_in = {"window": jnp.asarray(walk[:batch])}
    n_params = sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(state.params))
    t0 = time.perf_counter()
    lowered = jax.jit(step).lower(state, batch_in, jax.random.key(1), hp)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    hlo_lines = lowered.as_text().count("\n")
    box = {"state": state, "i": 0}

    def run():
        box["i"] += 1
        box["state"], m = compiled(box["state"], batch_in, jax.random.key(box["i"]), hp)
        jax.block_until_ready(m["loss"])

    info = {
        "side": f"dancejax {preset}",
        "model": f"dancejax DMGNN, preset {preset!r}, LSP-14 (14 joints, 7 parts, 5 bodies), hidden {cfg.model.hidden}",
        "params": n_params,
        "lower_s": t1 - t0,
        "compile_s": t2 - t0,
        "hlo_lines": hlo_lines,
        "module_version": getattr(dmgnn_module, "PARAM_LAYOUT", 1),
    }
    return info, run


def original_modules(root: str):
    """The original code's ``Model`` and cross-scale classes, imported from ``root`` (its
    ``h36m-short`` folder)."""
    original_modules_check(root)
    path = Path(root).expanduser().resolve()
    sys.path.insert(0, str(path))
    from net import model as orig_model
    from net.utils import module as orig_module

    return orig_model, orig_module


def original_modules_check(root: str) -> None:
    if not (Path(root).expanduser() / "net" / "model.py").is_file():
        raise SystemExit(f"dmgnn_speed: --original {root}: no net/model.py (give the original's h36m-short folder)")


def original_worker(root: str, batch: int):
    import torch

    orig_model, om = original_modules(root)
    torch.Tensor.cuda = lambda self, *a, **k: self  # adaptation (1): the code calls .cuda() in the decoder
    graph = {"layout": "h36m", "strategy": "distance"}
    model = orig_model.Model(3, 256, 9, 256, graph, graph, graph, fusion_layer=2, cross_w=0.3)
    t_enc = OBS - 1

    def embed_t(t):  # the embeddings' temporal conv: kernel 5, stride 2, padding 2
        return (t + 4 - 5) // 2 + 1

    t1, t2 = t_enc, embed_t(t_enc)  # frames entering fusion 1 (after block 1, stride 1) and 2 (block 2, stride 2)
    for layer, (c, t) in ((1, (32, t1)), (2, (64, t2))):
        w = (c * embed_t(t), 256)  # adaptation (2): the widths for 9 encoder frames
        kw = dict(t_kernel=5, t_stride=(1, 2), t_padding=2)
        classes = {"j2p": om.S1_to_S2, "p2j": om.S2_to_S1, "p2b": om.S2_to_S3, "b2p": om.S3_to_S2}
        for enc in (model.encoder_pos, model.encoder_vel, model.encoder_acl):
            for name, cls in classes.items():
                setattr(enc, f"{name}_{layer}", cls(**_ctor_args(name, c, w, kw)))

    def weights_init(m):  # the original processor's initialisation
        cls = m.__class__.__name__
        if "Conv1d" in cls or "Conv2d" in cls:
            m.weight.data.normal_(0.0, 0.02)
            if m.bias is not None:
                m.bias.data.fill_(0)
        elif "BatchNorm" in cls:
            m.weight.data.normal_(1.0, 0.02)
            m.bias.data.fill_(0)

    model.apply(weights_init)
    model.train()

    def rel(n):
        rec_i, send_i = np.where(np.ones((n, n)) - np.eye(n))
        eye = np.eye(n, dtype=np.float32)
        return torch.from_numpy(eye[send_i]), torch.from_numpy(eye[rec_i])

    # the processor's relrec = one-hot of np.where(off_diag)[1], relsend = of [0]
    rels = [t for n in (20, 10, 5) for t in rel(n)]
    g = torch.Generator().manual_seed(0)
    enc_p = torch.randn(batch, t_enc, 60, generator=g)
    enc_v = torch.zeros_like(enc_p)
    enc_v[:, 1:] = enc_p[:, 1:] - enc_p[:, :-1]
    enc_a = torch.zeros_like(enc_p)
    enc_a[:, :-1] = enc_v[:, 1:] - enc_v[:, :-1]
    dec_in = torch.randn(batch, 1, 60, generator=g)
    prev, prev2 = enc_p[:, -1:], enc_p[:, -2:-1]
    target = torch.randn(batch, 20, PRED, 3, generator=g)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)

    def run():
        out = model(enc_p, enc_v, enc_a, dec_in, prev, prev2, PRED, *rels, 0.6)
        loss = torch.abs(out - target).mean(-1).mean(1).mean(0).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()

    info = {
        "side": "original",
        "model": "limaosen0/DMGNN h36m-short net.model.Model, H3.6M scales (20 joints, 10 parts, 5 bodies), hidden 256",
        "params": sum(p.numel() for p in model.parameters()),
        "compile_s": 0.0,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    return info, run


def _ctor_args(name: str, c: int, w: tuple, kw: dict) -> dict:
    """The constructor arguments the original's ``Encoder`` passes to cross-scale module ``name``
    (its channel and width argument names differ per class)."""
    src, dst = {"j": "j", "p": "p", "b": "b"}[name[0]], name[2]
    return {f"n_{src}1": c, f"n_{src}2": w, f"n_{dst}1": c, f"n_{dst}2": w, **kw}


def worker(side: str, original: str | None, batch: int):
    """A worker process: set up, print its info as one JSON line, then answer 'run N' with the
    N step times (ms) and 'quit' with its peak resident memory."""
    if side == "original":
        info, run = original_worker(original, batch)
    else:
        info, run = dancejax_worker(side.split(":", 1)[1], batch)
        info["side"] = side.replace(":", " ")
    run()  # warm-up (for dancejax the first call of the compiled program)
    info["rss_after_warmup_mb"] = peak_rss_mb()
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "run":
            ts = []
            for _ in range(int(cmd[1])):
                t0 = time.perf_counter()
                run()
                ts.append(1e3 * (time.perf_counter() - t0))
            print(json.dumps({"ms": ts}), flush=True)
        else:
            print(json.dumps({"peak_rss_mb": peak_rss_mb()}), flush=True)
            return


class Worker:
    def __init__(self, side: str, original: str | None, batch: int, cwd: str | None = None):
        cmd = [sys.executable, "-m", "benchmarks.dmgnn_speed", "--worker", side, "--batch", str(batch)]
        if original:
            cmd += ["--original", original]
        self.side = side
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd)
        self.info = self._read()

    def _read(self) -> dict:
        line = self.p.stdout.readline()
        if not line:
            self.p.wait()
            raise SystemExit(f"dmgnn_speed: the {self.side} worker exited with status {self.p.returncode}")
        return json.loads(line)

    def ask(self, cmd: str) -> dict:
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        return self._read()

    def close(self) -> float:
        out = self.ask("quit")["peak_rss_mb"]
        self.p.wait()
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--original", help="the original code's h36m-short folder (limaosen0/DMGNN)")
    ap.add_argument("--presets", nargs="+", default=["quick", "original"], choices=PRESETS)
    ap.add_argument(
        "--before",
        metavar="DIR",
        help="another copy of the repository (e.g. an earlier version) whose DMGNN is timed too, "
        "at --before-presets, as 'before <preset>'",
    )
    ap.add_argument("--before-presets", nargs="+", default=["original"], choices=PRESETS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--tiny", action="store_true", help="dancejax's 'test' preset only, batch 4, 1 round of 2 steps")
    ap.add_argument("--out", default="benchmarks/results/dmgnn_speed.json")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.rounds < 1 or a.repeats < 1 or a.batch < 1:
        ap.error("--rounds, --repeats and --batch must be at least 1")
    if a.worker:
        worker(a.worker, a.original, a.batch)
        return
    if a.tiny:
        a.presets, a.rounds, a.repeats, a.batch, a.original, a.before = ["test"], 1, 2, 4, None, None
    if a.before and not (Path(a.before) / "benchmarks" / "dmgnn_speed.py").is_file():
        ap.error(f"--before {a.before}: not a copy of the repository (no benchmarks/dmgnn_speed.py)")
    if a.original:
        original_modules_check(a.original)
    sides = [(f"dancejax:{p}", None) for p in a.presets]
    sides += [(f"before:{p}", a.before) for p in (a.before_presets if a.before else [])]
    sides += [("original", None)] if a.original else []
    print(
        f"DMGNN train step, batch {a.batch}, {OBS} observed -> {PRED} predicted frames, CPU "
        f"({os.cpu_count()} cores); {a.rounds} alternating rounds of {a.repeats} steps after one warm-up step"
    )
    workers = []
    for s, cwd in sides:
        print(f"  starting {s} ...", flush=True)
        workers.append(Worker(s, a.original and str(Path(a.original).resolve()), a.batch, cwd))
    times = {w.side: [] for w in workers}
    for r in range(a.rounds):
        for w in workers:
            times[w.side] += w.ask(f"run {a.repeats}")["ms"]
        print(f"  round {r + 1}/{a.rounds} done", flush=True)
    rows = []
    for w in workers:
        row = {**w.info, "step_ms": float(np.median(times[w.side])), "step_ms_all": times[w.side]}
        row["peak_rss_mb"] = w.close()
        rows.append(row)
    print(f"\n  {'side':<22}{'params':>12}{'compile s':>11}{'step ms':>10}{'peak RSS MB':>13}")
    for x in rows:
        print(
            f"  {x['side']:<22}{x['params']:>12,}{x['compile_s']:>11.1f}{x['step_ms']:>10.1f}{x['peak_rss_mb']:>13.0f}"
        )
    payload = {
        "protocol": (
            f"train step (forward, L1 loss, backward, clipped Adam, BatchNorm statistics), batch {a.batch}, "
            f"{OBS} observed -> {PRED} predicted frames; median of {a.rounds} alternating rounds x "
            f"{a.repeats} steps after one warm-up step; compile = jit lower + compile; each side in its own "
            "process, peak RSS = that process's maximum resident set"
        ),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "rows": rows,
    }
    save_results(a.out, payload)
    print(f"\nsaved {a.out}")


if __name__ == "__main__":
    main()
