import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Streams an XML part of an Office file through XMLParser (libxml2), calling back with local
/// element names (the `w:`/`a:`/`p:` prefixes dropped). External entities are never resolved:
/// nothing a document points at is fetched.
final class XMLWalker: NSObject, XMLParserDelegate {
    private let onStart: (String, [String: String]) -> Void
    private let onEnd: (String) -> Void
    private let onText: (String) -> Void

    private init(start: @escaping (String, [String: String]) -> Void, end: @escaping (String) -> Void, text: @escaping (String) -> Void) {
        onStart = start; onEnd = end; onText = text
    }

    static func walk(_ bytes: [UInt8], part: String, start: @escaping (String, [String: String]) -> Void,
                     end: @escaping (String) -> Void = { _ in }, text: @escaping (String) -> Void = { _ in }) throws {
        let w = XMLWalker(start: start, end: end, text: text)
        // Fed as a stream (libxml2 gets it in small chunks): one chunk over 10 MB is refused by
        // libxml2's "huge input lookup" guard, and a big sheet is more than that.
        let p = XMLParser(stream: InputStream(data: Data(bytes)))
        p.shouldResolveExternalEntities = false
        p.shouldProcessNamespaces = false
        p.delegate = w
        guard p.parse() else {
            let why = p.parserError.map { ($0 as NSError).localizedDescription } ?? "parse error"
            throw ExtractionError(message: "\(part) is not well-formed XML (line \(p.lineNumber): \(why)) — the file is damaged; save it again")
        }
    }

    static func local(_ name: String) -> String {
        guard let c = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: c)...])
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        onStart(Self.local(elementName), attributes)
    }
    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        onEnd(Self.local(elementName))
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { onText(string) }
}

/// An attribute by local name (`w:val` found as `val`), preferring an exact qualified match.
func attribute(_ a: [String: String], _ name: String) -> String? {
    if let v = a[name] { return v }
    return a.first { XMLWalker.local($0.key) == name }?.value
}

/// Office package plumbing shared by DOCX, XLSX and PPTX: relationship targets and part lookup.
enum OfficePackage {
    static func open(_ file: SourceFile, options: ConverterOptions, kind: String) throws -> ZipArchive {
        let zip = try ZipArchive(file.bytes, limits: options.zip)
        if zip.entry("[Content_Types].xml") == nil {
            throw ExtractionError(message: "not a \(kind) file (no [Content_Types].xml in the archive) — save it again as \(kind) from Office")
        }
        return zip
    }

    static func part(_ zip: ZipArchive, _ name: String) throws -> [UInt8] {
        guard let b = try zip.read(name) else {
            throw ExtractionError(message: "\(name) is missing from the archive — the file is damaged or not a real Office file; save it again")
        }
        return b
    }

    /// Relationship id → resolved part name, from the `_rels` file of `owner` (e.g. word/document.xml).
    static func relationships(_ zip: ZipArchive, of owner: String) throws -> [String: (target: String, type: String)] {
        let dir = (owner as NSString).deletingLastPathComponent
        let relsName = (dir.isEmpty ? "" : dir + "/") + "_rels/" + (owner as NSString).lastPathComponent + ".rels"
        guard let b = try zip.read(relsName) else { return [:] }
        var out: [String: (String, String)] = [:]
        try XMLWalker.walk(b, part: relsName, start: { name, a in
            guard name == "Relationship", let id = a["Id"], let t = a["Target"], a["TargetMode"] != "External" else { return }
            out[id] = (resolve(t, from: dir), a["Type"] ?? "")
        })
        return out
    }

    /// `../notesSlides/notesSlide1.xml` relative to `ppt/slides` → `ppt/notesSlides/notesSlide1.xml`.
    static func resolve(_ target: String, from dir: String) -> String {
        if target.hasPrefix("/") { return String(target.dropFirst()) }
        var parts = dir.split(separator: "/").map(String.init)
        for p in target.split(separator: "/") {
            if p == ".." { if !parts.isEmpty { parts.removeLast() } } else if p != "." { parts.append(String(p)) }
        }
        return parts.joined(separator: "/")
    }

    /// Rows of a table as `header: value` paragraphs (the first row is the header), the way the CSV
    /// extractor writes a row; a one-row table is its cells joined.
    static func tableMarkdown(_ rows: [[String]]) -> String {
        let rows = rows.map { $0.map { $0.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces) } }
            .filter { $0.contains { !$0.isEmpty } }
        guard let header = rows.first else { return "" }
        if rows.count == 1 { return header.filter { !$0.isEmpty }.joined(separator: " | ") }
        return rows.dropFirst().map { r in
            r.enumerated().filter { !$0.element.isEmpty }.map { i, v in
                let h = i < header.count && !header[i].isEmpty ? header[i] : "column \(i + 1)"
                return "\(h): \(v)"
            }.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }
}
