import XCTest
@testable import Knowledge

final class IngestorTests: XCTestCase {
    func makeFolder() throws -> TempDir {
        let d = try TempDir()
        try d.write("en.md", "# Refunds\n\nRefunds take five business days.\n\n## Wire transfers\n\nA wire costs fifteen dollars.\n")
        try d.write("zh.md", "# 退款政策\n\n申请退款需要几天？一般七个工作日内到账。\n")
        try d.write("sub/prices.csv", "item,price\nWidget,12\nGadget,7\n")
        try d.write("notes.txt", "Plain text notes about the archive.")
        try d.write("page.html", "<html><body><h1>Help</h1><p>Call support &amp; wait.</p></body></html>")
        try d.write("archive.bin", Data([0x89, 0x50, 0x4E, 0x47]))
        try d.write(".hidden.md", "never read")
        return d
    }

    func testIngestThenReingestIsIncremental() throws {
        let d = try makeFolder()
        let store = try KnowledgeStore(path: ":memory:")
        let ingestor = Ingestor(store: store)
        var expected = IngestOptions(); expected.skipUnsupported = true
        let r1 = ingestor.ingest(paths: [d.url.path], options: expected)
        XCTAssertEqual(r1.ingestedFiles, 5)
        XCTAssertEqual(r1.failureCount, 0, "\(r1.problems)")            // archive.bin is expected with skipUnsupported
        XCTAssertEqual(r1.problems.map(\.problem), [.unsupportedType("bin")])
        XCTAssertEqual(r1.typeSummary, "by type: md 2, csv 1, html 1, txt 1")
        XCTAssertEqual(r1.chunkCount, store.chunkCount)
        XCTAssertEqual(try store.listDocuments().map { ($0.path as NSString).lastPathComponent },
                       ["en.md", "notes.txt", "page.html", "prices.csv", "zh.md"])
        XCTAssertEqual(try store.document(path: d.path("sub/prices.csv"))?.chunkCount, 2)
        XCTAssertEqual(try store.document(path: d.path("en.md"))?.title, "Refunds")

        let r2 = ingestor.ingest(paths: [d.url.path])
        XCTAssertEqual(r2.failureCount, 1, "an unsupported file in a folder fails the run unless expected (issue 20)")
        XCTAssertEqual(r2.ingestedFiles, 0)
        XCTAssertEqual(r2.unchangedFiles, 5)
        XCTAssertEqual(r2.chunkCount, 0)

        try d.write("en.md", "# Refunds\n\nRefunds now take three business days.\n")
        let r3 = ingestor.ingest(paths: [d.url.path])
        XCTAssertEqual(r3.ingestedFiles, 1)
        XCTAssertEqual(try store.keywordSearch("five", groups: []).count, 0)
        XCTAssertEqual(try store.keywordSearch("three", groups: []).map(\.headingPath), ["Refunds"])
        XCTAssertTrue(r3.summary.hasPrefix("ingested 1 file, 1 chunk, 4 unchanged, 1 skipped (unsupported: 1) in "), r3.summary)
    }

    func testPruneRemovesOnlyVanishedFilesUnderTheGivenFolders() throws {
        let d = try makeFolder(), other = try TempDir()
        try other.write("keep.md", "kept elsewhere")
        let store = try KnowledgeStore(path: ":memory:")
        let ingestor = Ingestor(store: store)
        _ = ingestor.ingest(paths: [d.url.path, other.path("keep.md")])
        try FileManager.default.removeItem(atPath: d.path("zh.md"))
        try FileManager.default.removeItem(atPath: other.path("keep.md"))
        var noPrune = IngestOptions(); noPrune.prune = false
        XCTAssertEqual(ingestor.ingest(paths: [d.url.path], options: noPrune).pruned, [])
        var opts = IngestOptions(); opts.prune = true
        let r = ingestor.ingest(paths: [d.url.path], options: opts)
        XCTAssertEqual(r.pruned, [d.path("zh.md")])
        XCTAssertNotNil(try store.document(path: other.path("keep.md")), "outside the given folder: left alone")
        XCTAssertEqual(try store.keywordSearch("退款", groups: []).count, 0)
        XCTAssertTrue(r.summary.contains("1 pruned"), r.summary)
        XCTAssertEqual(try StoreCheck.problems(store.database), [])
    }

