import Foundation

/// The kinds of file ingestion understands, by extension.
public enum SourceType: String, Sendable, CaseIterable, Codable {
    case markdown = "md", text = "txt", csv, json, jsonl, html
    case pdf, docx, xlsx, pptx, eml, mbox, image

    public init?(path: String) {
        switch (path as NSString).pathExtension.lowercased() {
        case "md", "markdown": self = .markdown
        case "txt", "text": self = .text
        case "csv": self = .csv
        case "json": self = .json
        case "jsonl", "ndjson": self = .jsonl
        case "html", "htm": self = .html
        case "pdf": self = .pdf
        case "docx": self = .docx
        case "xlsx": self = .xlsx
        case "pptx": self = .pptx
        case "eml": self = .eml
        case "mbox": self = .mbox
        case "png", "jpg", "jpeg", "tif", "tiff": self = .image
        default: return nil
        }
    }

    /// Text formats are read, decoded and checked here; the others go through a converter.
    var isText: Bool { [.markdown, .text, .csv, .json, .jsonl, .html].contains(self) }

    /// Formats whose documents carry others (attachments, messages), stored at `path › name`.
    var hasAttachments: Bool { self == .eml || self == .mbox }
}

/// Text the chunker works on and how its bytes map back to the document's text.
struct ExtractedUnit {
    enum Mapping {
        /// `text` is the document text itself: offsets are the text's.
        case identity
        /// `text` is the document text from this byte offset on (a PDF page inside the whole text).
        case offset(Int)
        /// One source byte offset per text byte (HTML: text left after removing tags).
        case perByte([Int32])
        /// `text` was assembled from the source span `start..<end` (a CSV row, a JSON record).
        case span(Int, Int)
    }
    var text: [UInt8]
    var mapping: Mapping
    var markdown: Bool
    var headingPrefix: [String]
    /// Headings in force where the unit starts (a section that runs on from the previous page),
    /// by level; a heading inside the unit replaces them from its level down.
    var carriedHeadings: [String] = []
}

/// A file turned into units of text plus a title.
struct ExtractedDocument {
    var title: String
    var units: [ExtractedUnit]
    /// The decoded text chunk offsets and lines refer to; nil when that is the file's own bytes.
    var text: [UInt8]? = nil
    /// What the user should know about how the text was obtained (OCR share and confidence).
    var notes: [String] = []
    /// Documents inside this one (e-mail attachments, messages of a mailbox), stored as documents
    /// of their own at `parent › name`.
    var attachments: [Attachment] = []
}

/// A file carried inside another (an e-mail attachment, a message of an mbox).
struct Attachment { var name: String; var bytes: [UInt8] }

/// Why a file's content could not be extracted: what is wrong and what to do.
struct ExtractionError: Error, LocalizedError {
    let message: String
    var errorDescription: String? { message }
}

/// Settings of the external converters (PDF, OCR) for one run.
public struct ConverterOptions: Sendable {
    public var limits = ConverterLimits()
    public var zip = ZipLimits()
    public init() {}
}

/// A document's bytes and, when it is a file of its own, its path (converters that need a file,
/// such as pdftotext, then use it instead of a temporary copy).
struct SourceFile {
    var name: String
    var bytes: [UInt8]
    var path: String?

    func onDisk(suffix: String) throws -> (String, () -> Void) {
        if let path { return (path, {}) }
        let tmp = NSTemporaryDirectory() + "strata-\(UUID().uuidString)\(suffix)"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(bytes)) else {
            throw ExtractionError(message: "cannot write a temporary copy in \(NSTemporaryDirectory()) — check free space")
        }
        return (tmp, { try? FileManager.default.removeItem(atPath: tmp) })
    }
}

enum Extractor {
    /// Extracts a text format from its decoded UTF-8 bytes.
    static func extract(_ bytes: [UInt8], type: SourceType, fileName: String) throws -> ExtractedDocument {
        let stem = (fileName as NSString).deletingPathExtension
        switch type {
        case .markdown:
            let title = firstMarkdownHeading(bytes) ?? stem
            return ExtractedDocument(title: title, units: [ExtractedUnit(text: bytes, mapping: .identity, markdown: true, headingPrefix: [])])
        case .text:
            return ExtractedDocument(title: stem, units: [ExtractedUnit(text: bytes, mapping: .identity, markdown: false, headingPrefix: [])])
        case .csv:
            return ExtractedDocument(title: stem, units: try CSVExtractor.units(bytes))
        case .json, .jsonl:
            return ExtractedDocument(title: stem, units: try JSONExtractor.units(bytes, lines: type == .jsonl))
        case .html:
            let (text, map, title) = HTMLExtractor.extract(bytes)
            return ExtractedDocument(title: title ?? firstMarkdownHeading(text) ?? stem,
                                     units: [ExtractedUnit(text: text, mapping: .perByte(map), markdown: true, headingPrefix: [])])
        case .pdf, .docx, .xlsx, .pptx, .eml, .mbox, .image:
            return try convert(SourceFile(name: fileName, bytes: bytes, path: nil), type: type, options: ConverterOptions())
        }
    }

