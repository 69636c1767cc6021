import Foundation
import GGUF
import Tensor

/// The engine's read-only view of a GGUF model file: metadata values and tensors used in place
/// from the memory mapping.
///
/// Why the engine parses the header itself: the shared `GGUFFile` (branch gguf) had not landed
/// when the engine was written. This reader only covers what the forward pass needs (scalars,
/// string arrays for the vocabulary size, tensor directory) and validates every offset against the
/// file size, so a truncated or foreign file fails here with a message instead of a crash later.
/// When `GGUFFile` lands, `ModelFile` becomes a thin wrapper over it with the same API.
public final class ModelFile: @unchecked Sendable {
    /// One tensor of the file: `shape[0]` is the innermost (contiguous) dimension, as in ggml.
    public struct Tensor: @unchecked Sendable {
        public let name: String
        public let shape: [Int]
        public let type: GGMLType
        public let byteCount: Int
        public let data: UnsafeRawPointer
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// A metadata value. Arrays keep only their element count and, for strings, their values.
    public enum Value: Sendable {
        case int(Int64), uint(UInt64), float(Double), bool(Bool), string(String)
        case array(count: Int, strings: [String]?)
    }

    public let path: String
    public let mapping: MappedFile
    public let version: UInt32
    public private(set) var metadata: [String: Value] = [:]
    public private(set) var tensors: [String: Tensor] = [:]
    /// Tensor names in file order (for messages and listings).
    public private(set) var tensorNames: [String] = []

    public init(path: String) throws {
        self.path = path
        mapping = try MappedFile(path: path)
        var r = Reader(file: mapping, path: path)
        guard mapping.count >= 4, try r.bytes(4).elementsEqual("GGUF".utf8) else {
            throw ModelFileError.notGGUF(path: path)
        }
        version = try r.u32()
        guard version == 2 || version == 3 else { throw ModelFileError.unsupportedVersion(path: path, version: version) }
        let tensorCount = try r.count(), kvCount = try r.count()
        for _ in 0..<kvCount {
            let key = try r.string()
            metadata[key] = try r.value(type: r.u32())
        }
        var infos: [(String, [Int], GGMLType, Int)] = []
        for _ in 0..<tensorCount {
            let name = try r.string()
            let dims = Int(try r.u32())
            guard dims >= 1, dims <= 4 else { throw ModelFileError.corrupt(path: path, detail: "tensor \(name) has \(dims) dimensions") }
            var shape: [Int] = []
            for _ in 0..<dims { shape.append(try r.count()) }
            let raw = try r.u32()
            guard let type = GGMLType(rawValue: raw) else {
                throw ModelFileError.corrupt(path: path, detail: "tensor \(name) has unknown ggml type \(raw)")
            }
            infos.append((name, shape, type, try r.count()))
        }
        var alignment = 32
        if case .uint(let a)? = metadata["general.alignment"], a > 0, a < 1 << 20 { alignment = Int(a) }
        if case .int(let a)? = metadata["general.alignment"], a > 0, a < 1 << 20 { alignment = Int(a) }
        let dataStart = (r.offset + alignment - 1) / alignment * alignment
        for (name, shape, type, offset) in infos {
            let rows = shape.dropFirst().reduce(1, *)
            guard let rowBytes = type.rowBytes(shape[0]) else {
                throw ModelFileError.corrupt(path: path, detail: "tensor \(name): row of \(shape[0]) is not a whole number of \(type) blocks")
            }
            let bytes = rowBytes * rows
            guard let buf = mapping.bytes(dataStart + offset, bytes), let base = buf.baseAddress else {
                throw ModelFileError.truncated(path: path, detail: "tensor \(name) (\(bytes) bytes at \(dataStart + offset)) lies past the end of the \(mapping.count)-byte file")
            }
            tensors[name] = Tensor(name: name, shape: shape, type: type, byteCount: bytes, data: base)
            tensorNames.append(name)
        }
    }

    /// `general.architecture`, e.g. "llama" or "qwen2".
    public var architecture: String? { string("general.architecture") }

