import Foundation

/// Splits a server-sent-events byte stream into the payloads of its `data:` fields.
///
/// Bytes arrive in arbitrary slices (a UTF-8 character or a line may be cut anywhere), so the
/// parser keeps the unfinished tail and decodes only whole lines. Multi-line `data:` fields of one
/// event are joined with "\n" as the SSE specification says; comments (`:`) and other fields
/// (`event:`, `id:`, `retry:`) carry nothing an OpenAI stream needs.
struct SSEParser {
    private var buffer = Data()
    private var data: [String] = []

    /// Feeds bytes; returns the payloads of the events they complete.
    mutating func feed(_ bytes: Data) -> [String] {
        buffer.append(bytes)
        var events: [String] = []
        while let nl = buffer.firstIndex(of: 0x0A) {
            var line = buffer[buffer.startIndex..<nl]
            buffer = Data(buffer[buffer.index(after: nl)...])
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty {
                if !data.isEmpty { events.append(data.joined(separator: "\n")); data = [] }
                continue
            }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("data:") else { continue }
            var value = text.dropFirst(5)
            if value.first == " " { value = value.dropFirst() }
            data.append(String(value))
        }
        return events
    }

    /// The event left open when the stream ends (a server that omits the final blank line).
    mutating func finish() -> [String] {
        var events = feed(Data("\n".utf8))
        if !data.isEmpty { events.append(data.joined(separator: "\n")); data = [] }
        return events
    }
}
