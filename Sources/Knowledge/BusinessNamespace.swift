import CSQLite
import Foundation

/// The business namespace: moving tables imported by older versions into it, and the lookup
/// connection on which pack queries see business tables under their business names.
extension BusinessTables {
    /// Earlier versions stored a business table under its bare name, so `documents.csv` replaced
    /// the documents table, and `PRODUCTS.csv` left a second registry row for `products`. This
    /// moves every registered table that still exists to `biz_<lower-cased name>` and keeps one
    /// registry row per lower-cased name: the latest import whose columns match the table.
    /// Registry rows whose table is gone are dropped (there is nothing left to list).
    public static let namespaceMigration = Migration(
        name: "004_business_namespace",
        sql: "-- business tables move to biz_<name>: see BusinessTables.moveIntoNamespace",
        apply: { try moveIntoNamespace($0) })

    static func moveIntoNamespace(_ db: Database) throws {
        try ensureRegistry(db)
        struct Entry { var name, sourceFile, sha256: String; var rows: Int64; var columns, importedAt: String }
        let entries = try db.query("SELECT name, source_file, sha256, rows, columns_json, imported_at FROM \(registry)") {
            Entry(name: $0.text(0), sourceFile: $0.text(1), sha256: $0.text(2), rows: $0.int(3), columns: $0.text(4), importedAt: $0.text(5))
        }
        var tables: [String: String] = [:]   // lower-cased → actual name
        for t in try db.query("SELECT name FROM sqlite_master WHERE type = 'table'", [], { $0.text(0) }) { tables[t.lowercased()] = t }
        func columnsMatch(_ table: String, _ json: String) throws -> Bool {
            let recorded = ((try? JSONDecoder().decode([BusinessColumn].self, from: Data(json.utf8))) ?? []).map { $0.name.lowercased() }
            let actual = try db.query("SELECT lower(name) FROM pragma_table_info(?) ORDER BY cid", [.text(table)]) { $0.text(0) }
            return !recorded.isEmpty && recorded == actual
        }
        // Each registered name claims its table: under the bare name first (where older versions
        // put it), else already in the namespace (a registry a bare connection filled in).
        var keep: [String: (entry: Entry, table: String)] = [:]
        var claimed = Set<String>()
        let newestFirst = entries.sorted { $0.importedAt > $1.importedAt }
        for namespaced in [false, true] {
            for e in newestFirst {
                let key = e.name.lowercased()
                let candidate = namespaced ? storageName(key) : key
                guard keep[key] == nil, !claimed.contains(candidate), let table = tables[candidate],
                      try columnsMatch(table, e.columns) else { continue }
                keep[key] = (e, table)
                claimed.insert(candidate)
            }
        }
        // Through temporary names: a table already called biz_x may have to make room for x.
        let moves = keep.keys.sorted().enumerated().map { i, key in (from: keep[key]!.table, temp: "strata_move_\(i)", to: storageName(key)) }
        for m in moves { try db.execute("ALTER TABLE \"\(m.from)\" RENAME TO \"\(m.temp)\"") }
        for m in moves { try db.execute("ALTER TABLE \"\(m.temp)\" RENAME TO \"\(m.to)\"") }
        try db.execute("DELETE FROM \(registry)")
        for (key, (e, _)) in keep {
            try db.run("INSERT INTO \(registry) VALUES (?, ?, ?, ?, ?, ?)",
                       [.text(key), .text(e.sourceFile), .text(e.sha256), .integer(e.rows), .text(e.columns), .text(e.importedAt)])
        }
    }

    /// A read-only connection for a pack's lookups and slot values. Each business table appears
    /// under its business name as a TEMP VIEW of its columns plus `rowid` (lookups may order by
    /// it), and an authorizer lets statements read business tables only.
    ///
    /// Why views rather than rewriting the lookups' SQL: the lookups are SQL written by pack
    /// authors; renaming tables in that text needs a parser (string literals, aliases, quoted
    /// names, a column named like a table), while a view resolves the name exactly as SQLite
    /// resolves a table's, on this connection only. Why the authorizer: a lookup is data from a
    /// pack folder, and must not read documents, chunks or the audit log (restricted text); it
    /// may read business tables, their registry, and the schema.
    public static func lookupConnection(path: String) throws -> Database {
        let db = try StoreFile.open(path, .read)
        try exposeBusinessNames(db)
        return db
    }

    /// Creates the views and installs the authorizer on `db` (see `lookupConnection`).
    public static func exposeBusinessNames(_ db: Database) throws {
        for t in try list(db) {
            try db.execute("CREATE TEMP VIEW \(try quoted(t.name)) AS SELECT rowid AS rowid, * FROM main.\"\(storageName(t.name))\"")
        }
        sqlite3_set_authorizer(db.handle, { _, action, table, _, schema, _ in
            guard action == SQLITE_READ, let table else { return SQLITE_OK }
            if let schema, String(cString: schema) == "temp" { return SQLITE_OK }
            let name = String(cString: table).lowercased()
            let allowed = name.hasPrefix(BusinessTables.prefix) || name == BusinessTables.registry
                || name == "sqlite_master" || name == "sqlite_schema"   // names and DDL, no data
            return allowed ? SQLITE_OK : SQLITE_DENY
        }, nil)
    }
}
