/// A cursor over the mapped bytes of a GGUF file that checks every read against the file size.
///
/// Every read names the field it is for, so that a truncated or hostile file produces an error
/// that says where it broke rather than a crash or an allocation sized by a garbage count.
struct GGUFByteReader {
    let base: UnsafeRawPointer
    let count: Int
    private(set) var position: Int

    init(base: UnsafeRawPointer, count: Int, position: Int = 0) {
        self.base = base
        self.count = count
        self.position = position
    }

    var remaining: Int { count - position }

    mutating func require(_ n: Int, _ field: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw GGUFError.truncated(field: field(), offset: position, needed: n, fileSize: count)
        }
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws -> T {
        try require(MemoryLayout<T>.size, field())
        let v = T(littleEndian: base.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return v
    }

    /// A 64-bit count that must fit in what is left of the file at `elementSize` bytes per element.
    mutating func readCount(elementSize: Int, _ field: @autoclosure () -> String) throws -> Int {
        let at = position
        let raw = try read(UInt64.self, field())
        let limit = remaining / max(elementSize, 1)
        guard raw <= UInt64(limit) else {
            throw GGUFError.countTooLarge(field: field(), offset: at, count: raw, limit: limit)
        }
        return Int(raw)
    }

    /// A GGUF string: 64-bit byte length then UTF-8 bytes (not NUL-terminated).
    /// Invalid UTF-8 is repaired with U+FFFD rather than rejected, as llama.cpp accepts any bytes.
    mutating func readString(_ field: @autoclosure () -> String) throws -> String {
        let n = try readCount(elementSize: 1, field())
        let s = String(decoding: UnsafeRawBufferPointer(start: base + position, count: n), as: UTF8.self)
        position += n
        return s
    }

    /// A metadata value of type `type`; arrays recurse at most `depth` levels.
    mutating func readValue(_ type: GGUFValueType, _ field: String, depth: Int = 0) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, field))
        case .int8: return .int8(try read(Int8.self, field))
        case .uint16: return .uint16(try read(UInt16.self, field))
        case .int16: return .int16(try read(Int16.self, field))
        case .uint32: return .uint32(try read(UInt32.self, field))
        case .int32: return .int32(try read(Int32.self, field))
        case .uint64: return .uint64(try read(UInt64.self, field))
        case .int64: return .int64(try read(Int64.self, field))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, field)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, field)))
        case .bool:
            let at = position
            let b = try read(UInt8.self, field)
            guard b <= 1 else {
                throw GGUFError.invalidMetadata(key: field, offset: at, reason: "bool byte is \(b), not 0 or 1")
            }
            return .bool(b == 1)
        case .string: return .string(try readString(field))
        case .array:
            guard depth < 16 else { throw GGUFError.nestingTooDeep(field: field, offset: position) }
            let element = try readValueType("\(field) array element type")
            let n = try readCount(elementSize: element.minimumSize, "\(field) array length")
            var values: [GGUFValue] = []
            values.reserveCapacity(n)  // safe: n is capped by the bytes left in the file
            for _ in 0..<n { values.append(try readValue(element, field, depth: depth + 1)) }
            return .array(values)
        }
    }

    mutating func readValueType(_ field: @autoclosure () -> String) throws -> GGUFValueType {
        let at = position
        let raw = try read(UInt32.self, field())
        guard let t = GGUFValueType(rawValue: raw) else {
            throw GGUFError.invalidValueType(field: field(), offset: at, tag: raw)
        }
        return t
    }

    mutating func align(to alignment: Int) {
        let r = position % alignment
        if r != 0 { position += alignment - r }
    }
}
