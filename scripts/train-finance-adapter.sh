#!/usr/bin/env bash
# Reproduces adapters/finance-en.gguf and adapters/finance-en.json: the README's recipe (section
# "Training an adapter") on the Reuters finance newswire in ../shared/datasets/finance-corpus,
# then perplexity with and without the adapter on the finance dev set and on general English text
# (the GPL-3 text llama.cpp's reference figures use).
#
#   bash scripts/train-finance-adapter.sh            # train (~6 min on a quiet 2-core host), then measure
#   MEASURE_ONLY=1 bash scripts/train-finance-adapter.sh   # only the perplexity table, for the adapter in place
#
# Extra arguments go to 'strata adapt train' (e.g. --tensor-type f32 for the 7.8 MB F32 file;
# the default F16 file is 3.9 MB). The result replaces the adapter in ADAPTERS; `git status`
# then shows whether the run reproduced the committed file bit for bit.
set -euo pipefail
cd "$(dirname "$0")/.."

STRATA=${STRATA:-.build/release/strata}
MODEL=${MODEL:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
DATA=${DATA:-../shared/datasets/finance-corpus}
GENERAL=${GENERAL:-../shared/reference/llama.cpp/gpl3.txt}
ADAPTERS=${ADAPTERS:-adapters}
NAME=${NAME:-finance-en}

for f in "$MODEL" "$DATA/en_train.jsonl" "$DATA/en_dev.jsonl" "$GENERAL"; do
    [ -e "$f" ] || { echo "error: $f not found (models: make setup; data: ../shared/datasets, see its README)" >&2; exit 1; }
done
[ -x "$STRATA" ] || swift build -c release

if [ -z "${MEASURE_ONLY:-}" ]; then
    "$STRATA" adapt train --model "$MODEL" --adapters "$ADAPTERS" \
        --data "$DATA/en_train.jsonl" --name "$NAME" \
        --rank 8 --alpha 16 --targets attn_q,attn_k,attn_v,attn_output,ffn_up,ffn_down \
        --seq 256 --batch 4 --lr 1e-3 --warmup 5 --steps 70 \
        --eval "$DATA/en_dev.jsonl" --eval-every 14 --eval-seqs 8 "$@"
fi

# The README's table: the first 16,384 tokens of the dev set (32 windows of 512) and the whole
# GPL-3 text (14 windows), each with and without the adapter.
ppl() { "$STRATA" eval perplexity --model "$MODEL" --adapters "$ADAPTERS" --ctx 512 "$@" | tail -n 1; }
echo "finance dev, base:        $(ppl --jsonl "$DATA/en_dev.jsonl" --max-tokens 16384)"
echo "finance dev, + $NAME: $(ppl --jsonl "$DATA/en_dev.jsonl" --max-tokens 16384 --adapter "$NAME")"
echo "general text, base:       $(ppl --text "$GENERAL")"
echo "general text, + $NAME: $(ppl --text "$GENERAL" --adapter "$NAME")"
