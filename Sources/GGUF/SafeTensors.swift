import Foundation

/// Element types a safetensors file can declare. Only the float ones can be read as weights;
/// the integer ones are recognised so a file holding e.g. an I64 `position_ids` buffer still opens.
public enum SafeTensorDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }
}

/// Where one tensor lives in the file, after every bound has been checked.
public struct SafeTensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: SafeTensorDType
    public var shape: [Int]
    /// Absolute byte offset of the first element in the file.
    public var fileOffset: Int
    public var byteCount: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A `.safetensors` file (Hugging Face format), memory-mapped and validated on open.
///
/// Layout: 8-byte little-endian header length N, N bytes of JSON (`name → {dtype, shape,
/// data_offsets:[begin,end]}` plus an optional `__metadata__` of strings), then the data block.
/// Offsets are relative to the data block. Everything the header claims is checked against the
/// file before any byte is read, so a header that lies gives an error, never a crash.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let tensors: [String: SafeTensorInfo]
    public let metadata: [String: String]
    /// Size of the whole file in bytes.
    public var fileSize: Int { file.count }
    /// The raw header JSON, e.g. for a cheap identity of the weights.
    public let headerLength: Int
    private let file: MappedFile

    /// Opens and validates `path`.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        guard let lenBytes = file.bytes(0, 8) else {
            throw SafeTensorsError.truncated(path: path, detail: "the file is \(file.count) bytes, shorter than the 8-byte header length")
        }
        let n = lenBytes.loadUnaligned(as: UInt64.self).littleEndian
        // A header over 100 MB is what the reference implementation rejects too.
        guard n > 0, n <= 100_000_000, Int(n) <= file.count - 8, let header = file.bytes(8, Int(n)) else {
            throw SafeTensorsError.badHeader(path: path, detail: "header length \(n) does not fit in a file of \(file.count) bytes")
        }
        headerLength = Int(n)
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(header), options: []) } catch {
            throw SafeTensorsError.badHeader(path: path, detail: "header is not valid JSON (\(error.localizedDescription))")
        }
        guard let root = json as? [String: Any] else {
            throw SafeTensorsError.badHeader(path: path, detail: "header JSON is not an object")
        }
        let dataStart = 8 + Int(n)
        let dataLength = file.count - dataStart
        var tensors: [String: SafeTensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in root {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw SafeTensorsError.badHeader(path: path, detail: "__metadata__ is not an object")
                }
                for (k, v) in m { metadata[k] = (v as? String) ?? "\(v)" }
                continue
            }
            tensors[name] = try Self.parseEntry(name: name, value: value, dataStart: dataStart,
                                                dataLength: dataLength, path: path)
        }
        // Tensors may not overlap: a header pointing two names at the same bytes is corrupt.
        let sorted = tensors.values.sorted { $0.fileOffset < $1.fileOffset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.fileOffset + a.byteCount > b.fileOffset {
            throw SafeTensorsError.badTensor(path: path, name: b.name, detail: "its bytes overlap tensor \(a.name)")
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func parseEntry(name: String, value: Any, dataStart: Int, dataLength: Int,
                                   path: String) throws -> SafeTensorInfo {
        func bad(_ d: String) -> SafeTensorsError { .badTensor(path: path, name: name, detail: d) }
        guard let e = value as? [String: Any] else { throw bad("entry is not an object") }
        guard let dt = e["dtype"] as? String else { throw bad("missing dtype") }
        guard let dtype = SafeTensorDType(rawValue: dt) else { throw bad("unsupported dtype \(dt)") }
        guard let shapeAny = e["shape"] as? [Any], let offsAny = e["data_offsets"] as? [Any], offsAny.count == 2 else {
            throw bad("missing shape or data_offsets [begin, end]")
        }
        var shape: [Int] = []
        var count = 1
        for s in shapeAny {
            guard let v = (s as? NSNumber)?.int64Value, v >= 0, v < Int64(Int32.max) else { throw bad("shape \(shapeAny) has an invalid dimension") }
            let (m, o) = count.multipliedReportingOverflow(by: Int(v))
            guard !o else { throw bad("shape \(shapeAny) overflows") }
            shape.append(Int(v)); count = m
        }
        guard let b = (offsAny[0] as? NSNumber)?.int64Value, let en = (offsAny[1] as? NSNumber)?.int64Value,
              b >= 0, en >= b, en <= Int64(dataLength) else {
            throw bad("data_offsets \(offsAny) lie outside the \(dataLength)-byte data block")
        }
        let (bytes, o) = count.multipliedReportingOverflow(by: dtype.size)
        guard !o, Int64(bytes) == en - b else {
            throw bad("shape \(shape) of \(dt) needs \(bytes) bytes but data_offsets span \(en - b)")
        }
        return SafeTensorInfo(name: name, dtype: dtype, shape: shape, fileOffset: dataStart + Int(b), byteCount: bytes)
    }

    /// The raw bytes of a tensor, valid while this object lives.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let t = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        // Bounds were checked at open; the guard only keeps this function total.
        guard let raw = file.bytes(t.fileOffset, t.byteCount) else {
            throw SafeTensorsError.truncated(path: path, detail: "tensor \(name) runs past the end of the file")
        }
        return raw
    }

    /// A float tensor converted to Float32 (F32 copied, F16/BF16/F64 converted).
    public func floats(_ name: String) throws -> [Float] {
        guard let t = tensors[name] else { throw SafeTensorsError.missingTensor(path: path, name: name) }
        let raw = try rawBytes(name)
        let n = t.elementCount
        switch t.dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: n) { buf, c in
                // memcpy copes with a data block that is not 4-byte aligned.
                if n > 0 { memcpy(buf.baseAddress!, raw.baseAddress!, n * 4) }
                for i in 0..<n { buf[i] = Float(bitPattern: UInt32(littleEndian: buf[i].bitPattern)) }
                c = n
            }
        case .f16:
            return (0..<n).map { Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
        case .bf16:
            return (0..<n).map { Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16) }
        case .f64:
            return (0..<n).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
        default:
            throw SafeTensorsError.notFloat(path: path, name: name, dtype: t.dtype.rawValue)
        }
    }

    /// A 64-bit content hash of the whole file (not cryptographic; ~20 ms for 90 MB), used to
    /// tell two weight files apart when recording which model built an index.
    public func contentHash() -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(file.count)
        let words = file.count / 8
        let p = file.base
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (h, h &+ 1, h &+ 2, h &+ 3)
        var i = 0
        @inline(__always) func mix(_ a: UInt64, _ w: UInt64) -> UInt64 {
            var x = (a ^ w) &* 0xBF58_476D_1CE4_E5B9
            x ^= x >> 31
            return x
        }
        while i + 4 <= words {
            lanes.0 = mix(lanes.0, p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
            lanes.1 = mix(lanes.1, p.loadUnaligned(fromByteOffset: 8 * i + 8, as: UInt64.self))
            lanes.2 = mix(lanes.2, p.loadUnaligned(fromByteOffset: 8 * i + 16, as: UInt64.self))
            lanes.3 = mix(lanes.3, p.loadUnaligned(fromByteOffset: 8 * i + 24, as: UInt64.self))
            i += 4
        }
        h = mix(mix(mix(mix(h, lanes.0), lanes.1), lanes.2), lanes.3)
        for j in (8 * i)..<file.count { h = mix(h, UInt64(p.load(fromByteOffset: j, as: UInt8.self))) }
        return h
    }
}

