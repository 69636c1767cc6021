#!/usr/bin/env bash
# Reproduces adapters/finance-en.gguf and adapters/finance-en.json: the README's recipe (section
# "Training an adapter") on the Reuters finance newswire in ../shared/datasets/finance-corpus,
# then perplexity with and without the adapter on the finance dev set and on general English text
# (the GPL-3 text llama.cpp's reference figures use).
#
#   bash scripts/train-finance-adapter.sh                  # train, convert, then measure
#   MEASURE_ONLY=1 bash scripts/train-finance-adapter.sh   # only the perplexity table, for the adapters in place
#
# Training writes the trained floats as F32 into $F32DIR (outside the repository: 7.8 MB, over
# the 5 MiB limit for tracked files); `adapt convert` then rounds them to the F16 file shipped in
# ADAPTERS (3.9 MB). Keeping the F32 original is what lets the table show that F16 does not move
# perplexity: converting the F16 file back to F32 would only compare the rounded floats with
# themselves. Training straight to F16 (`adapt train` without --tensor-type) gives the same F16
# file, since both round with the same conversion.
#
# Extra arguments go to 'strata adapt train' (e.g. --resume after Ctrl-C). The F16 result replaces
# the adapter in ADAPTERS; `git status` then shows whether the run reproduced the committed file.
set -euo pipefail
cd "$(dirname "$0")/.."

STRATA=${STRATA:-.build/release/strata}
MODEL=${MODEL:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
DATA=${DATA:-../shared/datasets/finance-corpus}
GENERAL=${GENERAL:-../shared/reference/llama.cpp/gpl3.txt}
ADAPTERS=${ADAPTERS:-adapters}
NAME=${NAME:-finance-en}
F32DIR=${F32DIR:-${TMPDIR:-/tmp}/strata-$NAME-f32}

for f in "$MODEL" "$DATA/en_train.jsonl" "$DATA/en_dev.jsonl" "$GENERAL"; do
    [ -e "$f" ] || { echo "error: $f not found (models: make setup; data: ../shared/datasets, see its README)" >&2; exit 1; }
done
[ -x "$STRATA" ] || swift build -c release

if [ -z "${MEASURE_ONLY:-}" ]; then
    "$STRATA" adapt train --model "$MODEL" --adapters "$F32DIR" --tensor-type f32 \
        --data "$DATA/en_train.jsonl" --name "$NAME" \
        --rank 8 --alpha 16 --targets attn_q,attn_k,attn_v,attn_output,ffn_up,ffn_down \
        --seq 256 --batch 4 --lr 1e-3 --warmup 5 --steps 70 \
        --eval "$DATA/en_dev.jsonl" --eval-every 14 --eval-seqs 8 "$@"
    "$STRATA" adapt convert "$F32DIR/$NAME.gguf" --name "$NAME" --tensor-type f16 --adapters "$ADAPTERS"
fi

# The README's table: the first 16,384 tokens of the dev set (32 windows of 512) and the whole
# GPL-3 text (14 windows), without the adapter, with the F16 file and with its F32 original.
ppl() { "$STRATA" eval perplexity --model "$MODEL" --adapters "$ADAPTERS" --ctx 512 "$@" | tail -n 1; }
rows=("finance dev|--jsonl $DATA/en_dev.jsonl --max-tokens 16384" "general text|--text $GENERAL")
for row in "${rows[@]}"; do
    label=${row%%|*}; read -r -a text <<< "${row#*|}"
    echo "$label, base:         $(ppl "${text[@]}")"
    echo "$label, + $NAME F16: $(ppl "${text[@]}" --adapter "$NAME")"
    if [ -e "$F32DIR/$NAME.gguf" ]; then
        echo "$label, + $NAME F32: $(ppl "${text[@]}" --adapter "$F32DIR/$NAME.gguf")"
    fi
done
