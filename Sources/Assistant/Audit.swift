import Foundation
import Knowledge

/// One answered (or refused) question, as recorded for audit. The record is defined with the
/// store that keeps it (Knowledge), so the two layers cannot drift apart field by field.
public typealias AuditEntry = AuditRecord

/// Where answers are recorded. The SQLite implementation lives with the knowledge store.
public protocol AuditLog: Sendable {
    func record(_ entry: AuditEntry) throws
    /// The most recent `limit` entries, oldest first.
    func recent(_ limit: Int) throws -> [AuditEntry]
}

/// An audit log in memory, for tests and for runs that must leave no trace on disk.
public final class InMemoryAuditLog: AuditLog, @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [AuditEntry] = []
    public init() {}
    public func record(_ entry: AuditEntry) throws { lock.withLock { entries.append(entry) } }
    public func recent(_ limit: Int) throws -> [AuditEntry] { lock.withLock { Array(entries.suffix(max(0, limit))) } }
}

/// An append-only JSON-lines audit file: one entry per line, so concurrent appends from several
/// processes never interleave inside an entry (each is a single write under O_APPEND).
public struct JSONLinesAuditLog: AuditLog {
    public let path: String
    public init(path: String) { self.path = path }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder(); e.dateEncodingStrategy = .iso8601; e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    public func record(_ entry: AuditEntry) throws {
        var line = try Self.encoder.encode(entry)
        line.append(0x0A)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        guard fd >= 0 else {
            throw AssistantError.audit("cannot open the audit log \(path): \(String(cString: strerror(errno))) — check the folder exists and is writable")
        }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw AssistantError.audit("could not append to the audit log \(path) — is the disk full?")
        }
    }

    public func recent(_ limit: Int) throws -> [AuditEntry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder(); decoder.dateDecodingStrategy = .iso8601
        let lines = data.split(separator: 0x0A)
        return try lines.suffix(max(0, limit)).enumerated().map { i, line in
            do { return try decoder.decode(AuditEntry.self, from: Data(line)) } catch {
                throw AssistantError.audit("the audit log \(path) has a damaged entry near the end (line \(lines.count - min(limit, lines.count) + i + 1)) — inspect the file")
            }
        }
    }
}

/// Errors of the Assistant layer.
public enum AssistantError: Error, LocalizedError, Equatable {
    /// Reading or writing the audit log failed.
    case audit(String)
    /// The question is empty or only whitespace.
    case emptyQuestion
    /// An input file (corpus, queries) is missing or malformed.
    case input(String)

    public var errorDescription: String? {
        switch self {
        case .audit(let m): m
        case .emptyQuestion: "the question is empty — type a question"
        case .input(let m): m
        }
    }
}


/// The audit log in the knowledge database (the CLI's choice).
extension AuditStore: AuditLog {
    public func record(_ e: AuditEntry) throws { try append(e) }
}
