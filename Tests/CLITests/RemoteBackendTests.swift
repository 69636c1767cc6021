import Foundation
import XCTest

/// Every generating command run against a real OpenAI-compatible server (llama-cpp-python
/// serving the SmolLM2 GGUF the set-up fetches), and the failures a deployment meets: a server
/// killed mid-answer, a wrong key, an unknown model, a server too slow, a busy one.
///
/// One llama-cpp-python server is shared by the class (it takes a few seconds to load); it
/// requires an API key, so every call here also checks that the key is sent, and serves the base
/// model and a LoRA adapter under two names, as vLLM's --lora-modules does.
final class RemoteBackendTests: XCTestCase {
    static let smol = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let key = "test-key-\(UUID().uuidString.prefix(8))"
    nonisolated(unsafe) static var shared: ModelServer?
    nonisolated(unsafe) static var dir: URL?

    /// The shared server, started on first use.
    func server() throws -> ModelServer {
        try StrataBinary.requireDefaultModels()
        if let s = Self.shared, s.process.isRunning { return s }
        let dir = try Self.folder()
        // The adapter: the same hand-written LoRA AdaptTests uses (rank 2 on ffn_down of layers
        // 0–5), strong enough to change a greedy continuation.
        let adapter = dir.appendingPathComponent("adapters/legal.gguf")
        try FileManager.default.createDirectory(at: adapter.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AdaptTests.gguf(pairs: (0..<6).map { ("blk.\($0).ffn_down.weight", 1536, 576) }, rank: 2, alpha: 2, bValue: 0.5).write(to: adapter)
        let model = StrataBinary.root.appendingPathComponent(Self.smol).path
        let base: [String: Any] = ["model": model, "n_ctx": 4096, "n_threads": 2, "verbose": false]
        var lora = base
        lora["model_alias"] = "legal"; lora["lora_path"] = adapter.path
        var plain = base
        plain["model_alias"] = "smollm2"
        let s = try ModelServer.llama(models: [plain, lora], apiKey: Self.key, dir: dir)
        Self.shared = s
        return s
    }

    static func folder() throws -> URL {
        if let d = dir { return d }
        let d = try StrataBinary.temporaryFolder("strata-remote")
        dir = d
        return d
    }

    override class func tearDown() {
        shared?.stop()
        if let dir { try? FileManager.default.removeItem(at: dir) }
        super.tearDown()
    }

    /// The environment a remote run gets: the key from the environment only, and no local model.
    func remoteEnv(_ s: ModelServer, model: String = "smollm2", extra: [String: String] = [:]) -> [String: String] {
        ["STRATA_LLM_URL": s.url, "STRATA_LLM_MODEL": model, "STRATA_LLM_API_KEY": Self.key].merging(extra) { $1 }
    }
    let unset = ["STRATA_MODEL", "STRATA_LLM_URL", "STRATA_LLM_MODEL", "STRATA_LLM_API_KEY", "STRATA_EMBEDDER_URL"]

    /// A knowledge database of the FAQ and policies, with the business tables. No vectors: encoding
    /// them takes minutes on a busy 2-core machine and retrieval is not what these tests are about.
    func database() throws -> String {
        let db = try Self.folder().appendingPathComponent("kb-\(UUID().uuidString.prefix(6)).db").path
        let ingest = try StrataBinary.run(["--db", db, "ingest", "Knowledge/faq", "Knowledge/policies"], unsetEnv: unset)
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        for csv in try FileManager.default.contentsOfDirectory(atPath: StrataBinary.root.appendingPathComponent("Knowledge/business").path).sorted()
        where csv.hasSuffix(".csv") {
            let r = try StrataBinary.run(["--db", db, "data", "import", "Knowledge/business/" + csv], unsetEnv: unset)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        return db
    }

    func lastAudit(_ db: String) throws -> [String: Any] {
        let log = try StrataBinary.run(["--db", db, "log", "--json", "--last", "1"], unsetEnv: unset)
        XCTAssertEqual(log.status, 0, log.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [String: Any], log.stdout)
    }

    // MARK: - the commands

    func testAnsweringCommandsRunThroughTheServer() throws {
        let s = try server()
        let db = try database()
        let env = remoteEnv(s)

        let ask = try StrataBinary.run(["--db", db, "ask", "--json", "How long does a card refund take?"], env: env, unsetEnv: unset)
        XCTAssertEqual(ask.status, 0, ask.stderr)
        let answer = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(ask.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(answer["model"] as? String, "smollm2")
        // The audit row names the backend and the served model and counts the tokens; never the key.
        let row = try lastAudit(db)
        XCTAssertEqual(row["backend"] as? String, s.url)
        XCTAssertEqual(row["modelID"] as? String, "smollm2")
        // llama-cpp-python reports no usage while streaming: the prompt count is then absent.
        if let prompt = row["promptTokens"] as? Int { XCTAssertGreaterThan(prompt, 100, "\(row)") }
        XCTAssertGreaterThan(row["completionTokens"] as? Int ?? 0, 0, "\(row)")
        XCTAssertNil(row["failure"])
        let dump = try StrataBinary.run(["--db", db, "log", "--json", "--last", "50"], unsetEnv: unset)
        XCTAssertFalse(dump.stdout.contains(Self.key), "the API key must never reach the audit log")

        // A host that answers through a server needs no model file: from a folder without models/.
        let bare = try Self.folder().appendingPathComponent("no-models-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
        let remoteOnly = try StrataBinary.run(["--db", db, "ask", "How long does a card refund take?"], cwd: bare, env: env, unsetEnv: unset)
        XCTAssertEqual(remoteOnly.status, 0, remoteOnly.stderr)
        XCTAssertFalse(remoteOnly.stderr.contains("answering model"), remoteOnly.stderr)

        let chat = try StrataBinary.run(["--db", db, "chat"], stdin: "How long does a card refund take?\n", env: env, unsetEnv: unset)
        XCTAssertEqual(chat.status, 0, chat.stderr)
        XCTAssertFalse(chat.stdout.isEmpty)

        let support = try StrataBinary.run(["--db", db, "support", "--today", "2026-11-23"], stdin: "信用卡年费多少？\n", env: env, unsetEnv: unset)
        XCTAssertEqual(support.status, 0, support.stderr)
        XCTAssertFalse(support.stdout.isEmpty)

        let report = try StrataBinary.run(["--db", db, "report", "card fees and refunds", "--lang", "en", "--sections", "1",
                                           "--passages", "2", "--max-tokens", "48"], env: env, unsetEnv: unset)
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertEqual(try lastAudit(db)["backend"] as? String, s.url)

        let kb = try StrataBinary.run(["--db", db, "eval", "kb", "--questions", "bench/kbqa/dev.jsonl", "--limit", "4", "--parallel", "2"],
                                      env: env, unsetEnv: unset)
        XCTAssertEqual(kb.status, 0, kb.stderr)
        XCTAssertTrue(kb.stdout.contains("throughput:") && kb.stdout.contains("2 at once"), kb.stdout)
        XCTAssertTrue(kb.stdout.contains("model smollm2"), kb.stdout)

        // eval qa answers with the server too (without one configured it takes the extractive baseline).
        let beir = try Self.folder().appendingPathComponent("beir-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: beir, withIntermediateDirectories: true)
        try """
        {"_id": "p1", "title": "Card refunds", "text": "Card refunds are paid back to the card within 5 working days."}
        """.write(to: beir.appendingPathComponent("corpus.jsonl"), atomically: true, encoding: .utf8)
        try """
        {"_id": "q1", "text": "How long do card refunds take?", "answerable": true, "answers": ["within 5 working days"], "context_id": "p1"}
        """.write(to: beir.appendingPathComponent("queries.jsonl"), atomically: true, encoding: .utf8)
        let qa = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--json"], env: env, unsetEnv: unset)
        XCTAssertEqual(qa.status, 0, qa.stderr)
        let figures = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(qa.stdout.utf8)) as? [String: Any], qa.stdout)
        XCTAssertEqual(figures["model"] as? String, "smollm2", qa.stdout)
    }

    /// Greedy decoding through the server reproduces the in-process engine. The bound: llama.cpp's
    /// reference run (../shared/reference, made with the llama.cpp this venv's llama-cpp-python
    /// vendors) marks for each prompt the "robust prefix" — the tokens before the first step where
    /// the best two logits are within 0.5 or two llama.cpp numerics variants disagree. Past it a
    /// correct engine may pick the other near-tied token, so both outputs must start with the text
    /// of exactly those tokens (32 for the counting prompt, 12 for the chat prompt), as
    /// GreedyParityTests requires of the engine alone.
    func testGreedyOutputMatchesTheInProcessEngine() throws {
        let s = try server()
        let file = StrataBinary.root.appendingPathComponent("../shared/reference/llama.cpp/smollm2-135m-instruct-q4_1/greedy.json")
        guard let data = FileManager.default.contents(atPath: file.standardized.path) else {
            print("skipping: llama.cpp's reference outputs are not at \(file.standardized.path)")
            throw XCTSkip("reference outputs absent")
        }
        let results = try XCTUnwrap((JSONSerialization.jsonObject(with: data) as? [String: Any])?["results"] as? [[String: Any]])
        for id in ["raw_count", "chat_en_sys_prime"] {
            let r = try XCTUnwrap(results.first { $0["id"] as? String == id })
            let robust = try XCTUnwrap(r["robust_prefix_len"] as? Int)
            let pieces = try XCTUnwrap(r["piece_hex_per_token"] as? [String])
            let expected = String(decoding: pieces.prefix(robust).flatMap(Self.bytes), as: UTF8.self)
            var args = ["generate", "--temp", "0", "-n", String(robust + 4)]
            if let system = r["system"] as? String, let user = r["user"] as? String {
                args += ["--chat", "--system", system, user]
            } else {
                args.append(try XCTUnwrap(r["prompt"] as? String))
            }
            let local = try StrataBinary.run(args + ["--model", Self.smol], unsetEnv: unset)
            let remote = try StrataBinary.run(args, env: remoteEnv(s), unsetEnv: unset)
            XCTAssertEqual(local.status, 0, local.stderr)
            XCTAssertEqual(remote.status, 0, remote.stderr)
            XCTAssertTrue(local.stdout.hasPrefix(expected), "\(id): in-process \(local.stdout.debugDescription) does not start with \(expected.debugDescription)")
            XCTAssertTrue(remote.stdout.hasPrefix(expected), "\(id): server \(remote.stdout.debugDescription) does not start with \(expected.debugDescription)")
        }
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = [], chars = Array(hex)
        while chars.count >= 2 { out.append(UInt8(String(chars[0..<2]), radix: 16)!); chars.removeFirst(2) }
        return out
    }

    /// `--adapter legal` on a server asks for the model the adapter is served as, and the server
    /// applies it (the text is not the base model's).
    ///
    /// Not compared with the in-process engine's text: this hand-made adapter is deliberately
    /// strong (B = ±0.5), so SmolLM2 writes digit strings whose best tokens are near-tied, and the
    /// two engines' numerics (llama.cpp's 8-bit activations and F16 KV cache) part at the first
    /// token (measured: "10000000000" vs ".\n1. 2200000"). The adapter arithmetic itself is held to
    /// llama.cpp's by AdapterParityTests.
    func testAnAdapterIsServedAsAModel() throws {
        let s = try server()
        let prompt = ["generate", "--temp", "0", "-n", "12", "--chat", "--system", "You are a helpful assistant.", "What is a bond?"]
        let remote = try StrataBinary.run(prompt + ["--adapter", "legal"], env: remoteEnv(s), unsetEnv: unset)
        let base = try StrataBinary.run(prompt, env: remoteEnv(s), unsetEnv: unset)
        XCTAssertEqual(remote.status, 0, remote.stderr)
        XCTAssertEqual(base.status, 0, base.stderr)
        XCTAssertNotEqual(remote.stdout, base.stdout, "the adapter must change the served output")

        // A mapping names another served model; a scale cannot be honoured by a server.
        let mapped = try StrataBinary.run(prompt + ["--adapter", "finance"], env: remoteEnv(s, extra: ["STRATA_LLM_ADAPTERS": "finance=legal"]), unsetEnv: unset)
        XCTAssertEqual(mapped.stdout, remote.stdout, mapped.stderr)
        let scaled = try StrataBinary.run(prompt + ["--adapter", "legal:0.5"], env: remoteEnv(s), unsetEnv: unset)
        XCTAssertNotEqual(scaled.status, 0)
        XCTAssertTrue(scaled.stderr.contains("scale the server loaded it with"), scaled.stderr)

        // ask: the adapter goes in the audit row, the request to the adapter's model.
        let db = try database()
        let ask = try StrataBinary.run(["--db", db, "ask", "--adapter", "legal", "How long does a card refund take?"], env: remoteEnv(s), unsetEnv: unset)
        XCTAssertEqual(ask.status, 0, ask.stderr)
        XCTAssertEqual(try lastAudit(db)["adapter"] as? String, "legal")
    }

    // MARK: - failures

    /// A server killed while it streams: the command says the reply broke off and exits non-zero.
    func testServerKilledMidStream() throws {
        try StrataBinary.requireDefaultModels()
        let dir = try Self.folder()
        let own = try ModelServer.llama(models: [["model": StrataBinary.root.appendingPathComponent(Self.smol).path,
                                                  "model_alias": "smollm2", "n_ctx": 2048, "n_threads": 2]], dir: dir)
        defer { own.stop() }
        let run = try StrataBinary.start(["generate", "--chat", "--temp", "0", "-n", "1500", "--repeat-penalty", "1.3",
                                          "Write a very long story about a bank and its customers."],
                                         env: ["STRATA_LLM_URL": own.url, "STRATA_LLM_MODEL": "smollm2"], unsetEnv: unset)
        // The access log line is written when the streamed response starts.
        let deadline = Date().addingTimeInterval(60)
        while !own.logText().contains("/v1/chat/completions") && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.5)
        own.crash()
        let r = run.wait()
        XCTAssertNotEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stderr.contains("incomplete") && r.stderr.contains("broke off"), r.stderr)
    }

    /// ask against a reply that breaks off: no answer printed, an audit row that says why, non-zero.
    func testBrokenStreamIsRecordedNotAnswered() throws {
        try StrataBinary.requireDefaultModels()
        let db = try database()
        let stub = try ModelServer.stub("break", ["--pieces", "6"], dir: try Self.folder())
        defer { stub.stop() }
        let r = try StrataBinary.run(["--db", db, "ask", "How long does a card refund take?"],
                                     env: ["STRATA_LLM_URL": stub.url, "STRATA_LLM_MODEL": "stub"], unsetEnv: unset)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "", "half an answer must not be printed")
        XCTAssertTrue(r.stderr.contains("broke off after 6 pieces"), r.stderr)
        let row = try lastAudit(db)
        XCTAssertTrue((row["failure"] as? String ?? "").contains("broke off"), "\(row)")
        XCTAssertEqual(row["question"] as? String, "How long does a card refund take?")
        let text = try StrataBinary.run(["--db", db, "log", "--last", "1"], unsetEnv: unset)
        XCTAssertTrue(text.stdout.contains("FAILED: "), text.stdout)
    }

