/// DEFLATE decompression (RFC 1951), after Mark Adler's `puff.c`: canonical Huffman codes decoded
/// from per-length counts, stored, fixed and dynamic blocks. The output limit is enforced while
/// inflating, so a zip bomb stops at the limit instead of filling memory.
///
/// Tested against Python's zlib output (every level, stored, random and repetitive data).
package enum Inflate {
    package enum Failure: Error, Equatable {
        case corrupt(String)
        case overLimit(Int)
    }

    package static func inflate(_ input: [UInt8], limit: Int, expected: Int? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, expected ?? input.count * 4))
        try input.withUnsafeBufferPointer { buf in
            var s = State(input: buf)
            var last = false
            while !last {
                last = try s.bits(1) == 1
                switch try s.bits(2) {
                case 0: try s.stored(&out, limit: limit)
                case 1: try s.codes(&out, limit: limit, lit: fixed.lit, dist: fixed.dist)
                case 2:
                    let (lit, dist) = try s.dynamicTables()
                    try s.codes(&out, limit: limit, lit: lit, dist: dist)
                default: throw Failure.corrupt("invalid block type")
                }
            }
        }
        return out
    }

    struct Huffman {
        var count = [Int](repeating: 0, count: 16)    // codes of each length
        var symbol: [Int]                              // symbols ordered by code
        init(lengths: ArraySlice<Int>) throws {
            symbol = [Int](repeating: 0, count: lengths.count)
            for l in lengths { count[l] += 1 }
            var left = 1
            for len in 1..<16 {
                left <<= 1
                left -= count[len]
                if left < 0 { throw Failure.corrupt("over-subscribed code") }
            }
            var offs = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offs[len + 1] = offs[len] + count[len] }
            for (sym, l) in lengths.enumerated() where l != 0 { symbol[offs[l]] = sym; offs[l] += 1 }
        }
    }

    static let fixed: (lit: Huffman, dist: Huffman) = {
        var l = [Int](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        return (try! Huffman(lengths: l[...]), try! Huffman(lengths: [Int](repeating: 5, count: 30)[...]))
    }()

    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                  4097, 6145, 8193, 12289, 16385, 24577]
    static let distExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    struct State {
        let input: UnsafeBufferPointer<UInt8>
        var pos = 0
        var bitBuf: UInt64 = 0
        var bitCount = 0

        init(input: UnsafeBufferPointer<UInt8>) { self.input = input }

        @inline(__always) mutating func bits(_ n: Int) throws -> Int {
            while bitCount < n {
                guard pos < input.count else { throw Failure.corrupt("unexpected end of data") }
                bitBuf |= UInt64(input[pos]) << UInt64(bitCount)
                pos += 1; bitCount += 8
            }
            let v = Int(bitBuf & ((1 << UInt64(n)) - 1))
            bitBuf >>= UInt64(n); bitCount -= n
            return v
        }

        mutating func stored(_ out: inout [UInt8], limit: Int) throws {
            bitBuf = 0; bitCount = 0                       // to a byte boundary
            guard pos + 4 <= input.count else { throw Failure.corrupt("unexpected end of data") }
            let len = Int(input[pos]) | Int(input[pos + 1]) << 8
            let nlen = Int(input[pos + 2]) | Int(input[pos + 3]) << 8
            guard len == (~nlen & 0xFFFF) else { throw Failure.corrupt("stored block length check failed") }
            pos += 4
            guard pos + len <= input.count else { throw Failure.corrupt("unexpected end of data") }
            guard out.count + len <= limit else { throw Failure.overLimit(limit) }
            out.append(contentsOf: input[pos..<(pos + len)])
            pos += len
        }

        /// One symbol: reads the code bit by bit (codes are stored bit-reversed, so canonical order).
        @inline(__always) mutating func decode(_ h: Huffman) throws -> Int {
            var code = 0, first = 0, index = 0
            for len in 1..<16 {
                code |= try bits(1)
                let count = h.count[len]
                if code - count < first { return h.symbol[index + (code - first)] }
                index += count
                first += count
                first <<= 1
                code <<= 1
            }
            throw Failure.corrupt("invalid Huffman code")
        }

        mutating func codes(_ out: inout [UInt8], limit: Int, lit: Huffman, dist: Huffman) throws {
            while true {
                let sym = try decode(lit)
                if sym < 256 {
                    guard out.count < limit else { throw Failure.overLimit(limit) }
                    out.append(UInt8(sym))
                } else if sym == 256 {
                    return
                } else {
                    let li = sym - 257
                    guard li < 29 else { throw Failure.corrupt("invalid length symbol") }
                    let len = lengthBase[li] + (try bits(lengthExtra[li]))
                    let di = try decode(dist)
                    guard di < 30 else { throw Failure.corrupt("invalid distance symbol") }
                    let d = distBase[di] + (try bits(distExtra[di]))
                    guard d <= out.count else { throw Failure.corrupt("distance too far back") }
                    guard out.count + len <= limit else { throw Failure.overLimit(limit) }
                    // Byte by byte: a slice of `out` appended to `out` would copy the whole buffer
                    // (the slice keeps it shared), and overlapping copies (d < len) need it anyway.
                    let from = out.count - d
                    for k in 0..<len { out.append(out[from + k]) }
                }
            }
        }

        static let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

        mutating func dynamicTables() throws -> (Huffman, Huffman) {
            let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
            guard nlen <= 286, ndist <= 30 else { throw Failure.corrupt("bad code counts") }
            var lengths = [Int](repeating: 0, count: 320)
            for i in 0..<ncode { lengths[State.order[i]] = try bits(3) }
            let lencode = try Huffman(lengths: lengths[0..<19])
            var i = 0
            while i < nlen + ndist {
                var sym = try decode(lencode)
                if sym < 16 { lengths[i] = sym; i += 1; continue }
                var len = 0
                if sym == 16 {
                    guard i > 0 else { throw Failure.corrupt("repeat with no previous length") }
                    len = lengths[i - 1]
                    sym = 3 + (try bits(2))
                } else if sym == 17 { sym = 3 + (try bits(3)) } else { sym = 11 + (try bits(7)) }
                guard i + sym <= nlen + ndist else { throw Failure.corrupt("too many lengths") }
                for _ in 0..<sym { lengths[i] = len; i += 1 }
            }
            guard lengths[256] != 0 else { throw Failure.corrupt("no end-of-block code") }
            return (try Huffman(lengths: lengths[0..<nlen]), try Huffman(lengths: lengths[nlen..<(nlen + ndist)]))
        }
    }
}
