import Foundation

/// One candidate next token.
public struct TokenCandidate: Sendable, Equatable {
    public var id: Int32
    public var logit: Float
    /// Probability after the last `softmax()`; meaningless before.
    public var p: Float
}

/// The candidate list samplers narrow down, llama.cpp's `llama_token_data_array`.
///
/// Buffers are sized once for the vocabulary and reused for every token: nothing in the decode
/// loop allocates. `sorted` means `items[0..<count]` is in descending logit order (ties by id).
public struct TokenCandidates: Sendable {
    /// Candidates; only `items[0..<count]` are live. Samplers may rewrite them in place but must
    /// not change the array's length (it is the reused buffer).
    public var items: [TokenCandidate] = []
    private var scratch: [TokenCandidate] = []
    public var count = 0
    public var sorted = false
    /// Index into `items` of the chosen token, set by a selecting sampler (greedy, distribution).
    public var selected: Int?

    public init(capacity: Int = 0) { reserve(capacity) }

    private mutating func reserve(_ n: Int) {
        guard items.count < n else { return }
        items = Array(repeating: TokenCandidate(id: 0, logit: 0, p: 0), count: n)
        scratch = items
    }

    /// Starts a new step from raw logits (one per vocabulary id).
    public mutating func reset(logits: UnsafeBufferPointer<Float>) {
        reserve(logits.count)
        items.withUnsafeMutableBufferPointer { b in
            for i in 0..<logits.count { b[i] = TokenCandidate(id: Int32(i), logit: logits[i], p: 0) }
        }
        count = logits.count
        sorted = false
        selected = nil
    }

    public mutating func reset(logits: [Float]) {
        logits.withUnsafeBufferPointer { reset(logits: $0) }
    }

    /// The chosen token id, once a selecting sampler ran.
    public var selectedID: Int32? { selected.map { items[$0].id } }

    /// The live candidates.
    public var live: ArraySlice<TokenCandidate> { items[0..<count] }

    /// Sets `p` to the softmax of the logits of the live candidates.
    public mutating func softmax() {
        let n = count
        items.withUnsafeMutableBufferPointer { b in
            var maxLogit = -Float.infinity
            for i in 0..<n where b[i].logit > maxLogit { maxLogit = b[i].logit }
            var sum: Float = 0
            for i in 0..<n {
                let e = b[i].logit == -.infinity ? 0 : expf(b[i].logit - maxLogit)
                b[i].p = e; sum += e
            }
            let inv = sum > 0 ? 1 / sum : 0
            for i in 0..<n { b[i].p *= inv }
        }
    }

    /// Keeps the best candidates in descending order, taking them one by one from a heap until
    /// `stop(taken, candidateJustTaken)` says enough: O(n + k log n), no allocation.
    mutating func keepBest(stop: (Int, TokenCandidate) -> Bool) {
        let n = count
        guard n > 0 else { return }
        var taken = 0
        items.withUnsafeMutableBufferPointer { heap in
            scratch.withUnsafeMutableBufferPointer { out in
                @inline(__always) func better(_ a: TokenCandidate, _ b: TokenCandidate) -> Bool {
                    a.logit > b.logit || (a.logit == b.logit && a.id < b.id)
                }
                @inline(__always) func siftDown(_ start: Int, _ size: Int) {
                    var i = start
                    while true {
                        let l = 2 * i + 1, r = l + 1
                        var m = i
                        if l < size && better(heap[l], heap[m]) { m = l }
                        if r < size && better(heap[r], heap[m]) { m = r }
                        if m == i { return }
                        heap.swapAt(i, m); i = m
                    }
                }
                for i in stride(from: n / 2 - 1, through: 0, by: -1) { siftDown(i, n) }
                var size = n
                while size > 0 {
                    let top = heap[0]
                    out[taken] = top; taken += 1
                    if stop(taken, top) { break }
                    size -= 1
                    heap[0] = heap[size]
                    siftDown(0, size)
                }
            }
        }
        swap(&items, &scratch)
        count = taken
        sorted = true
    }
}

/// One step of a sampling chain, as llama.cpp's `llama_sampler_i`: narrows or rescales the
/// candidates, or selects one; `accept` lets stateful samplers (penalties) see the chosen token.
public protocol Sampler: Sendable {
    var name: String { get }
    mutating func apply(_ candidates: inout TokenCandidates)
    mutating func accept(_ token: Int32)
    mutating func reset()
}

public extension Sampler {
    mutating func accept(_ token: Int32) {}
    mutating func reset() {}
}

/// Samplers applied in order; the last one must select (greedy or distribution).
public struct SamplerChain: Sendable {
    public private(set) var samplers: [any Sampler]
    private var candidates: TokenCandidates

    public init(_ samplers: [any Sampler], vocabularySize: Int = 0) {
        self.samplers = samplers
        self.candidates = TokenCandidates(capacity: vocabularySize)
    }

    /// The next token for `logits`; every sampler then sees it through `accept`.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        candidates.reset(logits: logits)
        for i in samplers.indices { samplers[i].apply(&candidates) }
        if candidates.selected == nil { var g = GreedySampler(); g.apply(&candidates) }  // a chain without a selector
        let token = candidates.selectedID ?? 0
        accept(token)
        return token
    }

    public mutating func sample(_ logits: [Float]) -> Int32 {
        logits.withUnsafeBufferPointer { sample($0) }
    }

    /// Tells stateful samplers about a token chosen elsewhere (e.g. the prompt, for penalties).
    public mutating func accept(_ token: Int32) {
        for i in samplers.indices { samplers[i].accept(token) }
    }

    public mutating func reset() {
        for i in samplers.indices { samplers[i].reset() }
    }

    public var description: String { samplers.map(\.name).joined(separator: " -> ") }
}

/// Why a sampling setting was refused.
public enum SamplingError: Error, LocalizedError, Equatable {
    /// A parameter outside its range (or NaN).
    case invalid(parameter: String, value: String, expected: String)

    public var errorDescription: String? {
        switch self {
        case .invalid(let p, let v, let e): "invalid sampling setting \(p) = \(v): expected \(e)"
        }
    }
}
