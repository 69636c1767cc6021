#!/usr/bin/env bash
# The grounded Q&A tables: `strata eval qa` on a fixed seeded sample of SQuAD 2.0 and of CMRC 2018
# (half its passages held out, so their questions must be refused), for each model, with the
# refusal layers on and off (--no-refusal).
#
#   scripts/eval-qa-tables.sh [--print] [RUN...]     RUN: smollm2-squad2 smollm2-cmrc qwen-squad2 qwen-cmrc
#
# Each run keeps one line per question in bench/results/qa/RUN-{on,off}.jsonl and resumes from it,
# because the four tables are about 30 hours of CPU on 2 cores: longer than any one working session,
# so the records are committed and the next session goes on from them. A record names its question
# by id only (the datasets stay beside the project). One process asks each question with the
# refusal layers on, then off (--also-off): the off prompt is the on prompt without the refusal
# rule's sentence after the question, so the engine reuses everything before it and the pair costs
# about one run. An interrupted pair has answered the same questions. --print only prints the
# figures recorded so far, the on run's with on minus off and its 95% interval. LIMIT, SEED and
# THREADS override 300, 1 and 1 (two runs side by side on two cores is the most questions per hour).
#
# A table must come from one build: the engine's numerics change as it gets faster, and a table
# resumed by another build would mix two. bench/results/qa/RUN.build names the commit a run was
# begun with (the clean HEAD when its first question is asked); later sessions build that commit
# in a git worktree under evals/ (git-ignored, with the logs) and ask with it. STRATA overrides
# the binary, for a run that is not to be committed. The records' headers also name the pipeline
# revision, pack digest and prompt arithmetic, so a build that differs there is refused.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${EVAL_DIR:-bench/results/qa}
WORK=evals
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
mkdir -p "$OUT" "$WORK/bin"

# The binary a run asks with: STRATA, else its pinned commit's build (made once per machine).
binary_for() {
    local run=$1 pin="$OUT/$1.build" commit
    if [ -n "${STRATA:-}" ]; then echo "$STRATA"; return; fi
    if [ ! -s "$pin" ]; then
        [ $print_only = 1 ] && { echo ".build/release/strata"; return; }
        git diff --quiet HEAD -- Sources Package.swift \
            || { echo "$run: Sources has uncommitted changes — commit them before a table is begun, so its build can be named" >&2; return 1; }
        git rev-parse --short=12 HEAD > "$pin"
    fi
    commit=$(cat "$pin")
    local bin="$WORK/bin/strata-$commit"
    # Printing only reads records; the current build does, if the pinned one was never built here.
    [ $print_only = 1 ] && [ ! -x "$bin" ] && { echo ".build/release/strata"; return; }
    if [ ! -x "$bin" ]; then
        echo "== $run: building its pinned commit $commit (once; log in $WORK/build-$commit.log)" >&2
        local src="$WORK/src-$commit"
        # The checkout itself, when it is that commit: its build directory is likely warm.
        if [ "$(git rev-parse --short=12 HEAD)" = "$commit" ] && git diff --quiet HEAD -- Sources Package.swift; then src=.; fi
        [ -d "$src" ] || git worktree add --detach "$src" "$commit" > "$WORK/build-$commit.log" 2>&1
        (cd "$src" && swift build -c release --product strata) >> "$WORK/build-$commit.log" 2>&1 \
            || { echo "$run: building $commit failed: see $WORK/build-$commit.log" >&2; return 1; }
        cp "$src/.build/release/strata" "$bin"
    fi
    echo "$bin"
}

for run in "${runs[@]}"; do
    case "$run" in
        smollm2-squad2|smollm2-cmrc|qwen-squad2|qwen-cmrc) ;;
        *) echo "unknown run '$run' — use smollm2-squad2, smollm2-cmrc, qwen-squad2 or qwen-cmrc" >&2; exit 2 ;;
    esac
    case "$run" in smollm2-*) model=$SMOL ;; *) model=$QWEN ;; esac
    case "$run" in *-squad2) beir=$SQUAD holdout=0 ;; *) beir=$CMRC holdout=0.5 ;; esac
    [ -f "$model" ] || { echo "$run: $model is missing (make models-qwen fetches Qwen) — skipped" >&2; continue; }
    [ -d "$beir" ] || { echo "$run: $beir is missing (../shared/datasets beside the project) — skipped" >&2; continue; }
    STRATA_BIN=$(binary_for "$run") || exit 1
    [ -x "$STRATA_BIN" ] || { echo "build first: swift build -c release --product strata" >&2; exit 1; }
    common=(eval qa --beir "$beir" --limit "$LIMIT" --seed "$SEED" --holdout "$holdout" --model "$model")
    if [ $print_only = 0 ]; then
        echo "== $run: asking with $STRATA_BIN (log in $WORK/$run.log)"
        "$STRATA_BIN" "${common[@]}" --threads "${THREADS:-1}" --records "$OUT/$run-on.jsonl" --also-off "$OUT/$run-off.jsonl" \
            > "$WORK/$run.log" 2>&1 || { echo "$run failed: see $WORK/$run.log" >&2; exit 1; }
    fi
    # The on run's figures end with on minus off on the questions both answered (paired bootstrap).
    for layers in off on; do
        flag=(); [ $layers = off ] && flag=(--no-refusal)
        [ $layers = on ] && [ -s "$OUT/$run-off.jsonl" ] && flag=(--paired "$OUT/$run-off.jsonl")
        echo "== $run, refusal layers $layers"
        [ -s "$OUT/$run-$layers.jsonl" ] || { echo "   (nothing recorded yet)"; continue; }
        "$STRATA_BIN" "${common[@]}" --records "$OUT/$run-$layers.jsonl" --from-records "${flag[@]}" 2>&1 | grep -v "^eval qa: [0-9]*/"
    done
done
