import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// Starts and stops the OpenAI-compatible servers the remote-backend tests talk to, each on a
/// free loopback port: llama-cpp-python's server (from the venv `scripts/llama-server-venv.sh`
/// builds) and the standard-library stub `scripts/stub-openai-server.py` for the failures a real
/// server cannot be made to show on purpose.
final class ModelServer: @unchecked Sendable {
    let process: Process
    let port: Int
    let log: URL
    var url: String { "http://127.0.0.1:\(port)/v1" }

    private init(process: Process, port: Int, log: URL) { self.process = process; self.port = port; self.log = log }

    /// The venv's python, or a skip that says how to make it.
    static func venvPython() throws -> URL {
        let venv = ProcessInfo.processInfo.environment["STRATA_LLAMA_VENV"].map { URL(fileURLWithPath: $0, relativeTo: StrataBinary.root) }
            ?? StrataBinary.root.appendingPathComponent(".venv-llama")
        let python = venv.appendingPathComponent("bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path),
              FileManager.default.fileExists(atPath: venv.appendingPathComponent(".ready").path) else {
            print("skipping: llama-cpp-python's server is not installed in \(venv.path) — run 'bash scripts/llama-server-venv.sh' (make setup does)")
            throw XCTSkip("llama-cpp-python venv absent: run scripts/llama-server-venv.sh")
        }
        return python
    }

    /// llama-cpp-python serving `models` (alias → settings such as "model", "lora_path") from a
    /// multi-model config file; `apiKey` makes it require that bearer key.
    static func llama(models: [[String: Any]], apiKey: String? = nil, dir: URL) throws -> ModelServer {
        let python = try venvPython()
        let port = try freePort()
        var config: [String: Any] = ["host": "127.0.0.1", "port": port, "models": models]
        if let apiKey { config["api_key"] = apiKey }
        let file = dir.appendingPathComponent("llama-server-\(port).json")
        try JSONSerialization.data(withJSONObject: config).write(to: file)
        let server = try launch(python, ["-m", "llama_cpp.server", "--config_file", file.path], port: port, dir: dir)
        try server.waitUntilServing(seconds: 180, apiKey: apiKey)
        return server
    }

    /// The stub server in `mode` (slow, break, busy, ok), with its extra arguments.
    static func stub(_ mode: String, _ extra: [String] = [], dir: URL) throws -> ModelServer {
        let port = try freePort()
        let server = try launch(URL(fileURLWithPath: "/usr/bin/env"),
                                ["python3", StrataBinary.root.appendingPathComponent("scripts/stub-openai-server.py").path,
                                 "--port", String(port), "--mode", mode] + extra, port: port, dir: dir)
        try server.waitUntilServing(seconds: 20, apiKey: nil)
        return server
    }

    private static func launch(_ exe: URL, _ args: [String], port: Int, dir: URL) throws -> ModelServer {
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        p.currentDirectoryURL = StrataBinary.root
        let log = dir.appendingPathComponent("server-\(port).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return ModelServer(process: p, port: port, log: log)
    }

    /// Polls GET /models until the server answers (it loads the model first).
    private func waitUntilServing(seconds: Double, apiKey: String?) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard process.isRunning else {
                throw ServerError.exited("the server exited while starting:\n" + logTail())
            }
            if let status = Self.get(url + "/models", apiKey: apiKey), status == 200 { return }
            Thread.sleep(forTimeInterval: 0.25)
        }
        stop()
        throw ServerError.exited("the server did not answer within \(Int(seconds)) s:\n" + logTail())
    }

    func logTail() -> String { String((try? String(contentsOf: log, encoding: .utf8))?.suffix(2000) ?? "") }
    func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// SIGTERM, then SIGKILL if it lingers.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    /// Killed without a chance to close its connections cleanly, as a crash would.
    func crash() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    enum ServerError: Error, CustomStringConvertible {
        case exited(String)
        var description: String { switch self { case .exited(let m): m } }
    }

    /// A port nothing listens on now: bound to port 0 (the kernel picks one), then released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError.exited("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw ServerError.exited("could not bind a loopback port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The status of a GET, or nil when nothing answered within two seconds.
    static func get(_ url: String, apiKey: String?) -> Int? {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 2
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var status: Int? }
        let box = Box()
        URLSession.shared.dataTask(with: request) { _, response, _ in
            box.status = (response as? HTTPURLResponse)?.statusCode
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 3)
        return box.status
    }
}
