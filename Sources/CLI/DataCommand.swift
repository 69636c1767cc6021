import Assistant
import Foundation
import Knowledge
import Prompts

/// `strata data import`: loads a CSV into a business table, replacing the old one atomically.
struct DataImportCommand: CLICommand {
    static let name = "data import"
    static let summary = "load a CSV file or an Excel sheet into a business table (atomic replace)"
    static let usage = """
    Usage: strata data import FILE.csv|FILE.xlsx [--table NAME] [--schema FILE.json] [--sheet NAME]

    UTF-8 with a header row; RFC 4180 quoting (quoted commas, newlines, doubled quotes); a BOM is
    fine. An .xlsx file imports one sheet (--sheet, default the first): its first non-empty row is
    the header; dates formatted as dates become YYYY-MM-DD. Column types come from --schema ({"columns": {"col": "integer|real|text|date"}}) or are
    inferred. Any bad row refuses the whole import and the previous table stays as it was.

    Table names are letters, digits and _, compared ignoring case (PRODUCTS.csv replaces
    products); column names must be unique ignoring case; at most 500 columns. Business tables
    have their own namespace (stored as biz_NAME), so any name is safe to use — 'documents' or
    'audit_log' name a business table, never Strata's own. Creates the database when missing.

    --searchable also puts the rows in the knowledge index, one passage per row with its header,
    so 'ask' and 'chat' answer from the table and cite the row ("products.csv › DEP-3Y · …"); the
    next import of the file replaces them. Only for tables any reader may see, or give --groups:
    customer records (cases) stay out of the index and are looked up by reference in 'support'.
    """
    static let options: [OptionSpec] = [
        .value("table", "NAME", "table name (default: the file name without .csv)"),
        .value("schema", "FILE", "column types as JSON"),
        .value("sheet", "NAME", "the sheet of an .xlsx file to import (default: the first)"),
        .flag("json", "print what was recorded as JSON"),
        .flag("searchable", "also index the rows as passages for ask and search (see above)"),
        .value("groups", "G1,G2", "with --searchable: access groups of the indexed rows (default: public)"),
        .flag("embed", "with --searchable: embed the rows for dense search"),
        EmbedderOption.spec,
    ] + ServerOptions.embedder

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard !args.positionals.isEmpty else { throw CLIError.usage("give one or more CSV files to import", command: name) }
        if args.positionals.count > 1 && args.value("table") != nil {
            throw CLIError.usage("--table names one table; import one file at a time with it", command: name)
        }
        let searchable = args.has("searchable")
        if !searchable, args.has("embed") || !args.all("groups").isEmpty {
            throw CLIError.usage("--embed and --groups are for the indexed rows: add --searchable", command: name)
        }
        var index = IngestOptions()
        var encoder: (any TextEmbedder)?
        if searchable {
            if !args.all("groups").isEmpty {
                index.groups = args.documentGroups
                guard !index.groups!.isEmpty else { throw CLIError.usage("--groups needs at least one group name", command: name) }
            }
            if args.has("embed") {
                let e = try EmbedderOption.load(args)
                index.embedding = EmbeddingHook(modelID: e.modelID, embed: e.embed)
                encoder = e
            }
        }
        // Business tables live in the knowledge database: a new file becomes one, so 'ingest' and
        // 'support' can open the same file later.
        let db = try args.openDatabase(.create)
        // Before the table is replaced: a refused encoder leaves everything as it was.
        if let encoder { try args.runtime.refuseMixing(KnowledgeStore(database: db), encoder) }
        var infos: [BusinessTableInfo] = []
        for file in args.positionals {
            do {
                infos.append(try BusinessTables.importCSV(db, file: file, table: args.value("table"), schemaFile: args.value("schema"),
                                                          sheet: args.value("sheet")))
            } catch {
                throw CLIError.failed("\(TerminalText.line(file)): \(error.localizedDescription)")
            }
        }
        // The rows as passages: the same file, read by the ingest path (one chunk per row with its
        // header), in its own transaction after the table's. A failure here leaves the new table
        // and the old passages (both whole) and says so; importing again finishes the job.
        var indexFailures: [String] = []
        if searchable {
            let store = try args.openStore(.create)
            let report = Ingestor(store: store).ingest(paths: args.positionals, options: index)
            indexFailures = report.problems.map { "\(TerminalText.line($0.0)): \($0.1)" }
        }
        if args.has("json") {
            print(try jsonString(infos))
        } else {
            for i in infos {
                print("imported \(i.name): \(i.rows) rows, \(i.columns.count) columns (\(i.columns.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", "))) from \(TerminalText.line(i.sourceFile)) sha256 \(i.sha256.prefix(12))\(searchable ? ", rows searchable" : "")")
            }
        }
        for f in indexFailures {
            printErr("strata data import: the table was imported but its rows are not searchable: \(f) — import the file again")
        }
        return indexFailures.isEmpty ? 0 : 3
    }
}