    /// Extracts a binary format (or a text file whose encoding must first be detected).
    static func convert(_ file: SourceFile, type: SourceType, options: ConverterOptions) throws -> ExtractedDocument {
        switch type {
        case .pdf: return try PDFExtractor.extract(file, options: options)
        case .image: return try OCR.image(file, options: options)
        case .docx: return try DOCXExtractor.extract(file, options: options)
        case .xlsx: return try XLSXExtractor.extract(file, options: options)
        case .pptx: return try PPTXExtractor.extract(file, options: options)
        case .eml: return try MailExtractor.message(file, options: options)
        case .mbox: return try MailExtractor.mailbox(file, options: options)
        case .markdown, .text, .csv, .json, .jsonl, .html:
            let decoded: [UInt8]
            do { decoded = try TextDecoder.decode(file.bytes).text } catch TextDecodingError.binary(let o) {
                throw ExtractionError(message: IngestProblem.binary(offset: o).description)
            } catch TextDecodingError.undecodable(let o) {
                throw ExtractionError(message: IngestProblem.invalidUTF8(offset: o).description)
            }
            var doc = try extract(decoded, type: type, fileName: file.name)
            if doc.text == nil { doc.text = decoded }
            return doc
        }
    }

    static func firstMarkdownHeading(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { b in
            let s = Chunker.sections(b, markdown: true)
            return s.first(where: { !$0.headings.isEmpty })?.headings.first
        }
    }
}

/// CSV (RFC 4180: quotes, doubled quotes, newlines inside quotes). Each data row becomes one unit
/// `header: value` per line, so a chunk carries its column names; offsets cover the row.
enum CSVExtractor {
    static func units(_ b: [UInt8]) throws -> [ExtractedUnit] {
        let rows = try records(b)
        guard let header = rows.first else { return [] }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let labels = rowLabels(names: names, rows: rows.dropFirst().map(\.fields))
        var units: [ExtractedUnit] = []
        for (n, row) in rows.dropFirst().enumerated() {
            var lines: [String] = []
            for (i, value) in row.fields.enumerated() {
                let v = value.trimmingCharacters(in: .whitespacesAndNewlines)
                if v.isEmpty { continue }
                let name = i < names.count && !names[i].isEmpty ? names[i] : "column \(i + 1)"
                lines.append("\(name): \(v)")
            }
            if lines.isEmpty { continue }
            units.append(ExtractedUnit(text: Array(lines.joined(separator: "\n").utf8), mapping: .span(row.start, row.end),
                                       markdown: false, headingPrefix: [labels[n].isEmpty ? "Row \(n + 1)" : labels[n]]))
        }
        return units
    }

    /// What a citation calls each row: its first cell (a table's key), with the row's names
    /// (`name`, `name_en`, `name_zh`, … columns) so "branches.csv › BJ-002 · Zhongguancun Branch ·
    /// 北京中关村支行" says which branch; where the first cell repeats (one service, several
    /// channels) the first column that tells those rows apart is added in parentheses.
    static func rowLabels(names: [String], rows: [[String]]) -> [String] {
        func cell(_ r: [String], _ i: Int) -> String { i < r.count ? r[i].trimmingCharacters(in: .whitespacesAndNewlines) : "" }
        let nameColumns = names.indices.filter { i in
            let n = names[i].lowercased()
            return i > 0 && (n == "name" || n.hasPrefix("name_") || n.hasSuffix("_name") || n.contains("_name_"))
        }
        var byFirst: [String: [Int]] = [:]
        for (i, r) in rows.enumerated() { byFirst[cell(r, 0), default: []].append(i) }
        return rows.enumerated().map { i, r in
            let first = cell(r, 0)
            var parts = [first] + nameColumns.map { cell(r, $0) }
            parts = parts.filter { !$0.isEmpty }
            var label = parts.joined(separator: " · ")
            if let same = byFirst[first], same.count > 1,
               let c = (1..<max(1, names.count)).first(where: { c in Set(same.map { cell(rows[$0], c) }).count == same.count }) {
                label += " (\(cell(r, c)))"
            }
            return label.count > 120 ? String(label.prefix(120)) + "…" : label
        }
    }

