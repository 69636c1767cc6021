#!/usr/bin/env bash
# Runs the kernel and cross-path parity tests again on the code paths this host did not take in
# the main run, so a bound that holds only on one CPU fails here rather than on the next host.
#
# 1. Where the CPU has AVX-512 (BW), the interleaved integer kernels use it; run the kernel and
#    parity tests again with the AVX-512 kernels off (STRATA_NO_AVX512=1), so the AVX2 path CI
#    hosts without AVX-512 take is exercised too.
# OpenBLAS's kernel choice is the other thing that varies by host; it is left to the machine
# (some hosts here set OPENBLAS_CORETYPE because older OpenBLAS builds misbehave on them, and
# tests must not change it). The parity bounds are measured in each run instead (RoundingFloor);
# README "Tests on any host" says how they were checked against other OpenBLAS kernels by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
PARITY='TrainingParityTests|BatchConsistencyTests|LogitsParityTests|EngineTurnoverTests|PromptPrefixReuseTests|AdapterParityTests|ActivationQuantParityTests|GreedyParityTests'

if grep -qw avx512bw /proc/cpuinfo; then
  echo "== this CPU has AVX-512: kernel and parity tests again with the AVX-512 kernels off"
  STRATA_NO_AVX512=1 $SWIFT test --skip-build --filter "TensorTests|$PARITY"
else
  echo "== this CPU has no AVX-512 (BW): its kernels are skipped here (KernelTests says so)"
fi
