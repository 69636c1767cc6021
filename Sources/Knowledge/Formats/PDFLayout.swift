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
    static func readingOrder(_ lines: [String]) -> [String] {
        let rows = lines.map { Array($0.unicodeScalars) }
        let width = rows.map(\.count).max() ?? 0
        guard width >= 40, let cut = findGutter(rows, width: width) else { return lines }
        var out: [String] = [], left: [String] = [], right: [String] = []
        func flush() { out += left; out += right; left = []; right = [] }
        func text(_ s: ArraySlice<Unicode.Scalar>) -> String { String(String.UnicodeScalarView(s)) }
        // A side that is empty on a row where the other side has text says nothing (the columns'
        // baselines need not line up); only a row blank on both sides is a paragraph break.
        func blank(_ s: ArraySlice<Unicode.Scalar>) -> Bool { s.allSatisfy { $0 == " " } }
        for r in rows {
            if blank(r[...]) {
                left.append(""); right.append("")
            } else if r.count <= cut {
                left.append(text(r[...]))
            } else if r[cut] == " " && r[cut - 1] == " " && (cut + 1 == r.count || r[cut + 1] == " ") {
                // A gap of at least three blanks at the cut: two columns. One blank is a word
                // break in a line that runs across the page.
                if !blank(r[..<cut]) { left.append(text(r[..<cut])) }
                if !blank(r[cut...]) { right.append(text(r[cut...])) }
            } else {
                flush()
                out.append(text(r[...]))
            }
        }
        flush()
        return out
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

    // MARK: Tables and headings

    /// Page lines as Markdown: a table (a header of ≥ 2 short cells over ≥ 2 rows, see `table`)
    /// becomes one `header: value` paragraph per row; a short numbered line
    /// whose title starts with a capital or CJK character ("3.2 Capital adequacy"), after a blank
    /// line or a finished sentence, becomes a heading of its depth.
    static func markdown(_ lines: [String]) -> String {
        var out: [String] = []
        var i = 0
        // A wrapped line fills the column; a title or a paragraph's last line stops short.
        let full = (lines.map { $0.trimmedBlanks.unicodeScalars.count }.max() ?? 0) * 4 / 5
        while i < lines.count {
            if let (header, rows, next) = table(at: i, lines) {
                for r in rows {
                    out.append("")
                    out += zip(header, r).filter { !$0.1.isEmpty }.map { "\($0.0): \($0.1)" }
                }
                out.append("")
                i = next
                continue
            }
            let t = joinCJK(lines[i].trimmedBlanks)
            if let level = headingLevel(t), startsSection(i, lines, out: out), endsHeading(i, lines) {
                out += ["", String(repeating: "#", count: level) + " " + t, ""]
            } else if let prev = out.last, i > 0, lines[i - 1].trimmedBlanks.unicodeScalars.count >= full,
                      continuesCJK(prev, t) {
                // A Chinese sentence wrapped at the line end: one line again, or the index loses
                // the character pair across the break.
                out[out.count - 1] = prev + t
            } else {
                out.append(t)
            }
            i += 1
        }
        return out.joined(separator: "\n").replacingOccurrences(of: #"\n{3,}"#, with: "\n\n", options: .regularExpression)
            .trimmingCharacters(in: .newlines)
    }

    static func isHan(_ s: Unicode.Scalar?) -> Bool { s.map { TextScan.isCJK($0.value) } ?? false }
    static func isCJKish(_ s: Unicode.Scalar) -> Bool { TextScan.isCJK(s.value) || TextScan.isCJKPunctuation(s.value) }

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

    /// Removes the single spaces pdftotext leaves between Chinese characters of justified lines.
    static func joinCJK(_ t: String) -> String {
        let u = Array(t.unicodeScalars)
        guard u.contains(where: { TextScan.isCJK($0.value) }) else { return t }
        var out = String.UnicodeScalarView()
        for (i, c) in u.enumerated() {
            if c == " ", i > 0, i + 1 < u.count, isHan(u[i - 1]) || TextScan.isCJKPunctuation(u[i - 1].value),
               isHan(u[i + 1]) || TextScan.isCJKPunctuation(u[i + 1].value) { continue }
            out.append(c)
        }
        return String(out)
    }

    /// True when `next` carries on a Chinese sentence that `prev` broke off (prev ends in a Han
    /// character or a comma-like mark, next starts with one).
    static func continuesCJK(_ prev: String, _ next: String) -> Bool {
        guard !prev.isEmpty, !next.isEmpty, !prev.hasPrefix("#"), !prev.contains(": ") else { return false }
        let last = prev.unicodeScalars.last!, first = next.unicodeScalars.first!
        let openEnd = isHan(last) || "，、：；（“‘《".unicodeScalars.contains(last)
        return openEnd && (isHan(first) || TextScan.isCJKPunctuation(first.value))
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
