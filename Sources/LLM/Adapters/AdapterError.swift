import Foundation

/// Why a LoRA adapter could not be found, read or applied, each with what to do about it.
public enum AdapterError: Error, LocalizedError, Equatable {
    /// No adapter of that name in the adapter folder, and no file or folder at that path.
    case notFound(name: String, searched: [String])
    /// The path exists but is neither a GGUF LoRA file nor a PEFT folder.
    case unrecognised(path: String, detail: String)
    /// A file the format requires is missing (e.g. a PEFT folder without its weights).
    case missingFile(path: String, hint: String)
    /// The GGUF file is not a LoRA adapter (`general.type` / `adapter.type`).
    case notAnAdapter(path: String, detail: String)
    /// `adapter_config.json` is unreadable or has a bad value.
    case badConfig(path: String, detail: String)
    /// A tensor name the loader cannot map onto a projection of the base model.
    case unknownTensor(adapter: String, tensor: String, hint: String)
    /// A PEFT target module Strata cannot adapt at run time.
    case unsupportedTarget(adapter: String, module: String)
    /// lora_a without lora_b or the reverse.
    case unpaired(adapter: String, tensor: String, missing: String)
    /// Rank 0, or A and B that disagree on the rank.
    case badRank(adapter: String, tensor: String, detail: String)
    /// A tensor type the loader cannot convert to float.
    case unsupportedType(adapter: String, tensor: String, type: String)
    /// The adapter names a tensor the base model does not have.
    case tensorNotInModel(adapter: String, tensor: String, model: String)
    /// The adapter's matrices do not fit the base tensor.
    case shapeMismatch(adapter: String, tensor: String, adapterShape: String, modelShape: String)
    /// The adapter was made for another architecture.
    case architectureMismatch(adapter: String, adapterArchitecture: String, modelArchitecture: String)
    /// A user scale or an adapter spec that does not parse.
    case badSpec(String)

    public var errorDescription: String? {
        switch self {
        case .notFound(let n, let s):
            "adapter '\(n)' not found (looked for \(s.joined(separator: ", "))) — run 'strata adapt list', or give a path to a .gguf file or a PEFT folder"
        case .unrecognised(let p, let d):
            "\(p) is not a LoRA adapter: \(d) — give a llama.cpp LoRA .gguf or a PEFT folder with adapter_config.json"
        case .missingFile(let p, let h): "\(p) is missing — \(h)"
        case .notAnAdapter(let p, let d):
            "\(p) is not a LoRA adapter GGUF (\(d)) — convert the adapter with llama.cpp's convert_lora_to_gguf.py; a base model cannot be used as an adapter"
        case .badConfig(let p, let d): "\(p): \(d) — fix adapter_config.json (it is written by PEFT's save_pretrained)"
        case .unknownTensor(let a, let t, let h): "adapter '\(a)': tensor \(t) does not name a projection Strata can adapt — \(h)"
        case .unsupportedTarget(let a, let m):
            "adapter '\(a)' targets module '\(m)', which Strata cannot adapt (supported: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj) — retrain with those target_modules"
        case .unpaired(let a, let t, let m): "adapter '\(a)': \(t) has no matching \(m) — the adapter file is incomplete; re-export it"
        case .badRank(let a, let t, let d): "adapter '\(a)': \(t): \(d) — the adapter file is corrupt or was exported wrongly; re-export it"
        case .unsupportedType(let a, let t, let ty):
            "adapter '\(a)': tensor \(t) is \(ty), which Strata cannot read — export the adapter as F32, F16, BF16 or Q8_0"
        case .tensorNotInModel(let a, let t, let m):
            "adapter '\(a)' updates \(t), which the model \(m) does not have — wrong base model? (an adapter only fits the model it was trained on)"
        case .shapeMismatch(let a, let t, let s, let m):
            "adapter '\(a)': \(t) has shape \(s) but the model's tensor is \(m) — wrong base model? (or lora_a/lora_b transposed by the exporter)"
        case .architectureMismatch(let a, let aa, let ma):
            "adapter '\(a)' was made for a '\(aa)' model but the model is '\(ma)' — wrong base model? use the model the adapter was trained on"
        case .badSpec(let m): m
        }
    }
}