    public func string(_ key: String) -> String? {
        if case .string(let s)? = metadata[key] { return s }
        return nil
    }
    public func int(_ key: String) -> Int? {
        switch metadata[key] {
        case .int(let v)?: return Int(v)
        case .uint(let v)?: return Int(exactly: v)
        case .array(let n, _)?: return n
        default: return nil
        }
    }
    public func float(_ key: String) -> Double? {
        switch metadata[key] {
        case .float(let v)?: return v
        case .int(let v)?: return Double(v)
        case .uint(let v)?: return Double(v)
        default: return nil
        }
    }
    public func stringArray(_ key: String) -> [String]? {
        if case .array(_, let s)? = metadata[key] { return s }
        return nil
    }
    public func arrayCount(_ key: String) -> Int? {
        if case .array(let n, _)? = metadata[key] { return n }
        return nil
    }
}

/// A cursor over the mapped header; every read is bounds-checked.
private struct Reader {
    let file: MappedFile
    let path: String
    var offset = 0

    mutating func bytes(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard let b = file.bytes(offset, n) else {
            throw ModelFileError.truncated(path: path, detail: "header ends at byte \(file.count) while reading \(n) bytes at \(offset)")
        }
        offset += n
        return b
    }
    mutating func load<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let b = try bytes(MemoryLayout<T>.size)
        return T(littleEndian: b.loadUnaligned(as: T.self))
    }
    mutating func u32() throws -> UInt32 { try load(UInt32.self) }
    /// A u64 count or size that must fit comfortably in memory.
    mutating func count() throws -> Int {
        let v = try load(UInt64.self)
        guard v < UInt64(file.count) * 8 + 1024 else {
            throw ModelFileError.corrupt(path: path, detail: "implausible count \(v) at byte \(offset - 8)")
        }
        return Int(v)
    }
    mutating func string() throws -> String {
        let n = try count()
        return String(decoding: try bytes(n), as: UTF8.self)
    }
    mutating func value(type: UInt32) throws -> ModelFile.Value {
        switch type {
        case 0: return .uint(UInt64(try load(UInt8.self)))
        case 1: return .int(Int64(try load(Int8.self)))
        case 2: return .uint(UInt64(try load(UInt16.self)))
        case 3: return .int(Int64(try load(Int16.self)))
        case 4: return .uint(UInt64(try load(UInt32.self)))
        case 5: return .int(Int64(try load(Int32.self)))
        case 6: return .float(Double(Float(bitPattern: try load(UInt32.self))))
        case 7: return .bool(try load(UInt8.self) != 0)
        case 8: return .string(try string())
        case 10: return .uint(try load(UInt64.self))
        case 11: return .int(try load(Int64.self))
        case 12: return .float(Double(bitPattern: try load(UInt64.self)))
        case 9:
            let elementType = try u32()
            let n = try count()
            if elementType == 8 {
                var strings: [String] = []
                strings.reserveCapacity(n)
                for _ in 0..<n { strings.append(try string()) }
                return .array(count: n, strings: strings)
            }
            let sizes: [UInt32: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
            guard let size = sizes[elementType] else {
                throw ModelFileError.corrupt(path: path, detail: "array of unsupported element type \(elementType)")
            }
            _ = try bytes(n * size)
            return .array(count: n, strings: nil)
        default:
            throw ModelFileError.corrupt(path: path, detail: "unknown metadata value type \(type) at byte \(offset - 4)")
        }
    }
}

/// Why a model file could not be used.
public enum ModelFileError: Error, LocalizedError {
    /// The file does not start with the GGUF magic.
    case notGGUF(path: String)
    /// A GGUF version this reader does not know.
    case unsupportedVersion(path: String, version: UInt32)
    /// The file ends before the header or a tensor's data does (interrupted download).
    case truncated(path: String, detail: String)
    /// The header holds values no valid writer produces.
    case corrupt(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .notGGUF(let p): "\(p) is not a GGUF model file (no 'GGUF' magic) — give a .gguf model (e.g. models/SmolLM2-135M-Instruct.Q4_1.gguf)"
        case .unsupportedVersion(let p, let v): "\(p) is GGUF version \(v); versions 2 and 3 are supported — re-convert the model with a current llama.cpp"
        case .truncated(let p, let d): "\(p) is truncated: \(d) — download the model again"
        case .corrupt(let p, let d): "\(p) is not a valid GGUF file: \(d) — download or convert the model again"
        }
    }
}
