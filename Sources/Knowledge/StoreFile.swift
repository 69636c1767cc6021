import CSQLite
import Foundation

/// How a command uses the database file.
public enum StoreAccess: Sendable, Equatable {
    /// Reads only: opened read-only, never created. Works on a file the user may not write.
    case read
    /// Reads and writes an existing Strata database (e.g. to append to the audit log).
    case write
    /// Like `write`, and a missing or empty file becomes a new Strata database. Only the commands
    /// that add knowledge (`ingest`, `data import`) ask for this.
    case create
}

/// Why the database file cannot be used as asked. Each message says what to do.
public enum StoreFileError: Error, LocalizedError, Equatable {
    /// "", ":memory:" or an SQLite URI: SQLite would use a database that vanishes with the process.
    case vanishingPath(String)
    case missing(String)
    case isDirectory(String)
    /// The file exists but Strata did not create it (another SQLite database, or not SQLite at all).
    case notStrata(String, detail: String)
    /// The command writes, and the file or its folder is not writable by this user.
    case needsWrite(String, detail: String)
    /// Written by an older Strata; the schema upgrade needs write access this user lacks.
    case needsUpgrade(String, pending: [String])
    /// Cannot be read as it is (e.g. an unfinished write-ahead log in a read-only folder).
    case unreadable(String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .vanishingPath(let p):
            "'\(p)' is not a database file: SQLite would use a temporary database that vanishes when the command ends — give the path of a file with --db PATH (or $STRATA_DB)"
        case .missing(let p): "no database at '\(p)'"
        case .isDirectory(let p): "'\(p)' is a folder — give the path of the database file (e.g. \(p)/strata.db)"
        case .notStrata(let p, let d):
            "'\(p)' is not a Strata database (\(d)); Strata never writes to it — point --db at a Strata database, or at a new file to create one"
        case .needsWrite(let p, let d):
            "this command needs write access to '\(p)' (\(d)) — run it as a user who may write the file and its folder, or on a writable copy"
        case .needsUpgrade(let p, let pending):
            "'\(p)' was written by an older Strata and its schema must be upgraded (\(pending.joined(separator: ", "))), which needs write access — have its owner run 'strata check' on it once"
        case .unreadable(let p, let d): "cannot read '\(p)': \(d)"
        }
    }
}

/// Opens the database file for a command, with the checks every command shares: no path that
/// would make SQLite use a vanishing database, nothing written to a file that is not Strata's
/// (it is identified read-only first), only `create` may make a new database, and reading works
/// on files and folders the user may not write.
public enum StoreFile {
    /// True for paths SQLite does not treat as a file that outlives the process.
    public static func isVanishing(_ path: String) -> Bool {
        let p = path.trimmingCharacters(in: .whitespaces)
        return p.isEmpty || p == ":memory:" || p.hasPrefix("file:")
    }

