import XCTest
@testable import Knowledge

/// Text files in the encodings Chinese offices actually produce, detected and converted to UTF-8.
final class TextEncodingTests: XCTestCase {
    func ingest(_ d: TempDir) throws -> (KnowledgeStore, IngestReport) {
        let store = try KnowledgeStore(path: ":memory:")
        return (store, Ingestor(store: store).ingest(paths: [d.url.path]))
    }

    func chunks(_ store: KnowledgeStore, _ path: String) throws -> [ChunkRecord] {
        try store.chunks(documentID: XCTUnwrap(try store.document(path: path)).id)
    }

    /// Regression (issue 18): a UTF-16 file was refused as "binary (NUL byte)".
    func testUTF16WithAndWithoutBOMIsDecodedNotCalledBinary() throws {
        let d = try TempDir()
        let text = "Vault hours. 金库早上八点开门。\n"
        try d.write("le-bom.txt", Data([0xFF, 0xFE]) + text.data(using: .utf16LittleEndian)!)
        try d.write("be-bom.txt", Data([0xFE, 0xFF]) + text.data(using: .utf16BigEndian)!)
        try d.write("le.txt", text.data(using: .utf16LittleEndian)!)
        try d.write("be.txt", text.data(using: .utf16BigEndian)!)
        let (store, r) = try ingest(d)
        XCTAssertEqual(r.problems.map(\.problem), [], "\(r.problems)")
        XCTAssertEqual(r.ingestedFiles, 4)
        for name in ["le-bom.txt", "be-bom.txt", "le.txt", "be.txt"] {
            let c = try chunks(store, d.path(name))
            XCTAssertEqual(c.map(\.text), ["Vault hours. 金库早上八点开门。"], name)
            XCTAssertEqual(c.first?.charStart, 0, "offsets count in the decoded text, BOM excluded: \(name)")
            XCTAssertEqual(c.first?.charEnd, 22, name)
        }
    }

    /// Regression (issue 18): a Markdown file starting with a UTF-8 BOM lost its first heading.
    func testUTF8BOMKeepsTheFirstHeading() throws {
        let d = try TempDir()
        try d.write("bom.md", Data([0xEF, 0xBB, 0xBF]) + Data("# Deposit rules\n\nTime deposits renew automatically at maturity.\n".utf8))
        let (store, r) = try ingest(d)
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        XCTAssertEqual(try store.document(path: d.path("bom.md"))?.title, "Deposit rules")
        let c = try chunks(store, d.path("bom.md"))
        XCTAssertEqual(c.map(\.headingPath), ["Deposit rules"])
        XCTAssertEqual(c.first?.text, "Time deposits renew automatically at maturity.")
        XCTAssertEqual(c.first?.charStart, 17)
        XCTAssertEqual(c.first?.startLine, 3)
    }

    func testGBKBig5AndUTF16FixturesAreReadAsChinese() throws {
        let f = Fixtures.formats
        let store = try KnowledgeStore(path: ":memory:")
        let r = Ingestor(store: store).ingest(paths: ["notice-gbk.txt", "notice-big5.txt", "accounts-utf16.csv", "notes-utf16be.txt", "bom.md"].map { f + "/" + $0 })
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        XCTAssertEqual(try chunks(store, f + "/notice-gbk.txt").first?.text,
                       "# 退款须知\n\n申请退款需要几天？一般情况下，退款会在七个工作日内到账。\n如需修改收款账户，请联系客服。")
        XCTAssertEqual(try chunks(store, f + "/notice-big5.txt").first?.text, "信用卡年費說明\n\n白金卡年費為兩千元，每年刷卡六次可免年費。")
        XCTAssertEqual(try chunks(store, f + "/accounts-utf16.csv").map(\.text),
                       ["account: A-001\nowner: 张三\nbalance: 1200.50", "account: A-002\nowner: Li Wei\nbalance: 88"])
        XCTAssertEqual(try chunks(store, f + "/notes-utf16be.txt").first?.text, "Branch notes: the vault opens at eight.")
        XCTAssertEqual(try store.keywordSearch("年費", groups: []).first?.documentPath, f + "/notice-big5.txt")
    }

    func testDetectorNamesTheEncoding() throws {
        XCTAssertEqual(try TextDecoder.decode(Array("plain".utf8)).encoding, .utf8)
        XCTAssertEqual(try TextDecoder.decode([0xEF, 0xBB, 0xBF, 0x61]).encoding, .utf8BOM)
        XCTAssertEqual(try TextDecoder.decode([0x61, 0x00, 0x62, 0x00]).encoding, .utf16LE)
        XCTAssertEqual(try TextDecoder.decode([0x00, 0x61, 0x00, 0x62]).encoding, .utf16BE)
        XCTAssertEqual(try TextDecoder.decode([0xCD, 0xCB, 0xBF, 0xEE]).encoding, .gb18030)          // 退款
        let big5: [UInt8] = [0xAB, 0x48, 0xA5, 0xCE, 0xA5, 0x64, 0xA6, 0x7E, 0xB6, 0x4F]            // 信用卡年費
        XCTAssertEqual(try TextDecoder.decode(big5).encoding, .big5)
        XCTAssertEqual(String(decoding: try TextDecoder.decode(big5).text, as: UTF8.self), "信用卡年費")
    }

    func testBinaryAndLatin1AreStillRefusedWithWhereAndWhat() throws {
        XCTAssertThrowsError(try TextDecoder.decode([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00])) {
            XCTAssertEqual($0 as? TextDecodingError, .binary(offset: 4))
        }
        // "Cafés crème" in Latin-1: é s and è m are valid GBK and Big5 pairs, but the result is not Chinese.
        XCTAssertThrowsError(try TextDecoder.decode(Array("Caf".utf8) + [0xE9, 0x73, 0x20, 0x63, 0x72, 0xE8, 0x6D, 0x65])) {
            XCTAssertEqual($0 as? TextDecodingError, .undecodable(offset: 3))
        }
        XCTAssertTrue(IngestProblem.invalidUTF8(offset: 3).description.contains("not UTF-16, GB18030/GBK or Big5"))
    }

    func testMIMECharsetLabels() {
        XCTAssertEqual(TextEncoding(label: "GB2312"), .gb18030)
        XCTAssertEqual(TextEncoding(label: "gbk"), .gb18030)
        XCTAssertEqual(TextEncoding(label: "Big5"), .big5)
        XCTAssertEqual(TextEncoding(label: "us-ascii"), .utf8)
        XCTAssertNil(TextEncoding(label: "koi8-r"))
    }
}

/// Where the committed format fixtures live (made by scripts/make-format-fixtures.sh).
enum Fixtures {
    static let formats = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/formats").standardizedFileURL.path

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: formats + "/" + name)))
    }

    /// Skips the test unless `tool` is on PATH (CI installs it through scripts/setup.sh).
    static func require(_ tool: String, package: String) throws {
        guard Subprocess.find(tool) != nil else {
            throw XCTSkip("\(tool) is not installed — 'sudo apt-get install \(package)' (or 'make setup') to run this test")
        }
    }
}
