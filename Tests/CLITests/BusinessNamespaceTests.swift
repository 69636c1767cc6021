import Foundation
import XCTest

/// Business tables live in their own namespace: no CSV name can reach Strata's own tables.
final class BusinessNamespaceTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("k.db").path }

    override func setUpWithError() throws {
        dir = try StrataBinary.temporaryFolder("strata-ns")
        let kb = dir.appendingPathComponent("kb")
        try FileManager.default.createDirectory(at: kb, withIntermediateDirectories: true)
        try "# Refunds\n\nCard refunds take five working days.\n".write(to: kb.appendingPathComponent("refunds.md"), atomically: true, encoding: .utf8)
        try "# Memo\n\nThe non-performing loan ratio rose to 1.9 percent.\n".write(to: kb.appendingPathComponent("memo.md"), atomically: true, encoding: .utf8)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func strata(_ args: [String], stdin: String? = nil) throws -> StrataRun {
        try StrataBinary.run(["--db", db] + args, stdin: stdin, cwd: dir)
    }
    func csv(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Every internal table name, in any case, from the file name or --table: each becomes a
    /// business table beside the knowledge base, which keeps working.
    func testInternalTableNamesCannotReachInternalTables() throws {
        XCTAssertEqual(try strata(["ingest", "kb/refunds.md"]).status, 0)
        XCTAssertEqual(try strata(["ingest", "--groups", "staff", "kb/memo.md"]).status, 0)
        XCTAssertEqual(try strata(["ask", "How long do card refunds take?", "--model", "extractive", "--no-embedder"]).status, 0)
        let names = ["documents", "chunks", "chunks_fts", "document_groups", "embeddings", "audit_log",
                     "schema_migrations", "business_tables", "chunks_fts_data", "chunks_fts_idx", "chunks_fts_config"]
        for name in names {
            let r = try strata(["data", "import", try csv("\(name).csv", "id,value\n1,x\n2,y\n")])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
        }
        let upper = try strata(["data", "import", try csv("whatever.csv", "id,value\n1,x\n"), "--table", "Documents"])
        XCTAssertEqual(upper.status, 0, upper.stderr)
        let mixed = try strata(["data", "import", try csv("AUDIT_LOG.csv", "id,value\n1,x\n")])
        XCTAssertEqual(mixed.status, 0, mixed.stderr)

        let search = try strata(["search", "refunds", "--json"])
        XCTAssertEqual(search.status, 0, search.stderr)
        XCTAssertTrue(search.stdout.contains("refunds.md"), search.stdout)
        XCTAssertTrue(try strata(["search", "--as", "staff", "non-performing"]).stdout.contains("memo.md"))
        let log = try strata(["log"])
        XCTAssertEqual(log.status, 0, log.stderr)
        XCTAssertTrue(log.stdout.contains("Q: How long do card refunds take?"), log.stdout)
        let list = try strata(["data", "list", "--json"])
        let tables = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(tables.compactMap { $0["name"] as? String }, names.sorted(), list.stdout)
        let show = try strata(["data", "show", "Documents"])
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.hasPrefix("id  value\n--  -----\n1   x\n"), show.stdout)
        assertStoreHealthy(db)
    }

    /// Names are case-insensitive: PRODUCTS.csv replaces products, one registry row remains.
    func testNamesAreCaseInsensitiveWithOneRegistryRow() throws {
        XCTAssertEqual(try strata(["data", "import", try csv("products.csv", "id,rate\nA,1.5\nB,2.0\n")]).status, 0)
        let upper = try strata(["data", "import", try csv("PRODUCTS.csv", "id,rate\nA,1.75\n")])
        XCTAssertEqual(upper.status, 0, upper.stderr)
        XCTAssertTrue(upper.stdout.hasPrefix("imported products: 1 rows"), upper.stdout)
        let list = try strata(["data", "list", "--json"])
        let tables = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(tables.compactMap { $0["name"] as? String }, ["products"], list.stdout)
        XCTAssertEqual(tables.first?["rows"] as? Int, 1)
        XCTAssertTrue(try strata(["data", "show", "PRODUCTS"]).stdout.contains("1.75"))
        assertStoreHealthy(db)
    }

    /// Duplicate headers are the CSV's fault, not a schema file's; a table with thousands of
    /// columns is refused with the limit, and no error prints unbounded SQL.
    func testHeaderErrorsAreClearAndBounded() throws {
        XCTAssertEqual(try strata(["data", "import", try csv("t.csv", "a,b\n1,2\n")]).status, 0)
        let dup = try strata(["data", "import", try csv("dup.csv", "id,name,ID\n1,x,2\n")])
        XCTAssertEqual(dup.status, 1)
        XCTAssertFalse(dup.stderr.contains("schema"), dup.stderr)
        XCTAssertTrue(dup.stderr.contains("header"), dup.stderr)
        XCTAssertTrue(dup.stderr.contains("'ID'") && dup.stderr.contains("'id'"), dup.stderr)

        let wide = (1...3000).map { "c\($0)" }.joined(separator: ",") + "\n" + (1...3000).map(String.init).joined(separator: ",") + "\n"
        let r = try strata(["data", "import", try csv("wide.csv", wide)])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("3000 columns"), r.stderr)
        XCTAssertTrue(r.stderr.contains("at most"), r.stderr)
        XCTAssertLessThan(r.stderr.count, 600, r.stderr)
        XCTAssertFalse(r.stderr.contains("CREATE TABLE"), r.stderr)
        assertStoreHealthy(db)
    }

    /// A pack lookup reads business tables only: the knowledge base's text is out of its reach.
    func testLookupsCannotReadInternalTables() throws {
        XCTAssertEqual(try strata(["ingest", "--groups", "staff", "kb/memo.md"]).status, 0)
        XCTAssertEqual(try strata(["data", "import", try csv("card_fees.csv", "card_id,annual_fee\nG,300\n")]).status, 0)
        let packs = dir.appendingPathComponent("packs")
        try FileManager.default.copyItem(at: StrataBinary.root.appendingPathComponent("Prompts"), to: packs)
        let lookups = packs.appendingPathComponent("customer-service/lookups.json")
        var text = try String(contentsOf: lookups, encoding: .utf8)
        text = text.replacingOccurrences(of: "SELECT card_name_en, card_name_zh, annual_fee, waiver_rule_en, waiver_rule_zh FROM card_fees WHERE card_id = :card",
                                         with: "SELECT text FROM chunks WHERE :card IS NOT NULL")
        try text.write(to: lookups, atomically: true, encoding: .utf8)
        let check = try strata(["data", "check", "--packs", packs.path])
        XCTAssertNotEqual(check.status, 0, check.stdout)
        XCTAssertTrue(check.stdout.contains("FAIL  card_annual_fee"), check.stdout)
        XCTAssertTrue(check.stdout.contains("chunks"), check.stdout)
    }
}
