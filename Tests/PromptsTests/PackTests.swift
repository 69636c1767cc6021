import XCTest
@testable import Prompts

final class PackTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("packs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    static let validJSON = """
    {"name": "demo", "description": "d", "scenario": "kb-qa", "languages": ["en", "zh"],
     "retrieval": {"k": 3, "mode": "keyword", "min_coverage": 0.4},
     "generation": {"temperature": 0, "max_tokens": 64, "stop": ["\\n\\n"]},
     "refusal": {"en": "No.", "zh": "没有。"}}
    """

    @discardableResult
    func makePack(_ json: String = validJSON, files: [String: String]? = nil, name: String = "demo") throws -> URL {
        let dir = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try json.write(to: dir.appendingPathComponent("pack.json"), atomically: true, encoding: .utf8)
        for (f, text) in files ?? ["system.md": "Refuse with: {{refusal}}", "user.md": "{{#sources}}[{{index}}] {{text}}\n{{/sources}}Q: {{question}}",
                                   "user.zh.md": "{{#sources}}[{{index}}] {{text}}\n{{/sources}}问题：{{question}}"] {
            try text.write(to: dir.appendingPathComponent(f), atomically: true, encoding: .utf8)
        }
        return dir
    }

    func assertPackError(_ json: String, files: [String: String]? = nil, _ check: (PackError) -> Void,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try makePack(json, files: files)
        XCTAssertThrowsError(try PromptPack.load(from: dir), file: file, line: line) { e in
            guard let pe = e as? PackError else { return XCTFail("not a PackError: \(e)", file: file, line: line) }
            XCTAssertTrue(pe.localizedDescription.contains("pack 'demo'"), pe.localizedDescription, file: file, line: line)
            check(pe)
        }
    }

    func testValidPackDecodes() throws {
        let p = try PromptPack.load(from: try makePack())
        XCTAssertEqual(p.scenario, .kbQA)
        XCTAssertEqual(p.retrieval, RetrievalSettings(k: 3, mode: .keyword, minEvidence: 0, minCoverage: 0.4))
        XCTAssertEqual(p.generation.stop, ["\n\n"])
        XCTAssertEqual(p.refusal(language: "fr"), "No.")
        let zh = try p.render("user", language: "zh", values: ["question": "多久？", "sources": .list([["text": "五天"]])])
        XCTAssertEqual(zh, "[1] 五天\n问题：多久？")
        XCTAssertEqual(try p.render("system", language: "zh", values: ["refusal": "没有。"]), "Refuse with: 没有。")
    }

    func testUnknownKeyNamesPackFileAndKey() throws {
        try assertPackError(Self.validJSON.replacingOccurrences(of: "\"max_tokens\"", with: "\"maxTokens\"")) { e in
            XCTAssertEqual(e, .unknownKey(pack: "demo", file: "pack.json", key: "generation.maxTokens",
                                          known: ["max_tokens", "mode", "stop", "temperature"]))
        }
        try assertPackError(Self.validJSON.replacingOccurrences(of: "\"description\"", with: "\"extra\": 1, \"description\"")) { e in
            guard case .unknownKey(_, _, "extra", _) = e else { return XCTFail("\(e)") }
        }
    }

    /// Answering by quotation is a pack setting; it needs its template, and a wrong mode says which exist.
    func testAnswerModeAndItsTemplate() throws {
        XCTAssertEqual(try PromptPack.load(from: try makePack()).generation.mode, .write)
        let select = Self.validJSON.replacingOccurrences(of: "\"temperature\": 0", with: "\"mode\": \"select\", \"temperature\": 0")
        try assertPackError(select) { e in
            guard case .missingFile(_, "select.md", let detail) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(detail.contains("add select.md"), detail)
        }
        try assertPackError(Self.validJSON.replacingOccurrences(of: "\"temperature\": 0", with: "\"mode\": \"quote\", \"temperature\": 0")) { e in
            guard case .invalidValue(_, _, "generation.mode", let detail) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(detail.contains("write or select"), detail)
        }
        try FileManager.default.removeItem(at: root.appendingPathComponent("demo"))
        let dir = try makePack(select, files: ["system.md": "s", "user.md": "u", "select.md": "{{lines}}\nQ: {{question}}"])
        let p = try PromptPack.load(from: dir)
        XCTAssertEqual(p.generation.mode, .select)
        XCTAssertEqual(try p.render("select", language: "en", values: ["lines": "1. a", "question": "q?"]), "1. a\nQ: q?")
    }

    func testWrongTypeNamesKey() throws {
        try assertPackError(Self.validJSON.replacingOccurrences(of: "\"k\": 3", with: "\"k\": \"3\"")) { e in
            XCTAssertEqual(e, .wrongType(pack: "demo", file: "pack.json", key: "retrieval.k", expected: "a whole number", found: "a string"))
        }
        try assertPackError(Self.validJSON.replacingOccurrences(of: "\"k\": 3", with: "\"k\": 2.5")) { e in
            guard case .wrongType(_, _, "retrieval.k", _, _) = e else { return XCTFail("\(e)") }
        }
        try assertPackError(Self.validJSON.replacingOccurrences(of: "[\"\\n\\n\"]", with: "[1]")) { e in
            guard case .wrongType(_, _, "generation.stop[0]", _, _) = e else { return XCTFail("\(e)") }
        }
    }

    func testMissingKeysAndBadValues() throws {
        try assertPackError(Self.validJSON.replacingOccurrences(of: "\"zh\": \"没有。\"", with: "\"zh\": \"\"")) { e in
            XCTAssertEqual(e, .missingKey(pack: "demo", file: "pack.json", key: "refusal.zh"))
        }
        try assertPackError(Self.validJSON.replacingOccurrences(of: "\"keyword\"", with: "\"fuzzy\"")) { e in
            guard case .invalidValue(_, _, "retrieval.mode", _) = e else { return XCTFail("\(e)") }
        }
        try assertPackError(Self.validJSON.replacingOccurrences(of: "\"kb-qa\"", with: "\"kbqa\"")) { e in
            guard case .invalidValue(_, _, "scenario", _) = e else { return XCTFail("\(e)") }
        }
        try assertPackError("{\"name\": \"demo\"") { e in
            guard case .invalidJSON(_, "pack.json", _) = e else { return XCTFail("\(e)") }
        }
    }

    func testMissingTemplateNamesFile() throws {
        try assertPackError(Self.validJSON, files: ["system.md": "x"]) { e in
            guard case .missingFile("demo", "user.md", _) = e else { return XCTFail("\(e)") }
        }
    }

    func testLibraryCheckFindsMisspeltVariable() throws {
        try makePack(name: "demo")
        try makePack(files: ["system.md": "{{refusl}}", "user.md": "{{question}}"], name: "broken")
        // The second pack's folder is "broken" but its name says "demo": fix the name to isolate the variable error.
        let json = Self.validJSON.replacingOccurrences(of: "\"name\": \"demo\"", with: "\"name\": \"broken\"")
        try json.write(to: root.appendingPathComponent("broken/pack.json"), atomically: true, encoding: .utf8)
        let results = PackLibrary(searchPaths: [root]).check()
        XCTAssertEqual(results.map(\.name), ["broken", "demo"])
        XCTAssertTrue(results[1].ok)
        XCTAssertEqual(results[0].error as? PackError, .missingVariable(pack: "broken", file: "system.md", line: 1, variable: "refusl"))
    }

    func testShippedPacksAllCheck() throws {
        let results = PackLibrary(searchPaths: [PackLibrary.shippedPacks]).check()
        XCTAssertEqual(Set(results.map(\.name)), ["kb-qa", "customer-service", "research-report"])
        for r in results { XCTAssertNil(r.error, "\(r.name): \(r.error!.localizedDescription)") }
        let kb = try PackLibrary(searchPaths: [PackLibrary.shippedPacks]).pack(named: "kb-qa")
        XCTAssertEqual(kb.languages, ["en", "zh"])
        XCTAssertNotNil(kb.templates["system.zh"])
    }

    func testUnknownPackNameSaysWhatToDo() {
        XCTAssertThrowsError(try PackLibrary(searchPaths: [root]).pack(named: "nope")) { e in
            XCTAssertTrue(e.localizedDescription.contains("strata packs list"), e.localizedDescription)
        }
    }
}
