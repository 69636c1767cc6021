#!/usr/bin/env bash
# Runs the kernel and cross-path parity tests again on the kernel paths this host did not take in
# the main run, so a bound that holds only on one path fails here rather than on the next host.
#
# The main run takes the best path the CPU has (CPUFeatures.kernelPath: vnni > avx512 > avx2);
# every other path the CPU has runs the kernel and parity tests again under STRATA_KERNELS=<path>
# (AVX-512 VNNI / AVX-VNNI hosts: avx512 where present, then avx2; AVX-512 hosts: avx2). The paths
# are bit for bit the same arithmetic (KernelTests), so the parity tests must pass unchanged.
# OpenBLAS's kernel choice is the other thing that varies by host; it is left to the machine
# (some hosts here set OPENBLAS_CORETYPE because older OpenBLAS builds misbehave on them, and
# tests must not change it). The parity bounds are measured in each run instead (RoundingFloor);
# README "Tests on any host" says how they were checked against other OpenBLAS kernels by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
PARITY='TrainingParityTests|BatchConsistencyTests|LogitsParityTests|EngineTurnoverTests|PromptPrefixReuseTests|AdapterParityTests|ActivationQuantParityTests|GreedyParityTests'

flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { grep -qw "$1" <<<"$flags"; }
best=avx2
paths=()
if has avx512bw; then paths+=(avx512); best=avx512; fi
if { has avx512bw && has avx512_vnni; } || has avx_vnni; then best=vnni; fi
others=(avx2 "${paths[@]}")
for path in "${others[@]}"; do
  [ "$path" = "$best" ] && continue
  echo "== the main run took the $best kernels: kernel and parity tests again with STRATA_KERNELS=$path"
  STRATA_KERNELS=$path $SWIFT test --skip-build --filter "TensorTests|$PARITY"
done
if [ "$best" = avx2 ]; then
  echo "== this CPU has neither AVX-512 (BW) nor VNNI: only the AVX2 kernels run here (KernelTests says which it skips)"
fi
