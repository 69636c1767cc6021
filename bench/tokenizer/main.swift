// bench-tokenizer: GGUF open time, tokenizer build time and BPE encode/decode throughput on
// English (GPL-3) and Chinese (fortunes) text, against the targets in thresholds.json.
// Run: swift run -c release bench-tokenizer   (from the project root; the machine is shared,
// so each figure is the best of 3 runs).
import Foundation
import GGUF
import LLM
import Tokenizers
import BenchSupport

checkArguments("bench-tokenizer", usage: "usage: bench-tokenizer   (no options)")

func best<T>(_ runs: Int = 3, _ body: () throws -> T) rethrows -> (T, Double) {
    var fastest = Double.infinity
    var result: T?
    for _ in 0..<runs {
        let t0 = DispatchTime.now().uptimeNanoseconds
        result = try body()
        fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return (result!, fastest)
}

func load(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

let thresholds = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "bench/tokenizer/thresholds.json")))) as? [String: Any] ?? [:]
let minMBs = thresholds["encode_mb_per_s_min"] as? Double ?? 2
let maxOpen = thresholds["gguf_open_ms_max"] as? Double ?? 500
let maxBuild = thresholds["tokenizer_build_ms_max"] as? Double ?? 1000

guard let en = load("../shared/reference/llama.cpp/gpl3.txt"), let zh = load("../shared/reference/llama.cpp/zh_fortunes_excerpt.txt") else {
    FileHandle.standardError.write(Data("bench-tokenizer: ../shared/reference/llama.cpp/{gpl3,zh_fortunes_excerpt}.txt not found — run from the project root\n".utf8))
    exit(1)
}
var text = ""
while text.utf8.count < 1_000_000 { text += en + zh }
let mb = Double(text.utf8.count) / 1e6

print("figure                                   ours        target      ratio")
func row(_ name: String, _ ours: Double, _ target: Double, _ unit: String, higherIsBetter: Bool) {
    let ratio = higherIsBetter ? ours / target : target / ours
    let label = name.padding(toLength: 36, withPad: " ", startingAt: 0)
    print(label + String(format: " %8.2f %@ %8.2f %@ %8.2fx %@", ours, unit, target, unit, ratio, ratio >= 1 ? "ok" : "BELOW TARGET"))
}

for path in ["models/SmolLM2-135M-Instruct.Q4_1.gguf", "models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"] {
    guard FileManager.default.fileExists(atPath: path) else { print("(\(path) absent, skipped)"); continue }
    let name = (path as NSString).lastPathComponent
    print("\n\(name)")
    do {
        let (file, open) = try best { try GGUFFile(path: path) }
        row("GGUF open (header+metadata)", open * 1000, maxOpen, "ms", higherIsBetter: false)
        let (tok, build) = try best { try BPETokenizer(gguf: file) }
        row("tokenizer build", build * 1000, maxBuild, "ms", higherIsBetter: false)
        let (ids, enc) = best { tok.encode(text, addSpecial: false) }
        row(String(format: "encode %.2f MB en+zh", mb), mb / enc, minMBs, "MB/s", higherIsBetter: true)
        let (decoded, dec) = best { tok.decode(ids) }
        row("decode", mb / dec, minMBs, "MB/s", higherIsBetter: true)
        print(String(format: "  %d tokens, %.2f bytes/token, round trip %@", ids.count, Double(text.utf8.count) / Double(ids.count),
                     decoded == text ? "exact" : "DIFFERS"))
    } catch {
        print("  error: \(error.localizedDescription)")
    }
}
