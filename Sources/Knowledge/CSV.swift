import Foundation

/// A CSV file parsed per RFC 4180: a header row, then records whose fields may be quoted, with
/// doubled quotes and line breaks inside quotes. A UTF-8 byte-order mark is skipped.
public struct CSVTable: Sendable {
    /// One record with the 1-based physical line it starts on (quoted newlines make it differ
    /// from the record index, and users fix files by line).
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }
    public var header: [String]
    public var records: [Record]
    /// Problems found while reading (invalid UTF-8, unterminated quote), each with its line.
    public var problems: [CSVProblem]
}

/// A problem in a CSV file, located by line so the user can fix the file.
public struct CSVProblem: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public init(line: Int, message: String) { self.line = line; self.message = message }
    public var description: String { "line \(line): \(message)" }
}

/// Why a CSV file cannot be read at all.
public enum CSVError: Error, LocalizedError, Equatable {
    /// The file is empty or has no header row.
    case noHeader(file: String)
    /// The file could not be read.
    case unreadable(file: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .noHeader(let f): "\(f) has no header row — the first line must name the columns"
        case .unreadable(let f, let r): "cannot read \(f): \(r) — check the path and permissions"
        }
    }
}

public enum CSVParser {
    /// Reads and parses a CSV file.
    public static func parse(file path: String) throws -> CSVTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CSVError.unreadable(file: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        return try parse(data: data, name: path)
    }

    /// Parses CSV bytes. Works on bytes rather than `String` so invalid UTF-8 is found and
    /// reported with its line instead of being silently replaced with U+FFFD.
    public static func parse(data: Data, name: String = "input") throws -> CSVTable {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var rows: [CSVTable.Record] = []
        var problems: [CSVProblem] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var fieldLine = 1
        var sawAny = false      // the current record has content (so a blank line is not a record)
        var i = 0
        let n = bytes.count

        func endField() {
            if let s = String(validating: field, as: UTF8.self) {
                fields.append(s)
            } else {
                problems.append(CSVProblem(line: fieldLine, message: "field \(fields.count + 1) is not valid UTF-8 — save the file as UTF-8"))
                fields.append(String(decoding: field, as: UTF8.self))
            }
            field.removeAll(keepingCapacity: true)
            fieldLine = line
        }
        func endRecord() {
            endField()
            if sawAny || fields.count > 1 || !(fields.first ?? "").isEmpty {
                rows.append(.init(line: recordLine, fields: fields))
            }
            fields.removeAll(keepingCapacity: true)
            sawAny = false
        }

        while i < n {
            let b = bytes[i]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < n && bytes[i + 1] == UInt8(ascii: "\"") { field.append(b); i += 2; continue }
                    inQuotes = false
                } else {
                    if b == UInt8(ascii: "\n") { line += 1 }
                    field.append(b)
                }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: ","):
                sawAny = true
                endField()
            case UInt8(ascii: "\r"):
                break   // CRLF: the \n ends the record; a lone \r is dropped
            case UInt8(ascii: "\n"):
                endRecord()
                line += 1
                recordLine = line; fieldLine = line
            case UInt8(ascii: "\"") where field.isEmpty:
                inQuotes = true; sawAny = true
            default:
                field.append(b); sawAny = true
            }
            i += 1
        }
        if inQuotes {
            problems.append(CSVProblem(line: fieldLine, message: "a quoted field is never closed — add the closing \" or double the quotes inside it"))
        }
        if sawAny || !field.isEmpty { endRecord() }
        guard let head = rows.first else { throw CSVError.noHeader(file: name) }
        let header = head.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        return CSVTable(header: header, records: Array(rows.dropFirst()), problems: problems)
    }
}
