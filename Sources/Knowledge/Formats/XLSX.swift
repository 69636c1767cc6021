import Foundation

/// Excel (.xlsx) sheets as tables: shared strings, inline strings, numbers, booleans, and dates as
/// ISO `YYYY-MM-DD` when the cell's number format is a date. Only non-empty rows are kept, so a
/// sheet with a million empty rows costs its XML parse and nothing more. Formulas are never
/// evaluated: the value Excel cached in the file is read.
enum XLSXReader {
    struct Sheet { var name: String; var rows: [(number: Int, cells: [String])] }

    static func sheets(_ file: SourceFile, options: ConverterOptions) throws -> [Sheet] {
        let zip = try OfficePackage.open(file, options: options, kind: "XLSX")
        let workbook = try OfficePackage.part(zip, "xl/workbook.xml")
        var list: [(String, String)] = []
        var date1904 = false
        try XMLWalker.walk(workbook, part: "xl/workbook.xml", start: { name, a in
            if name == "sheet", let n = a["name"], let rid = a["r:id"] ?? attribute(a, "id") { list.append((n, rid)) }
            if name == "workbookPr", let d = a["date1904"] { date1904 = d == "1" || d == "true" }
        })
        let rels = try OfficePackage.relationships(zip, of: "xl/workbook.xml")
        let strings = try sharedStrings(zip)
        let dateStyles = try dateStyleIndexes(zip)
        return try list.compactMap { name, rid in
            guard let target = rels[rid]?.target, let b = try zip.read(target) else { return nil }
            return Sheet(name: name, rows: try rows(b, part: target, strings: strings, dates: dateStyles, date1904: date1904))
        }
    }

    static func sharedStrings(_ zip: ZipArchive) throws -> [String] {
        guard let b = try zip.read("xl/sharedStrings.xml") else { return [] }
        var out: [String] = []
        var cur = "", inT = false, inPhonetic = false
        try XMLWalker.walk(b, part: "xl/sharedStrings.xml", start: { name, _ in
            if name == "si" { cur = "" }
            if name == "t" { inT = true }
            if name == "rPh" { inPhonetic = true }
        }, end: { name in
            if name == "t" { inT = false }
            if name == "rPh" { inPhonetic = false }
            if name == "si" { out.append(cur) }
        }, text: { t in if inT && !inPhonetic { cur += t } })
        return out
    }

