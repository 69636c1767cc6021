import Foundation

// Timing and reading helpers every benchmark uses, in one place.

/// Monotonic wall-clock seconds.
public func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// User + system CPU seconds of this process: with other jobs on the machine, work per CPU
/// second says more about our code than work per wall second.
public func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The 1-minute load average (printed so a reader can tell a quiet run from a busy one).
public func loadAverage() -> Double { var l = [0.0, 0, 0]; getloadavg(&l, 3); return l[0] }

public func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

/// A JSON object from `path` (a reference file), or exit with what to do.
public func readJSON(_ path: String) -> [String: Any] {
    guard let d = FileManager.default.contents(atPath: path),
          let o = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any] else {
        FileHandle.standardError.write(Data("cannot read \(path) — run from the project root with ../shared beside it\n".utf8))
        exit(2)
    }
    return o
}
