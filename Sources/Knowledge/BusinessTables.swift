import CSQLite
import Foundation

/// The type of a business-table column, declared in a schema file or inferred from the values.
public enum BusinessColumnType: String, Sendable, Codable, CaseIterable {
    case integer, real, text, date

    var sqlType: String {
        switch self { case .integer: "INTEGER"; case .real: "REAL"; case .text, .date: "TEXT" }
    }

    /// The stored value for `raw`, nil when it does not fit. An empty field is NULL.
    func convert(_ raw: String) -> SQLValue? {
        let s = raw.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return .null }
        switch self {
        case .integer: return Int64(s).map(SQLValue.integer)
        case .real: return Double(s).flatMap { $0.isFinite ? SQLValue.real($0) : nil }
        case .date: return BusinessColumnType.isISODate(s) ? .text(s) : nil
        case .text: return .text(raw)
        }
    }

    /// `YYYY-MM-DD` naming a real calendar day.
    static func isISODate(_ s: String) -> Bool {
        let p = s.split(separator: "-", omittingEmptySubsequences: false)
        guard s.utf8.count == 10, p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
              let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]), (1...12).contains(m), d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return d <= days
    }

    /// The narrowest type that fits every non-empty value (integer ⊂ real; date; else text).
    static func infer(_ values: [String]) -> BusinessColumnType {
        let present = values.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if present.isEmpty { return .text }
        if present.allSatisfy({ Int64($0) != nil }) { return .integer }
        if present.allSatisfy({ Double($0).map(\.isFinite) ?? false }) { return .real }
        if present.allSatisfy(isISODate) { return .date }
        return .text
    }
}

/// One column of an imported table.
public struct BusinessColumn: Sendable, Codable, Equatable {
    public var name: String
    public var type: BusinessColumnType
    public init(name: String, type: BusinessColumnType) { self.name = name; self.type = type }
}

/// What the registry records about an imported table.
public struct BusinessTableInfo: Sendable, Codable, Equatable {
    public var name: String
    public var sourceFile: String
    public var sha256: String
    public var rows: Int
    public var columns: [BusinessColumn]
    /// ISO 8601 UTC time of the import.
    public var importedAt: String
}

/// Why business data could not be imported or read; each case says what to do.
public enum BusinessDataError: Error, LocalizedError, Equatable {
    /// A table or column name is not a plain identifier.
    case invalidIdentifier(String, what: String)
    /// Rows that do not fit; the import was refused and the previous table kept.
    case badRows(table: String, problems: [CSVProblem])
    /// The schema file is malformed or names columns the CSV lacks.
    case invalidSchema(file: String, detail: String)
    /// The CSV's header row is unusable (a column name repeated, ignoring case).
    case invalidHeader(file: String, detail: String)
    /// More columns than a business table may have.
    case tooManyColumns(file: String, count: Int, limit: Int)
    /// No imported table has this name.
    case unknownTable(String, known: [String])
    /// A named query is not a single read-only statement, or its parameters are wrong.
    case invalidQuery(detail: String)

    public var errorDescription: String? {
        switch self {
        case .invalidIdentifier(let n, let what):
            "'\(n)' is not a valid \(what) name — use letters, digits and _ (not starting with a digit, at most 64, not starting with sqlite_ or ending in __new)"
        case .badRows(let t, let ps):
            "\(ps.count) bad row\(ps.count == 1 ? "" : "s"); nothing imported, table '\(t)' unchanged — fix the file:\n"
                + ps.prefix(20).map { "  \($0)" }.joined(separator: "\n") + (ps.count > 20 ? "\n  … and \(ps.count - 20) more" : "")
        case .invalidSchema(let f, let d):
            "schema \(f): \(d) — expected {\"columns\": {\"column\": \"integer|real|text|date\", …}}"
        case .invalidHeader(let f, let d):
            "the header row of \(f): \(d)"
        case .tooManyColumns(let f, let n, let limit):
            "\(f) has \(n) columns; a business table has at most \(limit) — split the file, or keep the columns lookups use"
        case .unknownTable(let n, let known):
            "no business table '\(n)' — imported tables: \(known.isEmpty ? "none (run 'strata data import FILE.csv')" : known.joined(separator: ", "))"
        case .invalidQuery(let d):
            d
        }
    }
}

