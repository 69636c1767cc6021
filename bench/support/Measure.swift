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

/// The Python named by `--reference-python PATH` (or $STRATA_REFERENCE_PYTHON): a Python with the
/// reference stacks installed, so a benchmark can time them on this machine in the same run.
public func referencePython(_ args: [String]) -> String? {
    if let i = args.firstIndex(of: "--reference-python"), i + 1 < args.count { return args[i + 1] }
    return ProcessInfo.processInfo.environment["STRATA_REFERENCE_PYTHON"]
}

/// Runs `python script args…` and returns the JSON object it prints last (nil, with a note on
/// stderr, when it fails: the recorded references still stand).
public func runReferenceScript(_ python: String, _ script: String, _ arguments: [String]) -> [String: Any]? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: python)
    p.arguments = [script] + arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    do { try p.run() } catch {
        FileHandle.standardError.write(Data("reference: cannot run \(python): \(error.localizedDescription)\n".utf8)); return nil
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    let last = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
    guard p.terminationStatus == 0, let obj = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] else {
        FileHandle.standardError.write(Data("reference: \(script) failed (exit \(p.terminationStatus)): \(errText.suffix(400))\n".utf8))
        return nil
    }
    return obj
}
