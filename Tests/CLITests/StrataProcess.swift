import Foundation
import XCTest

/// Runs the built `strata` binary, as a user would, and captures what it prints.
struct StrataRun {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum StrataBinary {
    /// The project root (the folder holding Package.swift).
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// Skips the calling test unless the default models the set-up fetches are present.
    static func requireDefaultModels() throws {
        for model in ["models/all-MiniLM-L6-v2/model.safetensors", "models/SmolLM2-135M-Instruct.Q4_1.gguf"]
        where !FileManager.default.fileExists(atPath: root.appendingPathComponent(model).path) {
            throw XCTSkip("\(model) is absent — run 'make setup'")
        }
    }

    /// A fresh folder under the temporary directory; the caller removes it.
    static func temporaryFolder(_ prefix: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The `strata` executable built beside this test bundle (debug or release, whichever ran).
    static var url: URL {
        let bundle = Bundle(for: Marker.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("strata") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }
    private final class Marker {}

    /// `executable` and `prefix` run `strata` through another program (e.g. setpriv).
    /// `unsetEnv` removes variables from the inherited environment.
    @discardableResult
    static func run(_ args: [String], stdin: String? = nil, cwd: URL? = nil, env: [String: String] = [:],
                    unsetEnv: [String] = [], executable: URL? = nil, prefix: [String] = []) throws -> StrataRun {
        try start(args, stdin: stdin, cwd: cwd, env: env, unsetEnv: unsetEnv, executable: executable, prefix: prefix).wait()
    }

    /// Starts `strata` and returns at once; `wait()` collects its output and status.
    static func start(_ args: [String], stdin: String? = nil, cwd: URL? = nil, env: [String: String] = [:],
                      unsetEnv: [String] = [], executable: URL? = nil, prefix: [String] = []) throws -> RunningStrata {
        let p = Process()
        p.executableURL = executable ?? url
        p.arguments = prefix + args
        p.currentDirectoryURL = cwd ?? root
        var environment = ProcessInfo.processInfo.environment
        // Tests answer with the small model (seconds, not minutes); a test that wants the
        // default answering model or no model says so in `env` or with --model.
        let answering: Set<String> = ["ask", "chat", "support", "report", "kb"]
        if environment["STRATA_MODEL"] == nil, !args.contains("--model"), args.contains(where: answering.contains) {
            environment["STRATA_MODEL"] = root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        }
        for k in unsetEnv { environment[k] = nil }
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inp.fileHandleForWriting.close()
        return RunningStrata(process: p, out: out, err: err)
    }
}

/// A `strata` process started by `StrataBinary.start`.
final class RunningStrata: @unchecked Sendable {
    let process: Process
    private var outData = Data(), errData = Data()
    private let group = DispatchGroup()

    init(process: Process, out: Pipe, err: Pipe) {
        self.process = process
        // Read both pipes as the child writes, so a full pipe never blocks it.
        group.enter(); group.enter()
        DispatchQueue.global().async { self.outData = out.fileHandleForReading.readDataToEndOfFile(); self.group.leave() }
        DispatchQueue.global().async { self.errData = err.fileHandleForReading.readDataToEndOfFile(); self.group.leave() }
    }

    var isRunning: Bool { process.isRunning }

    func wait() -> StrataRun {
        group.wait()
        process.waitUntilExit()
        return StrataRun(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }
}
