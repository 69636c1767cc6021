/// Turns an extracted document into chunks with source offsets and line numbers.
///
/// Offsets are Unicode-scalar offsets into the document's decoded text (what Python's `str`
/// indexes), and lines count in that text: for a UTF-8 file that is the file itself (a UTF-8 BOM
/// is not part of the text); for GB18030/GBK, Big5 or UTF-16 files it is the file converted to
/// UTF-8; for PDF, Office files and e-mail it is the text we extracted (`ExtractedDocument.text`:
/// pages, slides, sheets and messages one after the other), which is what `--explain` quotes.
/// Relation to the text, by format:
/// - .md, .txt: `chunk.text == String(source.unicodeScalars[charStart..<charEnd])` exactly.
/// - .html: the span covers the elements the text came from; the text is that span without tags.
/// - .csv, .json, .jsonl: the span is the whole row / record; the text is its `field: value` lines.
/// - .pdf, .pptx, images: each page or slide is a unit at its offset in the extracted text, and its
///   heading path starts with `p. N` / `slide N` (the citation says the page).
enum DocumentChunker {
    static func chunks(of doc: ExtractedDocument, source: [UInt8], options: ChunkingOptions) -> [NewChunk] {
        struct Pending { var text: String; var heading: String; var srcStart: Int; var srcEnd: Int; var tokens: Int }
        var pending: [Pending] = []
        for unit in doc.units {
            let raws = unit.text.withUnsafeBufferPointer {
                Chunker.chunk($0, markdown: unit.markdown, options: options, carriedHeadings: unit.carriedHeadings)
            }
            for r in raws {
                let text = String(decoding: unit.text[r.start..<r.end], as: UTF8.self)
                let heading = (unit.headingPrefix + r.headingPath).joined(separator: " > ")
                var s: Int, e: Int
                switch unit.mapping {
                case .identity: s = r.start; e = r.end
                case .offset(let base): s = base + r.start; e = base + r.end
                case .span(let a, let b): s = a; e = b
                case .perByte(let map):
                    s = Int(map[r.start]); e = Int(map[r.end - 1]) + 1
                    if source[e - 1] == 0x26, let semi = source[e...].prefix(12).firstIndex(of: 0x3B) { e = semi + 1 }
                    while e < source.count && TextScan.isContinuation(source[e]) { e += 1 }
                }
                pending.append(Pending(text: text, heading: heading, srcStart: s, srcEnd: max(e, s), tokens: r.tokens))
            }
        }
        // One sweep over the source turns byte offsets into scalar offsets and line numbers.
        var wanted = Set<Int>()
        for p in pending { wanted.insert(p.srcStart); wanted.insert(p.srcEnd); wanted.insert(max(p.srcStart, p.srcEnd - 1)) }
        let positions = wanted.sorted()
        var scalarAt: [Int: Int] = [:], lineAt: [Int: Int] = [:]
        scalarAt.reserveCapacity(positions.count); lineAt.reserveCapacity(positions.count)
        var scalars = 0, line = 1, i = 0
        for pos in positions {
            while i < pos && i < source.count {
                let c = source[i]
                if !TextScan.isContinuation(c) { scalars += 1 }
                if c == 0x0A { line += 1 }
                i += 1
            }
            scalarAt[pos] = scalars
            lineAt[pos] = line
        }
        return pending.map { p in
            NewChunk(text: p.text, headingPath: p.heading, charStart: scalarAt[p.srcStart]!, charEnd: scalarAt[p.srcEnd]!,
                     startLine: lineAt[p.srcStart]!, endLine: lineAt[max(p.srcStart, p.srcEnd - 1)]!, tokenEstimate: p.tokens)
        }
    }
}

/// Chunking of in-memory text, for callers that do not read files (benchmarks, generated content).
public enum TextChunker {
    /// Extracts and chunks `text` as a file named `fileName` of type `type` would be; returns the
    /// document title and its chunks, offsets relative to `text`.
    public static func chunk(_ text: String, type: SourceType, fileName: String,
                             options: ChunkingOptions = .default) throws -> (title: String, chunks: [NewChunk]) {
        let bytes = Array(text.utf8)
        do {
            let doc = try Extractor.extract(bytes, type: type, fileName: fileName)
            return (doc.title, DocumentChunker.chunks(of: doc, source: doc.text ?? bytes, options: options))
        } catch let e as ExtractionError {
            throw IngestProblem.malformed(e.message)
        }
    }
}
