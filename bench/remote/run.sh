#!/usr/bin/env bash
# Questions per minute of `strata eval kb`, in-process vs through llama-cpp-python's server, with
# 1, 2 and 4 questions in flight. A program, not a test: it prints the figures and the ratio.
#
#   bash bench/remote/run.sh [QUESTIONS]        (default 12 questions of bench/kbqa/dev.jsonl)
#
# Both sides answer with the same SmolLM2-135M Q4_1 file on the same machine, so the ratio is the
# cost (or gain) of the HTTP hop and of the server's scheduling, not of a bigger machine.
# Needs: a release build (swift build -c release) and the venv (scripts/llama-server-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-12}
STRATA=${STRATA:-.build/release/strata}
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
VENV=${STRATA_LLAMA_VENV:-.venv-llama}
[ -x "$STRATA" ] || { echo "bench-remote: build first: swift build -c release" >&2; exit 1; }
[ -f "$VENV/.ready" ] || { echo "bench-remote: no server venv: bash scripts/llama-server-venv.sh" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
db=$work/bench.db
unset STRATA_MODEL STRATA_LLM_URL STRATA_LLM_MODEL STRATA_EMBEDDER_URL
# Keyword retrieval only (no vectors): encoding the corpus takes minutes here and is the same on
# both sides; what differs is generation.
"$STRATA" --db "$db" ingest Knowledge/about.md Knowledge/faq Knowledge/policies Knowledge/research Knowledge/documents >/dev/null
"$STRATA" --db "$db" ingest --groups staff Knowledge/internal >/dev/null
for f in Knowledge/business/*.csv; do "$STRATA" --db "$db" data import "$f" >/dev/null; done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias smollm2 --host 127.0.0.1 --port "$port" \
  --n_ctx 4096 --n_threads 2 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 240); do python3 - "$port" <<'PY' 2>/dev/null && break || sleep 0.5
import sys, urllib.request; urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v1/models", timeout=1)
PY
done

qpm() {  # prints the questions per minute of one eval kb run
  "$STRATA" --db "$db" eval kb --questions bench/kbqa/dev.jsonl --limit "$N" "$@" 2>/dev/null \
    | sed -n 's/^throughput: \([0-9.]*\) questions per minute.*/\1/p'
}
printf '%-10s %14s %14s %8s\n' parallel in-process server ratio
for p in 1 2 4; do
  local_qpm=$(STRATA_MODEL=$MODEL qpm --parallel "$p")
  remote_qpm=$(STRATA_LLM_URL="http://127.0.0.1:$port/v1" STRATA_LLM_MODEL=smollm2 qpm --parallel "$p")
  printf '%-10s %14s %14s %8s\n' "$p" "$local_qpm" "$remote_qpm" "$(python3 -c "print(f'{$remote_qpm/$local_qpm:.2f}')")"
done
echo "($N questions of bench/kbqa/dev.jsonl, restricted ones asked twice; questions per minute; $(nproc) cores)"
