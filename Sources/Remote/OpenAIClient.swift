import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Assistant

/// Where an OpenAI-compatible server is and how patiently to talk to it.
public struct RemoteEndpoint: Sendable {
    /// The API base, ending in /v1 (`http://127.0.0.1:8080/v1`); a bare host gets /v1 appended.
    public var baseURL: URL
    /// Sent as `Authorization: Bearer …`; taken from the environment only, never logged.
    public var apiKey: String?
    /// Seconds without a byte from the server before the request fails (to the first piece, or
    /// between two pieces of a streamed reply).
    public var timeout: TimeInterval
    /// Further attempts after a 429, a 5xx or a refused connection, before any reply has started.
    public var retries: Int
    /// The first wait between attempts; doubled each time (a Retry-After header overrides it).
    public var backoff: TimeInterval

    public init(baseURL: URL, apiKey: String? = nil, timeout: TimeInterval = 120, retries: Int = 2, backoff: TimeInterval = 0.5) {
        self.baseURL = baseURL; self.apiKey = apiKey; self.timeout = timeout; self.retries = retries; self.backoff = backoff
    }

    /// Parses a user's URL: http(s) only, /v1 appended to a bare host.
    public static func parse(_ text: String) throws -> URL {
        guard var c = URLComponents(string: text.trimmingCharacters(in: .whitespaces)), let scheme = c.scheme?.lowercased(),
              ["http", "https"].contains(scheme), c.host?.isEmpty == false else {
            throw RemoteError.configuration("'\(text)' is not an http(s) URL — give the server's API base, e.g. http://127.0.0.1:8080/v1")
        }
        while c.path.hasSuffix("/") { c.path.removeLast() }
        if c.path.isEmpty { c.path = "/v1" }
        return c.url!
    }

    /// The base URL as shown in messages and the audit log: no user-info, no query.
    public var display: String {
        var c = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)!
        c.user = nil; c.password = nil; c.query = nil
        return c.string ?? baseURL.absoluteString
    }
}

/// A small client for the parts of the OpenAI API Strata uses: chat completions (streamed),
/// embeddings and the model list.
public struct OpenAIClient: Sendable {
    public let endpoint: RemoteEndpoint
    public init(endpoint: RemoteEndpoint) { self.endpoint = endpoint }

    /// What a streamed chat completion ended with.
    public struct ChatOutcome: Sendable {
        public var text = ""
        public var pieces = 0
        /// "stop", "length", … as the server said; nil when the caller cancelled.
        public var finishReason: String?
        public var cancelled = false
        /// From the server's `usage` object, when it sends one (stream_options.include_usage).
        public var promptTokens: Int?
        public var completionTokens: Int?
        public var firstPieceSeconds = 0.0
        public var totalSeconds = 0.0
    }

