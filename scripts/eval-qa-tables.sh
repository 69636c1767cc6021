#!/usr/bin/env bash
# The grounded Q&A tables: `strata eval qa` on a fixed seeded sample of SQuAD 2.0 and of CMRC 2018
# (half its passages held out, so their questions must be refused), for each model, with the
# refusal layers on and off (--no-refusal).
#
#   scripts/eval-qa-tables.sh [--print] [RUN...]     RUN: smollm2-squad2 smollm2-cmrc qwen-squad2 qwen-cmrc
#
# Each run keeps one line per question in evals/RUN-{on,off}.jsonl and resumes from it, because
# the Qwen runs are hours of CPU on 2 cores. One process asks each question with the refusal layers
# on, then off (--also-off): the off prompt is the on prompt without the refusal rule's sentence
# after the question, so the engine reuses everything before it and the pair costs about one run.
# An interrupted pair has answered the same questions. --print only prints the figures recorded so
# far, the on run's with on minus off and its 95% interval. LIMIT, SEED and THREADS override
# 300, 1 and 1 (two runs side by side on two cores is the most questions per hour). A file keeps
# the prompt arithmetic it was begun with (its header names it) on any thread count.
#
# A table must come from one build: the engine's numerics change as it gets faster, and a table
# resumed by another build would mix two. STRATA names the binary that asks; the tables in
# progress are pinned to a copy of the build they were begun with (evals/bin/strata-COMMIT, made
# with `cp .build/release/strata evals/bin/strata-$(git rev-parse --short HEAD)` on a clean tree;
# if the toolchain changes, rebuild that commit in a `git worktree`). The records' headers name
# the pipeline revision and prompt arithmetic, so a build that differs there is refused.
set -euo pipefail
cd "$(dirname "$0")/.."
STRATA=${STRATA:-.build/release/strata}
OUT=${EVAL_DIR:-evals}
LIMIT=${LIMIT:-300}
SEED=${SEED:-1}
SMOL=models/SmolLM2-135M-Instruct.Q4_1.gguf
QWEN=models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
SQUAD=../shared/datasets/squad2-dev/beir
CMRC=../shared/datasets/cmrc2018-dev/beir

print_only=0
if [ "${1:-}" = "--print" ]; then print_only=1; shift; fi
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(smollm2-squad2 qwen-squad2 smollm2-cmrc qwen-cmrc)
[ -x "$STRATA" ] || { echo "build first: swift build -c release --product strata" >&2; exit 1; }
mkdir -p "$OUT"

for run in "${runs[@]}"; do
    case "$run" in
        smollm2-squad2|smollm2-cmrc|qwen-squad2|qwen-cmrc) ;;
        *) echo "unknown run '$run' — use smollm2-squad2, smollm2-cmrc, qwen-squad2 or qwen-cmrc" >&2; exit 2 ;;
    esac
    case "$run" in smollm2-*) model=$SMOL ;; *) model=$QWEN ;; esac
    case "$run" in *-squad2) beir=$SQUAD holdout=0 ;; *) beir=$CMRC holdout=0.5 ;; esac
    [ -f "$model" ] || { echo "$run: $model is missing (make models-qwen fetches Qwen) — skipped" >&2; continue; }
    [ -d "$beir" ] || { echo "$run: $beir is missing (../shared/datasets beside the project) — skipped" >&2; continue; }
    common=(eval qa --beir "$beir" --limit "$LIMIT" --seed "$SEED" --holdout "$holdout" --model "$model")
    if [ $print_only = 0 ]; then
        echo "== $run: asking (log in $OUT/$run.log)"
        "$STRATA" "${common[@]}" --threads "${THREADS:-1}" --records "$OUT/$run-on.jsonl" --also-off "$OUT/$run-off.jsonl" \
            > "$OUT/$run.log" 2>&1 || { echo "$run failed: see $OUT/$run.log" >&2; exit 1; }
    fi
    # The on run's figures end with on minus off on the questions both answered (paired bootstrap).
    for layers in off on; do
        flag=(); [ $layers = off ] && flag=(--no-refusal)
        [ $layers = on ] && [ -s "$OUT/$run-off.jsonl" ] && flag=(--paired "$OUT/$run-off.jsonl")
        echo "== $run, refusal layers $layers"
        [ -s "$OUT/$run-$layers.jsonl" ] || { echo "   (nothing recorded yet)"; continue; }
        "$STRATA" "${common[@]}" --records "$OUT/$run-$layers.jsonl" --from-records "${flag[@]}" 2>&1 | grep -v "^eval qa: [0-9]*/"
    done
done
