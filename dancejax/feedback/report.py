"""The feedback report: PNG figures, an animated GIF, the JSON of every number, and one
self-contained HTML page (no network: the figures are embedded, the animation is drawn by inline
JavaScript from embedded pose data).

The page reads top to bottom as a dancer would: the score and what it means, the moments to work
on (one sentence each, with the time in both takes), the risk flags, the animation (front and
side views, performance over reference, with the floor), the figures, any extra sections a
caller adds (``extra_sections``: (heading, HTML) pairs), and last, how it was measured.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from dancejax.feedback.features import FPS, body_height, heading_rotation
from dancejax.feedback.rules import floor_height
from dancejax.skeleton import LSP14, mid_hip

COLORS = {
    "right arm": "#dd8452",
    "left arm": "#c44e52",
    "right leg": "#55a868",
    "left leg": "#8172b2",
    "trunk and head": "#4c72b0",
}
ANIMATION_STEP = 2  # frames of the performance per animation frame


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def flag_times(result: dict) -> list[float]:
    return sorted({f["frame"] / FPS for f in result["risk"]["flags"] if "frame" in f})


def figure_deviation(result: dict, path: Path):
    plt = _plt()
    t = np.arange(result["frames"]["performance"]) / FPS
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for part, v in result["deviation"]["per_part_over_time"].items():
        ax.plot(t, v, label=part, color=COLORS.get(part), lw=1.3)
    top = max(60.0, ax.get_ylim()[1])
    for i, m in enumerate(result["moments"], 1):
        ax.axvspan(m["start_s"], m["end_s"], color="k", alpha=0.07, lw=0)
        ax.annotate(f"#{i}", (m["time_s"], top * 0.93), fontsize=9, ha="center")
    for s in flag_times(result):
        ax.axvline(s, color="red", lw=1.2, alpha=0.6)
    ax.axhline(15, color="k", ls=":", lw=0.8)
    ax.set_ylim(0, top)
    ax.set_xlabel("performance time (s)")
    ax.set_ylabel("off the reference (degrees)")
    ax.set_title("How far each body part was from the reference (shaded: ranked moments; red: risk flags)", fontsize=10)
    ax.legend(fontsize=8, ncol=5, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_phrases(result: dict, path: Path):
    plt = _plt()
    ph = result["score"]["phrases"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    labels = [f"{p['reference_start_s']:.0f}–{p['reference_end_s']:.0f}" for p in ph]
    axes[0].bar(labels, [p["score"] for p in ph], color="#4c72b0")
    axes[0].set_ylim(0, 100)
    axes[0].set_xlabel("phrase (seconds of the reference)")
    axes[0].set_ylabel("score")
    axes[0].set_title("Score per phrase", fontsize=10)
    axes[0].tick_params(axis="x", rotation=45, labelsize=7)
    parts = result["deviation"]["per_part_mean_deg"]
    axes[1].bar(list(parts), list(parts.values()), color=[COLORS.get(p) for p in parts])
    axes[1].set_ylabel("average (degrees)")
    axes[1].set_title("How far each body part was off, on average", fontsize=10)
    axes[1].tick_params(axis="x", rotation=20, labelsize=8)
    for ax in axes:
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_timing(result: dict, path: Path):
    plt = _plt()
    off = np.asarray(result["timing_offset_s"]["per_frame"])
    fig, ax = plt.subplots(figsize=(10, 3.0))
    ax.plot(np.arange(len(off)) / FPS, off, color="#c44e52")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("performance time (s)")
    ax.set_ylabel("seconds behind (+) or ahead (−)")
    ax.set_title("Timing against the reference", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def views(x: np.ndarray) -> dict[str, np.ndarray]:
    """Drawing coordinates in body heights, the floor at 0 and up positive: 3D takes seen from
    the dancer's own front (x: their right) and from their left side (x: forward); a 2D take as
    the camera saw it."""
    x = np.asarray(x, np.float64)
    h = body_height(x)
    if x.shape[-1] == 2:
        up = -(x[..., 1] - np.percentile(x[..., 1].max(1), 95))
        return {"camera view": np.stack([(x[..., 0] - mid_hip(x)[:, None, 0]), up], -1) / h}
    rel = x - mid_hip(x)[:, None] * np.array([1.0, 0.0, 1.0])
    rel[..., 1] -= floor_height(x)
    body = np.einsum("tij,tkj->tki", heading_rotation(x), rel) / h
    flip = np.array([-1.0, 1.0])  # the dancer's right on the viewer's left, as when facing them
    return {"front view": body[..., [0, 1]] * flip, "side view": body[..., [2, 1]] * flip}


def animation_data(result: dict, step: int = ANIMATION_STEP) -> dict:
    p = views(np.asarray(result["poses"]["performance"]))
    r = views(np.asarray(result["poses"]["reference"]))
    idx = np.clip(np.rint(result["alignment"]["matched_reference_frame"]), 0, result["frames"]["reference"] - 1)
    frames = np.arange(0, result["frames"]["performance"], step)
    idx = idx.astype(int)[frames]
    return {
        "views": list(p),
        "performance": {k: np.round(v[frames], 3).tolist() for k, v in p.items()},
        "reference": {k: np.round(v[idx], 3).tolist() for k, v in r.items()},
        "frames": frames.tolist(),
        "reference_frames": idx.tolist(),
        "flagged": [f["frame"] for f in result["risk"]["flags"] if "frame" in f],
        "moments": [[m["start_s"], m["end_s"], i + 1] for i, m in enumerate(result["moments"])],
        "fps": FPS,
        "step": step,
    }


def figure_gif(result: dict, path: Path, step: int = 4):
    plt = _plt()
    from matplotlib.animation import FuncAnimation, PillowWriter

    data = animation_data(result, step)
    names = data["views"]
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.8), squeeze=False)

    def draw(k):
        for ax, name in zip(axes[0], names):
            ax.cla()
            ax.set_xlim(-0.7, 0.7)
            ax.set_ylim(-0.05, 1.25)
            ax.set_aspect("equal")
            ax.axis("off")
            ax.axhline(0, color="#999", lw=1.5)
            both = ((data["reference"][name][k], "#e08a3c", "--"), (data["performance"][name][k], "k", "-"))
            for pose, color, style in both:
                for a, b in LSP14.edges:
                    ax.plot([pose[a][0], pose[b][0]], [pose[a][1], pose[b][1]], color=color, ls=style, lw=2)
            ax.set_title(name, fontsize=9)
        f = data["frames"][k]
        fig.suptitle(f"performance {f / FPS:.1f} s — reference {data['reference_frames'][k] / FPS:.1f} s", fontsize=9)

    anim = FuncAnimation(fig, draw, frames=len(data["frames"]), interval=160)
    anim.save(path, writer=PillowWriter(fps=6), dpi=60)
    plt.close(fig)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _esc(x) -> str:
    return html.escape(str(x))


def _rows(cells: list[list], empty: str, cols: int) -> str:
    if not cells:
        return f"<tr><td colspan={cols}>{_esc(empty)}</td></tr>"
    return "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)


def moments_html(result: dict) -> str:
    unit = result["units"]["distance"]
    cells = [
        [
            f"<b>{i}</b>",
            f"{m['time_s']:.1f} s",
            f"{m['reference_time_s']:.1f} s",
            _esc(m["part"]),
            _esc(m["sentence"]),
            f"{m['direction_deg']:.0f}°",
            f"{m['displacement']['value']:.0f} {_esc('cm' if unit == 'cm' else '% of height')}",
            f"{m['duration_s']:.1f} s",
        ]
        for i, m in enumerate(result["moments"], 1)
    ]
    head = "<tr><th>#</th><th>at</th><th>reference at</th><th>body part</th><th>what to work on</th>"
    head += "<th>bone off by</th><th>end joint off by</th><th>for</th></tr>"
    return f"<table>{head}{_rows(cells, 'no body part was more than 15° off the reference', 8)}</table>"


def flags_html(result: dict) -> str:
    notes = [f for f in result["risk"]["flags"] if "note" in f]
    if notes:
        return "<ul>" + "".join(f"<li>{_esc(f['rule'])}: {_esc(f['note'])}</li>" for f in notes) + "</ul>"
    cells = [
        [
            f"{f['time_s']:.1f} s",
            f"{f['reference_time_s']:.1f} s",
            _esc(f["rule"].replace("_", " ")),
            _esc(f.get("side") or "—"),
            _esc(f["sentence"]),
        ]
        for f in result["risk"]["flags"]
    ]
    head = "<tr><th>at</th><th>reference at</th><th>rule</th><th>side</th><th>what happened</th></tr>"
    return f"<table>{head}{_rows(cells, 'none', 5)}</table>"


def phrases_html(result: dict) -> str:
    cells = [
        [
            f"{p['reference_start_s']:.1f}–{p['reference_end_s']:.1f} s",
            f"{p['start_s']:.1f}–{p['end_s']:.1f} s",
            f"<b>{p['score']:.0f}</b>",
            f"{_esc(p['worst_part'])} ({p['worst_part_deg']:.0f}° on average)",
        ]
        for p in result["score"]["phrases"]
    ]
    head = "<tr><th>reference</th><th>performance</th><th>score</th><th>most off</th></tr>"
    return f"<table>{head}{_rows(cells, 'none', 4)}</table>"


def _rule_row(r: dict) -> str:
    lit = "" if r["literature"] is None else f"{r['literature']:g} {r['unit']}"
    cells = (r["title"], f"{r['threshold']:g} {r['unit']}", lit, r["source"], r["calibration"])
    return "<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in cells) + "</tr>"


def method_html(result: dict) -> str:
    a = result["alignment"]
    auto = "a Sakoe–Chiba band of 0.25 × the longer take plus their difference in length"
    band = {None: "no band", "auto": auto}.get(a["band"], f"a Sakoe–Chiba band of {a['band']} × the longer take")
    rules = "".join(_rule_row(r) for r in result["risk"]["rules"])
    u = result["units"]
    mirrored = " The reference was mirrored (left and right swapped)." if result.get("mirror") else ""
    return f"""<ul>
