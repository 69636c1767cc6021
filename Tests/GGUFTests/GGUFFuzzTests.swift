import Foundation
import XCTest
import Tensor
@testable import GGUF

/// Mutated copies of small real GGUF files must give a value or a GGUFError, never a crash,
/// a hang or an out-of-file tensor.
final class GGUFFuzzTests: XCTestCase {
    /// SmolLM2's header, metadata and tensor table rewritten small: every key kept, arrays cut to
    /// 300 elements, every tensor kept with its name and type but one or two blocks of real data.
    func smallSmolLM2() throws -> [UInt8] {
        let real = try GGUFFile(path: GGUFRealModelTests.smol)
        var w = try GGUFWriter(alignment: real.alignment)
        for key in real.metadataKeys where key != "general.alignment" {
            var value = try XCTUnwrap(real.metadata[key])
            if case .array(let items) = value { value = .array(Array(items.prefix(300))) }
            try w.set(key, value)
        }
        for t in real.tensors {
            let shape = t.shape.count == 1 ? [t.type.blockSize] : [t.type.blockSize, 2]
            let bytes = Array(real.bytes(for: t).prefix(t.type.typeSize * shape.dropFirst().reduce(1, *)))
            try w.addTensor(t.name, shape: shape, type: t.type, data: bytes)
        }
        return w.serialized()
    }

    /// A writer-made file with every value type and nested arrays.
    func syntheticFile() throws -> [UInt8] {
        var w = try GGUFWriter(alignment: 64)
        try w.set("general.architecture", .string("qwen2"))
        try w.set("a.u8", .uint8(1)); try w.set("a.i16", .int16(-2)); try w.set("a.f64", .float64(3))
        try w.set("a.b", .bool(true)); try w.set("a.u64", .uint64(9))
        try w.set("a.nested", .array([.array([.string("x"), .string("中")]), .array([])]))
        try w.set("a.floats", .array((0..<20).map { .float32(Float($0)) }))
        try w.addTensor("x", shape: [32, 3], type: .q4_0, data: Array(repeating: 7, count: 54))
        try w.addTensor("y", shape: [5], floats: [1, 2, 3, 4, 5])
        return w.serialized()
    }

    /// One random mutation, biased towards the structure (header, metadata, tensor table).
    func mutate(_ original: [UInt8], structureEnd: Int, rng: inout SplitMix64) -> [UInt8] {
        var b = original
        let at = rng.below(structureEnd)
        switch rng.below(6) {
        case 0: b[at] ^= UInt8(truncatingIfNeeded: 1 << rng.below(8))           // bit flip
        case 1: b[at] = UInt8(truncatingIfNeeded: rng.next())                     // random byte
        case 2:                                                                  // huge or edge count
            let edge: [UInt64] = [0, 1, .max, .max >> 1, UInt64(Int32.max), 1 << 32, UInt64(original.count)]
            let v = rng.below(2) == 0 ? edge[rng.below(edge.count)] : rng.next()
            withUnsafeBytes(of: v.littleEndian) { for (i, x) in $0.enumerated() where at + i < b.count { b[at + i] = x } }
        case 3: b.removeSubrange(min(at, b.count)...)                            // truncation
        case 4: b.removeSubrange(at..<min(b.count, at + 1 + rng.below(16)))      // deletion shifts fields
        default:                                                                 // several flips
            for _ in 0..<(2 + rng.below(8)) { b[rng.below(structureEnd)] = UInt8(truncatingIfNeeded: rng.next()) }
        }
        return b
    }

    func fuzz(_ original: [UInt8], seconds: Double, seed: UInt64) throws -> (ok: Int, errors: Int) {
        let structureEnd = try GGUFFile(bytes: original).dataOffset
        var rng = SplitMix64(seed: seed)
        var ok = 0, errors = 0
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let bytes = mutate(original, structureEnd: structureEnd, rng: &rng)
            do {
                let f = try GGUFFile(bytes: bytes)
                for t in f.tensors {
                    XCTAssertTrue(t.offset >= f.dataOffset && t.offset + t.byteCount <= bytes.count, "tensor \(t.name) out of file")
                }
                ok += 1
            } catch let e as GGUFError {
                XCTAssertFalse(e.localizedDescription.isEmpty)
                errors += 1
            }
        }
        return (ok, errors)
    }

    func testMutatedFilesNeverCrash() throws {
        let smol = try smallSmolLM2()
        XCTAssertLessThan(smol.count, 200_000, "the rewritten SmolLM2 stays small")
        let a = try fuzz(smol, seconds: 3, seed: 0x5EED)
        let b = try fuzz(try syntheticFile(), seconds: 2, seed: 42)
        // And through the real mmap path once, with a truncated file.
        let path = NSTemporaryDirectory() + "strata-fuzz-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(smol.prefix(smol.count / 2)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try GGUFFile(path: path))
        print("GGUF fuzz: SmolLM2-small \(a.ok) parsed / \(a.errors) errors, synthetic \(b.ok) / \(b.errors)")
        // Both outcomes must occur, or the mutations are not reaching the parser.
        XCTAssertGreaterThan(a.errors, 100); XCTAssertGreaterThan(a.ok, 10)
        XCTAssertGreaterThan(b.errors, 100); XCTAssertGreaterThan(b.ok, 10)
    }
}

extension SplitMix64 {
    /// Uniform in 0..<n (seeded, so a failing mutation can be replayed).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}
