#!/usr/bin/env bash
# Runs the kernel and cross-path parity tests again on the code paths this host did not take in
# the main run, so a bound that holds only on one CPU fails here rather than on the next host.
#
# 1. Where the CPU has AVX-512 (BW), the interleaved integer kernels use it; run the kernel and
#    parity tests again with the AVX-512 kernels off (STRATA_NO_AVX512=1), so the AVX2 path CI
#    hosts without AVX-512 take is exercised too.
# 2. OpenBLAS picks its sgemm kernels by CPU (batch attention and training run through sgemm),
#    and Debian's OpenBLAS 0.3.21 fell back to SSE-class kernels on an AMD Zen 4 host, which moved
#    the SmolLM2 rounding floor from 1.58 to 1.80 logits. Run the cross-path parity tests again
#    with those kernels forced (OPENBLAS_CORETYPE=Prescott runs on any x86-64 CPU).
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
echo "== cross-path parity tests again with OpenBLAS's SSE-class kernels (OPENBLAS_CORETYPE=Prescott)"
OPENBLAS_CORETYPE=Prescott $SWIFT test --skip-build --filter "$PARITY"
