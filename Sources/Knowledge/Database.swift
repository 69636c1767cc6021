import CSQLite
import Foundation

/// Everything SQLite reported when a call failed: result code, message and the SQL involved.
///
/// Bound values are deliberately absent from the description: they may hold document text or
/// business data that must not end up in logs.
public struct DatabaseError: Error, LocalizedError, Sendable, Equatable {
    /// The extended SQLite result code (e.g. 19 = SQLITE_CONSTRAINT, 8 = SQLITE_READONLY).
    public let code: Int32
    /// SQLite's message, or ours when the failure was detected before SQLite was called.
    public let message: String
    /// The statement that failed, when there was one.
    public let sql: String?

    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code; self.message = message; self.sql = sql
    }

    public var errorDescription: String? {
        var s = "SQLite error \(code): \(message)"
        if let sql { s += " (while running: \(Self.clipped(sql)))" }
        if code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED {
            s += " — another process is writing the database; retry when it has finished"
        } else if code & 0xff == SQLITE_READONLY {
            s += " — the database is opened read-only or its file is not writable"
        } else if code & 0xff == SQLITE_NOTADB || code & 0xff == SQLITE_CORRUPT {
            s += " — the file is not a Strata database (or is damaged); point --db at another path"
        }
        return s
    }

    /// SQL as shown in a message: whitespace runs folded, at most `limit` characters. A statement
    /// built from a file (a CREATE TABLE of thousands of columns) would otherwise fill the screen.
    static func clipped(_ sql: String, limit: Int = 200) -> String {
        let flat = sql.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        guard flat.count > limit else { return flat }
        return flat.prefix(limit) + "… (\(flat.count) characters)"
    }
}

/// A value that can be bound to a statement parameter.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// One SQLite connection. Not thread-safe: use one per thread (SQLite's own rule for a connection
/// opened without a shared mutex is the same).
public final class Database {
    /// How to open the file.
    public enum Mode: Sendable {
        /// Read and write, creating the file when missing.
        case readWrite
        /// Read only: writes fail with SQLITE_READONLY (used for business lookups).
        case readOnly
        /// Read only and without locks: SQLite assumes nobody changes the file while it is open
        /// (`immutable=1`). The one way to read a WAL database whose folder we may not write
        /// (SQLite cannot create the -shm file); see `StoreFile.open`.
        case immutable
    }

    package let handle: OpaquePointer
    public let path: String

    /// Opens (or creates) the database at `path`; `":memory:"` gives a private in-memory database.
    public init(path: String, mode: Mode = .readWrite) throws {
        var db: OpaquePointer?
        var flags: Int32
        var name = path
        switch mode {
        case .readWrite: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readOnly: flags = SQLITE_OPEN_READONLY
        case .immutable:
            flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            name = "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#"))) ?? absolute) + "?mode=ro&immutable=1"
        }
        let rc = sqlite3_open_v2(name, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: strata_sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw DatabaseError(code: rc, message: "cannot open '\(path)': \(message)")
        }
        handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        // Wait a little for a concurrent writer instead of failing at once.
        sqlite3_busy_timeout(db, 5_000)
        try execute("PRAGMA foreign_keys = ON")
        if mode == .readWrite && path != ":memory:" && !path.isEmpty {
            // WAL: readers (search) never block the writer (ingest) and a crash mid-write
            // leaves the last committed state.
            try execute("PRAGMA journal_mode = WAL")
            try execute("PRAGMA synchronous = NORMAL")
            // 64 MB page cache: FTS5 segment merges during a large ingest re-read their pages.
            try execute("PRAGMA cache_size = -65536")
        }
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more statements that take no parameters and return no rows we need.
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(err)
            throw DatabaseError(code: rc, message: message, sql: sql)
        }
    }

    /// Compiles `sql`; bind values with `Statement.bind`, then step it.
    public func prepare(_ sql: String) throws -> Statement {
        try Statement(database: self, sql: sql)
    }

    /// A compiled statement for `sql`, reused across calls: compiling the search query costs about
    /// as much as running it. A statement still being stepped (nested use) is never handed out twice.
    public func cachedStatement(_ sql: String) throws -> Statement {
        if let st = statementCache[sql], sqlite3_stmt_busy(st.handle) == 0 { return st }
        let st = try prepare(sql)
        if statementCache.count >= 64 { statementCache.removeAll() }
        statementCache[sql] = st
        return st
    }
    private var statementCache: [String: Statement] = [:]

    /// Runs `sql` with `values` bound in order (for statements whose rows we do not need).
    public func run(_ sql: String, _ values: [SQLValue] = []) throws {
        let st = try cachedStatement(sql)
        try st.bind(values)
        defer { st.reset() }
        try st.runToEnd()
    }

    /// Runs `sql` with `values` bound and maps every row (a `Row` is only valid inside `map`).
    public func query<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (Row) throws -> T) throws -> [T] {
        let st = try cachedStatement(sql)
        try st.bind(values)
        defer { st.reset() }
        var out: [T] = []
        while let row = try st.step() { out.append(try map(row)) }
        return out
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; any thrown error rolls everything back,
    /// so a failure halfway leaves the database exactly as it was. Called inside another
    /// transaction it becomes a savepoint: a failure undoes only this body, the outer one goes on.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if sqlite3_get_autocommit(handle) == 0 {
            savepointDepth += 1
            let name = "strata_sp\(savepointDepth)"
            defer { savepointDepth -= 1 }
            try execute("SAVEPOINT \(name)")
            do {
                let result = try body()
                try execute("RELEASE \(name)")
                return result
            } catch {
                try? execute("ROLLBACK TO \(name)")
                try? execute("RELEASE \(name)")
                throw error
            }
        }
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
    private var savepointDepth = 0

    /// True while a transaction is open on this connection.
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }
    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }
}

