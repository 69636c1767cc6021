/// Text of an HTML page without tags, scripts or styles, shaped as Markdown so the chunker sees its
/// structure: `<h1>`…`<h6>` become `#` headings, block elements become paragraph breaks, `<li>`
/// a list item. Every output byte records the source byte it came from, so chunks cite the page.
///
/// Page furniture is left out: `<nav>`, `<aside>`, `<footer>`, a `<header>` outside `<article>` /
/// `<main>`, elements with role navigation/banner/contentinfo, and cookie or consent banners
/// (an id or class naming cookie, consent or gdpr). A menu line otherwise ranks first for any
/// question its words appear in.
enum HTMLExtractor {
    static let blockTags: Set<String> = [
        "p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "table", "tr",
        "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "figure", "figcaption", "form", "hr", "body",
    ]
    static let skippedTags: Set<String> = ["script", "style", "noscript", "template", "svg", "head"]
    static let furnitureTags: Set<String> = ["nav", "aside", "footer"]

    /// True for an opening tag that starts page furniture rather than content.
    static func isFurniture(_ name: String, attributes: String, inContent: Bool) -> Bool {
        if furnitureTags.contains(name) || (name == "header" && !inContent) { return true }
        let a = attributes.lowercased()
        guard a.contains("=") else { return false }
        for role in ["navigation", "banner", "contentinfo"] where a.contains("role=\"\(role)\"") || a.contains("role='\(role)'") {
            if role != "banner" || !inContent { return true }
        }
        guard let r = a.range(of: #"(id|class)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#, options: .regularExpression) else { return false }
        let value = a[r]
        return ["cookie", "consent", "gdpr"].contains { value.contains($0) }
    }

    /// The index after the element that starts with the tag closing at `close`, counting nested
    /// tags of the same name.
    static func endOfElement(_ b: [UInt8], name: String, after close: Int) -> Int {
        var depth = 1, i = close + 1
        while i < b.count, let lt = b[i...].firstIndex(of: 0x3C) {
            guard let gt = b[lt...].firstIndex(of: 0x3E) else { return b.count }
            let (n, closing) = tagName(b, lt + 1, gt)
            if n == name && b[gt - 1] != 0x2F { depth += closing ? -1 : 1 }
            if depth == 0 { return gt + 1 }
            i = gt + 1
        }
        return b.count
    }

    static func extract(_ b: [UInt8]) -> (text: [UInt8], map: [Int32], title: String?) {
        var out: [UInt8] = [], map: [Int32] = []
        out.reserveCapacity(b.count / 2); map.reserveCapacity(b.count / 2)
        var title: String? = nil
        var pendingSpace = -1           // source offset of a whitespace run not yet written
        var contentDepth = 0            // open <article> / <main> elements
        func emit(_ bytes: [UInt8], at src: Int) {
            for c in bytes { out.append(c); map.append(Int32(src)) }
        }
        // Breaks collapse: never more than one blank line, none at the start.
        func breakLine(_ s: String, at src: Int) {
            pendingSpace = -1
            let want = s.prefix(while: { $0 == "\n" }).count
            var have = 0
            while have < out.count && out[out.count - 1 - have] == 0x0A { have += 1 }
            if out.isEmpty { have = want }
            while let last = out.last, last == 0x20, have == 0, want > 0 { out.removeLast(); map.removeLast() }
            emit(Array(String(repeating: "\n", count: max(0, want - have)).utf8) + Array(s.dropFirst(want).utf8), at: src)
        }
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == 0x3C {                                            // <
                if hasPrefix(b, i, "<!--") {
                    i = find(b, from: i + 4, "-->").map { $0 + 3 } ?? b.count
                    continue
                }
                guard let close = b[i...].firstIndex(of: 0x3E) else { break }
                let (name, closing) = tagName(b, i + 1, close)
                if !closing && name == "title" {
                    let end = find(b, from: close + 1, "</") ?? b.count
                    title = decodeEntities(Array(b[(close + 1)..<end])).trimmingCharacters(in: .whitespacesAndNewlines)
                    if title?.isEmpty == true { title = nil }
                    i = end
                    continue
                }
                if name == "article" || name == "main" { contentDepth = max(0, contentDepth + (closing ? -1 : 1)) }
                if !closing && b[close - 1] != 0x2F,
                   isFurniture(name, attributes: String(decoding: b[(i + 1)..<close], as: UTF8.self), inContent: contentDepth > 0) {
                    breakLine("\n\n", at: i)
                    i = endOfElement(b, name: name, after: close)
                    continue
                }
                if !closing && skippedTags.contains(name) && name != "head" {
                    let end = find(b, from: close + 1, "</" + name, caseInsensitive: true) ?? b.count
                    i = b[end...].firstIndex(of: 0x3E).map { $0 + 1 } ?? b.count
                    continue
                }
                if name.count == 2, name.first == "h", let level = Int(String(name.last!)), (1...6).contains(level) {
                    breakLine(closing ? "\n\n" : "\n\n" + String(repeating: "#", count: level) + " ", at: i)
                } else if name == "br" {
                    breakLine("\n", at: i)
                } else if name == "li" && !closing {
                    breakLine("\n- ", at: i)
                } else if blockTags.contains(name) || name == "td" || name == "th" {
                    breakLine(name == "td" || name == "th" ? " " : "\n\n", at: i)
                }
                i = close + 1
            } else if c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D {
                if pendingSpace < 0 { pendingSpace = i }
                i += 1
            } else {
                if pendingSpace >= 0 {
                    if let last = out.last, last != 0x0A && last != 0x20 { emit([0x20], at: pendingSpace) }
                    pendingSpace = -1
                }
                if c == 0x26, let semi = b[i..<min(b.count, i + 12)].firstIndex(of: 0x3B) {   // &...;
                    let decoded = decodeEntities(Array(b[i...semi]))
                    if decoded.utf8.count < semi - i + 1 || decoded != String(decoding: b[i...semi], as: UTF8.self) {
                        emit(Array(decoded.utf8), at: i)
                        i = semi + 1
                        continue
                    }
                }
                out.append(c); map.append(Int32(i))
                i += 1
            }
        }
        return (out, map, title)
    }

