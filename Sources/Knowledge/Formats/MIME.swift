import Foundation

/// One MIME entity: unfolded headers and a raw body, with decoding of transfer encodings,
/// charsets and RFC 2047 encoded words. Tolerant of CRLF or LF line ends and of 8-bit headers.
struct MIMEPart {
    var headers: [(name: String, value: [UInt8])] = []
    var body: [UInt8] = []

    init(_ b: [UInt8]) {
        // The header ends at the first empty line.
        var i = 0, lines: [[UInt8]] = []
        while i < b.count {
            let nl = b[i...].firstIndex(of: 0x0A) ?? b.count
            var line = Array(b[i..<nl])
            if line.last == 0x0D { line.removeLast() }
            i = nl + 1
            if line.isEmpty { break }
            if (line[0] == 0x20 || line[0] == 0x09), !lines.isEmpty { lines[lines.count - 1] += [0x20] + line.drop(while: { $0 == 0x20 || $0 == 0x09 }) }
            else { lines.append(line) }
        }
        for l in lines {
            guard let colon = l.firstIndex(of: 0x3A), colon > 0 else { continue }
            let name = String(decoding: l[..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.contains(" ") else { continue }
            headers.append((name, Array(l[(colon + 1)...].drop(while: { $0 == 0x20 || $0 == 0x09 }))))
        }
        body = i < b.count ? Array(b[i...]) : []
    }

    /// A header decoded for display: RFC 2047 words converted, raw 8-bit bytes detected.
    func header(_ name: String) -> String? {
        guard let raw = headers.first(where: { $0.name == name.lowercased() })?.value else { return nil }
        let text = (try? TextDecoder.decode(raw).text).map { String(decoding: $0, as: UTF8.self) } ?? String(decoding: raw, as: UTF8.self)
        let v = MIMEPart.decodeWords(text).trimmingCharacters(in: .whitespaces)
        return v.isEmpty ? nil : v
    }

    /// `text/plain; charset=gbk` → "text/plain"; text/plain when absent.
    var contentType: String {
        let v = header("content-type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return v?.isEmpty == false ? v! : "text/plain"
    }

    func parameter(_ header: String, _ key: String) -> String? {
        guard let h = self.header(header) else { return nil }
        for p in h.split(separator: ";").dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { continue }
            let k = kv[0].lowercased()
            var v = kv[1]
            if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            if k == key { return v }
            // RFC 2231: filename*=UTF-8''%E6%8A%A5.pdf
            if k == key + "*", let q = v.range(of: "''") {
                let charset = String(v[..<q.lowerBound])
                let bytes = MIMEPart.percentDecode(String(v[q.upperBound...]))
                return TextEncoding(label: charset).flatMap { TextDecoder.convert(bytes, from: $0) }.map { String(decoding: $0, as: UTF8.self) }
                    ?? String(decoding: bytes, as: UTF8.self)
            }
        }
        return nil
    }

    var fileName: String? { parameter("content-disposition", "filename") ?? parameter("content-type", "name") }

    /// The parts of a multipart body, split at `--boundary` lines.
    var children: [MIMEPart] {
        guard let boundary = parameter("content-type", "boundary"), !boundary.isEmpty else { return [] }
        let delim = Array(("--" + boundary).utf8)
        var parts: [MIMEPart] = []
        var start: Int? = nil
        var i = 0
        let b = body
        while i < b.count {
            let nl = b[i...].firstIndex(of: 0x0A) ?? b.count
            var line = b[i..<nl]
            if line.last == 0x0D { line = line.dropLast() }
            if line.starts(with: delim) {
                if let s = start { parts.append(MIMEPart(Array(b[s..<max(s, i - 1)]))) }
                if line.dropFirst(delim.count).starts(with: [0x2D, 0x2D]) { return parts }
                start = nl + 1
            }
            i = nl + 1
        }
        if let s = start, s < b.count { parts.append(MIMEPart(Array(b[s...]))) }
        return parts
    }

    /// The body with its transfer encoding (base64, quoted-printable) undone.
    var decodedBody: [UInt8] {
        switch header("content-transfer-encoding")?.lowercased() ?? "" {
        case "base64": return Data(base64Encoded: Data(body), options: .ignoreUnknownCharacters).map { [UInt8]($0) } ?? body
        case "quoted-printable": return MIMEPart.quotedPrintable(body)
        default: return body
        }
    }

    /// A text part as UTF-8: its declared charset first, detection when that is absent or wrong.
    var text: [UInt8] {
        let raw = decodedBody
        if let label = parameter("content-type", "charset"), let enc = TextEncoding(label: label),
           let t = TextDecoder.convert(raw, from: enc) { return t }
        if let t = try? TextDecoder.decode(raw).text { return t }
        return Array(String(decoding: raw, as: UTF8.self).utf8)
    }

    static func quotedPrintable(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == 0x3D {
                if i + 1 < b.count && b[i + 1] == 0x0A { i += 2; continue }                                // soft break
                if i + 2 < b.count && b[i + 1] == 0x0D && b[i + 2] == 0x0A { i += 3; continue }
                if i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]) { out.append(h << 4 | l); i += 3; continue }
            }
            out.append(b[i]); i += 1
        }
        return out
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x37
        case 0x61...0x66: c - 0x57
        default: nil
        }
    }

    static func percentDecode(_ s: String) -> [UInt8] {
        let u = Array(s.utf8)
        var out: [UInt8] = [], i = 0
        while i < u.count {
            if u[i] == 0x25, i + 2 < u.count, let h = hex(u[i + 1]), let l = hex(u[i + 2]) { out.append(h << 4 | l); i += 3 } else { out.append(u[i]); i += 1 }
        }
        return out
    }

    /// RFC 2047: `=?GBK?B?...?=` and `=?utf-8?Q?...?=`; whitespace between two encoded words is dropped.
    static func decodeWords(_ s: String) -> String {
        guard s.contains("=?") else { return s }
        let pattern = try! NSRegularExpression(pattern: #"=\?([^?]+)\?([bBqQ])\?([^?]*)\?="#)
        let ns = s as NSString
        var out = "", last = 0, lastWasWord = false
        for m in pattern.matches(in: s, range: NSRange(location: 0, length: ns.length)) {
            let between = ns.substring(with: NSRange(location: last, length: m.range.location - last))
            if !(lastWasWord && between.trimmingCharacters(in: .whitespaces).isEmpty) { out += between }
            let charset = ns.substring(with: m.range(at: 1)).split(separator: "*").first.map(String.init) ?? ""
            let enc = ns.substring(with: m.range(at: 2)).uppercased()
            let payload = ns.substring(with: m.range(at: 3))
            let bytes: [UInt8] = enc == "B"
                ? (Data(base64Encoded: payload, options: .ignoreUnknownCharacters).map { [UInt8]($0) } ?? [])
                : quotedPrintable(Array(payload.replacingOccurrences(of: "_", with: " ").utf8))
            let decoded = TextEncoding(label: charset).flatMap { TextDecoder.convert(bytes, from: $0) }
                ?? (try? TextDecoder.decode(bytes).text) ?? bytes
            out += String(decoding: decoded, as: UTF8.self)
            last = m.range.location + m.range.length
            lastWasWord = true
        }
        return out + ns.substring(from: last)
    }
}
