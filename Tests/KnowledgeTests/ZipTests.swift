import XCTest
@testable import Knowledge

/// Our ZIP reader and inflate against Python's zipfile/zlib: the fixture holds stored entries,
/// DEFLATE at every level 0–9, random and repetitive data, and an empty entry; the manifest has
/// the SHA-256 of each entry as Python wrote it.
final class ZipTests: XCTestCase {
    /// The ratio limit is off here: zeros.bin is meant to compress 800x.
    static var noRatio: ZipLimits { var l = ZipLimits(); l.maxRatio = .max; return l }

    func testEveryEntryMatchesPythonsBytes() throws {
        let zip = try ZipArchive(try Fixtures.bytes("zip-reference.zip"), limits: Self.noRatio)
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try Fixtures.bytes("zip-reference.json"))) as? [String: String])
        XCTAssertEqual(Set(zip.entries.map(\.name)), Set(manifest.keys))
        XCTAssertEqual(Set(zip.entries.map(\.method)), [0, 8])
        for e in zip.entries {
            XCTAssertEqual(SHA256.hex(try zip.read(e)), manifest[e.name], e.name)
        }
    }

    func testCorruptDataAndLyingSizesAreCaught() throws {
        var bytes = try Fixtures.bytes("zip-reference.zip")
        let zip = try ZipArchive(bytes, limits: Self.noRatio)
        let e = try XCTUnwrap(zip.entry("text-level6.txt"))
        // Flip bytes inside the compressed data: inflate fails or the CRC does not match.
        let start = e.offset + 30 + e.name.utf8.count + 10
        for i in start..<(start + 8) { bytes[i] ^= 0x5A }
        XCTAssertThrowsError(try ZipArchive(bytes, limits: Self.noRatio).read(e)) { XCTAssertTrue("\($0)".contains("text-level6.txt"), "\($0)") }
        // Inflate stops at its limit instead of producing what the stream holds.
        let zeros = try XCTUnwrap(zip.entry("zeros.bin"))
        let data = Array(try Fixtures.bytes("zip-reference.zip")[(zeros.offset + 30 + 9)..<(zeros.offset + 30 + 9 + zeros.compressed)])
        XCTAssertThrowsError(try Inflate.inflate(data, limit: 1000)) { XCTAssertEqual($0 as? Inflate.Failure, .overLimit(1000)) }
        XCTAssertEqual(try Inflate.inflate(data, limit: 70_000), [UInt8](repeating: 0, count: 70_000))
    }

    func testEntryCountAndSizeLimits() throws {
        var limits = Self.noRatio
        limits.maxEntries = 3
        XCTAssertThrowsError(try ZipArchive(try Fixtures.bytes("zip-reference.zip"), limits: limits)) {
            XCTAssertTrue("\($0)".contains("entries, over the limit of 3"), "\($0)")
        }
        limits = Self.noRatio
        limits.maxTotalBytes = 100_000
        XCTAssertThrowsError(try ZipArchive(try Fixtures.bytes("zip-reference.zip"), limits: limits)) {
            XCTAssertTrue("\($0)".contains("over the 0.1 MB limit"), "\($0)")
        }
        XCTAssertThrowsError(try ZipArchive(try Fixtures.bytes("zip-reference.zip"))) {
            XCTAssertEqual("\($0)", #"ExtractionError(message: "entry zeros.bin expands 823x (0.0 MB → 0.1 MB), over the 100x ratio limit — refused as a zip bomb")"#)
        }
    }
}
