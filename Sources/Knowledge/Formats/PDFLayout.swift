import Foundation

/// The layout pass over `pdftotext -layout` pages: what poppler gives as positioned lines becomes
/// Markdown the chunker understands. Every rule here is a heuristic with a stated limit (README,
/// "Document formats").
enum PDFLayout {
    // MARK: Running headers, footers and page numbers

    /// Removes, from the top and bottom three non-blank lines of each page, lines that repeat on at
    /// least half the pages (digits ignored, so "Page 3" matches "Page 4") and bare page numbers.
    static func dropRunningLines(_ pages: inout [[String]]) {
        func key(_ s: String) -> String {
            String(s.unicodeScalars.map { CharacterSet.decimalDigits.contains($0) ? "#" : Character($0) })
                .split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        }
        func edges(_ lines: [String]) -> [Int] {
            let filled = lines.indices.filter { !lines[$0].trimmedBlanks.isEmpty }
            return Array(Set(filled.prefix(3) + filled.suffix(3))).sorted()
        }
        var counts: [String: Int] = [:]
        for p in pages { for k in Set(edges(p).map { key(p[$0]) }) { counts[k, default: 0] += 1 } }
        let needed = max(2, (pages.count + 1) / 2)
        for i in pages.indices {
            for j in edges(pages[i]).reversed() {
                let line = pages[i][j]
                if (pages.count >= 2 && counts[key(line), default: 0] >= needed) || isPageNumber(line) { pages[i][j] = "" }
            }
        }
    }

