import XCTest

final class CLIBasicsTests: XCTestCase {
    func testUnknownCommandIsAUsageError() throws {
        let r = try StrataBinary.run(["frobnicate"])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("unknown command 'frobnicate'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("strata --help"), r.stderr)
    }

    func testHelpListsCommands() throws {
        let r = try StrataBinary.run(["--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("Usage: strata"), r.stdout)
    }
}
