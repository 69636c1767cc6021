import Foundation
import Tensor

/// Builds a GGUF file (version 3) from metadata and tensors, laid out as ggml writes it.
///
/// Used to save LoRA adapters in llama.cpp's format and to make small real files in tests.
/// Tensors are written in the order added, each padded to `alignment`.
public struct GGUFWriter {
    public let alignment: Int
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [(name: String, shape: [Int], type: GGMLType, data: [UInt8])] = []

    /// - Parameter alignment: data alignment; when not 32, `general.alignment` is written for it.
    public init(alignment: Int = GGUFFile.defaultAlignment) throws {
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= Int(UInt32.max) else {
            throw GGUFError.invalidForWriting("alignment \(alignment) is not a power of two")
        }
        self.alignment = alignment
        if alignment != GGUFFile.defaultAlignment {
            metadata.append(("general.alignment", .uint32(UInt32(alignment))))
        }
    }

    /// Adds or replaces one metadata value. Arrays must hold values of one type.
    public mutating func set(_ key: String, _ value: GGUFValue) throws {
        try Self.checkHomogeneous(value, key: key)
        if key == "general.alignment" {
            guard case .uint32(let a) = value, Int(a) == alignment else {
                throw GGUFError.invalidForWriting("general.alignment is set by GGUFWriter(alignment:), not by set()")
            }
        }
        if let i = metadata.firstIndex(where: { $0.key == key }) { metadata[i].value = value }
        else { metadata.append((key, value)) }
    }

    /// Adds a tensor whose raw bytes (already in `type`'s block layout) are `data`.
    public mutating func addTensor(_ name: String, shape: [Int], type: GGMLType, data: [UInt8]) throws {
        guard (1...4).contains(shape.count), shape.allSatisfy({ $0 >= 0 }) else {
            throw GGUFError.invalidForWriting("tensor \(name) has shape \(shape); ggml wants 1 to 4 non-negative dimensions")
        }
        guard let row = type.rowBytes(shape[0]), row * shape.dropFirst().reduce(1, *) == data.count else {
            throw GGUFError.invalidForWriting("tensor \(name): \(data.count) bytes do not match shape \(shape) of type \(type)")
        }
        guard !tensors.contains(where: { $0.name == name }) else {
            throw GGUFError.invalidForWriting("tensor \(name) added twice")
        }
        tensors.append((name, shape, type, data))
    }

    /// Adds a tensor from floats, stored as F32 or as F16 (rounded to nearest, ties to even, as
    /// numpy's and ggml's conversions round). F16 halves the file; a finite value beyond F16's
    /// range (±65504) is refused rather than written as infinity.
    public mutating func addTensor(_ name: String, shape: [Int], floats: [Float], as type: GGMLType = .f32) throws {
        var bytes = [UInt8]()
        switch type {
        case .f32:
            bytes.reserveCapacity(floats.count * 4)
            for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        case .f16:
            bytes.reserveCapacity(floats.count * 2)
            for (i, f) in floats.enumerated() {
                let h = Float16(f)
                if h.isInfinite && f.isFinite {
                    throw GGUFError.invalidForWriting("tensor \(name): element \(i) is \(f), beyond F16's range (±65504) — write it as F32")
                }
                withUnsafeBytes(of: h.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
        default:
            throw GGUFError.invalidForWriting("tensor \(name): floats are written as F32 or F16, not \(type)")
        }
        try addTensor(name, shape: shape, type: type, data: bytes)
    }

    /// The complete file.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: Array("GGUF".utf8))
        Self.put(UInt32(3), &out)
        Self.put(UInt64(tensors.count), &out)
        Self.put(UInt64(metadata.count), &out)
        for (key, value) in metadata {
            Self.putString(key, &out)
            Self.put(value.typeTag.rawValue, &out)
            Self.putValue(value, &out)
        }
        var offset = 0
        for t in tensors {
            Self.putString(t.name, &out)
            Self.put(UInt32(t.shape.count), &out)
            for d in t.shape { Self.put(UInt64(d), &out) }
            Self.put(t.type.rawValue, &out)
            Self.put(UInt64(offset), &out)
            offset += padded(t.data.count)
        }
        out.append(contentsOf: repeatElement(0, count: padded(out.count) - out.count))
        for t in tensors {
            out.append(contentsOf: t.data)
            out.append(contentsOf: repeatElement(0, count: padded(t.data.count) - t.data.count))
        }
        return out
    }

    /// Writes the file atomically (a crash never leaves half an adapter under the final name).
    public func write(to path: String) throws {
        try Data(serialized()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    private static func checkHomogeneous(_ value: GGUFValue, key: String) throws {
        guard case .array(let items) = value, let first = items.first else { return }
        for item in items {
            guard item.typeTag == first.typeTag else {
                throw GGUFError.invalidForWriting("array \(key) mixes \(first.typeTag) and \(item.typeTag); GGUF arrays hold one type")
            }
            try checkHomogeneous(item, key: key)
        }
    }

    private static func put<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func putString(_ s: String, _ out: inout [UInt8]) {
        put(UInt64(s.utf8.count), &out)
        out.append(contentsOf: s.utf8)
    }

    private static func putValue(_ value: GGUFValue, _ out: inout [UInt8]) {
        switch value {
        case .uint8(let v): put(v, &out)
        case .int8(let v): put(v, &out)
        case .uint16(let v): put(v, &out)
        case .int16(let v): put(v, &out)
        case .uint32(let v): put(v, &out)
        case .int32(let v): put(v, &out)
        case .uint64(let v): put(v, &out)
        case .int64(let v): put(v, &out)
        case .float32(let v): put(v.bitPattern, &out)
        case .float64(let v): put(v.bitPattern, &out)
        case .bool(let v): put(UInt8(v ? 1 : 0), &out)
        case .string(let s): putString(s, &out)
        case .array(let items):
            // An empty array carries no element to take a type from; uint8 is as good as any.
            put((items.first?.typeTag ?? .uint8).rawValue, &out)
            put(UInt64(items.count), &out)
            for item in items { putValue(item, &out) }
        }
    }
}
