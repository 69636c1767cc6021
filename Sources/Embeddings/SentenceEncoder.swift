import Foundation
import GGUF
import Tensor
import Tokenizers

/// A sentence-transformers BERT encoder (e.g. all-MiniLM-L6-v2): texts in, unit vectors out.
///
/// Loads a sentence-transformers folder: `config.json`, `model.safetensors` (F32, F16 or BF16,
/// converted to F32 at load), `tokenizer.json` (WordPiece), `1_Pooling/config.json` (mean or
/// CLS) and the optional `sentence_bert_config.json` (max_seq_length).
///
/// Input handling: each text is tokenised whole; pieces beyond `maxSequenceLength - 2` are
/// dropped (the vector describes the start of a long text, as in sentence-transformers). An
/// empty or whitespace-only text encodes as `[CLS][SEP]`, as the reference does.
///
/// Thread safety: `embed` may be called from several threads; calls are serialised by a lock
/// because the activation buffers are shared (BLAS already uses both cores within a call).
public final class SentenceEncoder: @unchecked Sendable {
    /// Folder name and a content hash of model.safetensors, e.g. "all-MiniLM-L6-v2@1f0c9a2b".
    /// Recorded with stored vectors so an index built by one model is never queried with another.
    public let modelID: String
    /// Length of the output vectors (the hidden size).
    public var dimension: Int { config.hiddenSize }
    public let config: BertConfig
    public let tokenizer: WordPieceTokenizer
    /// Sequences per forward batch. Batches are formed after sorting by length.
    public var batchSize = 32

    private let model: BertModel
    private let scratch = Scratch()
    private let lock = NSLock()

    /// Loads the model folder at `directory`. Throws `EmbeddingsError` or `SafeTensorsError`
    /// naming the file and the problem.
    public init(directory: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw EmbeddingsError.missingFile(path: directory)
        }
        config = try BertConfig.load(directory: directory)
        let tokPath = directory + "/tokenizer.json"
        guard FileManager.default.fileExists(atPath: tokPath) else { throw EmbeddingsError.missingFile(path: tokPath) }
        do { tokenizer = try WordPieceTokenizer(path: tokPath) } catch {
            throw EmbeddingsError.tokenizer(path: tokPath, detail: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw EmbeddingsError.tokenizer(path: tokPath, detail: "vocabulary of \(tokenizer.vocabularySize) entries exceeds vocab_size \(config.vocabSize) of config.json — tokenizer and model do not belong together")
        }
        let stPath = directory + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: stPath) else { throw EmbeddingsError.missingFile(path: stPath) }
        let st = try SafeTensorsFile(path: stPath)
        model = try BertModel(config: config, file: st)
        let name = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        modelID = name + "@" + String(String(st.contentHash(), radix: 16).suffix(8))
    }

    /// The token ids the encoder sees for `text` ([CLS] … [SEP], truncated).
    public func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(text, maxLength: config.maxSequenceLength)
    }

    /// One L2-normalised vector per text, in input order.
    public func embed(_ texts: [String]) throws -> [[Float]] {
        let flat = try embedFlat(texts)
        let d = dimension
        return (0..<texts.count).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
    }

    /// The vectors as one row-major (texts × dimension) buffer: no per-vector allocation.
    public func embedFlat(_ texts: [String]) throws -> [Float] {
        let d = dimension
        return [Float](unsafeUninitializedCapacity: texts.count * d) { buf, count in
            embed(texts, into: buf.baseAddress!)
            count = texts.count * d
        }
    }

    /// Writes texts.count × dimension floats to `out`, row i for text i.
    ///
    /// Texts are sorted by token count and cut into batches of `batchSize`, so each batch holds
    /// sequences of similar length (less attention work on the long ones, better cache use).
    public func embed(_ texts: [String], into out: UnsafeMutablePointer<Float>) {
        guard !texts.isEmpty else { return }
        let ids = texts.map(tokenize)
        let order = ids.indices.sorted { ids[$0].count < ids[$1].count }
        let d = dimension
        lock.lock(); defer { lock.unlock() }
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: max(1, batchSize) * d)
        defer { tmp.deallocate() }
        var i = 0
        while i < order.count {
            let batch = Array(order[i..<min(order.count, i + max(1, batchSize))])
            model.encode(batch.map { ids[$0] }, scratch: scratch, out: tmp)
            for (k, idx) in batch.enumerated() { (out + idx * d).update(from: tmp + k * d, count: d) }
            i += batch.count
        }
    }
}
