import Foundation

/// What can go wrong talking to an OpenAI-compatible server, each case worded so the operator
/// knows what to change: the URL, the key, the model name, the server or the time-out.
public enum RemoteError: Error, LocalizedError, Equatable {
    /// No connection could be made (refused, unknown host) after every retry.
    case unreachable(url: String, reason: String)
    /// The server refused the API key (401/403).
    case unauthorized(url: String)
    /// The server does not serve this model name (404, or "model not found" in a 400).
    case unknownModel(name: String, url: String, served: [String])
    /// The server kept answering 429 or 5xx after every retry.
    case overloaded(url: String, status: Int, attempts: Int)
    /// Any other HTTP error, with the server's own message.
    case http(url: String, status: Int, message: String)
    /// No byte arrived for `seconds` (before the reply started, or between two pieces of it).
    case timedOut(url: String, seconds: Double)
    /// The reply stopped before the server said it was complete: what came is not an answer.
    case streamBroken(url: String, received: Int, reason: String)
    /// The server's reply is not what the OpenAI API specifies.
    case malformed(url: String, detail: String)
    /// The configuration is unusable (bad URL, missing model name).
    case configuration(String)

    public var errorDescription: String? {
        switch self {
        case .unreachable(let u, let r):
            "cannot reach the model server at \(u) (\(r)) — check --llm-url / $STRATA_LLM_URL and that the server is running"
        case .unauthorized(let u):
            "the model server at \(u) refused the API key — set $STRATA_LLM_API_KEY to a key it accepts (the key is never taken on the command line)"
        case .unknownModel(let n, let u, let served):
            "the model server at \(u) does not serve a model named '\(n)'"
                + (served.isEmpty ? "" : " (it serves: \(served.joined(separator: ", ")))")
                + " — pass --llm-model NAME (or set $STRATA_LLM_MODEL); an adapter is served under its own model name"
        case .overloaded(let u, let s, let a):
            "the model server at \(u) answered \(s) (busy or failing) to \(a) attempts — try again later, or lower --parallel"
        case .http(let u, let s, let m):
            "the model server at \(u) answered HTTP \(s): \(m)"
        case .timedOut(let u, let s):
            "the model server at \(u) sent nothing for \(Self.seconds(s)) — it is overloaded or stuck; raise $STRATA_LLM_TIMEOUT (seconds) if it is just slow"
        case .streamBroken(let u, let n, let r):
            "the reply from \(u) broke off after \(n) pieces (\(r)) — the answer is incomplete and was not used; check the server and ask again"
        case .malformed(let u, let d):
            "the server at \(u) is not speaking the OpenAI API as expected (\(d)) — check that --llm-url points at its /v1 base"
        case .configuration(let m): m
        }
    }

    static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s) }
}
