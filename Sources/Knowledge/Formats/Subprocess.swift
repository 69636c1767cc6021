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

/// glibc ≥ 2.34 (Debian 12); not in the Swift Glibc module map.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

/// Runs a converter as a child process under limits: `ulimit -v` (address space) and `ulimit -t`
/// (CPU seconds) are set by `/bin/sh` before it `exec`s the tool, a watchdog kills it after the wall
/// time, and the reader stops and kills it once the output passes its limit. The child inherits no
/// descriptor but its standard streams. Nothing from the
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
        let kb = limits.memoryMB * 1024, cpu = max(1, Int(limits.seconds.rounded(.up)))
        let argv = ["/bin/sh", "-c", "ulimit -v \(kb) 2>/dev/null; ulimit -t \(cpu) 2>/dev/null; exec \"$0\" \"$@\"", exe] + args
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C.UTF-8"
        for (k, v) in environment { env[k] = v }
        let child = try Child.spawn(argv, environment: env.map { "\($0.key)=\($0.value)" }, tool: tool)
        let state = RunState()
        let pid = child.pid
        let watchdog = DispatchWorkItem { if state.mark(.timedOut) { kill(pid, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + limits.seconds, execute: watchdog)
        let errData = LockedBuffer()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(child.stderr, &buf, buf.count)
                if n <= 0 { break }
                errData.append(Data(buf[0..<n]), cap: 8_192)
            }
            group.leave()
        }
        var output: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(child.stdout, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if output.count + n > limits.outputBytes {
                if state.mark(.tooMuchOutput) { kill(pid, SIGKILL) }
                break
            }
            output += buf[0..<n]
        }
        let status = child.wait()
        watchdog.cancel()
        group.wait()
        close(child.stdout); close(child.stderr)
        switch state.reason {
        case .timedOut: throw ConverterError.timedOut(tool: tool, seconds: limits.seconds)
        case .tooMuchOutput: throw ConverterError.tooMuchOutput(tool: tool, limit: limits.outputBytes)
        case .none: break
        }
        let signal = status & 0x7F, code = (status >> 8) & 0xFF
        if signal != 0 {
            // SIGXCPU is the CPU-time limit: report it as the time limit it is.
            if signal == SIGXCPU { throw ConverterError.timedOut(tool: tool, seconds: limits.seconds) }
            throw ConverterError.crashed(tool: tool, signal: signal, memoryMB: limits.memoryMB)
        }
        guard code == 0 else {
            let msg = errData.string.split(separator: "\n").prefix(3).joined(separator: "; ")
            throw ConverterError.failed(tool: tool, status: code, stderr: String(msg.prefix(300)))
        }
        return output
    }

    /// A child started with posix_spawn: stdin /dev/null, stdout and stderr pipes, every other
    /// descriptor closed (the converter must not inherit the database). Foundation's `Process`
    /// costs ~35 ms a start here (it walks every possible descriptor); this ~4 ms, which is most
    /// of the difference between our PDF pages/s and pdftotext's.
    struct Child {
        var pid: pid_t
        var stdout: Int32
        var stderr: Int32

        static func spawn(_ argv: [String], environment: [String], tool: String) throws -> Child {
            var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
            guard pipe(&out) == 0, pipe(&err) == 0 else {   // the child closes all but 0-2 itself
                throw ConverterError.failed(tool: tool, status: -1, stderr: "cannot create a pipe: \(String(cString: strerror(errno)))")
            }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, out[1], 1)
            posix_spawn_file_actions_adddup2(&actions, err[1], 2)
            _ = addCloseFrom(&actions, 3)
            let cArgs = argv.map { strdup($0) } + [nil]
            let cEnv = environment.map { strdup($0) } + [nil]
            defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, cEnv)
            close(out[1]); close(err[1])
            guard rc == 0 else {
                close(out[0]); close(err[0])
                throw ConverterError.failed(tool: tool, status: -1, stderr: "cannot start: \(String(cString: strerror(rc)))")
            }
            return Child(pid: pid, stdout: out[0], stderr: err[0])
        }

        /// The raw wait status.
        func wait() -> Int32 {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return status
        }
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
