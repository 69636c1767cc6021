import Foundation
import Knowledge

/// How commands open the database: every command goes through here, so the rules hold for all
/// of them (see `StoreFile`): readers open read-only and never create; only `ingest` and
/// `data import` create; nothing is written to a file that is not a Strata database; a path that
/// would make SQLite use a vanishing database is refused, naming where it came from.
extension ParsedArguments {
    /// Refuses `--db ""`, `--db :memory:`, an SQLite URI, or `STRATA_DB` set but empty: each
    /// would make a writing command report success into a database that vanishes.
    func checkDatabasePath() throws {
        let path = databasePath
        guard StoreFile.isVanishing(path) else { return }
        let why = "SQLite would use a temporary database that vanishes when the command ends"
        if value("db") != nil {
            throw CLIError.usage("--db '\(path)' is not a database file: \(why) — give the path of a file", command: command)
        }
        throw CLIError.failed("$STRATA_DB is set to '\(path)', which is not a database file: \(why) — set STRATA_DB to a file path, unset it, or pass --db PATH")
    }

    /// Opens the database for `access`. `missing` tells a user whose database does not exist
    /// yet what to do (readers never create one).
    func openDatabase(_ access: StoreAccess, missing: String = "run 'strata ingest PATH' first, or pass --db PATH / set STRATA_DB") throws -> Database {
        try checkDatabasePath()
        let path = databasePath
        do {
            return try StoreFile.open(path, access)
        } catch StoreFileError.missing {
            throw CLIError.failed("no knowledge database at '\(path)' — \(missing)")
        } catch let e as StoreFileError {
            throw CLIError.failed(e.localizedDescription)
        } catch let e as DatabaseError {
            throw CLIError.failed("cannot use the database '\(path)': \(e.localizedDescription)")
        }
    }

    func openStore(_ access: StoreAccess, missing: String = "run 'strata ingest PATH' first, or pass --db PATH / set STRATA_DB") throws -> KnowledgeStore {
        KnowledgeStore(database: try openDatabase(access, missing: missing))
    }

    /// The audit log, opened to append. `why` says what the command records, for the message
    /// given when the database may not be written.
    func openAuditLog(recording why: String, withoutAudit: String? = nil) throws -> AuditStore {
        do {
            return AuditStore(database: try openDatabase(.write))
        } catch let e as CLIError {
            guard case .failed(let m) = e, m.contains("needs write access") else { throw e }
            throw CLIError.failed(m + " — \(why) is recorded in the audit log" + (withoutAudit.map { "; \($0)" } ?? ""))
        }
    }

    /// `--no-audit` is for reads of public text only: a read that may return restricted text
    /// (any read with --as) is always recorded.
    func auditRequired() throws -> Bool {
        guard has("no-audit") else { return true }
        if !groups.isEmpty {
            throw CLIError.usage("--no-audit cannot be combined with --as: every read that may return restricted text is recorded in the audit log", command: command)
        }
        return false
    }
}
