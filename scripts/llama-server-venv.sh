#!/usr/bin/env bash
# Builds the venv that holds llama-cpp-python's OpenAI-compatible server, which the remote-backend
# tests (Tests/CLITests/Remote*) start on a loopback port. Idempotent and quiet when present.
#
# The wheel is built from source (PyPI ships no Linux binary wheel): it compiles llama.cpp, a few
# minutes on 2 cores. pip keeps the built wheel in its own cache (~/.cache/pip/wheels), so a second
# venv on the same machine installs in seconds; the version is pinned so that cache stays valid.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${STRATA_LLAMA_VENV:-.venv-llama}
VERSION=0.3.36
fail() { echo "llama-server-venv: $*" >&2; exit 1; }

# .ready is written last: a venv whose build was interrupted is rebuilt, and the tests skip it.
if [ -f "$VENV/.ready" ] && "$VENV/bin/python" -c 'import llama_cpp.server' 2>/dev/null; then
  exit 0
fi
rm -rf "$VENV"

echo "llama-server-venv: building llama-cpp-python $VERSION into $VENV (compiles llama.cpp; minutes the first time)"
python3 -m venv "$VENV" || fail "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"
start=$(date +%s)
# CPU-only build: no CUDA/Metal probing; GGML_NATIVE tunes for this host, which is the one the tests
# run on. cmake and ninja come from PyPI as build requirements, so no apt package is needed.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
"$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
if ! "$VENV/bin/python" -m pip install --quiet "llama-cpp-python[server]==$VERSION" >"$VENV/pip.log" 2>&1; then
  tail -30 "$VENV/pip.log" >&2
  fail "pip install llama-cpp-python[server]==$VERSION failed (log: $VENV/pip.log): it needs a C++ compiler (apt-get install build-essential) and access to PyPI"
fi
"$VENV/bin/python" -c 'import llama_cpp.server' || fail "llama_cpp.server does not import after install: delete $VENV and re-run"
touch "$VENV/.ready"
echo "llama-server-venv: ready in $(( $(date +%s) - start )) s"