    static func isPageNumber(_ line: String) -> Bool {
        let t = line.trimmedBlanks.lowercased()
        guard t.count <= 24, t.unicodeScalars.contains(where: { CharacterSet.decimalDigits.contains($0) }) else { return false }
        return t.range(of: #"^(page\s*|p\.\s*)?[-–—]?\s*\d{1,5}\s*[-–—]?(\s*(of|/)\s*\d{1,5})?$"#, options: .regularExpression) != nil
            || t.range(of: #"^第\s*\d{1,5}\s*页(\s*[,，/]?\s*共\s*\d{1,5}\s*页)?$"#, options: .regularExpression) != nil
    }

    // MARK: Columns

    /// Lines in reading order. A gutter is a run of ≥ 2 columns, in the middle half of the page,
    /// blank on nearly every line while text sits on both sides of it. Lines with text where the
    /// gutter is cut (a title across both columns) close a block; each block is read left column,
    /// then right.
    static func readingOrder(_ lines: [String]) -> [String] { readingBlocks(lines).flatMap { $0 } }

    /// `readingOrder` as blocks of one width: runs of full-width lines, and each column of a
    /// two-column run. A wrapped line is told by how close it comes to its block's widest line.
    static func readingBlocks(_ lines: [String]) -> [[String]] {
        let rows = lines.map { Array($0.unicodeScalars) }
        let width = rows.map(\.count).max() ?? 0
        guard width >= 40, let cut = findGutter(rows, width: width) else { return [lines] }
        var out: [[String]] = [], across: [String] = [], left: [String] = [], right: [String] = []
        func close(_ block: inout [String]) { if block.contains(where: { !$0.isEmpty }) { out.append(block) }; block = [] }
        func flush() { close(&left); close(&right) }
        func text(_ s: ArraySlice<Unicode.Scalar>) -> String { String(String.UnicodeScalarView(s)) }
        // A side that is empty on a row where the other side has text says nothing (the columns'
        // baselines need not line up); only a row blank on both sides is a paragraph break.
        func blank(_ s: ArraySlice<Unicode.Scalar>) -> Bool { s.allSatisfy { $0 == " " } }
        for r in rows {
            if blank(r[...]) {
                left.append(""); right.append(""); across.append("")
            } else if r.count <= cut {
                close(&across)
                left.append(text(r[...]))
            } else if let gap = gap(r, at: cut) {
                close(&across)
                if !blank(r[..<gap.lowerBound]) { left.append(text(r[..<gap.lowerBound])) }
                if !blank(r[gap.upperBound...]) { right.append(text(r[gap.upperBound...])) }
            } else {
                flush()
                across.append(text(r[...]))
            }
        }
        flush(); close(&across)
        return out
    }

    /// The blanks around `cut` when they are at least three: the line has two columns there. One
    /// blank is a word break in a line that runs across the page. The run need not be centred on
    /// the cut: a left column's longest lines reach into the gutter.
    static func gap(_ r: [Unicode.Scalar], at cut: Int) -> Range<Int>? {
        guard r[cut] == " " else { return nil }
        var a = cut, b = cut + 1
        while a > 0 && r[a - 1] == " " { a -= 1 }
        while b < r.count && r[b] == " " { b += 1 }
        return b - a >= 3 || b == r.count ? a..<b : nil
    }

    /// The column to cut two-column lines at: the emptiest column of the widest run of nearly
    /// empty columns in the middle half of the page; nil when the page has one column.
    static func findGutter(_ rows: [[Unicode.Scalar]], width: Int) -> Int? {
        var occupied = [Int](repeating: 0, count: width)
        var textLines = 0
        for r in rows where r.contains(where: { $0 != " " }) {
            textLines += 1
            for (x, c) in r.enumerated() where c != " " { occupied[x] += 1 }
        }
        guard textLines >= 6 else { return nil }
        let tolerance = max(1, textLines / 20)
        var best: Range<Int>? = nil
        var x = width / 4
        while x < width * 3 / 4 {
            guard occupied[x] <= tolerance else { x += 1; continue }
            var e = x
            while e < width * 3 / 4 && occupied[e] <= tolerance { e += 1 }
            if e - x >= 2 && (best == nil || e - x > best!.count) { best = x..<e }
            x = e
        }
        guard let g = best else { return nil }
        // Both sides must carry text on a good share of the lines: otherwise it is indentation.
        let leftLines = rows.filter { $0.prefix(g.lowerBound).contains { $0 != " " } }.count
        let rightLines = rows.filter { $0.count > g.upperBound && $0[g.upperBound...].contains { $0 != " " } }.count
        guard leftLines * 4 >= textLines && rightLines * 4 >= textLines else { return nil }
        return g.min { occupied[$0] != occupied[$1] ? occupied[$0] < occupied[$1] : abs($0 - (g.lowerBound + g.upperBound) / 2) < abs($1 - (g.lowerBound + g.upperBound) / 2) }
    }

    // MARK: Paragraphs, lists, tables and headings

    /// Page lines as Markdown (one block of one width: see `readingBlocks`).
    static func markdown(_ lines: [String]) -> String { markdown(blocks: [lines]) }

    /// Page blocks as Markdown: a table (a header of ≥ 2 short cells over ≥ 2 rows, see `table`)
    /// becomes one `header: value` paragraph per row; a short numbered line whose title starts with
    /// a capital or CJK character ("3.2 Capital adequacy"), after a blank line or a finished
    /// sentence, becomes a heading of its depth; a bulleted line ("•", "▪", "●") a list item, with
    /// no blank line between the items of one list; and a line wrapped at the block's edge is
    /// joined to the next one, so a paragraph or a list item is one line again, as in Markdown:
    /// the passage's sentences and items are what retrieval scores and what the answer quotes,
    /// and a sentence cut at the line end reads as two.
    static func markdown(blocks: [[String]]) -> String {
        let lines = blocks.flatMap { $0 }
        // Per line: its block and the block's right edge, its widest line of prose.
        var block: [Int] = [], edge: [Int] = []
        for (n, b) in blocks.enumerated() {
            let widest = b.filter { !$0.trimmedBlanks.contains("  ") }.map(displayWidth).max() ?? 0
            block += Array(repeating: n, count: b.count)
            edge += Array(repeating: widest, count: b.count)
        }
        // A line was wrapped when the next line's first word would not have fitted after it (with
        // 15% slack: layout columns only approximate a proportional font). A title or the last
        // line of a paragraph leaves room.
        func wrapped(_ p: Int, before next: String) -> Bool {
            guard edge[p] >= minWrapWidth else { return false }
            let word = next.unicodeScalars.first.map(isCJKish) == true ? String(next.prefix(1))
                : String(next.prefix { $0 != " " })
            return (displayWidth(lines[p]) + 1 + displayWidth(word)) * 20 >= edge[p] * 17
        }
        var out: [String] = []
        var proseLine: Int? = nil          // the line that ends out.last, when that is prose
        var i = 0
        while i < lines.count {
            if let (header, rows, next) = table(at: i, lines) {
                for r in rows {
                    out.append("")
                    out += zip(header, r).filter { !$0.1.isEmpty }.map { "\($0.0): \($0.1)" }
                }
                out.append("")
                proseLine = nil
                i = next
                continue
            }
            let t = listItem(joinCJK(lines[i].trimmedBlanks))
            if let level = headingLevel(t), startsSection(i, lines, out: out), endsHeading(i, lines) {
                out += ["", String(repeating: "#", count: level) + " " + t, ""]
                proseLine = nil
            } else if !t.isEmpty, let p = proseLine, p == i - 1, block[p] == block[i], !startsItem(t), wrapped(p, before: t) {
                out[out.count - 1] = joinWrapped(out[out.count - 1], t)
                proseLine = i
            } else {
                // Items of one list are one block, however far apart the layout spaced them: the
                // reader of a passage takes a list's items as siblings only when they are adjacent.
                if startsItem(t), let last = out.lastIndex(where: { !$0.isEmpty }), last < out.count - 1, startsItem(out[last]) {
                    out.removeSubrange((last + 1)...)
                }
                out.append(t)
                proseLine = t.isEmpty ? nil : i
            }
            i += 1
        }
        return out.joined(separator: "\n").replacingOccurrences(of: #"\n{3,}"#, with: "\n\n", options: .regularExpression)
            .trimmingCharacters(in: .newlines)
    }

    /// Blocks narrower than this (in `displayWidth` columns) are lists of short lines, not wrapped
    /// prose: the narrower column of a two-column page is still ~40 wide.
    static let minWrapWidth = 24

    /// Columns a line takes on the page: pdftotext gives a Chinese character one column of the
    /// layout, but it is as wide as two Latin letters.
    static func displayWidth(_ line: String) -> Int {
        line.trimmedBlanks.unicodeScalars.reduce(0) { $0 + (isCJKish($1) ? 2 : 1) }
    }

    static func isHan(_ s: Unicode.Scalar?) -> Bool { s.map { TextScan.isCJK($0.value) } ?? false }
    static func isCJKish(_ s: Unicode.Scalar) -> Bool { TextScan.isCJK(s.value) || TextScan.isCJKPunctuation(s.value) }

    /// Removes the single spaces pdftotext leaves between Chinese characters of justified lines.
    static func joinCJK(_ t: String) -> String {
        let u = Array(t.unicodeScalars)
        guard u.contains(where: { TextScan.isCJK($0.value) }) else { return t }
        var out = String.UnicodeScalarView()
        for (i, c) in u.enumerated() {
            if c == " ", i > 0, i + 1 < u.count, isCJKish(u[i - 1]), isCJKish(u[i + 1]) { continue }
            out.append(c)
        }
        return String(out)
    }

    /// A line wrapped at the edge and the line it continues on: Chinese joins without a space (a
    /// space would cut the character pair the index reads across the break), as does a word
    /// broken after a hyphen or dash ("400-820-" + "6688"); other scripts join with one space.
    static func joinWrapped(_ prev: String, _ next: String) -> String {
        guard let last = prev.unicodeScalars.last, let first = next.unicodeScalars.first else { return prev + next }
        if isCJKish(last) || isCJKish(first) { return prev + next }
        if "-–".unicodeScalars.contains(last), let before = prev.unicodeScalars.dropLast().last,
           CharacterSet.alphanumerics.contains(before) { return prev + next }
        return prev + " " + next
    }

    /// A bulleted line as a Markdown list item: "• text" → "- text".
    static func listItem(_ t: String) -> String {
        guard let c = t.unicodeScalars.first, "•●▪◦■□➢►·".unicodeScalars.contains(c) else { return t }
        let rest = t.unicodeScalars.dropFirst()
        guard rest.first == " " || rest.first == "\t" else { return t }
        return "- " + String(String.UnicodeScalarView(rest)).trimmedBlanks
    }

    /// A line that starts a list item ("- ", "* ", "1. ", "2) ", "(3) ", "一、") starts its own line.
    static func startsItem(_ t: String) -> Bool {
        if t.hasPrefix("- ") || t.hasPrefix("* ") { return true }
        // Cheap test first: this runs on most lines, and a regular expression costs ~50 µs here.
        guard let c = t.unicodeScalars.first, CharacterSet.decimalDigits.contains(c) || "(（一二三四五六七八九十".unicodeScalars.contains(c) else { return false }
        return t.range(of: #"^(\d{1,2}[.)]\s|[(（]\d{1,2}[)）]|[一二三四五六七八九十]{1,3}、)"#, options: .regularExpression) != nil
    }

    /// A heading follows a blank line, a finished sentence or another heading.
    static func startsSection(_ i: Int, _ lines: [String], out: [String]) -> Bool {
        guard let prev = out.last(where: { !$0.isEmpty }), i > 0 else { return true }
        if lines[i - 1].trimmedBlanks.isEmpty || prev.hasPrefix("#") { return true }
        return prev.last.map { ".。!！?？:：;；)）".contains($0) } ?? true
    }

    /// What follows a heading is a blank line, another heading, or a line starting a sentence.
    static func endsHeading(_ i: Int, _ lines: [String]) -> Bool {
        guard i + 1 < lines.count else { return true }
        let next = lines[i + 1].trimmedBlanks
        guard let c = next.unicodeScalars.first else { return true }
        return CharacterSet.uppercaseLetters.contains(c) || CharacterSet.decimalDigits.contains(c) || TextScan.isCJK(c.value)
    }

    /// `1 Overview` → 1, `3.2 Capital adequacy` → 2, `第三章 风险` → 1; nil for anything else.
    static func headingLevel(_ t: String) -> Int? {
        // Cheap tests first: this runs on every line, and a regular expression costs ~50 µs here.
        guard let first = t.unicodeScalars.first, CharacterSet.decimalDigits.contains(first) || first == "第",
              t.count <= 80, let last = t.last, !".,;:，。；：".contains(last) else { return nil }
        if let r = t.range(of: #"^\d{1,2}(\.\d{1,2}){0,3}\.?\s+\S"#, options: .regularExpression) {
            let number = t[r].prefix(while: { $0.isNumber || $0 == "." })
            // The title starts with a capital or a CJK character: "12 months later…" is prose.
            guard let first = t[r].last?.unicodeScalars.first,
                  CharacterSet.uppercaseLetters.contains(first) || TextScan.isCJK(first.value) else { return nil }
            return min(6, number.split(separator: ".").count)
        }
        if t.range(of: #"^第[一二三四五六七八九十百\d]+[章节部分]"#, options: .regularExpression) != nil { return 1 }
        return nil
    }
}

extension String {
    /// Without leading and trailing spaces and tabs. Foundation's `trimmingCharacters` goes
    /// through NSString and UTF-16 on Linux; on every line of every page that was a tenth of the
    /// PDF ingest time.
    var trimmedBlanks: String {
        let u = unicodeScalars
        var a = u.startIndex, b = u.endIndex
        while a < b && (u[a] == " " || u[a] == "\t") { a = u.index(after: a) }
        while b > a && (u[u.index(before: b)] == " " || u[u.index(before: b)] == "\t") { b = u.index(before: b) }
        return a == u.startIndex && b == u.endIndex ? self : String(u[a..<b])
    }
}
