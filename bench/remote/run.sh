#!/usr/bin/env bash
# Questions per minute of `strata eval kb`, in-process vs through llama-cpp-python's server, with
# 1, 2 and 4 questions in flight. A program, not a test: it prints the figures and the ratio.
#
#   bash bench/remote/run.sh [QUESTIONS]        (default 12 questions of bench/kbqa/dev.jsonl)
#
# Both sides answer with the same SmolLM2-135M Q4_1 file on the same machine, so the ratio is the
# cost (or gain) of the HTTP hop and of the server's scheduling, not of a bigger machine. The
# knowledge database is built as `make demo` builds it (vectors included), so retrieval is the
# hybrid retrieval a deployment runs, and the same on both sides.
# Needs: a release build (swift build -c release) and the venv (scripts/llama-server-venv.sh).
# STRATA_BENCH_DB=FILE keeps the built database there and reuses it on the next run.
# STRATA_BENCH_SERVER_THREADS=N gives the server N threads (default 2, the engine's count):
# llama.cpp's threads spin at each barrier, which a host busier than its cores punishes, so on a
# shared machine 1 can be the faster setting; so can OMP_WAIT_POLICY=PASSIVE (the wheel is built
# with OpenMP), which the server inherits.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-12}
STRATA=${STRATA:-.build/release/strata}
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
VENV=${STRATA_LLAMA_VENV:-.venv-llama}
[ -x "$STRATA" ] || { echo "bench-remote: build first: swift build -c release" >&2; exit 1; }
[ -f "$VENV/.ready" ] || { echo "bench-remote: no server venv: bash scripts/llama-server-venv.sh" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "bench-remote: $MODEL is absent: make setup" >&2; exit 1; }

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && { kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; }; rm -rf "$work"' EXIT
unset STRATA_MODEL STRATA_LLM_URL STRATA_LLM_MODEL STRATA_EMBEDDER_URL STRATA_CONFIG
db=${STRATA_BENCH_DB:-$work/bench.db}
if [ ! -f "$db" ]; then
  echo "building the demo database in $db (encoding every chunk: minutes on a busy host)" >&2
  "$STRATA" --db "$db" ingest --embed Knowledge/about.md Knowledge/faq Knowledge/policies Knowledge/research Knowledge/documents >/dev/null
  "$STRATA" --db "$db" ingest --embed --groups staff Knowledge/internal >/dev/null
  "$STRATA" --db "$db" data import --searchable --embed Knowledge/business/products.csv Knowledge/business/branches.csv \
    Knowledge/business/fee_schedule.csv Knowledge/business/card_fees.csv >/dev/null
  "$STRATA" --db "$db" data import Knowledge/business/cases.csv >/dev/null
fi

threads=${STRATA_BENCH_SERVER_THREADS:-2}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias smollm2 --host 127.0.0.1 --port "$port" \
  --n_ctx 4096 --n_threads "$threads" --n_threads_batch "$threads" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 240); do python3 - "$port" <<'PY' 2>/dev/null && break || sleep 0.5
import sys, urllib.request; urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v1/models", timeout=1)
PY
done

qpm() {  # prints the questions per minute of one eval kb run, or "failed" with its error
  local out
  if out=$("$STRATA" --db "$db" eval kb --questions bench/kbqa/dev.jsonl --limit "$N" "$@" 2>"$work/err"); then
    sed -n 's/^throughput: \([0-9.]*\) questions per minute.*/\1/p' <<<"$out"
  else
    echo "eval kb $*: $(tail -3 "$work/err")" >&2
    echo failed
  fi
}
ratio() { python3 -c "import sys; a, b = sys.argv[1:]; print(f'{float(b)/float(a):.2f}' if a.replace('.','',1).isdigit() and b.replace('.','',1).isdigit() else '-')" "$1" "$2"; }

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "host: $cpu, $(nproc) cores; server threads: $threads${OMP_WAIT_POLICY:+ (OMP_WAIT_POLICY=$OMP_WAIT_POLICY)}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %14s %14s %8s\n' parallel in-process server ratio
for p in 1 2 4; do
  local_qpm=$(STRATA_MODEL=$MODEL qpm --parallel "$p")
  remote_qpm=$(STRATA_LLM_URL="http://127.0.0.1:$port/v1" STRATA_LLM_MODEL=smollm2 qpm --parallel "$p")
  printf '%-10s %14s %14s %8s\n' "$p" "$local_qpm" "$remote_qpm" "$(ratio "$local_qpm" "$remote_qpm")"
done
echo "($N questions of bench/kbqa/dev.jsonl, restricted ones asked twice; questions per minute; load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