    static func tagName(_ b: [UInt8], _ start: Int, _ end: Int) -> (String, Bool) {
        var p = start
        let closing = p < end && b[p] == 0x2F
        if closing { p += 1 }
        var q = p
        while q < end, (b[q] >= 0x61 && b[q] <= 0x7A) || (b[q] >= 0x41 && b[q] <= 0x5A) || (b[q] >= 0x30 && b[q] <= 0x39) { q += 1 }
        return (String(decoding: b[p..<q], as: UTF8.self).lowercased(), closing)
    }

    static func hasPrefix(_ b: [UInt8], _ i: Int, _ s: String) -> Bool {
        let u = Array(s.utf8)
        return i + u.count <= b.count && Array(b[i..<(i + u.count)]) == u
    }

    static func find(_ b: [UInt8], from: Int, _ s: String, caseInsensitive: Bool = false) -> Int? {
        let u = Array(s.utf8).map { caseInsensitive ? lower($0) : $0 }
        guard !u.isEmpty, from + u.count <= b.count else { return nil }
        var i = from
        while i + u.count <= b.count {
            var k = 0
            while k < u.count && (caseInsensitive ? lower(b[i + k]) : b[i + k]) == u[k] { k += 1 }
            if k == u.count { return i }
            i += 1
        }
        return nil
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 32 : c }

    static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "mdash": "—",
        "ndash": "–", "hellip": "…", "copy": "©", "reg": "®", "yen": "¥", "euro": "€", "middot": "·",
    ]

    /// Replaces `&name;`, `&#123;` and `&#x1F;` entities; unknown ones stay as written.
    static func decodeEntities(_ b: [UInt8]) -> String {
        let s = String(decoding: b, as: UTF8.self)
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            rest = rest[amp...]
            if let semi = rest.prefix(12).firstIndex(of: ";") {
                let body = rest[rest.index(after: rest.startIndex)..<semi]
                var rep: String? = named[String(body)]
                if rep == nil, body.hasPrefix("#") {
                    let num = body.dropFirst()
                    let v = num.hasPrefix("x") || num.hasPrefix("X") ? UInt32(num.dropFirst(), radix: 16) : UInt32(num)
                    if let v, let sc = Unicode.Scalar(v), v != 0 { rep = String(Character(sc)) }
                }
                if let rep { out += rep; rest = rest[rest.index(after: semi)...]; continue }
            }
            out += "&"
            rest = rest.dropFirst()
        }
        return out + rest
    }
}
