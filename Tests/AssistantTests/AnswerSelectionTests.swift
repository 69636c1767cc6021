import XCTest
@testable import Assistant
import Prompts

/// Answering by quotation (issue #19): the model answers from numbered lines and points at one;
/// the customer gets the line it pointed at. The cases are the dev set's misreadings.
final class AnswerSelectionTests: XCTestCase {
    let branch = Fixtures.passage(1, "Knowledge/business/branches.csv", "SH-002 · Nanjing Road Branch · 南京路支行", """
        branch_id: SH-002
        name_en: Nanjing Road Branch
        weekday_hours: 09:00-17:00
        saturday_hours: 09:00-16:00
        sunday_hours: closed
        """)
    let limits = Fixtures.passage(2, "Knowledge/faq/mobile-banking.en.md", "Mobile banking > What are the transfer limits?", """
        ## What are the transfer limits?

        | Verification | Per day |
        |---|---|
        | SMS code | RMB 50,000 |
        | Face verification | RMB 200,000 |

        Limits reset at midnight. Ask a branch to raise them.
        """)

    func testARecordIsALinePerColumnAndATableRowKeepsItsHeader() {
        let (sources, lines) = AnswerSelection.lines([branch, limits])
        XCTAssertEqual(lines.map(\.shown), [
            "branch id: SH-002", "name en: Nanjing Road Branch", "weekday hours: 09:00-17:00",
            "saturday hours: 09:00-16:00", "sunday hours: closed",
            "Verification: SMS code; Per day: RMB 50,000", "Verification: Face verification; Per day: RMB 200,000",
            "Limits reset at midnight.", "Ask a branch to raise them.",
        ])
        XCTAssertEqual(lines.map(\.passage), [1, 1, 1, 1, 1, 2, 2, 2, 2])
        // A column line names its record in the answer; each prompt line names its source, the record without its key.
        XCTAssertEqual(lines[4].answer, "SH-002 · Nanjing Road Branch · 南京路支行 — sunday hours: closed")
        let shown = AnswerSelection.render(sources, lines: lines)
        XCTAssertTrue(shown.hasPrefix("1. Nanjing Road Branch · 南京路支行: branch id: SH-002\n"), shown)
        XCTAssertTrue(shown.contains("\n7. What are the transfer limits?: Verification: Face verification; Per day: RMB 200,000\n"), shown)
    }

    func testTheLineNumbersAReplyNames() {
        XCTAssertEqual(AnswerSelection.cited("The hours are 09:00-12:30, which is fact (6).", count: 10), [6])
        XCTAssertEqual(AnswerSelection.cited("It is 1.85% and RMB 200,000 (5, 7)", count: 10), [5, 7])
        XCTAssertEqual(AnswerSelection.cited("见资料3和资料4。", count: 10), [3, 4])
        XCTAssertEqual(AnswerSelection.cited("周六09:30-15:30开门。（6）", count: 10), [6])
        XCTAssertEqual(AnswerSelection.cited("The phone is 010-6505-7720, which is fact number 10.", count: 10), [10])
        // Out of range, or no marker at all: nothing named. A figure in brackets is not a line.
        XCTAssertEqual(AnswerSelection.cited("See (12).", count: 10), [])
        XCTAssertEqual(AnswerSelection.cited("The fee is RMB 15 per withdrawal.", count: 20), [])
        XCTAssertEqual(AnswerSelection.cited("The minimum (RMB 200,000) applies.", count: 20), [])
    }

    func testValuesCompareHoweverTheyAreWritten() {
        XCTAssertEqual(AnswerSelection.values("open 09:30–15:30"), ["9:30", "15:30"])
        XCTAssertEqual(AnswerSelection.values("起存金额20万元"), ["200000"])
        XCTAssertEqual(AnswerSelection.values("RMB 200,000 at 1.50%"), ["200000", "1.5"])
        XCTAssertTrue(AnswerSelection.values("from 2026-12-01").isSuperset(of: AnswerSelection.values("from 1 December")))
    }

