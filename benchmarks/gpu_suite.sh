#!/usr/bin/env bash
# Everything a lent GPU should measure, in one command, written to one JSON; it runs on a CPU too.
#
#   bash benchmarks/gpu_suite.sh            # full sizes on whatever JAX finds (GPU if there is one)
#   bash benchmarks/gpu_suite.sh --tiny     # smoke test: tiny sizes, a minute or two on a CPU
#   bash benchmarks/gpu_suite.sh --out=DIR  # where the JSONs go (default benchmarks/results/gpu_suite)
#
# It runs: the model benchmarks against PyTorch eager and torch.compile with the roofline table
# (vs_torch.py, fp32, and with TF32 / bf16 matmul passes on a GPU); studies at N = 1, 4, 16 and 64
# against sequential runs with the auto strategy's choice (study_vs_sequential.py); the streaming
# latency (stream_latency.py).  Then it merges every JSON into DIR/suite.json.
set -euo pipefail
TINY=0
OUT=benchmarks/results/gpu_suite
for arg in "$@"; do
  case "$arg" in
    --tiny) TINY=1 ;;
    --out=*) OUT="${arg#--out=}" ;;
    *) echo "gpu_suite.sh: unknown option '$arg' (use --tiny, --out=DIR)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."  # the repository root: the scripts run as modules of the benchmarks package
mkdir -p "$OUT"
DEVICE=$(python -c "import jax; print('gpu' if jax.default_backend() == 'gpu' else 'cpu')")
echo "gpu_suite: JAX on $DEVICE; tiny=$TINY; results in $OUT"
if [ "$TINY" = 1 ]; then
  python -m benchmarks.vs_torch --device "$DEVICE" --tiny --no-compile --repeats 2 --out "$OUT/vs_torch_fp32.json"
  python -m benchmarks.study_vs_sequential --tasks prediction --settings 2 --repeats 1 --preset test --out "$OUT/study.json"
  python -m benchmarks.stream_latency --preset test --dancers 1 --frames 20 --out "$OUT/stream.json"
else
  python -m benchmarks.vs_torch --device "$DEVICE" --repeats 10 --scaling --out "$OUT/vs_torch_fp32.json"
  if [ "$DEVICE" = gpu ]; then
    python -m benchmarks.vs_torch --device gpu --no-compile --precision tf32 --out "$OUT/vs_torch_tf32.json"
    python -m benchmarks.vs_torch --device gpu --no-compile --precision bf16 --out "$OUT/vs_torch_bf16.json"
  fi
  python -m benchmarks.study_vs_sequential --settings 1 4 16 64 --out "$OUT/study.json"
  python -m benchmarks.stream_latency --dancers 1 4 16 64 --out "$OUT/stream.json"
fi
python - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
suite = {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json")) if p.name != "suite.json"}
(out / "suite.json").write_text(json.dumps(suite, indent=1))
print(f"gpu_suite: wrote {out / 'suite.json'} ({', '.join(suite)})")
PY
