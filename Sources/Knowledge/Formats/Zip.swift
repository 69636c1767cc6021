/// What a ZIP archive (an Office file) may hold before we refuse it, checked before anything is
/// inflated and again while inflating (declared sizes can lie).
public struct ZipLimits: Sendable, Equatable {
    public var maxEntries = 10_000
    public var maxEntryBytes = 256 << 20
    public var maxTotalBytes = 1 << 30
    /// Uncompressed / compressed size above which an entry is a zip bomb (entries under 64 KB are
    /// exempt: a tiny run of blanks compresses far more than that and is harmless).
    public var maxRatio = 100
    public init() {}
}

/// A reader of ZIP archives as Office files use them: the central directory, stored and DEFLATE
/// entries, CRC-32 checked. No ZIP64, no encryption, no multi-disk (each refused with a message).
///
/// Why our own reader rather than `unzip -p`: limits must hold before and during inflation, which
/// a child process cannot promise for sizes it reports itself; and it needs no process per entry
/// (a DOCX read is 3-6 entries). Measured in README "Document formats".
struct ZipArchive {
    struct Entry { var name: String; var method: Int; var flags: Int; var crc: UInt32; var compressed: Int; var size: Int; var offset: Int }

    let bytes: [UInt8]
    let entries: [Entry]
    let limits: ZipLimits

    init(_ bytes: [UInt8], limits: ZipLimits = ZipLimits()) throws {
        self.bytes = bytes
        self.limits = limits
        let b = bytes
        func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        // The end-of-central-directory record sits in the last 22 + 65,535 bytes.
        var eocd = -1
        var i = b.count - 22
        while i >= max(0, b.count - 22 - 65_535) {
            if b[i] == 0x50 && b[i + 1] == 0x4B && b[i + 2] == 0x05 && b[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else {
            throw ExtractionError(message: "not a ZIP archive, or cut short (no end-of-archive record) — the file is truncated or not a real Office file; save it again from the application")
        }
        let count = u16(eocd + 10), cdSize = u32(eocd + 12), cdOffset = u32(eocd + 16)
        guard count != 0xFFFF, cdOffset != 0xFFFF_FFFF else {
            throw ExtractionError(message: "a ZIP64 archive (over 4 GB or 65,535 entries) — too large to ingest; split the document")
        }
        guard count <= limits.maxEntries else {
            throw ExtractionError(message: "the archive has \(count) entries, over the limit of \(limits.maxEntries) — not a normal Office file")
        }
        guard cdOffset + cdSize <= eocd else {
            throw ExtractionError(message: "the ZIP directory points past the end of the file — the file is truncated; save it again")
        }
        var list: [Entry] = []
        var total = 0
        var p = cdOffset
        for _ in 0..<count {
            guard p + 46 <= eocd, u32(p) == 0x0201_4B50 else {
                throw ExtractionError(message: "the ZIP directory is damaged — the file is truncated or corrupt; save it again")
            }
            let nameLen = u16(p + 28), extra = u16(p + 30), comment = u16(p + 32)
            guard p + 46 + nameLen <= eocd else { throw ExtractionError(message: "the ZIP directory is damaged — save the file again") }
            let e = Entry(name: String(decoding: b[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self), method: u16(p + 10), flags: u16(p + 8),
                          crc: UInt32(u32(p + 16)), compressed: u32(p + 20), size: u32(p + 24), offset: u32(p + 42))
            if e.size > limits.maxEntryBytes {
                throw ExtractionError(message: "entry \(e.name) would expand to \(IngestProblem.mb(e.size)), over the \(IngestProblem.mb(limits.maxEntryBytes)) per-entry limit — refused (possible zip bomb)")
            }
            if e.size >= 65_536 && Double(e.size) > Double(max(1, e.compressed)) * Double(limits.maxRatio) {
                throw ExtractionError(message: "entry \(e.name) expands \(e.size / max(1, e.compressed))x (\(IngestProblem.mb(e.compressed)) → \(IngestProblem.mb(e.size))), over the \(limits.maxRatio)x ratio limit — refused as a zip bomb")
            }
            total += e.size
            list.append(e)
            p += 46 + nameLen + extra + comment
        }
        guard total <= limits.maxTotalBytes else {
            throw ExtractionError(message: "the archive would expand to \(IngestProblem.mb(total)), over the \(IngestProblem.mb(limits.maxTotalBytes)) limit — refused (possible zip bomb)")
        }
        entries = list
    }

    func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The uncompressed bytes of `name`, nil when the archive has no such entry.
    func read(_ name: String) throws -> [UInt8]? {
        guard let e = entry(name) else { return nil }
        return try read(e)
    }

    func read(_ e: Entry) throws -> [UInt8] {
        let b = bytes
        func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        guard e.flags & 1 == 0 else {
            throw ExtractionError(message: "the document is encrypted (password-protected) — save an unprotected copy and ingest that")
        }
        guard e.offset + 30 <= b.count, u16(e.offset) == 0x4B50, u16(e.offset + 2) == 0x0403 else {
            throw ExtractionError(message: "entry \(e.name) is missing from the archive — the file is truncated or corrupt; save it again")
        }
        let start = e.offset + 30 + u16(e.offset + 26) + u16(e.offset + 28)
        guard start + e.compressed <= b.count else {
            throw ExtractionError(message: "entry \(e.name) is cut short — the file is truncated; save it again")
        }
        let data = Array(b[start..<(start + e.compressed)])
        let out: [UInt8]
        switch e.method {
        case 0: out = data
        case 8:
            do { out = try Inflate.inflate(data, limit: min(e.size, limits.maxEntryBytes), expected: e.size) } catch Inflate.Failure.overLimit {
                throw ExtractionError(message: "entry \(e.name) expands past its declared \(IngestProblem.mb(e.size)) — refused (corrupt or a zip bomb)")
            } catch Inflate.Failure.corrupt(let why) {
                throw ExtractionError(message: "entry \(e.name) is corrupt (\(why)) — the file is damaged; save it again")
            }
        default:
            throw ExtractionError(message: "entry \(e.name) uses compression method \(e.method), which is not supported — save the file again from Office")
        }
        guard out.count == e.size, CRC32.checksum(out) == e.crc else {
            throw ExtractionError(message: "entry \(e.name) fails its checksum — the file is damaged; save it again")
        }
        return out
    }
}

/// CRC-32 (IEEE, reflected), as ZIP stores it.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ b: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        b.withUnsafeBufferPointer { p in
            for x in p { c = table[Int((c ^ UInt32(x)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}
