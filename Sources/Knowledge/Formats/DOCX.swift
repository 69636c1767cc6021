import Foundation

/// Word (.docx) to Markdown: Heading styles and outline levels become `#` headings (the section
/// path of each chunk), numbered and bulleted paragraphs list items, tables `header: value` rows,
/// footnotes a closing "Footnotes" section with their markers kept in the text as `[^n]`.
/// Macros, embedded objects and linked files are never opened.
enum DOCXExtractor {
    static func extract(_ file: SourceFile, options: ConverterOptions) throws -> ExtractedDocument {
        let zip = try OfficePackage.open(file, options: options, kind: "DOCX")
        let styles = try paragraphStyles(zip)
        var md = try body(OfficePackage.part(zip, "word/document.xml"), part: "word/document.xml", styles: styles)
        if let fn = try zip.read("word/footnotes.xml") {
            let notes = try footnotes(fn, styles: styles)
            if !notes.isEmpty { md += "\n\n# Footnotes\n\n" + notes.map { "[^\($0.0)]: \($0.1)" }.joined(separator: "\n\n") }
        }
        let text = Array(md.utf8)
        let title = Extractor.firstMarkdownHeading(text) ?? (file.name as NSString).deletingPathExtension
        return ExtractedDocument(title: title, units: [ExtractedUnit(text: text, mapping: .identity, markdown: true, headingPrefix: [])], text: text)
    }

    /// What a paragraph style makes of its paragraphs: a heading level, or list items.
    struct Styles { var headings: [String: Int] = [:]; var lists: Set<String> = [] }

    /// Heading levels from style names ("heading 2"), outline levels and "Title"; list styles from
    /// numbering in the style ("List Bullet" numbers its paragraphs through its style).
    static func paragraphStyles(_ zip: ZipArchive) throws -> Styles {
        guard let b = try zip.read("word/styles.xml") else { return Styles() }
        var out = Styles()
        var current: String? = nil
        try XMLWalker.walk(b, part: "word/styles.xml", start: { name, a in
            switch name {
            case "style": current = attribute(a, "styleId")
            case "name":
                guard let id = current, let v = attribute(a, "val")?.lowercased() else { return }
                if v == "title" { out.headings[id] = 1 }
                if v.hasPrefix("heading "), let n = Int(v.dropFirst(8)), (1...9).contains(n) { out.headings[id] = n }
                if v.hasPrefix("list bullet") || v.hasPrefix("list number") { out.lists.insert(id) }
            case "outlineLvl":
                if let id = current, out.headings[id] == nil, let n = attribute(a, "val").flatMap(Int.init), n < 9 { out.headings[id] = n + 1 }
            case "numPr":
                if let id = current { out.lists.insert(id) }
            default: break
            }
        }, end: { name in if name == "style" { current = nil } })
        return out
    }

    /// Walks paragraphs, runs and tables of a document or footnote part into Markdown blocks.
    struct Builder {
        var blocks: [String] = []
        var para = ""
        var level: Int? = nil
        var isList = false
        var tableDepth = 0
        var tables: [[[String]]] = []          // open tables: rows of cells
        var cellText: [String] = []             // text of the open cell, per depth

        mutating func endParagraph() {
            let t = para.trimmingCharacters(in: .whitespaces)
            defer { para = ""; level = nil; isList = false }
            guard !t.isEmpty else { return }
            if tableDepth > 0 {
                cellText[tableDepth - 1] += (cellText[tableDepth - 1].isEmpty ? "" : " ") + t
                return
            }
            if let l = level { blocks.append(String(repeating: "#", count: min(6, l)) + " " + t) }
            else if isList { blocks.append("- " + t) }
            else { blocks.append(t) }
        }

        var markdown: String {
            // List items of one list stay on consecutive lines; other blocks are paragraphs.
            var out = ""
            for (i, b) in blocks.enumerated() {
                if i > 0 { out += b.hasPrefix("- ") && blocks[i - 1].hasPrefix("- ") ? "\n" : "\n\n" }
                out += b
            }
            return out
        }
    }

    static func body(_ b: [UInt8], part: String, styles: Styles) throws -> String {
        var s = Builder()
        var inText = false
        try XMLWalker.walk(b, part: part, start: { name, a in
            switch name {
            case "t": inText = true
            case "tab": s.para += "\t"
            case "br", "cr": s.para += " "
            case "pStyle":
                if let id = attribute(a, "val") {
                    if let l = styles.headings[id] { s.level = l }
                    if styles.lists.contains(id) { s.isList = true }
                }
            case "outlineLvl": if s.level == nil, let n = attribute(a, "val").flatMap(Int.init), n < 9 { s.level = n + 1 }
            case "numPr": s.isList = true
            case "footnoteReference", "endnoteReference": if let id = attribute(a, "id") { s.para += "[^\(id)]" }
            case "tbl":
                s.endParagraph()
                s.tableDepth += 1; s.tables.append([]); s.cellText.append("")
            case "tr": if s.tableDepth > 0 { s.tables[s.tableDepth - 1].append([]) }
            case "tc": if s.tableDepth > 0 { s.cellText[s.tableDepth - 1] = "" }
            default: break
            }
        }, end: { name in
            switch name {
            case "t": inText = false
            case "p": s.endParagraph()
            case "tc":
                guard s.tableDepth > 0 else { return }
                let d = s.tableDepth - 1
                if s.tables[d].isEmpty { s.tables[d].append([]) }
                s.tables[d][s.tables[d].count - 1].append(s.cellText[d])
            case "tbl":
                guard s.tableDepth > 0 else { return }
                let rows = s.tables.removeLast()
                s.cellText.removeLast()
                s.tableDepth -= 1
                let md = OfficePackage.tableMarkdown(rows)
                if s.tableDepth > 0 {
                    s.cellText[s.tableDepth - 1] += " " + md.replacingOccurrences(of: "\n", with: "; ")
                } else if !md.isEmpty {
                    s.blocks.append(md)
                }
            default: break
            }
        }, text: { t in if inText { s.para += t } })
        s.endParagraph()
        return s.markdown
    }

    /// (id, text) of each real footnote (separators have negative or zero ids and no text).
    static func footnotes(_ b: [UInt8], styles: Styles) throws -> [(String, String)] {
        var notes: [(String, String)] = []
        var id: String? = nil, text = "", inText = false
        try XMLWalker.walk(b, part: "word/footnotes.xml", start: { name, a in
            if name == "footnote" || name == "endnote" { id = attribute(a, "id"); text = "" }
            if name == "t" { inText = true }
        }, end: { name in
            if name == "t" { inText = false }
            if name == "p" { text += " " }
            if name == "footnote" || name == "endnote", let i = id, (Int(i) ?? 0) > 0 {
                let t = text.trimmingCharacters(in: .whitespaces)
                if !t.isEmpty { notes.append((i, t)) }
                id = nil
            }
        }, text: { t in if inText { text += t } })
        return notes
    }
}