    struct Record { var fields: [String]; var start: Int; var end: Int }

    static func records(_ b: [UInt8]) throws -> [Record] {
        var out: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var i = 0, recordStart = 0
        var inQuotes = false
        // Skip a UTF-8 byte-order mark.
        if b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { i = 3; recordStart = 3 }
        func endRecord(_ end: Int) {
            fields.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true)
            if !(fields.count == 1 && fields[0].isEmpty) { out.append(Record(fields: fields, start: recordStart, end: end)) }
            fields = []
        }
        while i < b.count {
            let c = b[i]
            if inQuotes {
                if c == 0x22 {
                    if i + 1 < b.count && b[i + 1] == 0x22 { field.append(0x22); i += 2; continue }
                    inQuotes = false
                } else { field.append(c) }
                i += 1
                continue
            }
            switch c {
            case 0x22: inQuotes = true
            case 0x2C: fields.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true)
            case 0x0A:
                var e = i
                if e > recordStart && b[e - 1] == 0x0D { e -= 1 }
                endRecord(e)
                recordStart = i + 1
            case 0x0D where i + 1 < b.count && b[i + 1] == 0x0A: break
            default: field.append(c)
            }
            i += 1
        }
        if inQuotes {
            throw ExtractionError(message: "a quoted CSV field opened in the row starting at byte \(recordStart) is never closed — fix the quoting")
        }
        if recordStart < b.count { endRecord(b.count) }
        return out
    }
}

/// JSON and JSON Lines. Each record (a line of JSONL, an element of a top-level JSON array, or a
/// whole JSON object) becomes one unit of its string fields as `key.path: value` lines.
///
/// The whole file is checked before anything is kept: a value cut off, text after the value, or
/// nesting past `maxDepth` refuses the file (a truncated array must not lose its last record
/// silently), with the byte offset and line of the fault.
enum JSONExtractor {
    /// Deepest nesting accepted. Foundation's parser stops at 512 levels with no more than
    /// "invalid JSON"; stopping first lets the message say what is wrong.
    static let maxDepth = 500

    static func units(_ b: [UInt8], lines: Bool) throws -> [ExtractedUnit] {
        var spans: [(Int, Int)] = []
        if lines {
            var s = 0
            for i in 0...b.count where i == b.count || b[i] == 0x0A {
                if b[s..<i].contains(where: { !Chunker.isSpace($0) }) {
                    _ = try scan(b, s, i, what: "line \(line(b, s))")
                    spans.append((s, i))
                }
                s = i + 1
            }
        } else {
            spans = try scan(b, 0, b.count, what: "the file")
        }
        var units: [ExtractedUnit] = []
        for (n, span) in spans.enumerated() {
            let value: Any
            do {
                value = try JSONSerialization.jsonObject(with: Data(b[span.0..<span.1]), options: [.fragmentsAllowed])
            } catch {
                throw ExtractionError(message: "invalid JSON in the record starting at byte \(span.0) (line \(line(b, span.0)))"
                    + detail(error) + " — fix it or remove the record")
            }
            var lines: [String] = []
            var heading = spans.count > 1 ? "Record \(n + 1)" : ""
            if let qa = questionAndAnswer(value) {
                lines = qa.lines
                heading = qa.question.count > 80 ? String(qa.question.prefix(80)) + "…" : qa.question
            } else {
                collect(value, path: "", into: &lines)
            }
            if lines.isEmpty { continue }
            units.append(ExtractedUnit(text: Array(lines.joined(separator: "\n").utf8), mapping: .span(span.0, span.1),
                                       markdown: false, headingPrefix: heading.isEmpty ? [] : [heading]))
        }
        return units
    }

    /// An FAQ record (`question`/`answer`, `q`/`a`, `问`/`答`, …) reads as the question, then the
    /// answer, then its other prose fields, without field names: "id: cs-002 lang: zh" is
    /// bookkeeping a model would copy into its answer. Short fields (ids, language codes, tags,
    /// topics) are left out; nested values are not an FAQ record.
    static func questionAndAnswer(_ v: Any) -> (question: String, lines: [String])? {
        guard let d = v as? [String: Any] else { return nil }
        func field(_ names: [String]) -> (key: String, text: String)? {
            for k in d.keys.sorted() where names.contains(k.lowercased()) {
                if let s = (d[k] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines), !s.isEmpty { return (k, s) }
            }
            return nil
        }
        guard let q = field(["question", "q", "query", "title", "问题", "问"]),
              let a = field(["answer", "a", "response", "reply", "回答", "答案", "答"]) else { return nil }
        var lines = [q.text, a.text]
        for k in d.keys.sorted() where k != q.key && k != a.key {
            guard let s = (d[k] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines) else { continue }
            // Prose, not a code: several words, or a CJK sentence.
            let words = s.split(whereSeparator: { $0 == " " }).count
            let cjk = s.unicodeScalars.filter { $0.value >= 0x4E00 && $0.value <= 0x9FFF }.count
            if words >= 6 || cjk >= 12 { lines.append(s) }
        }
        return (q.text, lines)
    }

