import Foundation
import Knowledge

/// How commands open the database: every command goes through here, so the rules hold for all
/// of them (see `StoreFile`): readers open read-only and never create; only `ingest` and
/// `data import` create; nothing is written to a file that is not a Strata database; a path that
/// would make SQLite use a vanishing database is refused, naming where it came from.
extension Runtime {
    /// Refuses `--db ""`, `--db :memory:`, an SQLite URI, or `STRATA_DB` set but empty: each
    /// would make a writing command report success into a database that vanishes.
    public func checkDatabasePath() throws {
        let path = configuration.databasePath
        guard StoreFile.isVanishing(path) else { return }
        let why = "SQLite would use a temporary database that vanishes when the command ends"
        switch configuration.databaseSource {
        case .flag: throw RuntimeError.usage("--db '\(path)' is not a database file: \(why) — give the path of a file")
        case .file: throw RuntimeError.failed("the config file sets db to '\(path)', which is not a database file: \(why) — give the path of a file")
        case .environment, .defaultValue:
            throw RuntimeError.failed("$STRATA_DB is set to '\(path)', which is not a database file: \(why) — set STRATA_DB to a file path, unset it, or pass --db PATH")
        }
    }

    /// Opens the database for `access`. `missing` tells a user whose database does not exist
    /// yet what to do (readers never create one).
    public func openDatabase(_ access: StoreAccess, missing: String = Runtime.noDatabaseHint) throws -> Database {
        try checkDatabasePath()
        let path = configuration.databasePath
        do {
            return try StoreFile.open(path, access)
        } catch StoreFileError.missing {
            throw RuntimeError.failed("no knowledge database at '\(path)' — \(missing)")
        } catch let e as StoreFileError {
            throw RuntimeError.failed(e.localizedDescription)
        } catch let e as DatabaseError {
            throw RuntimeError.failed("cannot use the database '\(path)': \(e.localizedDescription)")
        }
    }

    public static let noDatabaseHint = "run 'strata ingest PATH' first, or pass --db PATH / set STRATA_DB"

    /// The knowledge store, opened once per access mode and shared by the pieces that read it.
    public func store(_ access: StoreAccess, missing: String = Runtime.noDatabaseHint) throws -> KnowledgeStore {
        try cached("store \(access)") { KnowledgeStore(database: try openDatabase(access, missing: missing)) }
    }

    /// The audit log, opened to append. `why` says what the command records, for the message
    /// given when the database may not be written.
    public func auditLog(recording why: String, withoutAudit: String? = nil) throws -> AuditStore {
        do {
            return try cached("audit") { AuditStore(database: try openDatabase(.write)) }
        } catch RuntimeError.failed(let m) where m.contains("needs write access") {
            throw RuntimeError.failed(m + " — \(why) is recorded in the audit log" + (withoutAudit.map { "; \($0)" } ?? ""))
        }
    }
}
