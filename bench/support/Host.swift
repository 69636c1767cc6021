import Foundation
import Tensor

/// One line naming what the figures below were measured on: the CPU, the kernel path the run
/// takes (`STRATA_KERNELS`), OpenBLAS's kernel family and the load, since every one of them
/// moves the numbers and ratios between hosts.
public func hostLine() -> String {
    String(format: "host: %@; kernels: %@; OpenBLAS core: %@; load %.2f",
           CPUFeatures.cpuModel as NSString, CPUFeatures.kernelDescription as NSString,
           BLAS.coreName as NSString, loadAverage())
}