/// Errors reading a safetensors file.
public enum SafeTensorsError: Error, LocalizedError, Equatable {
    /// The file ends before a structure it must contain.
    case truncated(path: String, detail: String)
    /// The 8-byte length or the JSON header is invalid.
    case badHeader(path: String, detail: String)
    /// One tensor entry is invalid: unknown dtype, shape/offset mismatch, out of bounds, overlap.
    case badTensor(path: String, name: String, detail: String)
    /// A tensor the model needs is not in the file.
    case missingTensor(path: String, name: String)
    /// A tensor was asked for as floats but holds integers.
    case notFloat(path: String, name: String, dtype: String)

    public var errorDescription: String? {
        switch self {
        case .truncated(let p, let d): "\(p): truncated safetensors file: \(d) — re-download the model"
        case .badHeader(let p, let d): "\(p): invalid safetensors header: \(d) — the file is corrupt or not safetensors; re-download it"
        case .badTensor(let p, let n, let d): "\(p): tensor \(n): \(d) — the file is corrupt; re-download it"
        case .missingTensor(let p, let n): "\(p): no tensor named \(n) — is this a BERT-family sentence-transformers model?"
        case .notFloat(let p, let n, let t): "\(p): tensor \(n) is \(t), not a float type — the model layout is not supported"
        }
    }
}
