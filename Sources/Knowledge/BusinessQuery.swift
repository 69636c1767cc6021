import CSQLite
import Foundation

/// Rows a business query returned, with column names, values kept typed for rendering.
public struct BusinessRows: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[SQLValue]]
    public init(columns: [String], rows: [[SQLValue]]) { self.columns = columns; self.rows = rows }

    /// A value as text: integers plainly, reals without trailing zeros noise, NULL as "".
    public static func text(_ v: SQLValue) -> String {
        switch v {
        case .null: ""
        case .integer(let i): String(i)
        case .real(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .text(let s): s
        case .blob(let b): "<\(b.count) bytes>"
        }
    }

    /// Row `i` as column → text.
    public func record(_ i: Int) -> [String: String] {
        Dictionary(zip(columns, rows[i].map(Self.text)), uniquingKeysWith: { a, _ in a })
    }
}

/// Named, parameterised queries over business tables: checked to be one read-only statement
/// whose parameters are `:names`, and run with values only ever bound.
public enum BusinessQuery {
    /// What a query needs and returns.
    public struct Shape: Sendable, Equatable {
        public var parameters: [String]
        public var columns: [String]
    }

    /// Prepares `sql` and checks it: a single statement (no tail), read-only
    /// (`sqlite3_stmt_readonly`), and named parameters only (`:name`).
    public static func check(_ db: Database, sql: String) throws -> Shape {
        let st = try prepareSingle(db, sql)
        defer { sqlite3_finalize(st) }
        guard sqlite3_stmt_readonly(st) != 0 else {
            throw BusinessDataError.invalidQuery(detail: "the statement writes to the database; only a read-only SELECT is allowed")
        }
        var params: [String] = []
        let n = sqlite3_bind_parameter_count(st)
        if n > 0 {
            for i in 1...n {
                guard let p = sqlite3_bind_parameter_name(st, i), String(cString: p).hasPrefix(":") else {
                    throw BusinessDataError.invalidQuery(detail: "parameter \(i) is not named — write :slot_name instead of ? so it is bound from the slot of that name")
                }
                params.append(String(String(cString: p).dropFirst()))
            }
        }
        let columns = (0..<sqlite3_column_count(st)).map { String(cString: sqlite3_column_name(st, $0)) }
        return Shape(parameters: params, columns: columns)
    }

    /// Runs a checked query with named values (missing ones are NULL).
    public static func run(_ db: Database, sql: String, named: [String: SQLValue]) throws -> BusinessRows {
        let shape = try check(db, sql: sql)
        return try run(db, sql: sql, positional: shape.parameters.map { named[$0] ?? .null })
    }

    static func run(_ db: Database, sql: String, positional: [SQLValue]) throws -> BusinessRows {
        let st = try db.prepare(sql)
        try st.bind(positional)
        let count = sqlite3_column_count(st.handle)
        let columns = (0..<count).map { String(cString: sqlite3_column_name(st.handle, $0)) }
        var rows: [[SQLValue]] = []
        while let r = try st.step() {
            rows.append((0..<count).map { i in
                switch sqlite3_column_type(st.handle, i) {
                case SQLITE_NULL: .null
                case SQLITE_INTEGER: .integer(r.int(i))
                case SQLITE_FLOAT: .real(r.double(i))
                case SQLITE_BLOB: r.withBlob(i) { .blob(Array($0)) }
                default: .text(r.text(i))
                }
            })
        }
        return BusinessRows(columns: columns, rows: rows)
    }

    private static func prepareSingle(_ db: Database, _ sql: String) throws -> OpaquePointer {
        var st: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let rc = sql.withCString { base -> Int32 in
            let rc = sqlite3_prepare_v2(db.handle, base, -1, &st, &tail)
            // Anything but whitespace after the first statement is a second statement.
            if rc == SQLITE_OK, let t = tail, !String(cString: t).trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";"))).isEmpty {
                tail = nil
                return -1
            }
            return rc
        }
        if rc == -1 {
            sqlite3_finalize(st)
            throw BusinessDataError.invalidQuery(detail: "more than one statement; a lookup must be a single SELECT")
        }
        guard rc == SQLITE_OK, let st else {
            throw BusinessDataError.invalidQuery(detail: "does not prepare: \(String(cString: sqlite3_errmsg(db.handle)))")
        }
        return st
    }
}