    /// Streams `/chat/completions` (or `/completions` for a raw prompt); `onPiece` gets each piece
    /// of text, and returning false stops the request (the connection is closed so the server
    /// stops too). Throws if the stream ends before the server marks it complete: a half answer
    /// is never returned as an answer.
    public func streamChat(_ body: [String: Any], path: String = "chat/completions", onPiece: (String) -> Bool) throws -> ChatOutcome {
        var body = body
        body["stream"] = true
        body["stream_options"] = ["include_usage": true]
        let started = Date()
        let (exchange, _) = try send("POST", path, body: body, model: body["model"] as? String)
        defer { exchange.cancel() }
        var parser = SSEParser()
        var out = ChatOutcome()
        var done = false
        func handle(_ payload: String) throws {
            if payload == "[DONE]" { done = true; return }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else {
                throw RemoteError.malformed(url: endpoint.display, detail: "a stream event is not JSON: \(payload.prefix(80))")
            }
            // Servers report errors met after the reply started as an event of their own.
            if let err = obj["error"] {
                let message = ((err as? [String: Any])?["message"] as? String) ?? "\(err)"
                throw RemoteError.streamBroken(url: endpoint.display, received: out.pieces, reason: "the server reported: \(message)")
            }
            if let usage = obj["usage"] as? [String: Any] {
                out.promptTokens = usage["prompt_tokens"] as? Int
                out.completionTokens = usage["completion_tokens"] as? Int
            }
            guard let choice = (obj["choices"] as? [[String: Any]])?.first else { return }
            // Chat streams put the text in delta.content, text completions in text.
            if let piece = ((choice["delta"] as? [String: Any])?["content"] as? String) ?? (choice["text"] as? String), !piece.isEmpty {
                if out.pieces == 0 { out.firstPieceSeconds = Date().timeIntervalSince(started) }
                out.text += piece
                out.pieces += 1
                if !onPiece(piece) { out.cancelled = true }
            }
            if let reason = choice["finish_reason"] as? String { out.finishReason = reason }
        }
        reading: while !out.cancelled && !done {
            guard let event = exchange.next(timeout: endpoint.timeout) else {
                throw RemoteError.timedOut(url: endpoint.display, seconds: endpoint.timeout)
            }
            switch event {
            case .response: continue
            case .data(let d): for p in parser.feed(d) { try handle(p); if out.cancelled || done { break reading } }
            case .finished(let error):
                for p in parser.finish() { try handle(p) }
                // A reset after the finish reason lost nothing but the trailer.
                if let error, !done, out.finishReason == nil {
                    throw RemoteError.streamBroken(url: endpoint.display, received: out.pieces, reason: Self.describe(error))
                }
                break reading
            }
        }
        // A finish reason without [DONE] is complete too (some servers close right after it).
        if !out.cancelled && !done && out.finishReason == nil {
            throw RemoteError.streamBroken(url: endpoint.display, received: out.pieces, reason: "the connection closed before the reply was complete")
        }
        out.totalSeconds = Date().timeIntervalSince(started)
        return out
    }

    /// POSTs `body` to `path` and returns the decoded JSON object (embeddings).
    public func postJSON(_ path: String, _ body: [String: Any]) throws -> [String: Any] {
        let (exchange, _) = try send("POST", path, body: body, model: body["model"] as? String)
        defer { exchange.cancel() }
        return try decodeObject(try readAll(exchange))
    }

