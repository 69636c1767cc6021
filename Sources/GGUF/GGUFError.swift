import Foundation

/// Why a GGUF file could not be read or written.
///
/// Every reading case names the field and the byte offset where the problem was found, so a
/// corrupt download can be told apart from an unsupported model.
public enum GGUFError: Error, LocalizedError, Equatable {
    /// The file could not be opened or mapped.
    case cannotOpen(path: String, reason: String)
    /// The first four bytes are not "GGUF".
    case notGGUF(path: String, magic: [UInt8])
    /// A GGUF version this reader does not know (only 2 and 3 are supported).
    case unsupportedVersion(UInt32)
    /// The file ends before `field` (which starts at `offset` and needs `needed` bytes) is complete.
    case truncated(field: String, offset: Int, needed: Int, fileSize: Int)
    /// A count or length that cannot fit in the bytes left in the file.
    case countTooLarge(field: String, offset: Int, count: UInt64, limit: Int)
    /// A metadata value type tag that GGUF does not define.
    case invalidValueType(field: String, offset: Int, tag: UInt32)
    /// Arrays nested deeper than any real model uses (guards the reader's stack).
    case nestingTooDeep(field: String, offset: Int)
    /// The same metadata key appears twice.
    case duplicateKey(key: String, offset: Int)
    /// A metadata value has the wrong type for what it means (e.g. `general.alignment`).
    case invalidMetadata(key: String, offset: Int, reason: String)
    /// A tensor type number that ggml does not define (or this build does not know).
    case unknownTensorType(tensor: String, offset: Int, type: UInt32)
    /// A tensor's dimensions are impossible (too many, zero-size rows, overflow, partial blocks).
    case invalidTensorShape(tensor: String, offset: Int, reason: String)
    /// Two tensors share a name.
    case duplicateTensor(tensor: String, offset: Int)
    /// A tensor's data does not start where the layout says it must (aligned, after the previous one).
    case invalidTensorOffset(tensor: String, offset: Int, expected: Int, found: Int)
    /// A tensor's data runs past the end of the file.
    case tensorDataOutOfBounds(tensor: String, start: Int, byteCount: Int, fileSize: Int)
    /// The writer was given something GGUF cannot represent.
    case invalidForWriting(String)

    public var errorDescription: String? {
        let redownload = "the file is damaged or truncated — download it again or re-convert it"
        switch self {
        case .cannotOpen(let p, let r):
            return "cannot open GGUF file \(p): \(r) — check the path and permissions"
        case .notGGUF(let p, let m):
            let hex = m.map { String(format: "%02x", $0) }.joined(separator: " ")
            return "\(p) is not a GGUF file (first bytes \(hex), expected 47 47 55 46 \"GGUF\") — give the path of a .gguf model, converted with llama.cpp's convert_hf_to_gguf.py"
        case .unsupportedVersion(let v):
            return "GGUF version \(v) at offset 4 is not supported (only 2 and 3) — re-convert the model with a current llama.cpp"
        case .truncated(let f, let o, let n, let s):
            return "\(f) at offset \(o) needs \(n) bytes but the file has \(s) bytes — \(redownload)"
        case .countTooLarge(let f, let o, let c, let l):
            return "\(f) at offset \(o) is \(c), more than the \(l) that can fit in the rest of the file — \(redownload)"
        case .invalidValueType(let f, let o, let t):
            return "\(f) at offset \(o) has value type \(t), which GGUF does not define (0–12) — \(redownload)"
        case .nestingTooDeep(let f, let o):
            return "\(f) at offset \(o) nests arrays more than 16 deep — \(redownload)"
        case .duplicateKey(let k, let o):
            return "metadata key \"\(k)\" at offset \(o) appears twice — \(redownload)"
        case .invalidMetadata(let k, let o, let r):
            return "metadata \"\(k)\" at offset \(o): \(r) — re-convert the model"
        case .unknownTensorType(let t, let o, let ty):
            return "tensor \"\(t)\" (info at offset \(o)) has ggml type \(ty), which this build does not support — use a model quantized with a supported type (e.g. Q4_K_M, Q8_0, F16)"
        case .invalidTensorShape(let t, let o, let r):
            return "tensor \"\(t)\" (info at offset \(o)): \(r) — \(redownload)"
        case .duplicateTensor(let t, let o):
            return "tensor \"\(t)\" (info at offset \(o)) appears twice — \(redownload)"
        case .invalidTensorOffset(let t, let o, let e, let f):
            return "tensor \"\(t)\" (info at offset \(o)) has data offset \(f), expected \(e) — \(redownload)"
        case .tensorDataOutOfBounds(let t, let s, let n, let size):
            return "tensor \"\(t)\" data at offset \(s) of \(n) bytes runs past the end of the file (\(size) bytes) — \(redownload)"
        case .invalidForWriting(let r):
            return "cannot write GGUF: \(r)"
        }
    }
}
