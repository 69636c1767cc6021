import Foundation
import XCTest
@testable import Knowledge

final class BusinessTablesTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-bt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }
    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    func testQuotingNewlinesDoubledQuotesBOMAndCRLF() throws {
        let text = "\u{FEFF}id,name,note\r\n1,\"Gold, card\",\"says \"\"hi\"\"\"\r\n2,金卡,\"two\nlines\"\r\n3,x,\r\n"
        let t = try CSVParser.parse(data: Data(text.utf8))
        XCTAssertEqual(t.header, ["id", "name", "note"])
        XCTAssertEqual(t.records.map(\.fields), [["1", "Gold, card", "says \"hi\""], ["2", "金卡", "two\nlines"], ["3", "x", ""]])
        // Record 3 starts on line 5 because record 2 spans lines 3–4.
        XCTAssertEqual(t.records.map(\.line), [2, 3, 5])
        XCTAssertTrue(t.problems.isEmpty)
    }

    func testImportInfersTypesAndKeepsChinese() throws {
        let db = try Database(path: ":memory:")
        let f = write("cards.csv", "card_id,name_zh,annual_fee,pct,since\nG,海港金卡信用卡,300,1.5,2026-01-31\nP,海港白金卡,1000,0,2025-12-01\n")
        let info = try BusinessTables.importCSV(db, file: f)
        XCTAssertEqual(info.name, "cards")
        XCTAssertEqual(info.rows, 2)
        XCTAssertEqual(info.columns.map(\.type), [.text, .text, .integer, .real, .date])
        XCTAssertEqual(info.sha256.count, 64)
        let rows = try BusinessTables.rows(db, table: "cards", limit: 10)
        XCTAssertEqual(rows.rows[0], [.text("G"), .text("海港金卡信用卡"), .integer(300), .real(1.5), .text("2026-01-31")])
        XCTAssertEqual(try BusinessTables.list(db).map(\.name), ["cards"])
    }

    func testBadRowsAreReportedByLineAndTheOldTableStays() throws {
        let db = try Database(path: ":memory:")
        try BusinessTables.importCSV(db, file: write("t.csv", "a,b\n1,x\n"), schemaFile: nil)
        let schema = write("s.json", #"{"columns": {"a": "integer", "b": "text"}}"#)
        var bad = Array("a,b\n1,ok\n2,too,many\nthree,x\n4,".utf8)
        bad += [0xFF, 0xFE, 0x0A]
        let f = write("t2.csv", bad)
        XCTAssertThrowsError(try BusinessTables.importCSV(db, file: f, table: "t", schemaFile: schema)) { e in
            guard case BusinessDataError.badRows(_, let problems) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(problems.map(\.line), [3, 4, 5])
            XCTAssertTrue(problems[1].message.contains("not an integer"), problems[1].message)
            XCTAssertTrue(problems[2].message.contains("UTF-8"), problems[2].message)
        }
        XCTAssertEqual(try BusinessTables.rows(db, table: "t", limit: 10).rows, [[.integer(1), .text("x")]])
    }

    func testIdentifiersAreValidatedNotSpliced() throws {
        let db = try Database(path: ":memory:")
        let f = write("ok.csv", "a\n1\n")
        for name in ["x; DROP TABLE y", "1abc", "sqlite_master", "a\"b", "", "t__new"] {
            XCTAssertThrowsError(try BusinessTables.importCSV(db, file: f, table: name), name)
        }
        XCTAssertThrowsError(try BusinessTables.importCSV(db, file: write("c.csv", "good,\"bad col\"\n1,2\n")))
    }

    func testReaderDuringImportSeesOldOrNewTableWhole() throws {
        let path = dir.appendingPathComponent("k.db").path
        let writer = try Database(path: path)
        try BusinessTables.importCSV(writer, file: write("p.csv", "id\n" + (1...3).map(String.init).joined(separator: "\n") + "\n"))
        let reader = try Database(path: path, mode: .readOnly)
        try reader.execute("BEGIN")
        XCTAssertEqual(try reader.query("SELECT count(*) FROM biz_p") { $0.int(0) }, [3])
        // The import commits while the reader's transaction is open: the reader keeps its snapshot.
        try BusinessTables.importCSV(writer, file: write("p.csv", "id\n" + (1...500).map(String.init).joined(separator: "\n") + "\n"))
        XCTAssertEqual(try reader.query("SELECT count(*) FROM biz_p") { $0.int(0) }, [3])
        try reader.execute("COMMIT")
        XCTAssertEqual(try reader.query("SELECT count(*), max(id) FROM biz_p") { [$0.int(0), $0.int(1)] }, [[500, 500]])
        XCTAssertEqual(try reader.query("SELECT count(*) FROM sqlite_master WHERE name = 'biz_p__new'") { $0.int(0) }, [0])
    }

    func testLookupsMustBeOneReadOnlyStatementWithNamedParameters() throws {
        let db = try Database(path: ":memory:")
        try BusinessTables.importCSV(db, file: write("products.csv", "id,name\nA,Alpha\n"))
        try db.execute("CREATE TABLE secrets (x TEXT)")
        try BusinessTables.exposeBusinessNames(db)   // as on the lookup connection: business names, business tables only
        XCTAssertEqual(try BusinessQuery.check(db, sql: "SELECT name FROM products WHERE id = :product;"),
                       .init(parameters: ["product"], columns: ["name"]))
        XCTAssertThrowsError(try BusinessQuery.check(db, sql: "SELECT 1; DROP TABLE products"))
        XCTAssertThrowsError(try BusinessQuery.check(db, sql: "DELETE FROM products"))
        XCTAssertThrowsError(try BusinessQuery.check(db, sql: "SELECT name FROM products WHERE id = ?"))
        XCTAssertThrowsError(try BusinessQuery.check(db, sql: "SELECT nope FROM products"))
        XCTAssertThrowsError(try BusinessQuery.check(db, sql: "SELECT x FROM secrets")) { e in
            XCTAssertTrue("\(e)".contains("prohibited"), "\(e)")   // only business tables are readable
        }
        // Lookups may order by rowid, as they could when business tables were plain tables.
        XCTAssertEqual(try BusinessQuery.check(db, sql: "SELECT name FROM products ORDER BY rowid").columns, ["name"])
        // A hostile value is only ever a bound value: it matches nothing and drops nothing.
        let rows = try BusinessQuery.run(db, sql: "SELECT name FROM products WHERE id = :product",
                                         named: ["product": .text("x'; DROP TABLE products; --")])
        XCTAssertEqual(rows.rows.count, 0)
        XCTAssertEqual(try BusinessTables.rows(db, table: "products", limit: 5).rows.count, 1)
    }
}
