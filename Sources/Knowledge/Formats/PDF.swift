import Foundation

/// PDF to text with poppler's `pdftotext -layout`, then our own layout pass: running headers,
/// footers and page numbers dropped, two-column pages read column by column, tables kept as rows
/// with their header (wrapped cells joined), numbered headings turned into the section path,
/// wrapped lines joined into their paragraph or list item. A page with no text layer is rendered
/// with `pdftoppm` and read by OCR (see `OCR`).
///
/// Why `-layout` and not poppler's default reading order: the default mode already orders two
/// columns well, but it breaks a table into one cell per line with no way back to rows. `-layout`
/// keeps rows on their lines and columns side by side, so one pass gives both; splitting the
/// columns is ours (`PDFLayout.readingBlocks`).
enum PDFExtractor {
    /// Pages beyond this are refused (a PDF bomb can declare a billion pages).
    static let maxPages = 2_000

    static func extract(_ file: SourceFile, options: ConverterOptions) throws -> ExtractedDocument {
        let (path, cleanup) = try file.onDisk(suffix: ".pdf")
        defer { cleanup() }
        let (info, pdfTitle) = try pageCount(path, options: options)
        guard info <= maxPages else {
            throw ExtractionError(message: "the PDF declares \(info) pages, over the \(maxPages)-page limit — split it (e.g. with pdfseparate) and ingest the parts")
        }
        var raw: [UInt8]
        do {
            raw = try Subprocess.run("pdftotext", package: "poppler-utils",
                                     ["-layout", "-enc", "UTF-8", "-f", "1", "-l", String(max(1, info)), path, "-"], limits: options.limits)
        } catch ConverterError.failed(_, _, let err) where err.lowercased().contains("password") {
            throw ExtractionError(message: Self.encryptedMessage)
        }
        var pages = String(decoding: raw, as: UTF8.self).split(separator: "\u{0C}", omittingEmptySubsequences: false).map(String.init)
        if pages.count > info && pages.last?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true { pages.removeLast() }
        raw = []
        var lines = pages.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        PDFLayout.dropRunningLines(&lines)
        var ocrPages = 0, confidence = 0.0, confWords = 0
        var texts: [String] = []
        for (i, pageLines) in lines.enumerated() {
            if pageLines.joined().unicodeScalars.filter({ !$0.properties.isWhitespace }).count < 8 {
                // No text layer worth the name: a scanned page.
                let page = try OCR.pdfPage(path, page: i + 1, options: options)
                ocrPages += 1
                confidence += page.meanConfidence * Double(page.words); confWords += page.words
                texts.append(page.text)
            } else {
                texts.append(PDFLayout.markdown(blocks: PDFLayout.readingBlocks(pageLines)))
            }
        }
        var doc = PagedText.document(pages: texts, label: { "p. \($0)" },
                                     title: pdfTitle ?? (file.name as NSString).deletingPathExtension)
        if ocrPages > 0 {
            doc.notes.append(OCR.note(pages: ocrPages, of: texts.count, confidence: confWords > 0 ? confidence / Double(confWords) : 0))
        }
        return doc
    }

    static let encryptedMessage = "the PDF is encrypted and needs a password — remove the protection (e.g. 'qpdf --decrypt --password=PASSWORD in.pdf out.pdf') and ingest the copy"

    /// Pages and title from `pdfinfo`, which reads only the document catalogue (and reports a
    /// password-protected file before any page is read).
    static func pageCount(_ path: String, options: ConverterOptions) throws -> (Int, String?) {
        let out: [UInt8]
        do {
            out = try Subprocess.run("pdfinfo", package: "poppler-utils", [path], limits: options.limits)
        } catch ConverterError.failed(_, _, let err) {
            if err.lowercased().contains("password") { throw ExtractionError(message: encryptedMessage) }
            throw ExtractionError(message: "not a readable PDF (\(err.isEmpty ? "pdfinfo failed" : err)) — check that it opens in a PDF viewer")
        }
        var pages = 0
        var title: String? = nil
        for line in String(decoding: out, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("Pages:") { pages = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? 0 }
            if line.hasPrefix("Title:") {
                let t = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
                if !t.isEmpty && t.lowercased() != "untitled" { title = t }
            }
        }
        return (pages, title)
    }
}

/// Documents made of numbered parts (PDF pages, slides): each part is a unit whose heading path
/// starts with its label (`p. 12`, `slide 4`), and headings carry over from one part to the next so
/// a section that continues on the next page still cites its heading.
enum PagedText {
    static func document(pages: [String], label: (Int) -> String, title: String) -> ExtractedDocument {
        var source: [UInt8] = []
        var units: [ExtractedUnit] = []
        var carried: [String] = []
        for (i, page) in pages.enumerated() {
            let text = Array(page.utf8)
            if !source.isEmpty { source += Array("\n\n".utf8) }
            let start = source.count
            source += text
            units.append(ExtractedUnit(text: text, mapping: .offset(start), markdown: true, headingPrefix: [label(i + 1)],
                                       carriedHeadings: carried))
            carried = text.withUnsafeBufferPointer { Chunker.headingStack(after: $0, initial: carried) }
        }
        let first = carried.first(where: { !$0.isEmpty })
        return ExtractedDocument(title: title.isEmpty ? (first ?? "") : title, units: units, text: source)
    }
}
