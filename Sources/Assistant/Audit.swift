import Foundation
import Knowledge

/// One answered (or refused) question, as recorded for audit.
public struct AuditEntry: Sendable, Codable, Equatable {
    public var time: Date
    public var groups: [String]
    public var question: String
    /// Chunks put in the prompt (what the model saw), in source order.
    public var chunkIDs: [Int64]
    /// Chunks the final answer cites.
    public var citedChunkIDs: [Int64]
    public var modelID: String
    public var adapter: String?
    public var pack: String
    public var answer: String
    public var refused: Bool
    public var refusalReason: String?
    public var retrievalSeconds: Double
    public var generationSeconds: Double
    public var totalSeconds: Double
    /// Scenario-specific facts as JSON (customer service: intent, slots, lookup, reply path).
    public var detail: String?

    public init(time: Date, groups: [String], question: String, chunkIDs: [Int64], citedChunkIDs: [Int64], modelID: String,
                adapter: String?, pack: String, answer: String, refused: Bool, refusalReason: String?,
                retrievalSeconds: Double, generationSeconds: Double, totalSeconds: Double, detail: String? = nil) {
        self.detail = detail
        self.time = time; self.groups = groups; self.question = question; self.chunkIDs = chunkIDs
        self.citedChunkIDs = citedChunkIDs; self.modelID = modelID; self.adapter = adapter; self.pack = pack
        self.answer = answer; self.refused = refused; self.refusalReason = refusalReason
        self.retrievalSeconds = retrievalSeconds; self.generationSeconds = generationSeconds; self.totalSeconds = totalSeconds
    }
}

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


/// The audit log in the knowledge database (the CLI's choice): `AuditEntry` maps field for field.
extension AuditStore: AuditLog {
    public func record(_ e: AuditEntry) throws {
        try append(AuditRecord(time: e.time, groups: e.groups, question: e.question, chunkIDs: e.chunkIDs,
                               citedChunkIDs: e.citedChunkIDs, modelID: e.modelID, adapter: e.adapter, pack: e.pack,
                               answer: e.answer, refused: e.refused, refusalReason: e.refusalReason,
                               retrievalSeconds: e.retrievalSeconds, generationSeconds: e.generationSeconds,
                               totalSeconds: e.totalSeconds, detail: e.detail))
    }

    public func recent(_ limit: Int) throws -> [AuditEntry] {
        try (recent(limit) as [AuditRecord]).map { r in
            AuditEntry(time: r.time, groups: r.groups, question: r.question, chunkIDs: r.chunkIDs,
                       citedChunkIDs: r.citedChunkIDs, modelID: r.modelID, adapter: r.adapter, pack: r.pack,
                       answer: r.answer, refused: r.refused, refusalReason: r.refusalReason,
                       retrievalSeconds: r.retrievalSeconds, generationSeconds: r.generationSeconds,
                       totalSeconds: r.totalSeconds, detail: r.detail)
        }
    }
}