    func testBadFilesAreReportedAndTheRestIsStored() throws {
        let d = try TempDir()
        try d.write("good.md", "good content")
        try d.write("bin.txt", Data([0x61, 0x00, 0x62]))
        try d.write("latin1.txt", Data([0x63, 0x61, 0x66, 0xE9]))              // "café" in Latin-1
        try d.write("empty.md", " \n\n ")
        try d.write("headings.md", "# Title\n\n## Section\n")                  // text, but nothing under the headings
        try d.write("tags.html", "<html><body><p> </p></body></html>")
        try d.write("bad.json", "{\"a\": ")
        try d.write("big.txt", String(repeating: "x ", count: 600_000))        // 1.2 MB, over a 1 MB limit
        let store = try KnowledgeStore(path: ":memory:")
        try store.replaceDocument(NewDocument(path: d.path("bin.txt"), title: "old", sourceType: "txt", sha256: "x",
                                              byteSize: 3, modifiedAt: 0, groups: []), chunks: [
            NewChunk(text: "earlier good version", headingPath: "", charStart: 0, charEnd: 20, startLine: 1, endLine: 1, tokenEstimate: 4)])
        var opts = IngestOptions(); opts.maxFileBytes = 1_048_576
        let r = Ingestor(store: store).ingest(paths: [d.url.path, d.path("missing.md"), d.path("good.md")], options: opts)
        let byName = Dictionary(r.problems.map { (($0.path as NSString).lastPathComponent, $0.problem) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byName["bin.txt"], .binary(offset: 1))
        XCTAssertEqual(byName["latin1.txt"], .invalidUTF8(offset: 3))
        XCTAssertEqual(byName["empty.md"], .empty)
        XCTAssertEqual(byName["headings.md"], .noText)
        XCTAssertEqual(byName["tags.html"], .noText)
        XCTAssertEqual(byName["missing.md"], .missingPath)
        XCTAssertEqual(byName["big.txt"], .tooLarge(bytes: 1_200_000, limit: 1_048_576))
        guard case .malformed(let why)? = byName["bad.json"] else { return XCTFail("\(r.problems)") }
        XCTAssertTrue(why.contains("cut off") && why.contains("byte 0"), why)
        XCTAssertEqual(r.failureCount, 8)
        XCTAssertTrue(r.hasFailures)
        XCTAssertEqual(r.ingestedFiles, 1, "good.md found in the folder and named again is processed once")
        XCTAssertEqual(r.outcomes.filter { $0.path.hasSuffix("good.md") }.count, 1)
        XCTAssertEqual(try store.keywordSearch("earlier", groups: []).count, 1, "a bad new version must not erase the stored one")
        XCTAssertTrue(IngestProblem.tooLarge(bytes: 52_428_800, limit: 33_554_432).description.contains("50.0 MB"))
        XCTAssertEqual(try StoreCheck.problems(store.database), [])
    }

    func testAFailureMidDocumentLeavesNothingPartialAndTheNextRunFinishes() throws {
        let d = try makeFolder()
        let store = try KnowledgeStore(path: ":memory:")
        var opts = IngestOptions()
        var calls = 0
        opts.embedding = EmbeddingHook(modelID: "test") { texts in
            calls += 1
            if calls == 3 { throw IngestProblem.storeFailed("encoder crashed") }    // the third document dies mid-write
            return texts.map { _ in [1, 0] }
        }
        let r1 = Ingestor(store: store).ingest(paths: [d.url.path], options: opts)
        XCTAssertEqual(r1.ingestedFiles, 4)
        XCTAssertEqual(r1.failureCount, 2, "the encoder failure and archive.bin")
        let failed = try XCTUnwrap(r1.problems.first { $0.problem != .unsupportedType("bin") }).path
        XCTAssertNil(try store.document(path: failed))
        XCTAssertEqual(try store.database.query("SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)") { $0.int(0) }, [0])
        XCTAssertEqual(try store.loadEmbeddings(modelID: "test").count, store.chunkCount, "every stored chunk has its vector")
        let r2 = Ingestor(store: store).ingest(paths: [d.url.path], options: opts)
        XCTAssertEqual(r2.ingestedFiles, 1)
        XCTAssertEqual(r2.unchangedFiles, 4)
        XCTAssertEqual(try store.chunksMissingEmbeddings(modelID: "test").count, 0)
        XCTAssertEqual(try StoreCheck.problems(store.database), [])
    }

    func testStopRequestEndsTheRunBetweenDocuments() throws {
        let d = try makeFolder()
        let store = try KnowledgeStore(path: ":memory:")
        var opts = IngestOptions()
        var seen = 0
        opts.shouldStop = { seen += 1; return seen > 2 }
        let r = Ingestor(store: store).ingest(paths: [d.url.path], options: opts)
        XCTAssertTrue(r.interrupted)
        XCTAssertEqual(r.outcomes.count, 2)
        XCTAssertTrue(r.summary.hasSuffix("(interrupted: run again to finish)"), r.summary)
        XCTAssertEqual(try StoreCheck.problems(store.database), [])
    }

    func testGroupsTagDocumentsAndChangeWithoutRechunking() throws {
        let d = try makeFolder()
        let store = try KnowledgeStore(path: ":memory:")
        var opts = IngestOptions(); opts.groups = ["Finance", "hr"]
        _ = Ingestor(store: store).ingest(paths: [d.path("en.md")], options: opts)
        let before = try store.chunks(documentID: try XCTUnwrap(store.document(path: d.path("en.md"))).id).map(\.id)
        XCTAssertEqual(try store.keywordSearch("refunds", groups: []).count, 0)
        XCTAssertEqual(try store.keywordSearch("refunds", groups: ["hr"]).first?.groups, ["finance", "hr"])
        opts.groups = []
        // Public means more readers: refused unless the run says so (--make-public).
        let refused = Ingestor(store: store).ingest(paths: [d.path("en.md")], options: opts)
        XCTAssertEqual(refused.outcomes.first?.outcome, .skipped(.wouldWiden(stored: ["finance", "hr"], requested: [])))
        XCTAssertEqual(try store.keywordSearch("refunds", groups: []).count, 0)
        opts.allowWidening = true
        let r = Ingestor(store: store).ingest(paths: [d.path("en.md")], options: opts)
        XCTAssertEqual(r.outcomes.first?.outcome, .groupsUpdated)
        XCTAssertTrue(r.summary.hasPrefix("ingested 0 files, 0 chunks, 1 unchanged (1 with new access groups) in "), r.summary)
        XCTAssertEqual(try store.keywordSearch("refunds", groups: []).count, 2)
        XCTAssertEqual(try store.chunks(documentID: try XCTUnwrap(store.document(path: d.path("en.md"))).id).map(\.id), before)
    }
}
