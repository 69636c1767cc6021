import Foundation
import GGUF
import Tensor

/// The engine's view of a GGUF model file: the parsed `GGUFFile` plus a name → tensor table
/// whose data pointers point into the memory mapping (weights are never copied).
public final class ModelFile: @unchecked Sendable {
    /// One tensor: `shape[0]` is the innermost (contiguous) dimension, as in ggml.
    public struct Tensor: @unchecked Sendable {
        public let name: String
        public let shape: [Int]
        public let type: GGMLType
        public let byteCount: Int
        public let data: UnsafeRawPointer
        public var elementCount: Int { shape.reduce(1, *) }
    }

    public let gguf: GGUFFile
    public var path: String { gguf.path }
    public let tensors: [String: Tensor]

    public init(path: String) throws {
        gguf = try GGUFFile(path: path)
        var table: [String: Tensor] = [:]
        for info in gguf.tensors {
            table[info.name] = Tensor(name: info.name, shape: info.shape, type: info.type,
                                      byteCount: info.byteCount, data: gguf.data(for: info))
        }
        tensors = table
    }

    /// `general.architecture`, e.g. "llama" or "qwen2".
    public var architecture: String? { gguf.architecture }
    public func string(_ key: String) -> String? { gguf.string(key) }
    public func int(_ key: String) -> Int? { gguf.int(key) }
    public func float(_ key: String) -> Double? { gguf.metadata[key]?.double }
    public func arrayCount(_ key: String) -> Int? { gguf.metadata[key]?.array?.count }
}
