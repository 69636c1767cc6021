import Foundation
import XCTest

/// Access control fails closed: a document never widens its audience without an explicit flag,
/// the audit log applies the same group rules as search, and restricted reads are audited.
final class AccessControlTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("k.db").path }

    override func setUpWithError() throws {
        dir = try StrataBinary.temporaryFolder("strata-access")
        func put(_ rel: String, _ text: String) throws {
            let url = dir.appendingPathComponent(rel)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try put("Knowledge/faq/refunds.md", "# Refunds\n\n## Card refunds\n\nCard refunds are returned to the original card within 5 working days.\n")
        try put("Knowledge/internal/memo.md", "# Credit memo\n\n## Loans\n\nThe non-performing loan ratio of the bank rose to 1.9 percent in the fourth quarter.\n")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func strata(_ args: [String], stdin: String? = nil) throws -> StrataRun {
        try StrataBinary.run(["--db", db] + args, stdin: stdin, cwd: dir)
    }
    func publicSees(_ query: String) throws -> Bool {
        try strata(["search", query, "--json"]).stdout.contains("memo.md")
    }

    /// Re-ingesting without --groups keeps the stored groups (and says so); only --make-public
    /// or --regroup widen an audience; an empty group list is a usage error.
    func testADocumentNeverWidensItsAudienceWithoutAnExplicitFlag() throws {
        XCTAssertEqual(try strata(["ingest", "--groups", "staff", "Knowledge/internal"]).status, 0)
        let all = try strata(["ingest", "Knowledge"])
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertTrue(all.stdout.contains("1 kept its access groups"), all.stdout)
        XCTAssertFalse(try publicSees("non-performing"))
        // Changed content, still no --groups: still restricted.
        try "# Credit memo\n\n## Loans\n\nThe non-performing loan ratio of the bank rose to 2.1 percent in the fourth quarter.\n"
            .write(to: dir.appendingPathComponent("Knowledge/internal/memo.md"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try strata(["ingest", "Knowledge"]).status, 0)
        XCTAssertFalse(try publicSees("non-performing"))
        XCTAssertTrue(try strata(["search", "--as", "staff", "non-performing"]).stdout.contains("2.1 percent"))

        for empty in ["", " ", ",", " , "] {
            let r = try strata(["ingest", "--groups", empty, "Knowledge/internal"])
            XCTAssertEqual(r.status, 64, "--groups '\(empty)': \(r.stdout)")
            XCTAssertTrue(r.stderr.contains("--make-public"), r.stderr)
        }
        XCTAssertFalse(try publicSees("non-performing"))

        // Adding readers (hr) or swapping the group needs --regroup; the document is kept as it was.
        for groups in ["staff,hr", "hr"] {
            let widen = try strata(["ingest", "--groups", groups, "Knowledge/internal"])
            XCTAssertEqual(widen.status, 3, widen.stdout)
            XCTAssertTrue(widen.stderr.contains("would add readers") && widen.stderr.contains("--regroup"), widen.stderr)
            XCTAssertFalse(try strata(["search", "--as", "hr", "non-performing"]).stdout.contains("memo.md"))
        }
        XCTAssertEqual(try strata(["ingest", "--groups", "staff,hr", "--regroup", "Knowledge/internal"]).status, 0)
        XCTAssertTrue(try strata(["search", "--as", "hr", "non-performing"]).stdout.contains("memo.md"))
        // Narrowing needs no flag.
        XCTAssertEqual(try strata(["ingest", "--groups", "staff", "Knowledge/internal"]).status, 0)
        XCTAssertFalse(try strata(["search", "--as", "hr", "non-performing"]).stdout.contains("memo.md"))
        // Making it public is said explicitly.
        XCTAssertEqual(try strata(["ingest", "--groups", "staff", "--make-public", "Knowledge/internal"]).status, 64)
        XCTAssertEqual(try strata(["ingest", "--make-public", "Knowledge/internal"]).status, 0)
        XCTAssertTrue(try publicSees("non-performing"))
        let help = try strata(["ingest", "--help"])
        XCTAssertTrue(help.stdout.contains("--make-public") && help.stdout.contains("--regroup"), help.stdout)
        assertStoreHealthy(db)
    }

    /// `strata log --as` shows an entry built from restricted passages only to callers in those
    /// groups; restricted reads (search too) are audited; --no-audit cannot hide one.
    func testTheLogAppliesGroupRulesAndRestrictedReadsAreAudited() throws {
        XCTAssertEqual(try strata(["ingest", "Knowledge/faq"]).status, 0)
        XCTAssertEqual(try strata(["ingest", "--groups", "staff", "Knowledge/internal"]).status, 0)
        let ask = ["--model", "extractive", "--no-embedder"]
        let staff = try strata(["ask", "What is the non-performing loan ratio of the bank?", "--as", "staff"] + ask)
        XCTAssertEqual(staff.status, 0, staff.stderr)
        XCTAssertTrue(staff.stdout.contains("1.9 percent"), staff.stdout)
        XCTAssertEqual(try strata(["ask", "How long do card refunds take?"] + ask).status, 0)

        let outsider = try strata(["log"])
        XCTAssertEqual(outsider.status, 0, outsider.stderr)
        XCTAssertFalse(outsider.stdout.contains("1.9 percent"), outsider.stdout)
        XCTAssertFalse(outsider.stdout.contains("non-performing"), outsider.stdout)
        XCTAssertTrue(outsider.stdout.contains("Q: How long do card refunds take?"), outsider.stdout)
        XCTAssertTrue(outsider.stderr.contains("1 entry hidden"), outsider.stderr)
        XCTAssertFalse(try strata(["log", "--as", "hr", "--json"]).stdout.contains("1.9 percent"))
        let member = try strata(["log", "--as", "staff"])
        XCTAssertTrue(member.stdout.contains("1.9 percent"), member.stdout)

        // Reading restricted entries is itself recorded; reading public ones is not.
        XCTAssertTrue(try strata(["log", "--as", "staff", "--json"]).stdout.contains("\"pack\":\"log\""))
        XCTAssertFalse(try strata(["log", "--json"]).stdout.contains("\"pack\":\"log\""))

        // A search that returns restricted text is recorded; a public one is not.
        func searches() throws -> Int {
            try strata(["log", "--as", "staff", "--json", "--last", "100"]).stdout.split(separator: "\n").filter { $0.contains("\"pack\":\"search\"") }.count
        }
        XCTAssertEqual(try strata(["search", "refunds"]).status, 0)
        XCTAssertEqual(try searches(), 0)
        let search = try strata(["search", "--as", "staff", "non-performing loan"])
        XCTAssertTrue(search.stdout.contains("memo.md"), search.stdout)
        XCTAssertEqual(try searches(), 1)
        XCTAssertFalse(try strata(["log", "--json"]).stdout.contains("\"pack\":\"search\""))

        // --no-audit cannot hide a read that may return restricted text.
        for cmd: [String] in [["ask", "What is the loan ratio?", "--as", "staff", "--no-audit"] + ask,
                              ["chat", "--as", "staff", "--no-audit"] + ask,
                              ["report", "loans", "--as", "staff", "--no-audit", "--model", "extractive"]] {
            let r = try strata(cmd, stdin: "What is the loan ratio?\n")
            XCTAssertEqual(r.status, 64, "\(cmd): \(r.stdout)")
            XCTAssertTrue(r.stderr.contains("--no-audit"), r.stderr)
            XCTAssertFalse(r.stdout.contains("1.9 percent"), r.stdout)
        }
        XCTAssertEqual(try strata(["ask", "How long do card refunds take?", "--no-audit"] + ask).status, 0)
        assertStoreHealthy(db)
    }
}