/// `strata data list`: the imported tables and where they came from.
struct DataListCommand: CLICommand {
    static let name = "data list"
    static let summary = "list the imported business tables"
    static let usage = "Usage: strata data list [--json]"
    static let options: [OptionSpec] = [.flag("json", "print as JSON")]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        let db = try DataCommands.open(args)
        let infos = try BusinessTables.list(db)
        if args.has("json") { print(try jsonString(infos)); return 0 }
        if infos.isEmpty { print("no business tables — import one with 'strata data import FILE.csv'"); return 0 }
        print(TextTable.render(header: ["table", "rows", "columns", "imported", "sha256", "file"],
                               rows: infos.map { [$0.name, String($0.rows), String($0.columns.count), $0.importedAt, String($0.sha256.prefix(12)), $0.sourceFile] }))
        return 0
    }
}

/// `strata data show TABLE`: the first rows, aligned (CJK characters count two columns).
struct DataShowCommand: CLICommand {
    static let name = "data show"
    static let summary = "print the first rows of a business table"
    static let usage = "Usage: strata data show TABLE [--limit N] [--json]"
    static let options: [OptionSpec] = [.value("limit", "N", "rows to print (default 20)"), .flag("json", "print as JSON")]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.count == 1 else { throw CLIError.usage("give exactly one table name", command: name) }
        let limit = try args.int("limit", default: 20)
        guard limit >= 0 else { throw CLIError.usage("--limit must be 0 or more", command: name) }
        let db = try DataCommands.open(args)
        let rows: BusinessRows
        do { rows = try BusinessTables.rows(db, table: args.positionals[0], limit: limit) } catch {
            throw CLIError.failed(error.localizedDescription)
        }
        if args.has("json") {
            print(try jsonString(rows.rows.indices.map { rows.record($0) }))
            return 0
        }
        print(TextTable.render(header: rows.columns, rows: rows.rows.map { $0.map(BusinessRows.text) }))
        return 0
    }
}

/// `strata data check`: prepares every lookup of the customer-service pack against the database.
struct DataCheckCommand: CLICommand {
    static let name = "data check"
    static let summary = "check a pack's lookups against the business tables"
    static let usage = """
    Usage: strata data check [--pack NAME]

    Each lookup must prepare as one read-only statement whose :parameters are slot names of the
    intents that use it.
    """
    static let options: [OptionSpec] = [.value("pack", "NAME", "pack (default customer-service)"), packsOption]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        let pack = try ServicePack(pack: try args.packLibrary.pack(named: args.value("pack") ?? "customer-service"))
        let db = try DataCommands.open(args)
        // The connection lookups run on at question time: business names, business tables only.
        try BusinessTables.exposeBusinessNames(db)
        var failures = 0
        for name in pack.lookups.keys.sorted() {
            let users = pack.catalog.intents.filter { $0.action.lookup == name }
            let slotNames = Set(users.flatMap { $0.slots.map(\.name) })
            do {
                let shape = try BusinessQuery.check(db, sql: pack.lookups[name]!.sql)
                if let bad = shape.parameters.first(where: { !slotNames.contains($0) }) {
                    throw BusinessDataError.invalidQuery(detail: "parameter :\(bad) is not a slot of \(users.map(\.name).joined(separator: ", ")) (slots: \(slotNames.sorted().joined(separator: ", ")))")
                }
                print("ok    \(name) (\(shape.parameters.map { ":" + $0 }.joined(separator: ", ")) → \(shape.columns.count) columns)")
            } catch {
                failures += 1
                print("FAIL  \(name): \(error.localizedDescription)")
            }
        }
        if failures > 0 { throw CLIError.failed("\(failures) lookup\(failures == 1 ? "" : "s") failed — import the tables ('strata data import Knowledge/business/*.csv') or fix lookups.json") }
        return 0
    }
}

enum DataCommands {
    /// Opens an existing database read-only; a missing file is a user error, not an empty list.
    static func open(_ args: ParsedArguments) throws -> Database {
        try args.openDatabase(.read, missing: "import a table first ('strata data import FILE.csv') or pass --db PATH")
    }
}

func jsonString<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try e.encode(value), as: UTF8.self)
}

/// Aligned plain-text tables; East Asian wide characters take two terminal columns.
enum TextTable {
    static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { w, u in
            let v = u.value
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
            let zero = u.properties.generalCategory == .nonspacingMark || u.properties.generalCategory == .enclosingMark
            return w + (zero ? 0 : wide ? 2 : 1)
        }
    }

    static func render(header: [String], rows: [[String]], maxCell: Int = 40) -> String {
        func clip(_ s: String) -> String {
            let flat = TerminalText.line(s.replacingOccurrences(of: "\n", with: " "))
            if width(flat) <= maxCell { return flat }
            var out = "", w = 0
            for ch in flat { let cw = width(String(ch)); if w + cw > maxCell - 1 { break }; out.append(ch); w += cw }
            return out + "…"
        }
        let cells = ([header] + rows).map { $0.map(clip) }
        var widths = [Int](repeating: 0, count: header.count)
        for r in cells { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], width(c)) } }
        func line(_ r: [String]) -> String {
            r.enumerated().map { i, c in c + String(repeating: " ", count: max(0, widths[i] - width(c))) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = [line(cells[0]), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += cells.dropFirst().map(line)
        return out.joined(separator: "\n")
    }
}