<li><b>Input.</b> Both takes as LSP-14 joints at 25 fps ({result["dims"]}D); joints a detector missed or placed
implausibly far from their neighbour are filled in from the neighbouring frames; a running median of 5 frames removes
detector swaps and glitches.{mirrored}</li>
<li><b>Alignment.</b> Dynamic time warping ({_esc(a["method"])}, {band}) on each frame's joints relative to the
mid-hip, divided by the body height (head top to ankles along the body: {u["body_height"]} {_esc(u["body_height_unit"])}
for the performance) and, in 3D, turned to face the same way; the local distance is the mean over joints of each
joint's distance. Timing: the offset of each performance frame from its matched reference frame.</li>
<li><b>Deviations.</b> The angle between each bone of the performance and of the reference (upper arms, forearms,
thighs, shins, trunk, head, shoulder line); a body part's deviation is its largest bone angle, with a running median
of 0.3 s; bones whose joints were filled in are not judged. Named angles (arm and leg raise from the trunk's
downward direction, elbow and knee bend, trunk lean, head tilt) describe each moment; distances are in
{_esc(u["distance"])}.</li>
<li><b>Score.</b> {_esc(result["score"]["definition"])}.</li>
<li><b>Moments.</b> Stretches where a part is more than 15° off, ranked by how far beyond its usual deviation and
for how long; described as early or late when the part matches the reference shifted in time.</li>
<li><b>Risk flags</b>, checked on {_esc(result["risk"]["checked_on"])}:</li>
</ul>
<table><tr><th>rule</th><th>threshold</th><th>literature</th><th>source</th><th>calibration</th></tr>{rules}</table>"""


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 24px auto; color: #222; max-width: 1040px; font-size: 15px; }}
h1 {{ font-size: 24px; }} h2 {{ font-size: 19px; margin-top: 30px; }}
.scores {{ display: flex; gap: 14px; flex-wrap: wrap; }}
.score {{ border: 1px solid #ccc; border-radius: 6px; padding: 10px 14px; max-width: 300px; }}
.score b {{ display: block; font-size: 26px; }}
table {{ border-collapse: collapse; font-size: 14px; }} td, th {{ border: 1px solid #ddd; padding: 4px 8px; }}
#stage {{ border: 1px solid #ccc; max-width: 100%; }} .flag {{ color: #b00; font-weight: bold; }}
img.plot {{ max-width: 100%; }} .method {{ font-size: 13px; color: #444; }}
</style></head>
<body data-frames-shown="0" data-plots-loaded="0">
<h1>{title}</h1>
<p>{subtitle}</p>
<div class="scores">
<div class="score">score<b id="score">{score:.0f}/100</b>{score_def}</div>
<div class="score">timing<b>{off_mean:+.2f} s</b>on average ({off_words}); from {ahead:+.2f} to {behind:+.2f} s</div>
<div class="score">risk flags<b>{n_flags}</b>checked on {risk_source}</div>
</div>
<h2>What to work on</h2>
{moments}
<h2>Risk flags</h2>
{flags}
<h2>Side by side</h2>
<p>Performance in black, the reference in orange (dashed) at the matching moment; the grey line is the floor.</p>
<canvas id="stage" width="{width}" height="560"></canvas>
<p>performance <span id="time" data-frame="0">0.0 s</span>, reference <span id="reftime">0.0 s</span>
<span id="flagnote" class="flag"></span> <button id="play" onclick="toggle()">pause</button></p>
<h2>Score per phrase</h2>
{phrases}
<h2>Over time</h2>
<img class="plot" alt="deviation over time" src="data:image/png;base64,{png_dev}" onload="loaded()">
<img class="plot" alt="score per phrase and body part" src="data:image/png;base64,{png_phrases}" onload="loaded()">
<img class="plot" alt="timing" src="data:image/png;base64,{png_timing}" onload="loaded()">
{extra}
<h2>How this was measured</h2>
<div class="method">{method}</div>
<script>
const DATA = {data};
const EDGES = {edges};
const canvas = document.getElementById("stage"), ctx = canvas.getContext("2d");
const PANEL = canvas.width / DATA.views.length, S = 400, FLOOR = 500;
let k = 0, shown = 0, playing = true;
function loaded() {{ document.body.dataset.plotsLoaded = String(Number(document.body.dataset.plotsLoaded) + 1); }}
function toggle() {{ playing = !playing; document.getElementById("play").textContent = playing ? "pause" : "play"; }}
function drawPose(pose, ox, color, dash) {{
  ctx.strokeStyle = color; ctx.setLineDash(dash); ctx.lineWidth = 4; ctx.beginPath();
  for (const [a, b] of EDGES) {{
    ctx.moveTo(ox + PANEL / 2 + S * pose[a][0], FLOOR - S * pose[a][1]);
    ctx.lineTo(ox + PANEL / 2 + S * pose[b][0], FLOOR - S * pose[b][1]);
  }}
  ctx.stroke(); ctx.setLineDash([]);
}}
function tick() {{
  if (playing) {{
    const f = DATA.frames[k], t = f / DATA.fps;
    const hot = DATA.flagged.some(g => Math.abs(g - f) <= DATA.step);
    const moment = DATA.moments.find(m => t >= m[0] && t <= m[1]);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    DATA.views.forEach((v, i) => {{
      const ox = i * PANEL;
      ctx.strokeStyle = "#999"; ctx.lineWidth = 2; ctx.beginPath();
      ctx.moveTo(ox + 20, FLOOR); ctx.lineTo(ox + PANEL - 20, FLOOR); ctx.stroke();
      drawPose(DATA.reference[v][k], ox, "#e08a3c", [8, 6]);
      drawPose(DATA.performance[v][k], ox, hot ? "#c00" : "#111", []);
      ctx.fillStyle = "#222"; ctx.font = "18px sans-serif"; ctx.fillText(v, ox + 20, 30);
    }});
    if (moment) {{
      ctx.fillStyle = "#b00"; ctx.font = "18px sans-serif"; ctx.fillText("moment #" + moment[2], 20, 58);
    }}
    const el = document.getElementById("time"); el.textContent = t.toFixed(1) + " s"; el.dataset.frame = String(f);
    document.getElementById("reftime").textContent = (DATA.reference_frames[k] / DATA.fps).toFixed(1) + " s";
    document.getElementById("flagnote").textContent = hot ? "risk flag" : "";
    shown += 1; document.body.dataset.framesShown = String(shown);
    k = (k + 1) % DATA.frames.length;
  }}
  setTimeout(tick, 1000 * DATA.step / DATA.fps);
}}
tick();
</script>
</body></html>
"""


