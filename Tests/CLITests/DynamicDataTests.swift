import Foundation
import XCTest

/// The dynamic-data promise, end to end with the real models: facts come from the business
/// tables at question time, so changing a table changes the next answer with no retraining.
final class DynamicDataTests: XCTestCase {
    func testAPromotionChangeReachesTheNextAnswer() throws {
        let root = StrataBinary.root
        try StrataBinary.requireDefaultModels()
        let dir = try StrataBinary.temporaryFolder("strata-dynamic")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("s.db").path
        let csv = dir.appendingPathComponent("products.csv")
        let original = try String(contentsOf: root.appendingPathComponent("Knowledge/business/products.csv"), encoding: .utf8)
        try original.write(to: csv, atomically: true, encoding: .utf8)

        let question = "Is the 3-month deposit promotion still on?"
        func ask() throws -> String {
            // The real SmolLM2 writes the reply; the fact check keeps it only if its facts are in the rows.
            let r = try StrataBinary.run(["--db", db, "ask", "--pack", "customer-service", "--today", "2026-11-23", question], cwd: root)
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout
        }
        // The same database holds the documents: tables are imported into an ingested store.
        XCTAssertEqual(try StrataBinary.run(["--db", db, "ingest", root.appendingPathComponent("Knowledge/about.md").path]).status, 0)
        let others = ["card_fees", "branches", "fee_schedule", "cases"].map { root.appendingPathComponent("Knowledge/business/\($0).csv").path }
        XCTAssertEqual(try StrataBinary.run(["--db", db, "data", "import", csv.path] + others).status, 0)
        let before = try ask()
        XCTAssertTrue(before.contains("1.30") || before.contains("1.3%"), before)

        // The bank raises the promotional rate: only the table changes.
        let raised = original.replacingOccurrences(of: "1.30% p.a.", with: "1.45% p.a.")
            .replacingOccurrences(of: "年利率1.30%", with: "年利率1.45%")
            .replacingOccurrences(of: ",1.30,2026-11-01,2026-12-31", with: ",1.45,2026-11-01,2026-12-31")
        XCTAssertNotEqual(raised, original, "the fixture must contain the promotion being changed")
        try raised.write(to: csv, atomically: true, encoding: .utf8)
        XCTAssertEqual(try StrataBinary.run(["--db", db, "data", "import", csv.path]).status, 0)
        let after = try ask()
        XCTAssertTrue(after.contains("1.45"), after)
        XCTAssertFalse(after.contains("1.30") || after.contains("1.3%"), after)
    }
}

/// `data import --searchable`: a table's rows become passages `search` and `ask` find and cite
/// by row; re-importing replaces them; customer records imported without it never are.
final class SearchableTableTests: XCTestCase {
    func testRowsBecomePassagesAndFollowTheTable() throws {
        let root = StrataBinary.root
        let dir = try StrataBinary.temporaryFolder("strata-searchable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("s.db").path
        let branches = dir.appendingPathComponent("branches.csv")
        let original = try String(contentsOf: root.appendingPathComponent("Knowledge/business/branches.csv"), encoding: .utf8)
        try original.write(to: branches, atomically: true, encoding: .utf8)
        let cases = root.appendingPathComponent("Knowledge/business/cases.csv").path

        let imported = try StrataBinary.run(["--db", db, "data", "import", "--searchable", branches.path])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.stdout.contains("rows searchable"), imported.stdout)
        XCTAssertEqual(try StrataBinary.run(["--db", db, "data", "import", cases]).status, 0)

        func search(_ q: String) throws -> String {
            let r = try StrataBinary.run(["--db", db, "search", q, "--mode", "keyword", "--k", "3"])
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout
        }
        // The row is found by its name and cited by its key and names.
        let hit = try search("中关村支行")
        XCTAssertTrue(hit.contains("branches.csv  BJ-002 · Beijing Zhongguancun Branch · 北京中关村支行"), hit)
        XCTAssertTrue(hit.contains("weekday_hours"), hit)   // the row's header travels with it
        // Customer cases were imported without --searchable: no passage holds them.
        XCTAssertFalse(try search("HB-2026-00123 refund processing").contains("cases.csv"))

        // A new import replaces the rows: the old hours are gone from the index.
        let changed = original.replacingOccurrences(of: "BJ-002,Beijing Zhongguancun Branch", with: "BJ-002,Beijing Haidian Branch")
        XCTAssertNotEqual(changed, original)
        try changed.write(to: branches, atomically: true, encoding: .utf8)
        XCTAssertEqual(try StrataBinary.run(["--db", db, "data", "import", "--searchable", branches.path]).status, 0)
        XCTAssertTrue(try search("Haidian Branch").contains("Beijing Haidian Branch"))
        XCTAssertFalse(try search("Zhongguancun Branch").contains("Beijing Zhongguancun Branch"))

        // --embed and --groups describe indexed rows: without --searchable they are a usage error.
        let bad = try StrataBinary.run(["--db", db, "data", "import", "--embed", branches.path])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("add --searchable"), bad.stderr)
        assertStoreHealthy(db)
    }
}
