#!/usr/bin/env bash
# The answers benchmark (`strata eval kb`, bench/kbqa/dev.jsonl) on the Markdown knowledge base and
# on its converted copy (scripts/convert-knowledge.sh: policies as PDF and DOCX, the fee schedule
# as XLSX, a research note as PPTX, the credit-card FAQs as e-mail), to show that reading the
# formats costs no more than 3 points on any headline measure (issue #20).
#
#   scripts/eval-converted-kb.sh [MODEL...]     MODEL: extractive (default) or a GGUF path
#
# Both databases are built as `make demo` builds its own, from two folders side by side under
# evals/kbconv/ (git-ignored): md/ (a plain copy of Knowledge/) and cv/ (the converted copy),
# so the source paths the prompt shows differ only in md/cv. In cv/ the fee schedule is an .xlsx,
# imported (its first sheet) with `data import --searchable --embed` like the CSV it replaces.
# Each run keeps its figures (MODEL.KB.json) and one line per question (MODEL.KB.details.jsonl)
# there. Prints, per model, both tables and converted minus Markdown in points, the questions
# whose score changed, and exits 1 when the converted copy is more than 3 points worse on a
# headline measure (covered correct, wrong or refused; uncovered refused).
#
# KEEP_DBS=1 reuses databases already built; LIMIT=N asks only the first N questions; EVAL_DIR
# overrides evals/kbconv;
# STRATA overrides the binary (default .build/release/strata).
set -euo pipefail
cd "$(dirname "$0")/.."
STRATA=${STRATA:-.build/release/strata}
OUT=${EVAL_DIR:-evals/kbconv}
QUESTIONS=bench/kbqa/dev.jsonl
[ -x "$STRATA" ] || { echo "build first: swift build -c release" >&2; exit 1; }
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(extractive)
mkdir -p "$OUT"

# The demo's database (Makefile, target demo) from the knowledge base in $1, written to $2.
build_db() {
    local kb=$1 db=$2 fees
    rm -f "$db" "$db-wal" "$db-shm"
    fees=$kb/business/fee_schedule.csv
    [ -f "$fees" ] || fees=$kb/business/fee_schedule.xlsx
    "$STRATA" --db "$db" ingest --embed "$kb/about.md" "$kb/faq" "$kb/policies" "$kb/research" "$kb/documents"
    "$STRATA" --db "$db" ingest --embed --groups staff "$kb/internal"
    "$STRATA" --db "$db" data import --searchable --embed "$kb/business/products.csv" "$kb/business/branches.csv" \
        "$fees" "$kb/business/card_fees.csv"
    "$STRATA" --db "$db" data import "$kb/business/cases.csv"
}

if [ "${KEEP_DBS:-0}" != 1 ] || [ ! -s "$OUT/md.db" ] || [ ! -s "$OUT/cv.db" ]; then
    rm -rf "$OUT/md" && cp -r Knowledge "$OUT/md"
    STRATA=$STRATA bash scripts/convert-knowledge.sh "$OUT/cv"
    echo "== building $OUT/md.db and $OUT/cv.db (log in $OUT/build.log)"
    { build_db "$OUT/md" "$OUT/md.db" && build_db "$OUT/cv" "$OUT/cv.db"; } > "$OUT/build.log" 2>&1 \
        || { echo "building the databases failed: see $OUT/build.log" >&2; exit 1; }
fi

limit=(); [ -n "${LIMIT:-}" ] && limit=(--limit "$LIMIT")
status=0
for model in "${models[@]}"; do
    label=$(basename "$model" .gguf)
    for kb in md cv; do
        echo "== $label on $kb.db"
        "$STRATA" --db "$OUT/$kb.db" eval kb --questions "$QUESTIONS" --model "$model" "${limit[@]}" --json \
            --details "$OUT/$label.$kb.details.jsonl" > "$OUT/$label.$kb.json"
    done
    python3 - "$OUT/$label" <<'EOF' || status=1
import json, sys
base = sys.argv[1]
fig = {kb: json.load(open(f"{base}.{kb}.json")) for kb in ("md", "cv")}
# (name, path in a group, higher is better)
measures = [("covered correct", ("covered", "correct"), True), ("covered wrong", ("covered", "wrong"), False),
            ("covered refused", ("covered", "refused"), False), ("uncovered refused", ("uncovered", "refused"), True),
            ("staff correct", ("restricted", "staff_correct"), True)]
def groups(j):
    g = {lang: j["by_lang"][lang] for lang in sorted(j["by_lang"])}
    g["all"] = {k: j[k] for k in ("covered", "uncovered", "restricted")}
    return g
gs = {kb: groups(j) for kb, j in fig.items()}
print(f"model {fig['md']['model']}, {fig['md']['questions']} questions; shares in %, diff = converted - Markdown in points")
print("| lang | KB | " + " | ".join(m[0] for m in measures) + " | leaked |")
print("|---|---|" + "---|" * (len(measures) + 1))
worse = []
for lang in gs["md"]:
    for kb, name in (("md", "Markdown"), ("cv", "converted")):
        g = gs[kb][lang]
        print(f"| {lang} | {name} | " + " | ".join(f"{100 * g[a][b]:.1f}" for _, (a, b), _ in measures) + f" | {g['restricted']['leaked']} |")
    cells = []
    for name, (a, b), up in measures:
        d = 100 * (gs["cv"][lang][a][b] - gs["md"][lang][a][b])
        cells.append(f"{d:+.1f}")
        if name != "staff correct" and (d < -3 if up else d > 3): worse.append(f"{lang} {name} {d:+.1f}")
    print(f"| {lang} | diff | " + " | ".join(cells) + f" | {gs['cv'][lang]['restricted']['leaked'] - gs['md'][lang]['restricted']['leaked']:+d} |")
rows = {kb: {l["id"]: l for l in map(json.loads, open(f"{base}.{kb}.details.jsonl"))} for kb in ("md", "cv")}
changed = [(i, rows["md"][i]["score"], rows["cv"][i]["score"]) for i in rows["md"] if i in rows["cv"] and rows["md"][i]["score"] != rows["cv"][i]["score"]]
print(f"score changed on {len(changed)} questions" + (": " + ", ".join(f"{i} {a}->{b}" for i, a, b in changed) if changed else ""))
if worse:
    print("converted is more than 3 points worse on: " + "; ".join(worse)); sys.exit(1)
print("converted is within 3 points of Markdown on every headline measure")
EOF
done
exit $status
