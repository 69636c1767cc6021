import Foundation
import XCTest
import Tensor
@testable import GGUF

/// Files written by GGUFWriter read back exactly; malformed files give the GGUFError that names the field.
final class GGUFWriterTests: XCTestCase {
    func temporaryPath() -> String { NSTemporaryDirectory() + "strata-gguf-\(UUID().uuidString).gguf" }

    func roundTrip(_ writer: GGUFWriter) throws -> GGUFFile {
        let path = temporaryPath()
        try writer.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile(path: path)  // the mapping stays valid after unlink
    }

    func testEveryValueTypeRoundTrips() throws {
        var w = try GGUFWriter()
        let values: [(String, GGUFValue)] = [
            ("u8", .uint8(200)), ("i8", .int8(-5)), ("u16", .uint16(65000)), ("i16", .int16(-300)),
            ("u32", .uint32(4_000_000_000)), ("i32", .int32(-7)), ("u64", .uint64(UInt64.max)),
            ("i64", .int64(Int64.min)), ("f32", .float32(1.5e-6)), ("f64", .float64(-2.25)),
            ("yes", .bool(true)), ("no", .bool(false)), ("zh", .string("中文 and English ✓")),
            ("empty", .string("")), ("strings", .array([.string("a"), .string("<|im_start|>")])),
            ("nested", .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])])),
            ("none", .array([])),
        ]
        for (k, v) in values { try w.set(k, v) }
        let f = try roundTrip(w)
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.metadataKeys, values.map(\.0))
        for (k, v) in values { XCTAssertEqual(f.metadata[k], v, k) }
        XCTAssertEqual(f.int("u64"), nil, "UInt64.max does not fit in Int")
        XCTAssertEqual(f.int("u32"), 4_000_000_000)
        XCTAssertEqual(f.float("f64"), -2.25)
        XCTAssertEqual(f.float("i32"), -7, "integers read as floats for keys converters write either way")
        XCTAssertEqual(f.stringArray("strings"), ["a", "<|im_start|>"])
        XCTAssertNil(f.intArray("strings"))
        XCTAssertEqual(f.intArray("nested"), nil)
        XCTAssertEqual(f.string("zh"), "中文 and English ✓")
    }

    func testTensorsRoundTripAlignedWithCustomAlignment() throws {
        for alignment in [32, 64] {
            var w = try GGUFWriter(alignment: alignment)
            try w.set("general.architecture", .string("llama"))
            try w.addTensor("a", shape: [3], floats: [1, 2, 3])  // 12 bytes: padding follows
            let q8 = (0..<68).map { UInt8($0) }                    // two Q8_0 blocks
            try w.addTensor("b", shape: [32, 2], type: .q8_0, data: q8)
            try w.addTensor("c", shape: [2, 1, 1, 2], floats: [-1, 0, 0.5, 9])
            let f = try roundTrip(w)
            XCTAssertEqual(f.alignment, alignment)
            XCTAssertEqual(f.architecture, "llama")
            XCTAssertEqual(f.tensors.map(\.name), ["a", "b", "c"])
            for t in f.tensors { XCTAssertEqual(t.offset % alignment, 0) }
            let b = try XCTUnwrap(f.tensor(named: "b"))
            XCTAssertEqual(b.type, .q8_0)
            XCTAssertEqual(b.shape, [32, 2])
            XCTAssertEqual(b.rowCount, 2)
            XCTAssertEqual(Array(f.bytes(for: b)), q8)
            let c = try XCTUnwrap(f.tensor(named: "c"))
            XCTAssertEqual(c.elementCount, 4)
            XCTAssertEqual(Array(UnsafeBufferPointer(start: f.data(for: c).assumingMemoryBound(to: Float.self), count: 4)),
                           [-1, 0, 0.5, 9])
        }
    }

    /// F16 as ggml stores it: IEEE half, little-endian, rounded to nearest with ties to even.
    func testFloatsWrittenAsF16RoundToNearestEven() throws {
        var w = try GGUFWriter()
        let floats: [Float] = [1, -2, 0.5, 65504, 0, 1 + 0x1p-11, 1 + 3 * 0x1p-11, 0x1p-24, 1e-9]
        try w.addTensor("h", shape: [floats.count], floats: floats, as: .f16)
        let f = try roundTrip(w)
        let t = try XCTUnwrap(f.tensor(named: "h"))
        XCTAssertEqual(t.type, .f16)
        XCTAssertEqual(f.bytes(for: t).count, 2 * floats.count, "two bytes an element")
        let bits = (0..<floats.count).map { UInt16(littleEndian: f.data(for: t).loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
        // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1);
        // 1 + 3·2^-11 halfway between 1 + 2^-10 and 1 + 2^-9: to 1 + 2^-9. 2^-24 is the
        // smallest subnormal; 1e-9 is below half of it and flushes to zero.
        XCTAssertEqual(bits, [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0000, 0x3C00, 0x3C02, 0x0001, 0x0000])
    }

    func testF16RefusesValuesBeyondItsRange() throws {
        var w = try GGUFWriter()
        XCTAssertThrowsError(try w.addTensor("big", shape: [2], floats: [1, 70000], as: .f16)) { error in
            XCTAssertTrue(error.localizedDescription.contains("big"), error.localizedDescription)
            XCTAssertTrue(error.localizedDescription.contains("F32"), error.localizedDescription)
        }
        XCTAssertThrowsError(try w.addTensor("q", shape: [32], floats: Array(repeating: 1, count: 32), as: .q8_0))
        XCTAssertTrue(w.tensors.isEmpty, "a refused tensor is not half added")
    }

    func testWriterRejectsWhatGGUFCannotHold() throws {
        var w = try GGUFWriter()
        XCTAssertThrowsError(try w.set("mixed", .array([.int32(1), .string("x")])))
        XCTAssertThrowsError(try w.addTensor("q", shape: [31], type: .q8_0, data: Array(repeating: 0, count: 34)))
        XCTAssertThrowsError(try w.addTensor("f", shape: [4], floats: [1, 2, 3]))
        try w.addTensor("f", shape: [1], floats: [1])
        XCTAssertThrowsError(try w.addTensor("f", shape: [1], floats: [1]))
        XCTAssertThrowsError(try GGUFWriter(alignment: 48))
    }

    // MARK: Malformed files

    /// A small valid file: one key, one F32 tensor.
    func smallFile() throws -> [UInt8] {
        var w = try GGUFWriter()
        try w.set("general.architecture", .string("llama"))
        try w.addTensor("t", shape: [4], floats: [1, 2, 3, 4])
        return w.serialized()
    }

    func open(_ bytes: [UInt8]) throws -> GGUFFile {
        let path = temporaryPath()
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile(path: path)
    }

    func assertError(_ bytes: [UInt8], mentions words: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try open(bytes), file: file, line: line) { error in
            let message = error.localizedDescription
            for w in words { XCTAssertTrue(message.contains(w), "\"\(message)\" lacks \"\(w)\"", file: file, line: line) }
        }
    }

    func patch(_ bytes: [UInt8], at offset: Int, _ value: some FixedWidthInteger) -> [UInt8] {
        var b = bytes
        withUnsafeBytes(of: value.littleEndian) { for (i, x) in $0.enumerated() { b[offset + i] = x } }
        return b
    }

    func testMalformedHeadersNameFieldAndOffset() throws {
        let good = try smallFile()
        XCTAssertNoThrow(try open(good))
        assertError(patch(good, at: 4, UInt32(1)), mentions: ["version 1", "offset 4"])
        // Version 2 has the same layout (64-bit counts) as 3 and is read alike.
        let v2 = try open(patch(good, at: 4, UInt32(2)))
        XCTAssertEqual(v2.version, 2)
        XCTAssertEqual(v2.tensor(named: "t")?.elementCount, 4)
        assertError(Array(good.prefix(10)), mentions: ["tensor count", "offset 8"])
        assertError(patch(good, at: 8, UInt64.max), mentions: ["tensor count", "offset 8"])
        assertError(patch(good, at: 16, UInt64(1) << 40), mentions: ["metadata key/value count", "offset 16"])
        // Key length (at 24) claiming more bytes than the file has.
        assertError(patch(good, at: 24, UInt64(1) << 50), mentions: ["metadata key #0", "offset 24"])
        // Value type of general.architecture (after 8 + 20 bytes of key) set to 99.
        assertError(patch(good, at: 52, UInt32(99)), mentions: ["general.architecture", "type 99"])
        // Every truncation of the header gives an error, never a crash.
        for n in 0..<good.count - 16 { XCTAssertThrowsError(try open(Array(good.prefix(n))), "prefix \(n)") }
    }

    func testBadTensorInfosAreRejected() throws {
        let good = try smallFile()
        let info = 8 + 20 + 4 + 8 + 5  // after header (24), key, type, string value "llama"
        let tensorInfo = 24 + info   // name length at this offset; name "t" then dims
        let dims = tensorInfo + 9, ne0 = dims + 4, type = ne0 + 8, offset = type + 4
        assertError(patch(good, at: dims, UInt32(7)), mentions: ["\"t\"", "7 dimensions"])
        assertError(patch(good, at: ne0, UInt64(1000)), mentions: ["\"t\"", "past the end"])
        assertError(patch(good, at: type, UInt32(4)), mentions: ["\"t\"", "ggml type 4"])
        assertError(patch(good, at: type, UInt32(GGMLType.q4_0.rawValue)), mentions: ["\"t\"", "block size 32"])
        assertError(patch(good, at: offset, UInt64(32)), mentions: ["\"t\"", "expected 0"])
        // Alignment that is not a power of two.
        var w = try GGUFWriter()
        try w.set("general.alignment", .uint32(32))
        XCTAssertNoThrow(try open(w.serialized()))
        // Value after header (24), key length and "general.alignment" (8 + 17), type (4).
        assertError(patch(w.serialized(), at: 24 + 25 + 4, UInt32(48)), mentions: ["general.alignment", "power of two"])
    }

    func testDeeplyNestedArraysAreRefused() throws {
        var value = GGUFValue.int8(1)
        for _ in 0..<20 { value = .array([value]) }
        var w = try GGUFWriter()
        try w.set("deep", value)
        assertError(w.serialized(), mentions: ["deep", "16 deep"])
    }
}
