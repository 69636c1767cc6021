import XCTest
import Foundation
import GGUF

/// The safetensors reader on hand-made files, valid and lying.
final class SafeTensorsTests: XCTestCase {
    /// Writes 8-byte length + header + data to a temporary file and returns its path.
    private func write(header: String, data: [UInt8], lengthOverride: UInt64? = nil) throws -> String {
        let h = Array(header.utf8)
        var bytes: [UInt8] = []
        var n = (lengthOverride ?? UInt64(h.count)).littleEndian
        withUnsafeBytes(of: &n) { bytes.append(contentsOf: $0) }
        bytes += h + data
        let path = try Fixtures.temporaryDirectory() + "/t.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func f32(_ v: [Float]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    func testReadsF32F16BF16() throws {
        let a = f32([1, -2, 3.5, 0.25])
        let b = [Float16(1.5), Float16(-0.125)].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let c: [UInt8] = [0x80, 0x3F, 0x00, 0xC0]   // bf16 1.0, -2.0
        let header = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"#
            + #""b":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"c":{"dtype":"BF16","shape":[2],"data_offsets":[20,24]}}"#
        let st = try SafeTensorsFile(path: try write(header: header, data: a + b + c))
        XCTAssertEqual(st.metadata["format"], "pt")
        XCTAssertEqual(st.tensors["a"]?.shape, [2, 2])
        XCTAssertEqual(try st.floats("a"), [1, -2, 3.5, 0.25])
        XCTAssertEqual(try st.floats("b"), [1.5, -0.125])
        XCTAssertEqual(try st.floats("c"), [1, -2])
        XCTAssertThrowsError(try st.floats("zzz")) { XCTAssertTrue($0.localizedDescription.contains("no tensor named zzz")) }
    }

    func testHeadersThatLieAreErrors() throws {
        let data = f32([1, 2, 3, 4])
        let cases: [(String, String, UInt64?)] = [
            (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,32]}}"#, "outside", nil),
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, "needs 12 bytes", nil),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, "outside", nil),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, "overlap", nil),
            (#"{"a":{"dtype":"Q9","shape":[4],"data_offsets":[0,16]}}"#, "unsupported dtype", nil),
            (#"{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}"#, "invalid dimension", nil),
            (#"{"a":{"dtype":"F32","shape":[4]}}"#, "data_offsets", nil),
            (#"{"a": nonsense"#, "not valid JSON", nil),
            (#"[1,2]"#, "not an object", nil),
            (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, "does not fit", 1 << 40),
            (#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}"#, "invalid dimension", nil),
        ]
        for (header, expected, len) in cases {
            let path = try write(header: header, data: data, lengthOverride: len)
            XCTAssertThrowsError(try SafeTensorsFile(path: path), header) { e in
                XCTAssertTrue(e.localizedDescription.contains(expected), "\(header): \(e.localizedDescription)")
            }
        }
    }

    func testTruncatedAndMissingFiles() throws {
        let dir = try Fixtures.temporaryDirectory()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/short.safetensors"))
        XCTAssertThrowsError(try SafeTensorsFile(path: dir + "/short.safetensors")) { XCTAssertTrue($0.localizedDescription.contains("truncated")) }
        XCTAssertThrowsError(try SafeTensorsFile(path: dir + "/none.safetensors"))
        XCTAssertThrowsError(try SafeTensorsFile(path: dir))
    }

    func testIntegerTensorIsNotReadAsFloats() throws {
        let st = try SafeTensorsFile(path: try write(header: #"{"p":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#, data: [UInt8](repeating: 0, count: 16)))
        XCTAssertThrowsError(try st.floats("p")) { XCTAssertTrue($0.localizedDescription.contains("not a float")) }
    }
}
