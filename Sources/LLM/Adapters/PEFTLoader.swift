import Foundation
import GGUF

/// Reads a Hugging Face PEFT LoRA folder: `adapter_config.json` + `adapter_model.safetensors`
/// with tensors `base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight` (r × in) and
/// `...lora_B.weight` (out × r), mapped onto llama.cpp tensor names.
enum PEFTLoader {
    static func load(folder: String, name: String) throws -> LoRAAdapter {
        let dir = URL(fileURLWithPath: folder)
        let configURL = dir.appendingPathComponent("adapter_config.json")
        let weightsURL = dir.appendingPathComponent("adapter_model.safetensors")
        let fm = FileManager.default
        guard fm.fileExists(atPath: configURL.path) else {
            throw AdapterError.missingFile(path: configURL.path, hint: "a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors (PEFT's save_pretrained writes both)")
        }
        guard fm.fileExists(atPath: weightsURL.path) else {
            let hint = fm.fileExists(atPath: dir.appendingPathComponent("adapter_model.bin").path)
                ? "only adapter_model.bin (a pickle) is there; save the adapter with safe_serialization=True or convert it to safetensors"
                : "save the adapter with PEFT's save_pretrained, which writes adapter_model.safetensors"
            throw AdapterError.missingFile(path: weightsURL.path, hint: hint)
        }
        let config = try Config(path: configURL.path)
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: weightsURL.path) } catch {
            throw AdapterError.unrecognised(path: weightsURL.path, detail: error.localizedDescription)
        }
        var halves: [String: (a: SafeTensorInfo?, b: SafeTensorInfo?, layer: Int, projection: Projection, module: String)] = [:]
        for (tensorName, info) in file.tensors {
            let m = try parse(tensorName, adapter: name)
            let key = LoRANames.tensor(layer: m.layer, m.projection)
            var h = halves[key] ?? (nil, nil, m.layer, m.projection, m.module)
            if m.isA { h.a = info } else { h.b = info }
            halves[key] = h
        }
        var pairs: [LoRAPair] = []
        for (tensor, h) in halves {
            guard let a = h.a else { throw AdapterError.unpaired(adapter: name, tensor: h.module + ".lora_B", missing: h.module + ".lora_A") }
            guard let b = h.b else { throw AdapterError.unpaired(adapter: name, tensor: h.module + ".lora_A", missing: h.module + ".lora_B") }
            guard a.shape.count == 2, b.shape.count == 2 else {
                throw AdapterError.badRank(adapter: name, tensor: h.module, detail: "lora_A \(a.shape) and lora_B \(b.shape) must be 2-D")
            }
            let rank = a.shape[0]
            guard rank > 0 else { throw AdapterError.badRank(adapter: name, tensor: h.module, detail: "rank 0") }
            guard b.shape[1] == rank else {
                throw AdapterError.badRank(adapter: name, tensor: h.module, detail: "lora_A is \(a.shape) (r × in) but lora_B is \(b.shape) (out × r): the ranks differ")
            }
            let floats = { (n: String) throws -> [Float] in
                do { return try file.floats(n) } catch { throw AdapterError.unsupportedType(adapter: name, tensor: n, type: (error as? LocalizedError)?.errorDescription ?? "\(error)") }
            }
            pairs.append(LoRAPair(tensor: tensor, layer: h.layer, projection: h.projection, rank: rank, inDim: a.shape[1], outDim: b.shape[0],
                                  a: try floats(a.name), b: try floats(b.name), alpha: config.alpha(for: h.module)))
        }
        guard !pairs.isEmpty else { throw AdapterError.unrecognised(path: weightsURL.path, detail: "it holds no lora_A/lora_B tensors") }
        return LoRAAdapter(name: name, path: folder, format: .peft, alpha: config.alpha, rsLoRA: config.rsLoRA,
                           architecture: nil, baseModel: config.baseModel, huggingFaceRowOrder: true, pairs: pairs)
    }

    /// `base_model.model.model.layers.12.self_attn.q_proj.lora_A[.default].weight` → its parts.
    static func parse(_ tensor: String, adapter: String) throws -> (layer: Int, projection: Projection, module: String, isA: Bool) {
        let parts = tensor.split(separator: ".").map(String.init)
        guard let li = parts.firstIndex(of: "layers"), li + 4 < parts.count, let layer = Int(parts[li + 1]),
              parts.last == "weight" else {
            throw AdapterError.unknownTensor(adapter: adapter, tensor: tensor, hint: "Strata applies LoRA to the attention and MLP projections of each layer only (not embeddings, lm_head or modules_to_save)")
        }
        let module = parts[li + 3], which = parts[li + 4]
        guard which == "lora_A" || which == "lora_B" else {
            throw AdapterError.unknownTensor(adapter: adapter, tensor: tensor, hint: "expected lora_A or lora_B (DoRA magnitudes and other PEFT methods are not supported)")
        }
        guard let p = LoRANames.peft[module] else { throw AdapterError.unsupportedTarget(adapter: adapter, module: module) }
        return (layer, p, parts[...(li + 3)].joined(separator: "."), which == "lora_A")
    }

    /// The parts of `adapter_config.json` that change what the weights mean.
    struct Config {
        let rank: Int
        let alpha: Float
        let rsLoRA: Bool
        let baseModel: String?
        let alphaPattern: [String: Float]

        init(path: String) throws {
            let json: Any
            do { json = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw AdapterError.badConfig(path: path, detail: "not valid JSON (\(error.localizedDescription))")
            }
            guard let o = json as? [String: Any] else { throw AdapterError.badConfig(path: path, detail: "not a JSON object") }
            func bad(_ d: String) -> AdapterError { .badConfig(path: path, detail: d) }
            if let t = o["peft_type"] as? String, t.uppercased() != "LORA" { throw bad("peft_type is '\(t)'; only LORA adapters are supported") }
            guard let r = (o["r"] as? NSNumber)?.intValue else { throw bad("'r' (the rank) is missing or not a number") }
            guard r > 0 else { throw bad("'r' (the rank) is \(r); it must be at least 1") }
            guard let alpha = (o["lora_alpha"] as? NSNumber)?.floatValue, alpha.isFinite else { throw bad("'lora_alpha' is missing or not a number") }
            if (o["use_dora"] as? Bool) == true { throw bad("use_dora is true; DoRA adapters are not supported (train a plain LoRA)") }
            if (o["fan_in_fan_out"] as? Bool) == true {
                throw bad("fan_in_fan_out is true, which is for GPT-2 style Conv1D models — wrong base model? llama and qwen2 use Linear layers")
            }
            if let targets = o["target_modules"] as? [String] {
                for t in targets where LoRANames.peft[t] == nil {
                    let m = t.split(separator: ".").last.map(String.init) ?? t
                    if LoRANames.peft[m] == nil { throw AdapterError.unsupportedTarget(adapter: URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent, module: t) }
                }
            } else if o["target_modules"] != nil, !(o["target_modules"] is String), !(o["target_modules"] is NSNull) {
                throw bad("'target_modules' must be a list of module names or a regular expression string")
            }
            rank = r; self.alpha = alpha
            rsLoRA = (o["use_rslora"] as? Bool) ?? false
            baseModel = o["base_model_name_or_path"] as? String
            var pattern: [String: Float] = [:]
            for (k, v) in (o["alpha_pattern"] as? [String: Any]) ?? [:] {
                guard let f = (v as? NSNumber)?.floatValue else { throw bad("alpha_pattern['\(k)'] is not a number") }
                pattern[k] = f
            }
            alphaPattern = pattern
        }

        /// PEFT matches pattern keys against the end of the module's dotted name.
        func alpha(for module: String) -> Float? {
            alphaPattern.first { module == $0.key || module.hasSuffix("." + $0.key) }?.value
        }
    }
}