    func testTheLineTheModelNamedIsQuotedNotWhatItWrote() throws {
        let lines = AnswerSelection.lines([branch]).lines
        // "open on Sundays" about a line that says "closed": the customer reads the line.
        let q = try XCTUnwrap(AnswerSelection.quoted(reply: "Yes, the Nanjing Road branch is open on Sundays. (5)",
                                                     question: "is the Nanjing Road branch open sundays?", lines: lines))
        XCTAssertEqual(q.lines, [5])
        XCTAssertNil(q.note)
        XCTAssertEqual(AnswerSelection.answer(q.lines, lines: lines, language: "en"),
                       "SH-002 · Nanjing Road Branch · 南京路支行 — sunday hours: closed. [1]")
    }

    func testTwoColumnsOfARecordAreOneSentence() {
        let lines = AnswerSelection.lines([branch, limits]).lines
        XCTAssertEqual(AnswerSelection.answer([4, 5, 7], lines: lines, language: "en"),
                       "SH-002 · Nanjing Road Branch · 南京路支行 — saturday hours: 09:00-16:00; sunday hours: closed. [1] "
                       + "Verification: Face verification; Per day: RMB 200,000. [2]")
    }

    func testAValueFromAnotherLineIsQuotedFromTheLineHoldingIt() throws {
        let lines = AnswerSelection.lines([branch]).lines
        // The reply names the weekday line but states the Saturday hours: the Saturday line is quoted.
        let q = try XCTUnwrap(AnswerSelection.quoted(reply: "On Saturdays it opens 09:00-16:00 (3).",
                                                     question: "Nanjing Road branch saturday hours?", lines: lines))
        XCTAssertEqual(q.lines, [4])
        XCTAssertNotNil(q.note)
    }

    func testAValueInNoLineIsRefused() {
        let lines = AnswerSelection.lines([branch]).lines
        XCTAssertNil(AnswerSelection.quoted(reply: "The phone number is 021-6322-1180 (2).", question: "phone number of the Nanjing Road branch?", lines: lines))
        // A value the question states is not the answer's.
        XCTAssertNotNil(AnswerSelection.quoted(reply: "Yes, on 6 December it is open 09:00-16:00 (4).",
                                               question: "Is the Nanjing Road branch open on Saturday 6 December?", lines: lines))
    }

    /// End to end with a scripted model: the prompt shows numbered lines, the answer quotes the
    /// one named, the support check passes it, and a declining reply is a refusal.
    func testAskQuotesTheNamedLine() throws {
        var pack = try Fixtures.pack
        pack.generation.mode = .select
        let retriever = FixtureRetriever(entries: [.init(passage: branch, groups: [])])
        let model = ScriptedGenerator(["Yes, it is open on Sundays (5).", "I cannot find this in the knowledge base."])
        let qa = KnowledgeQA(pack: pack, retriever: retriever, generator: model)
        var options = AskOptions()
        options.layers.evidenceGate = false
        let a = try qa.ask("Is the Nanjing Road branch open on Sunday?", options: options)
        XCTAssertTrue(model.lastPrompt.contains("5. Nanjing Road Branch · 南京路支行: sunday hours: closed"), model.lastPrompt)
        XCTAssertFalse(a.refused, a.explanation)
        XCTAssertEqual(a.text, "SH-002 · Nanjing Road Branch · 南京路支行 — sunday hours: closed. [1]")
        XCTAssertEqual(a.citations.map(\.path), ["Knowledge/business/branches.csv"])
        XCTAssertEqual(a.selection, "Yes, it is open on Sundays (5).")
        let declined = try qa.ask("Is the Nanjing Road branch open at night?", options: options)
        XCTAssertTrue(declined.refused)
        XCTAssertEqual(declined.refusalReason, .modelDeclined)
    }
}