    public static func open(_ path: String, _ access: StoreAccess) throws -> Database {
        guard !isVanishing(path) else { throw StoreFileError.vanishingPath(path) }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            guard access == .create else { throw StoreFileError.missing(path) }
            try requireWritable(path, exists: false)
            return try openForWriting(path)
        }
        if isDir.boolValue { throw StoreFileError.isDirectory(path) }
        let kind = try identify(path)
        if kind == .empty && access != .create { throw StoreFileError.notStrata(path, detail: "it is empty") }
        if access == .read {
            let pending = try Schema.pending(try openForReading(path))
            if !pending.isEmpty {
                // An upgrade is ours to make when we may write; a reader without that right must ask.
                guard (try? requireWritable(path, exists: true)) != nil else { throw StoreFileError.needsUpgrade(path, pending: pending) }
                _ = try openForWriting(path)
            }
            return try openForReading(path)
        }
        try requireWritable(path, exists: true)
        return try openForWriting(path)
    }

    private static func openForWriting(_ path: String) throws -> Database {
        let db = try Database(path: path, mode: .readWrite)
        try Schema.migrate(db)
        return db
    }

    /// A read-only connection. A WAL database needs its -shm file, which SQLite creates beside it;
    /// in a folder we may not write, and with no write-ahead log left (every commit is in the main
    /// file), the file is opened immutable: a read-only copy for public use is only ever replaced
    /// whole (README: Trust model), never written in place.
    static func openForReading(_ path: String) throws -> Database {
        do {
            let db = try Database(path: path, mode: .readOnly)
            _ = try db.query("SELECT count(*) FROM sqlite_master") { $0.int(0) }
            return db
        } catch let e as DatabaseError where [SQLITE_READONLY, SQLITE_CANTOPEN].contains(e.code & 0xff) {
            let wal = Ingestor.fileStat(path + "-wal")?.size ?? 0
            guard wal == 0 else {
                throw StoreFileError.unreadable(path, detail: "it has an unfinished write-ahead log (\(path)-wal) and its folder is read-only — have its owner run 'strata check' on it once")
            }
            let db = try Database(path: path, mode: .immutable)
            _ = try db.query("SELECT count(*) FROM sqlite_master") { $0.int(0) }
            return db
        }
    }

    enum Kind { case empty, strata, legacyBusiness }

    /// What the file holds, read without writing anything.
    static func identify(_ path: String) throws -> Kind {
        let db: Database
        let objects: [(type: String, name: String)]
        do {
            db = try openForReading(path)
            objects = try db.query("SELECT type, name FROM sqlite_master") { (type: $0.text(0), name: $0.text(1)) }
        } catch let e as DatabaseError where e.code & 0xff == SQLITE_NOTADB {
            throw StoreFileError.notStrata(path, detail: "it is not an SQLite database")
        }
        if objects.isEmpty { return .empty }
        let tables = objects.filter { $0.type == "table" }.map(\.name)
        func columns(_ table: String) throws -> [String] {
            try db.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(table)]) { $0.text(0) }
        }
        if tables.contains("schema_migrations"), try columns("schema_migrations") == ["name", "applied_at"],
           try !db.query("SELECT 1 FROM schema_migrations WHERE name = ?", [.text(Schema.migrations[0].name)]) { _ in 1 }.isEmpty {
            return .strata
        }
        // Files an early 'data import' wrote: the registry and the tables it lists, nothing else.
        if tables.contains("business_tables"),
           try columns("business_tables") == ["name", "source_file", "sha256", "rows", "columns_json", "imported_at"] {
            let registered = Set(try db.query("SELECT lower(name) FROM business_tables") { $0.text(0) })
            if tables.allSatisfy({ $0 == "business_tables" || registered.contains($0.lowercased())
                                   || registered.contains(String($0.lowercased().dropFirst(BusinessTables.prefix.count))) }) {
                return .legacyBusiness
            }
        }
        let shown = tables.sorted().prefix(5).joined(separator: ", ")
        throw StoreFileError.notStrata(path, detail: tables.isEmpty ? "it holds no tables Strata made" : "it holds tables Strata did not make: \(shown)")
    }

    /// Throws `needsWrite` unless this user may write the file and its folder (SQLite keeps the
    /// -wal and -shm files beside the database).
    static func requireWritable(_ path: String, exists: Bool) throws {
        let folder = (URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path)
        if exists && access(path, W_OK) != 0 {
            throw StoreFileError.needsWrite(path, detail: "the file is read-only for this user: \(String(cString: strerror(errno)))")
        }
        if !FileManager.default.fileExists(atPath: folder) {
            throw StoreFileError.needsWrite(path, detail: "its folder \(folder) does not exist — create it first")
        }
        if access(folder, W_OK) != 0 {
            throw StoreFileError.needsWrite(path, detail: "its folder \(folder) is not writable for this user: \(String(cString: strerror(errno)))")
        }
    }
}
