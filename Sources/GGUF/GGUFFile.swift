import Foundation
import Tensor

/// Where one tensor's data lies in a GGUF file, and how it is laid out.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order: `shape[0]` is the contiguous row length (`ne[0]`), then rows, then higher dims.
    public let shape: [Int]
    public let type: GGMLType
    /// Absolute file offset of the first data byte.
    public let offset: Int
    /// Bytes of data: whole blocks of `type` for `shape`.
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
    /// Rows of `shape[0]` elements (all dimensions after the first, multiplied).
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
}

/// A GGUF model file (versions 2 and 3), memory-mapped read-only.
///
/// The header, metadata and tensor table are parsed and validated at init; tensor data stays in
/// the mapping (no copy) and is handed out as pointers that live as long as this object.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    /// Alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order (the dictionary loses it; the writer and dumps want it).
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    /// File size in bytes.
    public var fileSize: Int { count }

    /// Keeps the bytes alive: the MappedFile, or an OwnedBytes for files parsed from memory.
    private let storage: AnyObject
    private let base: UnsafeRawPointer
    private let count: Int
    private let index: [String: Int]

    public static let defaultAlignment = 32

    public convenience init(path: String) throws {
        let mapping: MappedFile
        do { mapping = try MappedFile(path: path) } catch let e as MappedFileError {
            throw GGUFError.cannotOpen(path: path, reason: e.localizedDescription)
        }
        try self.init(path: path, storage: mapping, base: mapping.base, count: mapping.count)
    }

    /// Parses a file image held in memory (tests, fuzzing, adapters built on the fly).
    package convenience init(bytes: [UInt8], name: String = "<memory>") throws {
        let owned = OwnedBytes(bytes)
        try self.init(path: name, storage: owned, base: owned.base, count: bytes.count)
    }

    private init(path: String, storage: AnyObject, base: UnsafeRawPointer, count: Int) throws {
        self.storage = storage
        self.base = base
        self.count = count
        self.path = path
        var r = GGUFByteReader(base: base, count: count)
        let magic = Array(UnsafeRawBufferPointer(start: base, count: min(count, 4)))
        guard magic == Array("GGUF".utf8) else { throw GGUFError.notGGUF(path: path, magic: magic) }
        _ = try r.read(UInt32.self, "magic")
        version = try r.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(version) }
        // Smallest tensor info: empty name (8) + n_dims (4) + one dim (8) + type (4) + offset (8).
        let tensorCount = try r.readCount(elementSize: 32, "tensor count")
        // Smallest key/value: empty key (8) + type (4) + one byte.
        let kvCount = try r.readCount(elementSize: 13, "metadata key/value count")

        (metadata, metadataKeys, alignment) = try Self.readMetadata(&r, count: kvCount)
        let table = try Self.readTensorTable(&r, count: tensorCount)
        r.align(to: alignment)
        dataOffset = r.position
        tensors = try Self.layOut(table, dataOffset: dataOffset, alignment: alignment, fileSize: count)
        index = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
    }

    /// Key/value pairs in file order; picks up `general.alignment` on the way.
    private static func readMetadata(_ r: inout GGUFByteReader, count: Int) throws
        -> ([String: GGUFValue], [String], Int) {
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        var alignment = defaultAlignment
        for i in 0..<count {
            let at = r.position
            let key = try r.readString("metadata key #\(i)")
            let type = try r.readValueType("type of metadata \"\(key)\"")
            let value = try r.readValue(type, "metadata \"\(key)\"")
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw GGUFError.duplicateKey(key: key, offset: at)
            }
            keys.append(key)
            if key == "general.alignment" {
                // ggml requires a uint32 power of two; anything else would misplace every tensor.
                guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
                    throw GGUFError.invalidMetadata(key: key, offset: at, reason: "must be a uint32 power of two, found \(value)")
                }
                alignment = Int(a)
            }
        }
        return (metadata, keys, alignment)
    }

    /// One tensor info as stored: data offset still relative to the data section.
    private struct StoredInfo { let name: String, shape: [Int], type: GGMLType, relative: UInt64, bytes: Int, infoAt: Int }

    private static func readTensorTable(_ r: inout GGUFByteReader, count: Int) throws -> [StoredInfo] {
        var table: [StoredInfo] = []
        table.reserveCapacity(count)  // capped by the bytes left in the file
        var names = Set<String>()
        for i in 0..<count {
            let at = r.position
            let name = try r.readString("tensor #\(i) name")
            let dims = try r.read(UInt32.self, "tensor \"\(name)\" dimension count")
            guard (1...4).contains(dims) else {
                throw GGUFError.invalidTensorShape(tensor: name, offset: at, reason: "\(dims) dimensions, ggml allows 1 to 4")
            }
            var shape: [Int] = []
            var elements = 1
            for d in 0..<Int(dims) {
                let n = try r.read(UInt64.self, "tensor \"\(name)\" dimension \(d)")
                guard n <= UInt64(Int32.max) else {
                    throw GGUFError.invalidTensorShape(tensor: name, offset: at, reason: "dimension \(d) is \(n)")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(n))
                guard !overflow, product <= Int(Int32.max) * 64 else {
                    throw GGUFError.invalidTensorShape(tensor: name, offset: at, reason: "element count overflows")
                }
                elements = product
                shape.append(Int(n))
            }
            let typeAt = r.position
            let typeRaw = try r.read(UInt32.self, "tensor \"\(name)\" type")
            guard let type = GGMLType(rawValue: typeRaw) else {
                throw GGUFError.unknownTensorType(tensor: name, offset: typeAt, type: typeRaw)
            }
            guard let rowBytes = type.rowBytes(shape[0]) else {
                throw GGUFError.invalidTensorShape(tensor: name, offset: at,
                    reason: "row length \(shape[0]) is not a multiple of the \(type) block size \(type.blockSize)")
            }
            let (bytes, overflow) = rowBytes.multipliedReportingOverflow(by: shape.dropFirst().reduce(1, *))
            guard !overflow else { throw GGUFError.invalidTensorShape(tensor: name, offset: at, reason: "byte size overflows") }
            let relative = try r.read(UInt64.self, "tensor \"\(name)\" data offset")
            guard names.insert(name).inserted else { throw GGUFError.duplicateTensor(tensor: name, offset: at) }
            table.append(StoredInfo(name: name, shape: shape, type: type, relative: relative, bytes: bytes, infoAt: at))
        }
        return table
    }

    /// Absolute data positions. Each tensor must start exactly where ggml's writer puts it
    /// (aligned, right after the previous one, as llama.cpp checks): no overlaps, no hidden gaps.
    private static func layOut(_ table: [StoredInfo], dataOffset: Int, alignment: Int, fileSize: Int) throws -> [GGUFTensorInfo] {
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(table.count)
        var expected = 0
        for t in table {
            guard t.relative == UInt64(expected) else {
                throw GGUFError.invalidTensorOffset(tensor: t.name, offset: t.infoAt, expected: expected,
                                                    found: Int(clamping: t.relative))
            }
            let start = dataOffset + expected
            guard start <= fileSize, t.bytes <= fileSize - start else {
                throw GGUFError.tensorDataOutOfBounds(tensor: t.name, start: start, byteCount: t.bytes, fileSize: fileSize)
            }
            tensors.append(GGUFTensorInfo(name: t.name, shape: t.shape, type: t.type, offset: start, byteCount: t.bytes))
            expected += (t.bytes + alignment - 1) / alignment * alignment
        }
        return tensors
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// The first byte of `info`'s data inside the mapping (checked to lie in the file at init).
    public func data(for info: GGUFTensorInfo) -> UnsafeRawPointer {
        precondition(info.offset >= 0 && info.offset + info.byteCount <= count,
                     "tensor \(info.name) does not belong to \(path)")
        return base + info.offset
    }

    /// `info`'s data as a byte buffer.
    public func bytes(for info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: data(for: info), count: info.byteCount)
    }

    // MARK: Typed metadata access

    /// `general.architecture`, which picks the model implementation (llama, qwen2, ...).
    public var architecture: String? { string("general.architecture") }

    public func string(_ key: String) -> String? { metadata[key]?.string }
    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func bool(_ key: String) -> Bool? { metadata[key]?.bool }
    public func float(_ key: String) -> Float? { metadata[key]?.double.map(Float.init) }

    /// An array of strings; nil when absent or when any element is not a string.
    public func stringArray(_ key: String) -> [String]? {
        guard let a = metadata[key]?.array else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a { guard let s = v.string else { return nil }; out.append(s) }
        return out
    }

    public func intArray(_ key: String) -> [Int]? {
        guard let a = metadata[key]?.array else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for v in a { guard let i = v.int else { return nil }; out.append(i) }
        return out
    }

    public func floatArray(_ key: String) -> [Float]? {
        guard let a = metadata[key]?.array else { return nil }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for v in a { guard let d = v.double else { return nil }; out.append(Float(d)) }
        return out
    }
}

/// A heap copy of a file image, for GGUFFile(bytes:).
private final class OwnedBytes {
    let base: UnsafeRawPointer
    init(_ bytes: [UInt8]) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: $0.count) } }
        base = UnsafeRawPointer(p)
    }
    deinit { UnsafeMutableRawPointer(mutating: base).deallocate() }
}
