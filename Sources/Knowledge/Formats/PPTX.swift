import Foundation

/// PowerPoint (.pptx): per slide, in presentation order, its title as a heading, the text of its
/// shapes (bulleted paragraphs as list items, tables as rows) and its speaker notes. Each slide is
/// a unit cited as `deck.pptx › slide 4 > Title`.
enum PPTXExtractor {
    static func extract(_ file: SourceFile, options: ConverterOptions) throws -> ExtractedDocument {
        let zip = try OfficePackage.open(file, options: options, kind: "PPTX")
        let presentation = try OfficePackage.part(zip, "ppt/presentation.xml")
        var ids: [String] = []
        try XMLWalker.walk(presentation, part: "ppt/presentation.xml", start: { name, a in
            if name == "sldId", let rid = a["r:id"] ?? attribute(a, "id") { ids.append(rid) }
        })
        let rels = try OfficePackage.relationships(zip, of: "ppt/presentation.xml")
        var pages: [String] = []
        for rid in ids {
            guard let part = rels[rid]?.target, let b = try zip.read(part) else { continue }
            let slide = try shapes(b, part: part)
            var md = slide.title.map { "# " + $0 + "\n\n" } ?? ""
            md += slide.body.joined(separator: "\n\n")
            let slideRels = try OfficePackage.relationships(zip, of: part)
            if let notesPart = slideRels.values.first(where: { $0.type.hasSuffix("/notesSlide") })?.target,
               let nb = try zip.read(notesPart) {
                let notes = try shapes(nb, part: notesPart, notes: true).body.joined(separator: "\n")
                if !notes.isEmpty { md += "\n\nSpeaker notes: " + notes }
            }
            pages.append(md)
        }
        var doc = PagedText.document(pages: pages, label: { "slide \($0)" }, title: "")
        let firstTitle = pages.first.flatMap { Extractor.firstMarkdownHeading(Array($0.utf8)) }
        doc.title = firstTitle ?? (file.name as NSString).deletingPathExtension
        return doc
    }

    /// Title and body paragraphs of a slide (or, with `notes`, the notes placeholder's text only:
    /// a notes page also holds the slide image and the slide number).
    static func shapes(_ b: [UInt8], part: String, notes: Bool = false) throws -> (title: String?, body: [String]) {
        var title: String? = nil
        var body: [String] = []
        var placeholder: String? = nil
        var para = "", shapeParas: [String] = [], inText = false, bullet = false
        var table: [[String]]? = nil, cell = ""
        try XMLWalker.walk(b, part: part, start: { name, a in
            switch name {
            case "sp": placeholder = nil; shapeParas = []
            case "ph": placeholder = a["type"] ?? "body"
            case "p": para = ""; bullet = false
            case "buChar", "buAutoNum": bullet = true
            case "t": inText = true
            case "br": para += " "
            case "tbl": table = []
            case "tr": table?.append([])
            case "tc": cell = ""
            default: break
            }
        }, end: { name in
            switch name {
            case "t": inText = false
            case "p":
                let t = para.trimmingCharacters(in: .whitespaces)
                guard !t.isEmpty else { return }
                if table != nil { cell += (cell.isEmpty ? "" : " ") + t } else {
                    // Body placeholders of the default layouts are bulleted without a buChar.
                    let listed = bullet || (placeholder == "body" && !notes) || placeholder == "obj"
                    shapeParas.append(listed ? "- " + t : t)
                }
            case "tc": if table != nil, !table!.isEmpty { table![table!.count - 1].append(cell) }
            case "tbl":
                if let rows = table { let md = OfficePackage.tableMarkdown(rows); if !md.isEmpty { body.append(md) } }
                table = nil
            case "sp":
                let kind = placeholder ?? ""
                if kind == "title" || kind == "ctrTitle" {
                    if !notes { title = shapeParas.map { $0.hasPrefix("- ") ? String($0.dropFirst(2)) : $0 }.joined(separator: " ") }
                } else if notes {
                    if kind == "body" { body += shapeParas }
                } else if !["sldNum", "dt", "ftr", "hdr"].contains(kind) && !shapeParas.isEmpty {
                    body.append(shapeParas.joined(separator: "\n"))
                }
            default: break
            }
        }, text: { t in if inText { para += t } })
        return (title?.isEmpty == true ? nil : title, body)
    }
}
