import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request whose response body is read as it arrives, on the caller's thread.
///
/// `TextGenerator.generate` is synchronous and hands each piece to a non-escaping closure, so the
/// URLSession delegate only queues what it receives and the calling thread drains the queue. That
/// thread also keeps the idle clock: the time-out counts from the last byte received, so a long
/// answer streamed steadily never times out, and a server that stops sending always does.
final class HTTPExchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    enum Event {
        case response(HTTPURLResponse)
        case data(Data)
        case finished(Error?)
    }

    private let condition = NSCondition()
    private var events: [Event] = []
    private var session: URLSession!
    private var task: URLSessionDataTask!

    /// `request.timeoutInterval` is our idle clock's (`next(timeout:)`), the one that reports.
    init(request: URLRequest) {
        super.init()
        // URLSession's own idle timer is only a backstop, at twice ours. It must be set on the
        // request: swift-corelibs-foundation takes the request's interval over the session's.
        // At the same interval the two timers raced, and on a loaded host URLSession's won: a
        // slow server was reported as unreachable "(timed out)", on the path that retries.
        var request = request
        let backstop = max(request.timeoutInterval, 1) * 2
        request.timeoutInterval = backstop
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = backstop
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: config, delegate: self, delegateQueue: nil)
        task = session.dataTask(with: request)
    }

    func start() { task.resume() }

    /// Stops the request and frees the session; the server sees the connection close, which is
    /// how OpenAI-compatible servers learn to stop generating.
    func cancel() {
        task.cancel()
        session.invalidateAndCancel()
    }

    /// The next event, or nil when nothing arrived within `timeout` seconds.
    func next(timeout: TimeInterval) -> Event? {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while events.isEmpty {
            if !condition.wait(until: deadline) && events.isEmpty { return nil }
        }
        return events.removeFirst()
    }

    private func push(_ e: Event) {
        condition.lock(); events.append(e); condition.signal(); condition.unlock()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse { push(.response(http)) }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) { push(.data(data)) }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        push(.finished(error))
        session.finishTasksAndInvalidate()
    }
}
