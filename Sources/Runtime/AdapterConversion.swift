import Foundation
import LLM
import Tensor

/// What `Runtime.convertAdapter` wrote.
public struct ConvertedAdapter: Sendable {
    public let path: String
    public let tensorType: GGMLType
    public let bytes: Int
    public let parameters: Int
    /// The manifest written beside it, when the source had one.
    public let manifest: String?
}

extension Runtime {
    /// Rewrites an adapter as `ADAPTERS/NEW.gguf` in llama.cpp's LoRA layout: an F32 file as F16
    /// (half the size), an F16 one back as F32, or a PEFT folder as the one file llama.cpp and its
    /// server load. The source's manifest, when it has one, follows it as `NEW.json` with the new
    /// name and tensor type; the training record in it is kept.
    ///
    /// - Parameter baseModel: the base GGUF model, asked for only by a PEFT folder, whose Q/K rows
    ///   follow Hugging Face's order and are reordered with the model's head counts.
    public func convertAdapter(_ source: String, to newName: String, tensorType: GGMLType,
                               baseModel: () throws -> String) throws -> ConvertedAdapter {
        let lib = adapterLibrary
        let sourcePath = try lib.locate(source)
        let adapter = try lib.load(sourcePath)
        var architecture = adapter.architecture ?? "llama", heads = 0, kvHeads = 0
        if adapter.huggingFaceRowOrder {
            let engine = try engine(model: try baseModel(), context: 16, threads: 1)
            _ = try AdapterSet(model: engine.model, adapters: [(adapter, 1)])   // it fits, or the error names the tensor
            architecture = engine.file.architecture ?? architecture
            (heads, kvHeads) = (engine.config.headCount, engine.config.kvHeadCount)
        }
        try FileManager.default.createDirectory(at: lib.directory, withIntermediateDirectories: true)
        let out = lib.directory.appendingPathComponent(newName + ".gguf").path
        try adapter.ggufWriter(architecture: architecture, headCount: heads, kvHeadCount: kvHeads, tensorType: tensorType).write(to: out)
        var manifestPath: String?
        if var m = AdapterManifest.read(besideAdapterAt: sourcePath) {
            m.name = newName
            m.tensorType = AdapterManifest.name(of: tensorType)
            manifestPath = lib.directory.appendingPathComponent(newName + ".json").path
            try m.write(to: manifestPath!)
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        return ConvertedAdapter(path: out, tensorType: tensorType, bytes: bytes, parameters: adapter.parameterCount, manifest: manifestPath)
    }
}
