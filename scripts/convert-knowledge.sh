#!/usr/bin/env bash
# Makes OUT_DIR: a copy of Knowledge/ with a share converted to PDF, DOCX, XLSX, PPTX and e-mail
# (see scripts/convert-knowledge.py), to run the answers benchmark on both and compare.
# Then checks that the copy ingests: `strata ingest` on it must exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: scripts/convert-knowledge.sh OUT_DIR}
VENV=.venv-fixtures
bash scripts/make-format-fixtures.sh >/dev/null      # makes the virtualenv with the generators
"$VENV/bin/python" scripts/convert-knowledge.py Knowledge "$OUT"
STRATA=${STRATA:-.build/release/strata}
if [ -x "$STRATA" ]; then
  db=$(mktemp -d)/converted.db
  "$STRATA" --db "$db" ingest "$OUT/about.md" "$OUT/faq" "$OUT/policies" "$OUT/research" "$OUT/documents"
  for f in "$OUT"/business/*.csv "$OUT"/business/*.xlsx; do "$STRATA" --db "$db" data import "$f" >/dev/null; done
  echo "convert-knowledge: $OUT ingests cleanly (database $db)"
fi