    func testWrongKeyUnknownModelSlowAndBusyServers() throws {
        let s = try server()
        let prompt = ["generate", "--chat", "-n", "4", "Hello"]
        let wrongKey = try StrataBinary.run(prompt, env: remoteEnv(s, extra: ["STRATA_LLM_API_KEY": "wrong"]), unsetEnv: unset)
        XCTAssertNotEqual(wrongKey.status, 0)
        XCTAssertTrue(wrongKey.stderr.contains("refused the API key") && wrongKey.stderr.contains("STRATA_LLM_API_KEY"), wrongKey.stderr)

        let unknown = try StrataBinary.run(prompt, env: remoteEnv(s, model: "no-such-model"), unsetEnv: unset)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("does not serve a model named 'no-such-model'"), unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("smollm2"), "the message lists what is served: \(unknown.stderr)")

        // No key on the command line: there is no option for it.
        let onLine = try StrataBinary.run(prompt + ["--llm-api-key", "x"], env: remoteEnv(s), unsetEnv: unset)
        XCTAssertEqual(onLine.status, 64, onLine.stderr)

        let dir = try Self.folder()
        let slow = try ModelServer.stub("slow", ["--sleep", "30"], dir: dir)
        defer { slow.stop() }
        let t0 = Date()
        let timedOut = try StrataBinary.run(prompt, env: ["STRATA_LLM_URL": slow.url, "STRATA_LLM_MODEL": "stub", "STRATA_LLM_TIMEOUT": "2"], unsetEnv: unset)
        XCTAssertNotEqual(timedOut.status, 0)
        XCTAssertTrue(timedOut.stderr.contains("sent nothing for 2 s"), timedOut.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 15, "the time-out must fire, not the server's 30 s sleep")

