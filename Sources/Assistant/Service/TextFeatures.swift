import Foundation

/// A sparse, L2-normalised feature vector: (feature index, value), indices ascending.
public struct SparseVector: Sendable, Equatable {
    public var indices: [Int32]
    public var values: [Float]
    public init(indices: [Int32] = [], values: [Float] = []) { self.indices = indices; self.values = values }

    /// Cosine of two unit vectors (a merge over the sorted indices).
    public func dot(_ o: SparseVector) -> Float {
        var i = 0, j = 0, s: Float = 0
        while i < indices.count && j < o.indices.count {
            if indices[i] == o.indices[j] { s += values[i] * o.values[j]; i += 1; j += 1 }
            else if indices[i] < o.indices[j] { i += 1 } else { j += 1 }
        }
        return s
    }
}

/// Character and word n-grams weighted by TF-IDF: the features that let a linear model read
/// Chinese, which the English sentence encoder (all-MiniLM-L6-v2) barely separates.
///
/// - Han runs give character 1-, 2- and 3-grams: Chinese has no spaces, and a two- or
///   three-character gram is roughly a word ("年费", "营业时间").
/// - Latin words give the word, the pair of neighbouring words, and the character 3- to 5-grams
///   of the word with its boundaries ("<refund>" → "<re", "ref", … ), which carry inflections
///   and typos ("refunded", "refnd").
/// The vocabulary and the document frequencies come from the training utterances only.
public struct TextFeatures: Sendable {
    /// Feature name → column.
    let vocabulary: [String: Int32]
    /// Inverse document frequency per column (smoothed: ln((1 + n) / (1 + df)) + 1).
    let idf: [Float]
    public var count: Int { idf.count }

    public init(training texts: [String]) {
        var vocab: [String: Int32] = [:], df: [Int] = []
        for t in texts {
            for g in Self.grams(t).keys {
                if let i = vocab[g] { df[Int(i)] += 1 } else { vocab[g] = Int32(df.count); df.append(1) }
            }
        }
        let n = Float(texts.count)
        vocabulary = vocab
        idf = df.map { Foundation.log((1 + n) / (1 + Float($0))) + 1 }
    }

    /// The TF-IDF vector of `text` (sublinear term frequency, unit length); grams never seen in
    /// training are ignored.
    public func vector(_ text: String) -> SparseVector {
        var pairs: [(Int32, Float)] = []
        for (g, c) in Self.grams(text) {
            guard let i = vocabulary[g] else { continue }
            pairs.append((i, (1 + Foundation.log(Float(c))) * idf[Int(i)]))
        }
        pairs.sort { $0.0 < $1.0 }
        let norm = pairs.reduce(Float(0)) { $0 + $1.1 * $1.1 }.squareRoot()
        return SparseVector(indices: pairs.map(\.0), values: pairs.map { norm > 0 ? $0.1 / norm : 0 })
    }

    /// The n-grams of `text` with their counts.
    public static func grams(_ text: String) -> [String: Int] {
        var out: [String: Int] = [:]
        var han: [Character] = [], word = "", words: [String] = []
        func flushHan() {
            for n in 1...3 where han.count >= n {
                for i in 0...(han.count - n) { out[String(han[i..<(i + n)]), default: 0] += 1 }
            }
            han = []
        }
        func flushWord() {
            guard !word.isEmpty else { return }
            words.append(word)
            let padded = Array("<" + word + ">")
            for n in 3...5 where padded.count >= n && padded.count > n {
                for i in 0...(padded.count - n) { out["#" + String(padded[i..<(i + n)]), default: 0] += 1 }
            }
            word = ""
        }
        func flushWords() {
            for w in words { out["w " + w, default: 0] += 1 }
            for i in 0..<max(0, words.count - 1) { out["w " + words[i] + " " + words[i + 1], default: 0] += 1 }
            words = []
        }
        for ch in text.lowercased() {
            if ch.unicodeScalars.contains(where: TextAnalysis.isHan) {
                flushWord(); han.append(ch)
            } else if ch.isLetter || ch.isNumber {
                flushHan(); word.append(ch)
            } else {
                flushHan(); flushWord()
                // Punctuation ends a phrase: no word pair across it.
                if !ch.isWhitespace && ch != "'" && ch != "’" { flushWords() }
            }
        }
        flushHan(); flushWord(); flushWords()
        return out
    }
}
