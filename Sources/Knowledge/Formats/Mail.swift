import Foundation

/// E-mail (.eml, RFC 5322 + MIME) and mailboxes (.mbox). A message becomes a document whose title
/// is its subject and whose first unit is its From/To/Cc/Date/Subject header; text parts are
/// decoded (base64, quoted-printable; charsets GB2312/GBK/GB18030, Big5, UTF-8…), HTML parts go
/// through `HTMLExtractor`, and attachments become documents of their own at `mail.eml › name`.
/// An mbox is an index of its messages, each message a document at `box.mbox › message-N.eml`.
enum MailExtractor {
    static func message(_ file: SourceFile, options: ConverterOptions) throws -> ExtractedDocument {
        let msg = MIMEPart(file.bytes)
        guard !msg.headers.isEmpty else {
            throw ExtractionError(message: "no e-mail headers found (From, To, Subject…) — is this really an .eml message?")
        }
        var source: [UInt8] = []
        var units: [ExtractedUnit] = []
        func add(_ text: [UInt8], markdown: Bool, heading: [String]) {
            if !source.isEmpty { source += Array("\n\n".utf8) }
            units.append(ExtractedUnit(text: text, mapping: .offset(source.count), markdown: markdown, headingPrefix: heading))
            source += text
        }
        let subject = msg.header("subject") ?? ""
        let meta = ["From", "To", "Cc", "Date", "Subject"].compactMap { h in msg.header(h).map { "\(h): \($0)" } }
        add(Array(meta.joined(separator: "\n").utf8), markdown: false, heading: [])
        var attachments: [Attachment] = []
        var bodies: [(text: [UInt8], html: Bool)] = []
        collect(msg, bodies: &bodies, attachments: &attachments)
        // The body cites the subject: `mail.eml › Re: Rates > …`.
        let heading = subject.isEmpty ? [] : [subject]
        for body in bodies {
            if body.html {
                let (text, _, _) = HTMLExtractor.extract(body.text)
                add(text, markdown: true, heading: heading)
            } else {
                add(body.text, markdown: false, heading: heading)
            }
        }
        let title = subject.isEmpty ? (file.name as NSString).deletingPathExtension : subject
        return ExtractedDocument(title: title, units: units, text: source, attachments: attachments)
    }

    /// Walks the MIME tree: for multipart/alternative, the plain-text part if there is one (else
    /// HTML); inline text parts are bodies; everything with a file name, or not text, is attached.
    static func collect(_ part: MIMEPart, bodies: inout [(text: [UInt8], html: Bool)], attachments: inout [Attachment]) {
        let type = part.contentType
        if type.hasPrefix("multipart/") {
            var children = part.children
            if type == "multipart/alternative" {
                if let plain = children.first(where: { $0.contentType == "text/plain" }) { children = [plain] }
                else if let html = children.first(where: { $0.contentType == "text/html" }) { children = [html] }
            }
            for c in children { collect(c, bodies: &bodies, attachments: &attachments) }
            return
        }
        let disposition = part.header("content-disposition")?.lowercased() ?? ""
        let name = part.fileName
        if (type == "text/plain" || type == "text/html") && !disposition.hasPrefix("attachment") && name == nil {
            let text = part.text
            if !text.isEmpty { bodies.append((text, type == "text/html")) }
            return
        }
        let fallback = type == "message/rfc822" ? "attached-message.eml" : "attachment-\(attachments.count + 1)"
        attachments.append(Attachment(name: safeName(name ?? fallback), bytes: part.decodedBody))
    }

    /// A file name with no path: `../../x.pdf` must not escape its parent's name space.
    static func safeName(_ n: String) -> String {
        let base = n.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? "attachment"
        let clean = base.unicodeScalars.filter { $0.value >= 0x20 && $0 != "›" }.map(String.init).joined()
        return clean.isEmpty || clean == "." || clean == ".." ? "attachment" : clean
    }

    static func mailbox(_ file: SourceFile, options: ConverterOptions) throws -> ExtractedDocument {
        let messages = split(mbox: file.bytes)
        guard !messages.isEmpty else {
            throw ExtractionError(message: "no messages found (an mbox starts each message with a 'From ' line) — check the file")
        }
        var lines: [String] = []
        var attachments: [Attachment] = []
        for (i, m) in messages.enumerated() {
            let part = MIMEPart(m)
            let name = "message-\(i + 1).eml"
            lines.append("\(name): \(part.header("date") ?? "") — \(part.header("from") ?? "") — \(part.header("subject") ?? "")")
            attachments.append(Attachment(name: name, bytes: m))
        }
        let text = Array(lines.joined(separator: "\n").utf8)
        return ExtractedDocument(title: (file.name as NSString).deletingPathExtension,
                                 units: [ExtractedUnit(text: text, mapping: .identity, markdown: false, headingPrefix: [])],
                                 text: text, attachments: attachments)
    }

    /// Messages of an mbox: each starts at a line beginning "From " (the mboxrd `>From ` escape is undone).
    static func split(mbox b: [UInt8]) -> [[UInt8]] {
        var starts: [Int] = []
        var lineStart = 0
        while lineStart < b.count {
            if b.count - lineStart >= 5 && b[lineStart..<(lineStart + 5)].elementsEqual("From ".utf8) { starts.append(lineStart) }
            lineStart = (b[lineStart...].firstIndex(of: 0x0A) ?? b.count) + 1
        }
        return starts.enumerated().map { i, s in
            let end = i + 1 < starts.count ? starts[i + 1] : b.count
            let bodyStart = min(end, (b[s..<end].firstIndex(of: 0x0A) ?? end - 1) + 1)
            // Undo the mboxrd escape "\n>From " byte by byte (the message may be 8-bit GBK).
            var out: [UInt8] = []
            out.reserveCapacity(end - bodyStart)
            var k = bodyStart
            while k < end {
                if b[k] == 0x3E, k > bodyStart, b[k - 1] == 0x0A, end - k >= 6, b[(k + 1)..<(k + 6)].elementsEqual("From ".utf8) { k += 1; continue }
                out.append(b[k]); k += 1
            }
            return out
        }
    }
}
