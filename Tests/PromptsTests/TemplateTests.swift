import XCTest
@testable import Prompts

final class TemplateTests: XCTestCase {
    func render(_ s: String, _ v: [String: TemplateValue]) throws -> String {
        try Template(s, pack: "p", file: "t.md").render(v)
    }

    func testVariablesAndChinese() throws {
        XCTAssertEqual(try render("问题：{{question}}！", ["question": "退款需要多久"]), "问题：退款需要多久！")
        XCTAssertEqual(try render("{{ a }}-{{b}}", ["a": "1", "b": "2"]), "1-2")
    }

    func testListSectionWithIndexAndStandaloneTags() throws {
        let t = "Sources:\n{{#sources}}\n[{{index}}] {{text}}{{^last}},{{/last}}\n{{/sources}}\nQ: {{q}}"
        let out = try render(t, ["q": "why?", "sources": .list([["text": "甲"], ["text": "b"]])])
        XCTAssertEqual(out, "Sources:\n[1] 甲,\n[2] b\nQ: why?")
    }

    func testInvertedSectionAndFlags() throws {
        let t = "{{#s}}x{{/s}}{{^s}}none{{/s}}|{{#f}}F{{/f}}{{^f}}notF{{/f}}"
        XCTAssertEqual(try render(t, ["s": .list([]), "f": false]), "none|notF")
        XCTAssertEqual(try render(t, ["s": .list([[:]]), "f": true]), "xnone".replacingOccurrences(of: "none", with: "") + "|F")
    }

    func testOuterScopeVisibleInsideSection() throws {
        XCTAssertEqual(try render("{{#l}}{{q}}{{index}};{{/l}}", ["q": "Q", "l": .list([[:], [:]])]), "Q1;Q2;")
    }

    func testMissingVariableIsAnErrorNamingFileAndLine() throws {
        XCTAssertThrowsError(try render("a\n{{qustion}}", ["question": "x"])) { e in
            XCTAssertEqual(e as? PackError, .missingVariable(pack: "p", file: "t.md", line: 2, variable: "qustion"))
            XCTAssertTrue(e.localizedDescription.contains("pack 'p', t.md line 2"), e.localizedDescription)
        }
        XCTAssertThrowsError(try render("{{#items}}{{nope}}{{/items}}", ["items": .list([["a": "1"]])]))
    }

    func testSyntaxErrors() {
        for bad in ["{{#a}}open", "{{/a}}", "{{#a}}{{/b}}", "{{a", "{{a b}}"] {
            XCTAssertThrowsError(try Template(bad, pack: "p", file: "t.md"), bad) { e in
                guard case .templateSyntax(let p, let f, _, _)? = e as? PackError else { return XCTFail("\(e)") }
                XCTAssertEqual(p, "p"); XCTAssertEqual(f, "t.md")
            }
        }
    }

    func testListUsedAsTextIsAnError() {
        XCTAssertThrowsError(try render("{{l}}", ["l": .list([])])) { e in
            guard case .variableType? = e as? PackError else { return XCTFail("\(e)") }
        }
    }

    func testCommentsDropped() throws {
        XCTAssertEqual(try render("{{! note }}\nhi {{! x }}there", [:]), "hi there")
    }
}
