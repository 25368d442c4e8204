"""The feedback report: PNG figures, an animated GIF, the JSON of every number, and one
self-contained HTML page (no network: the figures are embedded, the animation is drawn by inline
JavaScript from embedded pose data)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from dancejax.feedback import FPS, normalized_pose
from dancejax.skeleton import LSP14

COLORS = {"trunk": "#4c72b0", "arms": "#dd8452", "legs": "#55a868"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def flagged_frames(result: dict) -> list[int]:
    return sorted({f["frame"] for f in result["risk"]["flags"] if "frame" in f})


def figure_deviation(result: dict, path: Path):
    plt = _plt()
    t = np.arange(result["frames"]["performance"]) / FPS
    fig, ax = plt.subplots(figsize=(9, 3.2))
    for part, v in result["deviation"]["per_part_over_time"].items():
        ax.plot(t, v, label=part, color=COLORS.get(part), lw=1.2)
    for m in result["moments"]:
        ax.axvline(m["time_s"], color="k", ls=":", lw=0.8)
        ax.annotate(f"{m['time_s']:.1f}s", (m["time_s"], ax.get_ylim()[1] * 0.92), fontsize=7, ha="center")
    for f in flagged_frames(result):
        ax.axvspan(f / FPS - 0.04, f / FPS + 0.04, color="red", alpha=0.25, lw=0)
    ax.set_xlabel("performance time (s)")
    ax.set_ylabel("deviation (torso lengths)")
    ax.set_title(
        "Deviation from the reference over time, per body part (dotted: largest deviations; red: risk flags)",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_parts(result: dict, path: Path):
    plt = _plt()
    parts = result["deviation"]["per_part_mean"]
    angles = result["deviation"]["angle_per_joint_mean"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].bar(list(parts), list(parts.values()), color=[COLORS.get(p) for p in parts])
    axes[0].set_ylabel("mean deviation (torso lengths)")
    axes[0].set_title("Per body part", fontsize=9)
    axes[1].bar(list(angles), list(angles.values()), color="#8172b2")
    axes[1].set_ylabel("mean angle difference (degrees)")
    axes[1].set_title("Per joint angle", fontsize=9)
    axes[1].tick_params(axis="x", rotation=60, labelsize=7)
    for ax in axes:
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_timing(result: dict, path: Path):
    plt = _plt()
    off = np.asarray(result["timing_offset_s"]["per_frame"])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].plot(np.arange(len(off)) / FPS, off, color="#c44e52")
    axes[0].axhline(0, color="k", lw=0.6)
    axes[0].set_xlabel("performance time (s)")
    axes[0].set_ylabel("offset (s; + = behind)")
    axes[0].set_title("Timing against the reference", fontsize=9)
    path_arr = np.asarray(result["alignment"]["path"])
    axes[1].plot(path_arr[:, 1] / FPS, path_arr[:, 0] / FPS, color="#4c72b0")
    axes[1].set_xlabel("reference time (s)")
    axes[1].set_ylabel("performance time (s)")
    axes[1].set_title("Alignment path (DTW)", fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def front_view(result: dict, step: int = 1):
    """Side-by-side drawing coordinates: both takes in their normalised frame (torso lengths),
    seen from the front (x, y), the reference at the matched frame."""
    p = normalized_pose(np.asarray(result["poses"]["performance"]))
    r = normalized_pose(np.asarray(result["poses"]["reference"]))
    idx = np.rint(np.asarray(result["alignment"]["matched_reference_frame"])).astype(int)
    frames = np.arange(0, len(p), step)
    return p[frames][..., :2], r[idx[frames]][..., :2], frames


def figure_gif(result: dict, path: Path, step: int = 3):
    plt = _plt()
    from matplotlib.animation import FuncAnimation, PillowWriter

    p, r, frames = front_view(result, step)
    flags = set(flagged_frames(result))
    fig, axes = plt.subplots(1, 2, figsize=(5, 2.8))

    def draw(k):
        for ax, pose, name in ((axes[0], p[k], "performance"), (axes[1], r[k], "reference")):
            ax.cla()
            ax.set_xlim(-2.2, 2.2)
            ax.set_ylim(-3.2, 2.6)
            ax.set_aspect("equal")
            ax.axis("off")
            for a, b in LSP14.edges:
                ax.plot([pose[a, 0], pose[b, 0]], [pose[a, 1], pose[b, 1]], color="k", lw=2)
            ax.set_title(name, fontsize=9)
        f = int(frames[k])
        hot = any(abs(f - g) <= step for g in flags)
        fig.suptitle(
            f"frame {f} ({f / FPS:.1f} s)" + ("  — RISK FLAG" if hot else ""), color="red" if hot else "k", fontsize=9
        )

    anim = FuncAnimation(fig, draw, frames=len(frames), interval=80)
    anim.save(path, writer=PillowWriter(fps=8), dpi=72)
    plt.close(fig)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #222; max-width: 1000px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 17px; margin-top: 28px; }}
.scores {{ display: flex; gap: 16px; flex-wrap: wrap; }}
.score {{ border: 1px solid #ccc; border-radius: 6px; padding: 10px 14px; min-width: 140px; }}
.score b {{ display: block; font-size: 22px; }}
table {{ border-collapse: collapse; font-size: 13px; }} td, th {{ border: 1px solid #ddd; padding: 3px 8px; }}
#stage {{ border: 1px solid #ccc; }} .flag {{ color: #b00; font-weight: bold; }}
img.plot {{ max-width: 100%; }}
</style></head>
<body data-frames-shown="0" data-plots-loaded="0">
<h1>{title}</h1>
<p>{subtitle}</p>
<div class="scores">
<div class="score">score<b id="score">{score:.0f}/100</b>{score_def}</div>
<div class="score">mean deviation<b>{pos:.2f}</b>torso lengths</div>
<div class="score">mean angle difference<b>{ang:.1f}°</b>over {n_angles} joint angles</div>
<div class="score">timing<b>{off_mean:+.2f} s</b>mean offset (+ = behind)</div>
<div class="score">risk flags<b>{n_flags}</b>{risk_source}</div>
</div>
<h2>Side by side</h2>
<canvas id="stage" width="640" height="380"></canvas>
<p>frame <span id="frame" data-frame="0">0</span> of {n_frames} <span id="flagnote" class="flag"></span>
<button id="play" onclick="toggle()">pause</button></p>
<h2>Deviation over time</h2>
<img class="plot" alt="deviation over time" src="data:image/png;base64,{png_dev}" onload="loaded()">
<h2>Body parts and joint angles</h2>
<img class="plot" alt="per body part" src="data:image/png;base64,{png_parts}" onload="loaded()">
<h2>Timing</h2>
<img class="plot" alt="timing" src="data:image/png;base64,{png_timing}" onload="loaded()">
<h2>Moments of largest deviation</h2>
<table><tr><th>#</th><th>time (s)</th><th>performance frame</th><th>reference frame</th>
<th>deviation (torso lengths)</th><th>worst joint</th></tr>
{moments}
</table>
<h2>Risk flags</h2>
<p>Checked on {risk_source}.</p>
<table><tr><th>rule</th><th>frame</th><th>value</th><th>unit</th></tr>{flags}</table>
<h3>Rules</h3><table><tr><th>rule</th><th>threshold</th><th>source</th></tr>{rules}</table>
<script>
const DATA = {data};
const EDGES = {edges};
const canvas = document.getElementById("stage"), ctx = canvas.getContext("2d");
let k = 0, shown = 0, playing = true;
function loaded() {{ document.body.dataset.plotsLoaded = String(Number(document.body.dataset.plotsLoaded) + 1); }}
function toggle() {{ playing = !playing; document.getElementById("play").textContent = playing ? "pause" : "play"; }}
function drawPose(pose, ox) {{
  ctx.beginPath();
  for (const [a, b] of EDGES) {{
    ctx.moveTo(ox + 150 + 60 * pose[a][0], 190 - 60 * pose[a][1]);
    ctx.lineTo(ox + 150 + 60 * pose[b][0], 190 - 60 * pose[b][1]);
  }}
  ctx.stroke();
}}
function tick() {{
  if (playing) {{
    const f = DATA.frames[k], hot = DATA.flagged.some(g => Math.abs(g - f) <= DATA.step);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 3; ctx.strokeStyle = hot ? "#c00" : "#222";
    drawPose(DATA.performance[k], 0); ctx.strokeStyle = "#555"; drawPose(DATA.reference[k], 320);
    ctx.fillStyle = "#222"; ctx.font = "14px sans-serif";
    ctx.fillText("performance", 110, 20); ctx.fillText("reference", 440, 20);
    const el = document.getElementById("frame"); el.textContent = f; el.dataset.frame = String(f);
    document.getElementById("flagnote").textContent = hot ? "risk flag" : "";
    shown += 1; document.body.dataset.framesShown = String(shown);
    k = (k + 1) % DATA.frames.length;
  }}
  setTimeout(tick, 80);
}}
tick();
</script>
</body></html>
"""


