import Foundation
import Knowledge
import Runtime

/// The database through the runtime (`Runtime+DatabaseAccess`), under the names the commands use.
extension ParsedArguments {
    func checkDatabasePath() throws { try runtime.checkDatabasePath() }

    func openDatabase(_ access: StoreAccess, missing: String = Runtime.noDatabaseHint) throws -> Database {
        try runtime.openDatabase(access, missing: missing)
    }

    func openStore(_ access: StoreAccess, missing: String = Runtime.noDatabaseHint) throws -> KnowledgeStore {
        try runtime.store(access, missing: missing)
    }

    func openAuditLog(recording why: String, withoutAudit: String? = nil) throws -> AuditStore {
        try runtime.auditLog(recording: why, withoutAudit: withoutAudit)
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