/// Business tables imported from CSV files into the knowledge database, with a registry of
/// where each came from. Names are validated and always quoted; values are always bound.
///
/// Namespace: a business table named `x` (any letter case: names are case-insensitive, as in
/// SQL) is stored as `biz_x`, lower case. No name a user can pick reaches Strata's own tables
/// (documents, chunks, the FTS5 shadow tables, the audit log …), which never start with `biz_`.
/// The registry keeps the business name; `data list/show`, lookups and reports use only that.
public enum BusinessTables {
    static let registry = "business_tables"
    /// Prefix of every business table's storage name.
    public static let prefix = "biz_"
    /// Columns a business table may have: lookups read a handful; thousands are a mistake (and
    /// past SQLite's own limit of 2,000).
    public static let maxColumns = 500

    /// The table that stores business table `name`.
    public static func storageName(_ name: String) -> String { prefix + name.lowercased() }

    /// Checks `name` is a plain identifier and returns it quoted for SQL.
    public static func quoted(_ name: String, what: String = "table") throws -> String {
        let ok = !name.isEmpty && name.utf8.count <= 64 && !name.lowercased().hasPrefix("sqlite_") && !name.hasSuffix("__new")
            && name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || $0 == "_")) || ("0"..."9").contains($0) }
            && !("0"..."9").contains(name.unicodeScalars.first!)
        guard ok else { throw BusinessDataError.invalidIdentifier(name, what: what) }
        return "\"\(name)\""
    }

    /// The registry is created by migration 003 in a store; a bare `Database` (tests, tools)
    /// gets the same table here. Keep the two definitions identical.
    static func ensureRegistry(_ db: Database) throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS \(registry) (
              name TEXT PRIMARY KEY, source_file TEXT NOT NULL, sha256 TEXT NOT NULL, rows INTEGER NOT NULL,
              columns_json TEXT NOT NULL, imported_at TEXT NOT NULL)
            """)
    }

    /// Imports `file` as table `table` (default: the file's stem), replacing any previous
    /// version atomically: the new rows go into `table__new`, which is renamed over the old
    /// table in the same transaction, so a reader sees the old table or the new one, never a mix.
    /// Any bad row refuses the whole import and leaves the old table as it was.
    @discardableResult
    public static func importCSV(_ db: Database, file: String, table: String? = nil, schemaFile: String? = nil,
                                 sheet: String? = nil, now: Date = Date()) throws -> BusinessTableInfo {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CSVError.unreadable(file: file, reason: FileManager.default.fileExists(atPath: file) ? "permission denied" : "no such file")
        }
        let name = (table ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent)
        _ = try quoted(name)
        let key = name.lowercased()
        let qTable = "\"\(storageName(key))\"", qNew = "\"\(storageName(key))__new\""
        let csv = try XLSXReader.isWorkbook(file) ? XLSXReader.table(SourceFile(name: file, bytes: [UInt8](data)), sheet: sheet)
            : CSVParser.parse(data: data, name: file)
        guard csv.header.count <= maxColumns else {
            throw BusinessDataError.tooManyColumns(file: file, count: csv.header.count, limit: maxColumns)
        }
        var seen: [String: (name: String, index: Int)] = [:]
        for (i, c) in csv.header.enumerated() {
            _ = try quoted(c, what: "column")
            if let first = seen[c.lowercased()] {
                throw BusinessDataError.invalidHeader(file: file, detail: "column \(i + 1) '\(c)' repeats column \(first.index + 1) '\(first.name)' (names are compared ignoring case) — rename one of them")
            }
            seen[c.lowercased()] = (c, i)
        }
        // Replacing a table keeps its recorded column types unless a schema says otherwise, so
        // a new version with a stray word in a number column is refused, not silently retyped.
        var declared: [String: BusinessColumnType] = [:]
        if let previous = try list(db).first(where: { $0.name == key }) {
            for c in previous.columns where csv.header.contains(c.name) { declared[c.name] = c.type }
        }
        declared.merge(try schemaFile.map { try readSchema($0, header: csv.header) } ?? [:]) { _, new in new }
        var problems = csv.problems
        for r in csv.records where r.fields.count != csv.header.count {
            problems.append(CSVProblem(line: r.line, message: "\(r.fields.count) fields, the header has \(csv.header.count) — quote fields that contain commas"))
        }
        let good = csv.records.filter { $0.fields.count == csv.header.count }
        let columns = csv.header.enumerated().map { i, c in
            BusinessColumn(name: c, type: declared[c] ?? BusinessColumnType.infer(good.map { $0.fields[i] }))
        }
        var rows: [[SQLValue]] = []
        for r in good {
            var values: [SQLValue] = []
            for (i, col) in columns.enumerated() {
                if let v = col.type.convert(r.fields[i]) { values.append(v); continue }
                problems.append(CSVProblem(line: r.line, message: "column \(col.name): '\(r.fields[i])' is not \(col.type == .integer ? "an" : "a") \(col.type.rawValue)\(col.type == .date ? " (YYYY-MM-DD)" : "")"))
            }
            rows.append(values)
        }
        guard problems.isEmpty else {
            throw BusinessDataError.badRows(table: name, problems: problems.sorted { $0.line < $1.line })
        }
        let info = BusinessTableInfo(name: key, sourceFile: URL(fileURLWithPath: file).standardizedFileURL.path,
                                     sha256: SHA256.hex(SHA256.digest([UInt8](data))), rows: rows.count,
                                     columns: columns, importedAt: ISO8601DateFormatter().string(from: now))
        try db.transaction {
            try ensureRegistry(db)
            try db.execute("DROP TABLE IF EXISTS \(qNew)")
            let defs = try columns.map { "\(try quoted($0.name, what: "column")) \($0.type.sqlType)" }.joined(separator: ", ")
            try db.execute("CREATE TABLE \(qNew) (\(defs))")
            let insert = try db.prepare("INSERT INTO \(qNew) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))")
            for r in rows { try insert.bind(r); try insert.runToEnd() }
            try db.execute("DROP TABLE IF EXISTS \(qTable)")
            try db.execute("ALTER TABLE \(qNew) RENAME TO \(qTable)")
            let json = String(decoding: try JSONEncoder().encode(columns), as: UTF8.self)
            // One registry row per lower-cased name (rows written by older versions may differ in case).
            try db.run("DELETE FROM \(registry) WHERE lower(name) = ?", [.text(key)])
            try db.run("INSERT INTO \(registry) VALUES (?, ?, ?, ?, ?, ?)",
                       [.text(key), .text(info.sourceFile), .text(info.sha256), .integer(Int64(info.rows)), .text(json), .text(info.importedAt)])
        }
        return info
    }

    /// Column types from a schema file: `{"columns": {"name": "integer|real|text|date"}}`.
    static func readSchema(_ path: String, header: [String]) throws -> [String: BusinessColumnType] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BusinessDataError.invalidSchema(file: path, detail: "cannot read the file")
        }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], obj.keys.sorted() == ["columns"],
              let cols = obj["columns"] as? [String: String] else {
            throw BusinessDataError.invalidSchema(file: path, detail: "not an object with exactly one key \"columns\" mapping names to types")
        }
        var out: [String: BusinessColumnType] = [:]
        for (c, t) in cols {
            guard header.contains(c) else {
                throw BusinessDataError.invalidSchema(file: path, detail: "column '\(c)' is not in the CSV header (\(header.joined(separator: ",")))")
            }
            guard let type = BusinessColumnType(rawValue: t) else {
                throw BusinessDataError.invalidSchema(file: path, detail: "column '\(c)': unknown type '\(t)'")
            }
            out[c] = type
        }
        return out
    }

    /// Every imported table, by name.
    public static func list(_ db: Database) throws -> [BusinessTableInfo] {
        try ensureRegistryIfWritable(db)
        guard try tableExists(db, registry) else { return [] }
        return try db.query("SELECT name, source_file, sha256, rows, columns_json, imported_at FROM \(registry) ORDER BY name") { r in
            let cols = (try? JSONDecoder().decode([BusinessColumn].self, from: Data(r.text(4).utf8))) ?? []
            return BusinessTableInfo(name: r.text(0), sourceFile: r.text(1), sha256: r.text(2), rows: Int(r.int(3)),
                                     columns: cols, importedAt: r.text(5))
        }
    }

    private static func ensureRegistryIfWritable(_ db: Database) throws {
        if sqlite3_db_readonly(db.handle, "main") == 0 { try ensureRegistry(db) }
    }

    static func tableExists(_ db: Database, _ name: String) throws -> Bool {
        try !db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) { _ in 1 }.isEmpty
    }

    /// The first `limit` rows of an imported table (`table` in any letter case).
    public static func rows(_ db: Database, table: String, limit: Int) throws -> BusinessRows {
        let known = try list(db).map(\.name)
        guard known.contains(table.lowercased()) else { throw BusinessDataError.unknownTable(table, known: known) }
        return try BusinessQuery.run(db, sql: "SELECT * FROM \"\(storageName(table))\" LIMIT ?", positional: [.integer(Int64(max(0, limit)))])
    }

    /// The distinct non-empty values of one column, for matching slot values.
    public static func distinctValues(_ db: Database, table: String, column: String) throws -> [String] {
        _ = try quoted(table)
        let sql = "SELECT DISTINCT \(try quoted(column, what: "column")) FROM \"\(storageName(table))\" WHERE \(try quoted(column, what: "column")) IS NOT NULL"
        return try db.query(sql) { $0.text(0) }.filter { !$0.isEmpty }
    }
}