def write_all(result: dict, out: Path, title: str = "dancejax feedback") -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "json": out / "feedback.json",
        "deviation": out / "deviation.png",
        "parts": out / "parts.png",
        "timing": out / "timing.png",
        "gif": out / "side_by_side.gif",
        "html": out / "report.html",
    }
    files["json"].write_text(json.dumps(result, indent=1))
    figure_deviation(result, files["deviation"])
    figure_parts(result, files["parts"])
    figure_timing(result, files["timing"])
    figure_gif(result, files["gif"])
    step = 2
    p, r, frames = front_view(result, step)
    data = {
        "performance": np.round(p, 3).tolist(),
        "reference": np.round(r, 3).tolist(),
        "frames": frames.tolist(),
        "flagged": flagged_frames(result),
        "step": step,
    }
    moments = "\n".join(
        f"<tr><td>{i + 1}</td><td>{m['time_s']:.2f}</td><td>{m['frame']}</td><td>{m['reference_frame']}</td>"
        f"<td>{m['deviation_torso']:.3f}</td><td>{html.escape(m['worst_joint'])}</td></tr>"
        for i, m in enumerate(result["moments"])
    )
    flags = (
        "".join(
            f"<tr><td>{html.escape(f['rule'])}</td><td>{f.get('frame', '—')}</td>"
            f"<td>{f['value']:.1f}</td><td>{html.escape(f['unit'])}</td></tr>"
            if "frame" in f
            else f"<tr><td>{html.escape(f['rule'])}</td><td colspan=3>{html.escape(f['note'])}</td></tr>"
            for f in result["risk"]["flags"]
        )
        or "<tr><td colspan=4>none</td></tr>"
    )
    rules = "".join(
        f"<tr><td>{html.escape(r['name'])}</td><td>{r['threshold']} {html.escape(r['unit'])}</td>"
        f"<td>{html.escape(r['source'])}</td></tr>"
        for r in result["risk"]["rules"]
    )
    fr = result["frames"]
    page = PAGE.format(
        title=html.escape(title),
        subtitle=html.escape(
            f"performance {fr['performance']} frames, reference {fr['reference']} frames at "
            f"{fr['fps']:.0f} fps, {result['dims']}D; aligned by {result['alignment']['method']}"
        ),
        score=result["score"]["value"],
        score_def=html.escape(result["score"]["definition"]),
        pos=result["deviation"]["mean_position"],
        ang=result["deviation"]["mean_angle"],
        n_angles=len(result["deviation"]["angle_per_joint_mean"]),
        off_mean=result["timing_offset_s"]["mean"],
        n_flags=sum(1 for f in result["risk"]["flags"] if "frame" in f),
        risk_source=html.escape(result["risk"]["checked_on"]),
        n_frames=fr["performance"],
        png_dev=_b64(files["deviation"]),
        png_parts=_b64(files["parts"]),
        png_timing=_b64(files["timing"]),
        moments=moments,
        flags=flags,
        rules=rules,
        data=json.dumps(data),
        edges=json.dumps(list(LSP14.edges)),
    )
    files["html"].write_text(page)
    return files
