"""Peak memory and time of the readers on large files (issue: a 200 MB text BVH needed 3.4 GB).

    python -m benchmarks.readers --mb 200

Writes a BVH, an AMC and an AIST++-style pickle of about ``--mb`` MB each from the real fixtures
(their motion repeated), then reads each in a fresh process and reports the peak resident memory
(``ru_maxrss``) above that process's baseline after imports, the read time, and the frames read.
Prints a table and writes benchmarks/results/readers.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"

PROBE = """
import resource, sys, time
from pathlib import Path
import numpy as np
from dancejax.io import read_asf_amc, read_bvh, read_keypoints3d
kind, path = sys.argv[1], Path(sys.argv[2])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if kind == "bvh":
    seq = read_bvh(path, scale=0.0254 / 0.45)
elif kind == "amc":
    seq = read_asf_amc(path.with_name("big.asf"), path, 120.0)
else:
    seq = read_keypoints3d(path)
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{(peak - base) / 1024:.1f} {dt:.2f} {seq.num_frames}")
"""


def write_bvh(path: Path, mb: float):
    head, motion = (FIX / "131_01_head.bvh").read_text().split("MOTION")
    lines = motion.strip().split("\n")[2:]
    per = sum(len(x) + 1 for x in lines) / len(lines)
    n = int(mb * 1e6 / per)
    with open(path, "w") as f:
        f.write(head + f"MOTION\nFrames: {n}\nFrame Time: .0083333\n")
        for i in range(n):
            f.write(lines[i % len(lines)] + "\n")
    return n


def write_amc(path: Path, mb: float):
    text = (FIX / "05_02_head.amc").read_text().splitlines()
    header = [x for x in text if x.startswith((":", "#"))]
    body = [x for x in text if not x.startswith((":", "#"))]
    frames, cur = [], []
    for x in body:
        if x.strip().isdigit():
            if cur:
                frames.append(cur)
            cur = []
        else:
            cur.append(x)
    frames.append(cur)
    per = sum(len(x) + 1 for x in frames[0]) + 6
    n = int(mb * 1e6 / per)
    with open(path, "w") as f:
        f.write("\n".join(header) + "\n")
        for i in range(n):
            f.write(f"{i + 1}\n" + "\n".join(frames[i % len(frames)]) + "\n")
    (path.with_name("big.asf")).write_text((FIX / "05.asf").read_text())
    return n


def write_pickle(path: Path, mb: float):
    k3 = pickle.loads((FIX / "gBR_sBM_cAll_d04_mBR2_ch08_kp3d_head.pkl").read_bytes())
    a = k3["keypoints3d_optim"]
    n = int(mb * 1e6 / (17 * 3 * a.dtype.itemsize))
    big = np.resize(a, (n, 17, 3))
    path.write_bytes(pickle.dumps({"keypoints3d_optim": big, "keypoints3d": big}, protocol=4))
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=200.0, help="size of each file in MB")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "readers.json"))
    a = ap.parse_args(argv)
    if a.mb <= 0:
        ap.error("--mb must be positive")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        for kind, writer, name in (
            ("bvh", write_bvh, "big.bvh"),
            ("amc", write_amc, "big.amc"),
            ("pickle", write_pickle, "big.pkl"),
        ):
            t0 = time.perf_counter()
            frames = writer(d / name, a.mb)
            size = (d / name).stat().st_size / 1e6
            r = subprocess.run([sys.executable, "-c", PROBE, kind, str(d / name)], capture_output=True, text=True)
            if r.returncode:
                raise SystemExit(f"{kind}: reader failed: {r.stderr[-2000:]}")
            peak, secs, got = r.stdout.split()
            rows.append(
                {
                    "reader": kind,
                    "file_mb": round(size, 1),
                    "frames_in_file": frames,
                    "frames_read": int(got),
                    "peak_rss_above_baseline_mb": float(peak),
                    "read_seconds": float(secs),
                    "write_seconds": round(time.perf_counter() - t0, 1),
                }
            )
            print(
                f"{kind:<8} file {size:7.1f} MB  peak RSS +{float(peak):8.1f} MB  read {float(secs):7.2f} s  "
                f"({int(got)} frames after conversion)",
                flush=True,
            )
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"machine": "see README", "rows": rows}, indent=1))
    print(f"peak RSS: ru_maxrss of a fresh process above its baseline after imports; saved {a.out}")


if __name__ == "__main__":
    main()