/// A compiled statement. Rows are read through `Row`, which is only valid until the next step.
public final class Statement {
    /// `SQLITE_TRANSIENT`: SQLite copies bound text/blobs, so Swift buffers may go away at once.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// The connection, not the `Database`: the database caches statements, and a strong
    /// reference back would keep both alive forever. sqlite3_close_v2 waits for live statements.
    let db: OpaquePointer
    let handle: OpaquePointer
    public let sql: String

    init(database: Database, sql: String) throws {
        var st: OpaquePointer?
        let rc = sqlite3_prepare_v2(database.handle, sql, -1, &st, nil)
        guard rc == SQLITE_OK, let st else {
            throw DatabaseError(code: rc, message: database.lastMessage, sql: sql)
        }
        self.db = database.handle
        self.handle = st
        self.sql = sql
    }
    private var lastMessage: String { String(cString: sqlite3_errmsg(db)) }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and binds `values` to parameters 1...n.
    public func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (i, v) in values.enumerated() { try bind(v, at: Int32(i + 1)) }
    }

    public func bind(_ value: SQLValue, at index: Int32) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(handle, index)
        case .integer(let v): rc = sqlite3_bind_int64(handle, index, v)
        case .real(let v): rc = sqlite3_bind_double(handle, index, v)
        case .text(let s): rc = sqlite3_bind_text(handle, index, s, -1, Self.transient)
        case .blob(let b):
            rc = b.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Self.transient) }
        }
        guard rc == SQLITE_OK else { throw DatabaseError(code: rc, message: lastMessage, sql: sql) }
    }

    /// Binds raw bytes (e.g. a Float32 vector) without an intermediate array.
    public func bindBlob(_ bytes: UnsafeRawBufferPointer, at index: Int32) throws {
        let rc = sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
        guard rc == SQLITE_OK else { throw DatabaseError(code: rc, message: lastMessage, sql: sql) }
    }

    /// Ends the current run (releases read locks) and clears bindings of big values.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Advances one row; nil when the statement is done.
    public func step() throws -> Row? {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return Row(statement: handle)
        case SQLITE_DONE: return nil
        default: throw DatabaseError(code: rc, message: lastMessage, sql: sql)
        }
    }

    /// Steps to completion, ignoring rows (for INSERT/UPDATE/DELETE).
    public func runToEnd() throws {
        while try step() != nil {}
    }
}

/// The current row of a statement; column indexes start at 0.
public struct Row {
    let statement: OpaquePointer

    public func int(_ i: Int32) -> Int64 { sqlite3_column_int64(statement, i) }
    public func double(_ i: Int32) -> Double { sqlite3_column_double(statement, i) }
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(statement, i) == SQLITE_NULL }
    public func text(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(statement, i) else { return "" }
        let n = Int(sqlite3_column_bytes(statement, i))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    /// The column's bytes, valid only until the next step; copy what you keep.
    public func withBlob<T>(_ i: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let p = sqlite3_column_blob(statement, i)
        let n = Int(sqlite3_column_bytes(statement, i))
        return try body(UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n))
    }
}
