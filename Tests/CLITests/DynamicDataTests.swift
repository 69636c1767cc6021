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