    /// Indexes into `cellXfs` whose number format shows a date (built-in 14–22, 45–47, or a custom
    /// format with d/m/y outside quotes and brackets).
    static func dateStyleIndexes(_ zip: ZipArchive) throws -> Set<Int> {
        guard let b = try zip.read("xl/styles.xml") else { return [] }
        var custom: [Int: String] = [:]
        var xfs: [Int] = []
        var inCellXfs = false
        try XMLWalker.walk(b, part: "xl/styles.xml", start: { name, a in
            if name == "numFmt", let id = a["numFmtId"].flatMap(Int.init) { custom[id] = a["formatCode"] ?? "" }
            if name == "cellXfs" { inCellXfs = true }
            if name == "xf" && inCellXfs { xfs.append(a["numFmtId"].flatMap(Int.init) ?? 0) }
        }, end: { name in if name == "cellXfs" { inCellXfs = false } })
        func isDate(_ id: Int) -> Bool {
            if (14...22).contains(id) || (45...47).contains(id) { return true }
            guard let code = custom[id] else { return false }
            let plain = code.replacingOccurrences(of: #""[^"]*"|\[[^\]]*\]"#, with: "", options: .regularExpression).lowercased()
            return plain.contains("y") || plain.contains("d") || (plain.contains("m") && !plain.contains("0"))
        }
        return Set(xfs.indices.filter { isDate(xfs[$0]) })
    }

    static func rows(_ b: [UInt8], part: String, strings: [String], dates: Set<Int>, date1904: Bool) throws -> [(number: Int, cells: [String])] {
        var out: [(Int, [String])] = []
        var rowNumber = 0, cells: [Int: String] = [:]
        var col = 0, type = "", style = 0, value = "", inValue = false
        try XMLWalker.walk(b, part: part, start: { name, a in
            switch name {
            case "row":
                rowNumber = a["r"].flatMap(Int.init) ?? rowNumber + 1
                cells = [:]
                col = 0
            case "c":
                col = a["r"].map(columnIndex) ?? col + 1
                type = a["t"] ?? "n"; style = a["s"].flatMap(Int.init) ?? 0; value = ""
            case "v", "t": inValue = true
            default: break
            }
        }, end: { name in
            switch name {
            case "v", "t": inValue = false
            case "c":
                let v = cellText(value, type: type, isDate: dates.contains(style), strings: strings, date1904: date1904)
                if !v.isEmpty { cells[col] = v }
            case "row":
                if !cells.isEmpty, let last = cells.keys.max() {
                    out.append((rowNumber, (1...last).map { cells[$0] ?? "" }))
                }
            default: break
            }
        }, text: { t in if inValue { value += t } })
        return out
    }

    static func cellText(_ raw: String, type: String, isDate: Bool, strings: [String], date1904: Bool) -> String {
        let v = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        switch type {
        case "s": return Int(v).flatMap { $0 >= 0 && $0 < strings.count ? strings[$0] : nil } ?? ""
        case "inlineStr", "str": return raw
        case "b": return v == "1" ? "TRUE" : v == "0" ? "FALSE" : v
        case "e": return v
        default:
            guard let d = Double(v) else { return v }
            if isDate, d >= 0, d < 2_958_466 { return isoDate(serial: d, date1904: date1904) }
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return String(format: "%.15g", d)
        }
    }

    /// Excel day serials count from 1899-12-30 (1900 system, leap-year bug included) or 1904-01-01.
    static func isoDate(serial: Double, date1904: Bool) -> String {
        let days = Int(serial.rounded(.down)) + (date1904 ? 1462 : 0)
        // Civil-from-days (Howard Hinnant), days since 1899-12-30 shifted to days since 1970-01-01.
        let z = days - 25_569 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// `B7` → 2 (1-based column).
    static func columnIndex(_ ref: String) -> Int {
        var n = 0
        for u in ref.unicodeScalars {
            guard u.value >= 65 && u.value <= 90 else { break }
            n = n * 26 + Int(u.value - 64)
        }
        return max(1, n)
    }

    /// True for a file `data import` reads as a workbook rather than CSV.
    static func isWorkbook(_ path: String) -> Bool { (path as NSString).pathExtension.lowercased() == "xlsx" }

    /// A sheet as the CSV parser gives a file: first non-empty row the header, records with the
    /// spreadsheet row number as their line (for `data import`).
    static func table(_ file: SourceFile, sheet: String?) throws -> CSVTable {
        let all = try sheets(file, options: ConverterOptions())
        let chosen = sheet.map { n in all.first { $0.name == n } } ?? all.first
        guard let s = chosen else {
            throw ExtractionError(message: sheet == nil ? "the workbook has no sheets — check the file"
                                  : "no sheet named '\(sheet!)' — the sheets are: \(all.map(\.name).joined(separator: ", ")) (pass one with --sheet)")
        }
        guard let header = s.rows.first else { throw CSVError.noHeader(file: "\(file.name) › \(s.name)") }
        let width = header.cells.count
        let records = s.rows.dropFirst().map { r in
            CSVTable.Record(line: r.number, fields: r.cells.count >= width ? Array(r.cells) : r.cells + Array(repeating: "", count: width - r.cells.count))
        }
        return CSVTable(header: header.cells, records: records, problems: [])
    }
}

/// Each sheet's non-empty rows as units `header: value`, cited as `fees.xlsx › Sheet › Row 5`.
enum XLSXExtractor {
    static func extract(_ file: SourceFile, options: ConverterOptions) throws -> ExtractedDocument {
        var source: [UInt8] = []
        var units: [ExtractedUnit] = []
        for sheet in try XLSXReader.sheets(file, options: options) {
            guard let header = sheet.rows.first else { continue }
            let names = header.cells.enumerated().map { $1.isEmpty ? "column \($0 + 1)" : $1 }
            let rows = sheet.rows.count == 1 ? [header] : Array(sheet.rows.dropFirst())
            for r in rows {
                let lines = r.cells.enumerated().filter { !$0.element.isEmpty }.map { i, v in
                    sheet.rows.count == 1 ? v : "\(i < names.count ? names[i] : "column \(i + 1)"): \(v)"
                }
                let text = Array(lines.joined(separator: "\n").utf8)
                if !source.isEmpty { source += Array("\n\n".utf8) }
                units.append(ExtractedUnit(text: text, mapping: .offset(source.count), markdown: false,
                                           headingPrefix: [sheet.name, "Row \(r.number)"]))
                source += text
            }
        }
        return ExtractedDocument(title: (file.name as NSString).deletingPathExtension, units: units, text: source)
    }
}
