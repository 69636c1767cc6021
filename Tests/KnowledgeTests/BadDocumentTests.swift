import XCTest
@testable import Knowledge

/// Hostile and broken documents: each is refused alone, with a message that says what is wrong and
/// what to do, within its limits; the rest of the run is stored.
final class BadDocumentTests: XCTestCase {
    func problem(_ path: String, options: IngestOptions = IngestOptions()) throws -> (IngestProblem?, Double) {
        let store = try KnowledgeStore(path: ":memory:")
        let t = Date()
        let r = Ingestor(store: store).ingest(paths: [path], options: options)
        return (r.problems.first?.problem, Date().timeIntervalSince(t))
    }

    func message(_ p: IngestProblem?) -> String { p.map(\.description) ?? "(stored)" }

    func testEncryptedPDF() throws {
        try Fixtures.require("pdfinfo", package: "poppler-utils")
        let (p, _) = try problem(Fixtures.formats + "/encrypted.pdf")
        XCTAssertTrue(message(p).hasPrefix("the PDF is encrypted and needs a password — remove the protection"), message(p))
    }

    func testPDFBombsAreRefusedWithinTheirLimits() throws {
        try Fixtures.require("pdftotext", package: "poppler-utils")
        let d = try TempDir()
        // A page dictionary nested 200,000 arrays deep.
        let deep = "[" + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "]"
        try d.write("nested.pdf", PDFBuilder.document(pageCount: 1, extra: "/Deep \(deep)"))
        // A page tree that declares a billion pages.
        try d.write("pages.pdf", PDFBuilder.document(pageCount: 1_000_000_000, extra: ""))
        for name in ["nested.pdf", "pages.pdf"] {
            let (p, seconds) = try problem(d.path(name))
            XCTAssertNotNil(p, "\(name) must not be stored")
            XCTAssertLessThan(seconds, 30, name)
            XCTAssertTrue(message(p).contains(" — "), "a message that says what to do: \(message(p))")
        }
        XCTAssertTrue(message(try problem(d.path("pages.pdf")).0).hasPrefix("not a readable PDF (Syntax Error: Page count (1000000000) larger than number of objects"))
        // A real page tree over the page limit is refused before any page is read.
        try d.write("many.pdf", PDFBuilder.document(pageCount: 2_001, extra: "", realPages: true))
        XCTAssertEqual(message(try problem(d.path("many.pdf")).0),
                       "the PDF declares 2001 pages, over the 2000-page limit — split it (e.g. with pdfseparate) and ingest the parts")
    }

    func testTruncatedDOCX() throws {
        let d = try TempDir()
        let full = try Fixtures.bytes("handbook.docx")
        try d.write("cut.docx", Data(full.prefix(full.count / 2)))
        let (p, _) = try problem(d.path("cut.docx"))
        XCTAssertEqual(message(p), "not a ZIP archive, or cut short (no end-of-archive record) — the file is truncated or not a real Office file; save it again from the application")
    }

    func testZipBombXLSXIsRefusedBeforeInflating() throws {
        let (p, seconds) = try problem(Fixtures.formats + "/bomb.xlsx")
        XCTAssertTrue(message(p).hasPrefix("entry xl/worksheets/sheet1.xml expands 1028x (0.0 MB → 20.0 MB), over the 100x ratio limit — refused as a zip bomb"), message(p))
        XCTAssertLessThan(seconds, 1)
    }

    func testAMillionEmptyRowsCostOnlyTheParse() throws {
        var rows = "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>name</t></is></c><c r=\"B1\" t=\"inlineStr\"><is><t>value</t></is></c></row>"
        for r in 2..<1_000_000 { rows += "<row r=\"\(r)\"/>" }
        rows += "<row r=\"1000000\"><c r=\"A1000000\" t=\"inlineStr\"><is><t>last</t></is></c><c r=\"B1000000\"><v>42</v></c></row>"
        let d = try TempDir()
        try d.write("million.xlsx", Data(StoredZip.xlsx(sheetXML: rows)))
        let store = try KnowledgeStore(path: ":memory:")
        let t = Date()
        let r = Ingestor(store: store).ingest(paths: [d.path("million.xlsx")])
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        XCTAssertLessThan(Date().timeIntervalSince(t), 30)
        let c = try store.chunks(documentID: XCTUnwrap(try store.document(path: d.path("million.xlsx"))).id)
        XCTAssertEqual(c.map(\.headingPath), ["Big > Row 1000000"])
        XCTAssertEqual(c.map(\.text), ["name: last\nvalue: 42"])
    }

