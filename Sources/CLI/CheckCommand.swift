import Foundation
import Knowledge

/// `strata check`: verifies Strata's own invariants and lists every problem.
struct CheckCommand: CLICommand {
    static let name = "check"
    static let summary = "verify the knowledge database's invariants (read-only)"
    static let usage = """
    Usage: strata check [--db PATH]

    Checks, without writing: SQLite's integrity and foreign keys; every table Strata expects, with
    its columns; the full-text index in step with the chunks (same rows, FTS5 integrity-check when
    the file is writable); no orphans (chunks without a document, vectors without a chunk, access
    groups without a document); the restricted flag agreeing with the access groups; every
    migration known and applied; every registered business table present with its recorded
    columns, and nothing unregistered in the business namespace (biz_*); one vector dimension
    per model. A database written by an older Strata is upgraded first when you may write it.

    Exit status: 0 healthy; 1 problems found (each printed) or the file is not a Strata database.
    """
    static let options: [OptionSpec] = []

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.isEmpty else { throw CLIError.usage("check takes no arguments (the database is --db)", command: name) }
        let db = try args.openDatabase(.read, missing: "give the path of a Strata database with --db PATH")
        var problems = try StoreCheck.problems(db)
        // FTS5's structure check is an INSERT (that writes nothing), so it needs a writable connection.
        var notes: [String] = []
        if let rw = try? StoreFile.open(args.databasePath, .write) {
            if let p = try StoreCheck.ftsIntegrity(rw) { problems.append(p) }
        } else {
            notes.append("FTS5 integrity-check skipped: the database is not writable by this user")
        }
        for n in notes { printErr("note: \(n)") }
        guard problems.isEmpty else {
            for p in problems { print("problem: \(p)") }
            throw CLIError.failed("\(counted(problems.count, "problem")) in '\(args.databasePath)'")
        }
        let store = KnowledgeStore(database: db)
        let tables = try BusinessTables.list(db).count
        print("ok: \(counted(store.documentCount, "document")), \(counted(store.chunkCount, "chunk")), \(counted(tables, "business table")) — every invariant holds")
        return 0
    }
}
