import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a converter may use: wall time, address space and output. A document that needs more is
/// refused alone, with a message; the ingest goes on with the next file.
public struct ConverterLimits: Sendable, Equatable {
    public var seconds: Double
    public var memoryMB: Int
    public var outputBytes: Int
    public init(seconds: Double = 120, memoryMB: Int = 1024, outputBytes: Int = 64 << 20) {
        self.seconds = seconds; self.memoryMB = memoryMB; self.outputBytes = outputBytes
    }
}

/// Why an external converter did not give us text. Each case says what to do.
enum ConverterError: Error, Equatable, CustomStringConvertible {
    /// The tool is not installed; `package` is the Debian package that provides it.
    case missing(tool: String, package: String)
    case timedOut(tool: String, seconds: Double)
    case tooMuchOutput(tool: String, limit: Int)
    /// Killed by a signal: a crash, or the memory limit (an allocation failed and it aborted).
    case crashed(tool: String, signal: Int32, memoryMB: Int)
    case failed(tool: String, status: Int32, stderr: String)

    var description: String {
        switch self {
        case .missing(let t, let p):
            "needs '\(t)', which is not installed — install it with 'sudo apt-get install \(p)' (or run 'make setup')"
        case .timedOut(let t, let s):
            "\(t) did not finish within \(Int(s)) s — the file is too complex or malformed; split it or convert it by hand"
        case .tooMuchOutput(let t, let l):
            "\(t) produced more than \(IngestProblem.mb(l)) of output — the file is too large to convert; split it"
        case .crashed(let t, let sig, let mb):
            "\(t) was killed by signal \(sig) (crash, or over its \(mb) MB memory limit) — the file is malformed or too large"
        case .failed(let t, let st, let err):
            "\(t) failed (exit \(st))\(err.isEmpty ? "" : ": " + err) — check that the file opens in a viewer"
        }
    }
}

/// Runs a converter as a child process under limits: `ulimit -v` (address space) and `ulimit -t`
/// (CPU seconds) are set by `/bin/sh` before it `exec`s the tool, a watchdog kills it after the wall
/// time, and the reader stops and kills it once the output passes its limit. Nothing from the
/// document is ever passed to a shell: the file name and arguments go through `"$@"`.
enum Subprocess {
    /// Full path of `tool` on PATH (plus the usual system folders), nil when absent.
    /// `STRATA_CONVERTER_PATH`, when set, is searched instead (to pin converters, and to test
    /// what a machine without them says).
    static func find(_ tool: String) -> String? {
        let env = ProcessInfo.processInfo.environment
        let path = env["STRATA_CONVERTER_PATH"] ?? ((env["PATH"] ?? "") + ":/usr/bin:/bin:/usr/local/bin")
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func require(_ tool: String, package: String) throws -> String {
        guard let p = find(tool) else { throw ConverterError.missing(tool: tool, package: package) }
        return p
    }

    /// Runs `tool args`, returns its standard output; throws a `ConverterError` on any failure.
    static func run(_ tool: String, package: String, _ args: [String], limits: ConverterLimits,
                    environment: [String: String] = [:]) throws -> [UInt8] {
        let exe = try require(tool, package: package)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        let kb = limits.memoryMB * 1024, cpu = max(1, Int(limits.seconds.rounded(.up)))
        p.arguments = ["-c", "ulimit -v \(kb) 2>/dev/null; ulimit -t \(cpu) 2>/dev/null; exec \"$0\" \"$@\"", exe] + args
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C.UTF-8"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        let state = RunState()
        do { try p.run() } catch { throw ConverterError.failed(tool: tool, status: -1, stderr: "\(error)") }
        let pid = p.processIdentifier
        let watchdog = DispatchWorkItem { if state.mark(.timedOut) { kill(pid, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + limits.seconds, execute: watchdog)
        let errData = LockedBuffer()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            while true {
                let d = err.fileHandleForReading.availableData
                if d.isEmpty { break }
                errData.append(d, cap: 8_192)
            }
            group.leave()
        }
        var output: [UInt8] = []
        let h = out.fileHandleForReading
        while true {
            let d = h.availableData
            if d.isEmpty { break }
            if output.count + d.count > limits.outputBytes {
                if state.mark(.tooMuchOutput) { kill(pid, SIGKILL) }
                break
            }
            output += d
        }
        p.waitUntilExit()
        watchdog.cancel()
        group.wait()
        switch state.reason {
        case .timedOut: throw ConverterError.timedOut(tool: tool, seconds: limits.seconds)
        case .tooMuchOutput: throw ConverterError.tooMuchOutput(tool: tool, limit: limits.outputBytes)
        case .none: break
        }
        if p.terminationReason == .uncaughtSignal {
            // SIGXCPU is the CPU-time limit: report it as the time limit it is.
            if p.terminationStatus == SIGXCPU { throw ConverterError.timedOut(tool: tool, seconds: limits.seconds) }
            throw ConverterError.crashed(tool: tool, signal: p.terminationStatus, memoryMB: limits.memoryMB)
        }
        guard p.terminationStatus == 0 else {
            let msg = errData.string.split(separator: "\n").prefix(3).joined(separator: "; ")
            throw ConverterError.failed(tool: tool, status: p.terminationStatus, stderr: String(msg.prefix(300)))
        }
        return output
    }

    /// Which limit ended the run first (the watchdog and the reader race to set it).
    final class RunState: @unchecked Sendable {
        enum Reason { case timedOut, tooMuchOutput }
        private let lock = NSLock()
        private(set) var reason: Reason?
        func mark(_ r: Reason) -> Bool {
            lock.lock(); defer { lock.unlock() }
            if reason != nil { return false }
            reason = r
            return true
        }
    }

    final class LockedBuffer: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func append(_ d: Data, cap: Int) { lock.lock(); if data.count < cap { data.append(d.prefix(cap - data.count)) }; lock.unlock() }
        var string: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
    }
}