def write_all(result: dict, out: Path, title: str = "dancejax feedback", extra_sections=()) -> dict[str, Path]:
    """Every file of the report; ``extra_sections`` are (heading, HTML) pairs placed before
    "How this was measured"."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "json": out / "feedback.json",
        "deviation": out / "deviation.png",
        "phrases": out / "phrases.png",
        "timing": out / "timing.png",
        "gif": out / "side_by_side.gif",
        "html": out / "report.html",
    }
    files["json"].write_text(json.dumps(result, indent=1))
    figure_deviation(result, files["deviation"])
    figure_phrases(result, files["phrases"])
    figure_timing(result, files["timing"])
    figure_gif(result, files["gif"])
    data = animation_data(result)
    fr = result["frames"]
    off = result["timing_offset_s"]
    extra = "\n".join(f"<h2>{html.escape(h)}</h2>\n{body}" for h, body in extra_sections)
    page = PAGE.format(
        title=html.escape(title),
        subtitle=html.escape(
            f"performance {fr['performance'] / FPS:.1f} s, reference {fr['reference'] / FPS:.1f} s, {result['dims']}D"
            + ("; compared with the mirror image of the reference" if result.get("mirror") else "")
        ),
        score=result["score"]["value"],
        score_def=html.escape(result["score"]["definition"]),
        off_mean=off["mean"],
        off_words="behind the reference" if off["mean"] > 0 else "ahead of the reference",
        ahead=off["max_ahead"],
        behind=off["max_behind"],
        n_flags=sum(1 for f in result["risk"]["flags"] if "frame" in f),
        risk_source=html.escape(result["risk"]["checked_on"]),
        moments=moments_html(result),
        flags=flags_html(result),
        phrases=phrases_html(result),
        width=480 * len(data["views"]),
        png_dev=_b64(files["deviation"]),
        png_phrases=_b64(files["phrases"]),
        png_timing=_b64(files["timing"]),
        extra=extra,
        method=method_html(result),
        data=json.dumps(data),
        edges=json.dumps(list(LSP14.edges)),
    )
    files["html"].write_text(page)
    return files