    /// Foundation's own words for a parse error, when it gives some.
    static func detail(_ error: Error) -> String {
        let ns = error as NSError
        guard let d = ns.userInfo[NSDebugDescriptionErrorKey] as? String, !d.isEmpty else { return "" }
        return ": " + d.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
    }

    /// 1-based line of byte `offset`.
    static func line(_ b: [UInt8], _ offset: Int) -> Int { b[0..<offset].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 } }

    static func collect(_ v: Any, path: String, into lines: inout [String]) {
        if let s = v as? String {
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            if !t.isEmpty { lines.append(path.isEmpty ? t : "\(path): \(t)") }
        } else if let d = v as? [String: Any] {
            for k in d.keys.sorted() { collect(d[k]!, path: path.isEmpty ? k : "\(path).\(k)", into: &lines) }
        } else if let a = v as? [Any] {
            for (i, x) in a.enumerated() { collect(x, path: path.isEmpty ? "[\(i)]" : "\(path)[\(i)]", into: &lines) }
        }
    }

    /// Checks the structure of the one JSON value in `b[start..<end]` (brackets matched outside
    /// strings, nothing after the value, nesting within `maxDepth`) and returns the byte spans
    /// of its records: the elements of a top-level array, else the whole value.
    static func scan(_ b: [UInt8], _ start: Int, _ end: Int, what: String) throws -> [(Int, Int)] {
        var i = start
        while i < end && Chunker.isSpace(b[i]) { i += 1 }
        guard i < end else { return [] }
        let valueStart = i, isArray = b[i] == 0x5B
        var spans: [(Int, Int)] = []
        var depth = 0, inString = false, escaped = false, elemStart = i + 1, closed = b[i] != 0x5B && b[i] != 0x7B
        if closed {
            // A scalar: Foundation parses it; only the end of the line or file can follow it.
            return [(valueStart, end)]
        }
        while i < end {
            let c = b[i]
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
            } else if c == 0x22 { inString = true
            } else if c == 0x5B || c == 0x7B {
                depth += 1
                if depth > maxDepth {
                    throw ExtractionError(message: "JSON nested more than \(maxDepth) levels deep at byte \(i) (line \(line(b, i))) — Strata reads JSON nested up to \(maxDepth) levels; flatten the data")
                }
            } else if c == 0x5D || c == 0x7D {
                depth -= 1
                if depth == 0 {
                    if isArray { spans.append((elemStart, i)) }
                    closed = true; i += 1
                    break
                }
            } else if c == 0x2C && depth == 1 && isArray { spans.append((elemStart, i)); elemStart = i + 1 }
            i += 1
        }
        guard closed else {
            let open = isArray ? trimmedStart(b, elemStart, end) : end
            let inWhat = open < end ? "the record starting at byte \(open) (line \(line(b, open)))"
                : "the \(isArray ? "array" : "object") opened at byte \(valueStart), before it is closed"
            throw ExtractionError(message: "the JSON is cut off: \(what) ends inside \(inWhat)\(inString ? ", in a string" : "") — restore the rest of the file, or remove the unfinished record")
        }
        while i < end && Chunker.isSpace(b[i]) { i += 1 }
        guard i == end else {
            throw ExtractionError(message: "unexpected text at byte \(i) (line \(line(b, i))) after the end of the top-level \(isArray ? "array" : "object") — a JSON file holds one value (for one record per line, name it .jsonl); remove the extra text")
        }
        guard isArray else { return [(valueStart, i)] }
        return spans.compactMap { s -> (Int, Int)? in
            var a = s.0, z = s.1
            while a < z && Chunker.isSpace(b[a]) { a += 1 }
            while z > a && Chunker.isSpace(b[z - 1]) { z -= 1 }
            return z > a ? (a, z) : nil
        }
    }

    private static func trimmedStart(_ b: [UInt8], _ from: Int, _ end: Int) -> Int {
        var a = from
        while a < end && Chunker.isSpace(b[a]) { a += 1 }
        return a
    }
}