    func testConverterLimitsTimeOutputAndMemory() throws {
        XCTAssertThrowsError(try Subprocess.run("sleep", package: "coreutils", ["5"], limits: ConverterLimits(seconds: 0.5))) {
            XCTAssertEqual($0 as? ConverterError, .timedOut(tool: "sleep", seconds: 0.5))
        }
        XCTAssertThrowsError(try Subprocess.run("yes", package: "coreutils", [], limits: ConverterLimits(seconds: 10, outputBytes: 1 << 20))) {
            XCTAssertEqual($0 as? ConverterError, .tooMuchOutput(tool: "yes", limit: 1 << 20))
        }
        // 512 MB asked of a process limited to 200 MB of address space: it fails, we report it.
        XCTAssertThrowsError(try Subprocess.run("python3", package: "python3", ["-c", "b = bytearray(512 << 20)"],
                                                limits: ConverterLimits(seconds: 10, memoryMB: 200))) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("python3") && (text.contains("failed") || text.contains("killed")), text)
        }
        XCTAssertThrowsError(try Subprocess.run("no-such-converter", package: "nothing-real", [], limits: ConverterLimits())) {
            XCTAssertEqual("\($0)", "needs 'no-such-converter', which is not installed — install it with 'sudo apt-get install nothing-real' (or run 'make setup')")
        }
        XCTAssertEqual(String(decoding: try Subprocess.run("echo", package: "coreutils", ["a b", "$(id)"], limits: ConverterLimits()), as: UTF8.self),
                       "a b $(id)\n", "arguments reach the tool verbatim, never through a shell")
        // The converter inherits no descriptor of ours (an open database, say): ls sees 0-2 and its own.
        let held = FileHandle(forReadingAtPath: "/etc/hostname")
        defer { try? held?.close() }
        XCTAssertEqual(String(decoding: try Subprocess.run("ls", package: "coreutils", ["/proc/self/fd"], limits: ConverterLimits()), as: UTF8.self),
                       "0\n1\n2\n3\n")
    }
}

/// Minimal PDF files written by hand, for documents no generator would make.
enum PDFBuilder {
    /// One page whose tree claims `pageCount` pages, or with `realPages` that many page objects.
    static func document(pageCount: Int, extra: String, realPages: Bool = false) -> Data {
        let n = realPages ? pageCount : 1
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [\((0..<n).map { "\($0 + 3) 0 R" }.joined(separator: " "))] /Count \(pageCount) >>",
        ] + Array(repeating: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \(extra) >>", count: n)
        var out = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (i, o) in objects.enumerated() {
            offsets.append(out.utf8.count)
            out += "\(i + 1) 0 obj\n\(o)\nendobj\n"
        }
        let xref = out.utf8.count
        out += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n" + offsets.map { String(format: "%010d 00000 n \n", $0) }.joined()
        out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Data(out.utf8)
    }
}

/// ZIP archives of stored (uncompressed) entries, for Office files built at test time.
enum StoredZip {
    static func archive(_ entries: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16 & 0xFFFF) }
        for (name, data) in entries {
            let n = Array(name.utf8), crc = Int(CRC32.checksum(data)), offset = out.count
            out += u32(0x0403_4B50) + u16(20) + u16(0) + u16(0) + u16(0) + u16(0) + u32(crc) + u32(data.count) + u32(data.count)
                + u16(n.count) + u16(0) + n + data
            central += u32(0x0201_4B50) + u16(20) + u16(20) + u16(0) + u16(0) + u16(0) + u16(0) + u32(crc) + u32(data.count)
                + u32(data.count) + u16(n.count) + u16(0) + u16(0) + u16(0) + u16(0) + u32(0) + u32(offset) + n
        }
        let cdOffset = out.count
        out += central
        out += u32(0x0605_4B50) + u16(0) + u16(0) + u16(entries.count) + u16(entries.count) + u32(central.count) + u32(cdOffset) + u16(0)
        return out
    }

    static func xlsx(sheetXML rows: String, sheet: String = "Big") -> [UInt8] {
        archive([
            ("[Content_Types].xml", Array("<Types/>".utf8)),
            ("xl/workbook.xml", Array("<workbook xmlns:r=\"r\"><sheets><sheet name=\"\(sheet)\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>".utf8)),
            ("xl/_rels/workbook.xml.rels", Array("<Relationships><Relationship Id=\"rId1\" Type=\"t/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>".utf8)),
            ("xl/worksheets/sheet1.xml", Array("<worksheet><sheetData>\(rows)</sheetData></worksheet>".utf8)),
        ])
    }
}