    /// The model names the server lists at /models.
    public func models() throws -> [String] {
        let (exchange, _) = try send("GET", "models", body: nil, model: nil)
        defer { exchange.cancel() }
        let obj = try decodeObject(try readAll(exchange))
        return ((obj["data"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
    }

    // MARK: - Transport

    /// Sends the request and returns once a 2xx response has begun, retrying refused connections,
    /// 429 and 5xx with doubling waits. Other statuses become the error they mean.
    private func send(_ method: String, _ path: String, body: [String: Any]?, model: String?) throws -> (HTTPExchange, HTTPURLResponse) {
        var request = URLRequest(url: endpoint.baseURL.appendingPathComponent(path))
        request.httpMethod = method
        request.timeoutInterval = endpoint.timeout
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let key = endpoint.apiKey, !key.isEmpty { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        var wait = endpoint.backoff
        var attempt = 0
        while true {
            attempt += 1
            let exchange = HTTPExchange(request: request)
            exchange.start()
            var retryAfter: TimeInterval?
            var lastStatus = 0
            switch exchange.next(timeout: endpoint.timeout) {
            case nil:
                exchange.cancel()
                // Not retried: a server too slow to answer once would only be slower three times.
                throw RemoteError.timedOut(url: endpoint.display, seconds: endpoint.timeout)
            case .response(let r) where (200..<300).contains(r.statusCode):
                return (exchange, r)
            case .response(let r):
                let text = String(decoding: (try? readAll(exchange)) ?? Data(), as: UTF8.self)
                exchange.cancel()
                lastStatus = r.statusCode
                guard r.statusCode == 429 || r.statusCode >= 500 else {
                    throw try error(status: r.statusCode, body: text, model: model)
                }
                retryAfter = (r.value(forHTTPHeaderField: "Retry-After")).flatMap(Double.init)
                if attempt > endpoint.retries {
                    if r.statusCode >= 500, let m = Self.message(text), Self.isContextError(m) { throw Self.contextError(m) }
                    throw RemoteError.overloaded(url: endpoint.display, status: lastStatus, attempts: attempt)
                }
            case .data, .finished(nil):
                exchange.cancel()
                throw RemoteError.malformed(url: endpoint.display, detail: "a reply without an HTTP status")
            case .finished(let e?):
                exchange.cancel()
                if attempt > endpoint.retries { throw RemoteError.unreachable(url: endpoint.display, reason: Self.describe(e)) }
            }
            // Waits are capped: a Retry-After of an hour is not something a question should sit through.
            Thread.sleep(forTimeInterval: min(retryAfter ?? wait, 30))
            wait *= 2
        }
    }

    /// The whole body of a response already begun.
    private func readAll(_ exchange: HTTPExchange) throws -> Data {
        var data = Data()
        while true {
            guard let e = exchange.next(timeout: endpoint.timeout) else {
                throw RemoteError.timedOut(url: endpoint.display, seconds: endpoint.timeout)
            }
            switch e {
            case .response: continue
            case .data(let d): data.append(d)
            case .finished(nil): return data
            case .finished(let err?): throw RemoteError.streamBroken(url: endpoint.display, received: 0, reason: Self.describe(err))
            }
        }
    }

    private func decodeObject(_ data: Data) throws -> [String: Any] {
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw RemoteError.malformed(url: endpoint.display, detail: "the reply is not a JSON object: \(String(decoding: data.prefix(80), as: UTF8.self))")
        }
        return obj
    }

    /// Maps a refused request onto what it means for the user.
    private func error(status: Int, body: String, model: String?) throws -> Error {
        let message = Self.message(body) ?? String(body.prefix(300))
        if status == 401 || status == 403 { return RemoteError.unauthorized(url: endpoint.display) }
        if Self.isContextError(message) { return Self.contextError(message) }
        let lower = message.lowercased()
        if let model, status == 404 || (lower.contains("model") && (lower.contains("not found") || lower.contains("does not exist") || lower.contains("unknown"))) {
            return RemoteError.unknownModel(name: model, url: endpoint.display, served: (try? models()) ?? [])
        }
        return RemoteError.http(url: endpoint.display, status: status, message: message)
    }

    /// The `error.message` (or `detail`) of an error body.
    static func message(_ body: String) -> String? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
        if let e = obj["error"] as? [String: Any], let m = e["message"] as? String { return m }
        if let m = obj["error"] as? String { return m }
        if let d = obj["detail"] as? String { return d }
        if let d = obj["detail"] { return "\(d)" }
        return nil
    }

    /// The wordings of llama.cpp ("exceed context window"), llama-cpp-python, vLLM and OpenAI
    /// ("maximum context length", "context_length_exceeded").
    static func isContextError(_ m: String) -> Bool {
        let l = m.lowercased()
        return l.contains("context window") || l.contains("context length") || l.contains("context_length")
            || l.contains("exceeds the available context") || l.contains("context size")
    }

    /// Our context error, with the two numbers when the message gives them (requested first,
    /// window second in llama-cpp-python's wording; vLLM names the window first).
    static func contextError(_ m: String) -> GenerationError {
        let numbers = m.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.filter { $0 > 0 }
        guard numbers.count >= 2 else { return .contextExceeded(needed: 0, context: 0) }
        if m.lowercased().contains("maximum context length") { return .contextExceeded(needed: numbers[1], context: numbers[0]) }
        return .contextExceeded(needed: numbers[0], context: numbers[1])
    }

    static func describe(_ error: Error) -> String {
        if let u = error as? URLError {
            switch u.code {
            case .cannotConnectToHost: return "connection refused"
            case .networkConnectionLost: return "connection lost"
            case .cannotFindHost: return "unknown host"
            case .timedOut: return "timed out"
            case .cancelled: return "cancelled"
            default: return u.localizedDescription
            }
        }
        return error.localizedDescription
    }
}
