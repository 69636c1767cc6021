#!/usr/bin/env bash
# Regenerates the document-format fixtures (Tests/KnowledgeTests/Fixtures/formats) and the demo
# documents (Knowledge/documents) from
# scripts/make-format-fixtures.py: PDFs (reportlab), DOCX/XLSX/PPTX (python-docx, openpyxl,
# python-pptx), a scanned page (Pillow + the WenQuanYi Zen Hei font), e-mails, text encodings.
# The generators live in a git-ignored virtualenv, .venv-fixtures/. Only needed to change the
# fixtures: the committed files are what the tests read.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-Tests/KnowledgeTests/Fixtures/formats}
DEMO=${2:-Knowledge/documents}      # the demo's PDF and DOCX (make demo)
VENV=.venv-fixtures
fail() { echo "make-format-fixtures: $*" >&2; exit 1; }

if [ ! -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq fonts-wqy-zenhei >/dev/null || fail "install the CJK font: sudo apt-get install fonts-wqy-zenhei"
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || fail "python3 -m venv failed: install python3-venv"
fi
"$VENV/bin/python" -c "import docx, openpyxl, pptx, reportlab, PIL" 2>/dev/null \
  || "$VENV/bin/pip" install -q python-docx openpyxl python-pptx reportlab Pillow \
  || fail "pip install of the generators failed: check the network to the package index"
"$VENV/bin/python" scripts/make-format-fixtures.py "$OUT" "$DEMO"