        let busy = try ModelServer.stub("busy", dir: dir)
        defer { busy.stop() }
        let refused = try StrataBinary.run(prompt, env: ["STRATA_LLM_URL": busy.url, "STRATA_LLM_MODEL": "stub", "STRATA_LLM_RETRIES": "1"], unsetEnv: unset)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("answered 503") && refused.stderr.contains("2 attempts"), refused.stderr)

        let nobody = try StrataBinary.run(prompt, env: ["STRATA_LLM_URL": "http://127.0.0.1:\(try ModelServer.freePort())/v1",
                                                        "STRATA_LLM_MODEL": "x", "STRATA_LLM_RETRIES": "0"], unsetEnv: unset)
        XCTAssertNotEqual(nobody.status, 0)
        XCTAssertTrue(nobody.stderr.contains("cannot reach the model server"), nobody.stderr)
    }

    // MARK: - embeddings

    /// Vectors from a served encoder are keyed by it; a second encoder is refused with the fix.
    func testRemoteEmbeddingsAndOneEncoderPerIndex() throws {
        try StrataBinary.requireDefaultModels()
        let dir = try Self.folder()
        let stub = try ModelServer.stub("ok", ["--model", "bank-encoder", "--dim", "48"], dir: dir)
        defer { stub.stop() }
        let db = dir.appendingPathComponent("emb-\(UUID().uuidString.prefix(6)).db").path
        let env = ["STRATA_EMBEDDER_URL": stub.url]
        // One file: re-encoding it with MiniLM below must stay quick.
        let ingest = try StrataBinary.run(["--db", db, "ingest", "--embed", "Knowledge/faq/credit-cards.en.md"], env: env, unsetEnv: unset)
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        let search = try StrataBinary.run(["--db", db, "search", "--mode", "dense", "card refund"], env: env, unsetEnv: unset)
        XCTAssertEqual(search.status, 0, search.stderr)
        XCTAssertTrue(search.stdout.contains("credit-cards"), search.stdout)

        // MiniLM into the same index: refused, naming reindex.
        let mixed = try StrataBinary.run(["--db", db, "ingest", "--embed", "Knowledge/policies"], unsetEnv: unset)
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssertTrue(mixed.stderr.contains("remote:bank-encoder") && mixed.stderr.contains("strata reindex --embeddings --replace"), mixed.stderr)
        let ask = try StrataBinary.run(["--db", db, "ask", "--no-audit", "--model", "extractive", "How long does a card refund take?"], unsetEnv: unset)
        XCTAssertNotEqual(ask.status, 0)
        XCTAssertTrue(ask.stderr.contains("reindex"), ask.stderr)

        // The fix: re-encode the whole index with MiniLM; then the served encoder is the stranger.
        let reindex = try StrataBinary.run(["--db", db, "reindex", "--embeddings", "--replace"], unsetEnv: unset)
        XCTAssertEqual(reindex.status, 0, reindex.stderr)
        let after = try StrataBinary.run(["--db", db, "ask", "--no-audit", "--model", "extractive", "How long does a card refund take?"], unsetEnv: unset)
        XCTAssertEqual(after.status, 0, after.stderr)
        let back = try StrataBinary.run(["--db", db, "reindex", "--embeddings"], env: env, unsetEnv: unset)
        XCTAssertNotEqual(back.status, 0)
        XCTAssertTrue(back.stderr.contains("reindex --embeddings --replace"), back.stderr)
        let check = try StrataBinary.run(["--db", db, "check"], unsetEnv: unset)
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
    }
}
