import Foundation
import XCTest

/// Runs `strata check` on `db` and fails the test, with every problem it lists, unless the
/// store's own invariants hold. Called at the end of every test that injects a fault (bad
/// imports, failed or interrupted ingests, concurrent writers): a fault must cost nothing stored.
func assertStoreHealthy(_ db: String, file: StaticString = #filePath, line: UInt = #line) {
    do {
        let r = try StrataBinary.run(["check", "--db", db])
        XCTAssertEqual(r.status, 0, "strata check found problems in \(db):\n\(r.stdout)\(r.stderr)", file: file, line: line)
    } catch {
        XCTFail("could not run strata check: \(error)", file: file, line: line)
    }
}

extension StrataBinary {
    /// Runs `strata` as an unprivileged user (uid/gid 65534), so file permissions apply even
    /// when the tests run as root (root reads and writes through any mode bits). Skips the test
    /// when that cannot be arranged.
    static func runUnprivileged(_ args: [String], stdin: String? = nil, cwd: URL? = nil) throws -> StrataRun {
        guard getuid() == 0 else { return try run(args, stdin: stdin, cwd: cwd) }
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else {
            throw XCTSkip("running as root without \(setpriv): cannot test file permissions")
        }
        return try run(args, stdin: stdin, cwd: cwd, executable: URL(fileURLWithPath: setpriv),
                       prefix: ["--reuid=65534", "--regid=65534", "--clear-groups", url.path])
    }

    /// An SQLite database that is not Strata's: one table `notes(id, body)`, as Python's sqlite3
    /// module writes it (page size 4096, two pages). Built from its non-zero bytes so the test
    /// needs no SQLite of its own.
    static func writeUnrelatedSQLite(to path: String) throws {
        var bytes = [UInt8](repeating: 0, count: 8192)
        let runs: [(Int, String)] = [
            (0, "53514c69746520666f726d617420330010000101004020200000000100000002"),
            (43, "0100000004"), (59, "01"), (95, "01002e63010d000000010fb3000fb3"),
            (4019, "4b010617171701777461626c656e6f7465736e6f74657302435245415445205441424c45206e6f74657328696420696e7465676572207072696d617279206b65792c20626f64792074657874290d0000000010"),
        ]
        for (offset, hex) in runs {
            let digits = Array(hex.utf8)
            for i in stride(from: 0, to: digits.count, by: 2) {
                bytes[offset + i / 2] = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16)!
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
