import Foundation

/// The adapter folder (`adapters/` by default): `NAME.gguf` files (llama.cpp LoRA) and `NAME/`
/// folders (PEFT). Finds an adapter by name or path, lists and removes them.
public struct AdapterLibrary: Sendable {
    public let directory: URL

    public init(directory: String = "adapters") {
        self.directory = URL(fileURLWithPath: directory)
    }

    /// "NAME" or "NAME:SCALE" (the scale multiplies alpha/r; default 1). A path may contain ':'
    /// only when what follows the last one is not a number.
    public static func parseSpec(_ spec: String) throws -> (name: String, scale: Float) {
        let s = spec.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { throw AdapterError.badSpec("the adapter name is empty — give --adapter NAME or NAME:SCALE") }
        if let colon = s.lastIndex(of: ":") {
            let name = String(s[..<colon]), raw = String(s[s.index(after: colon)...])
            if let scale = Float(raw) {
                guard scale.isFinite else { throw AdapterError.badSpec("adapter scale '\(raw)' is not a finite number — use e.g. \(name):0.5") }
                guard !name.isEmpty else { throw AdapterError.badSpec("'\(s)' has a scale but no adapter name — use NAME:SCALE") }
                return (name, scale)
            }
            if raw.isEmpty { throw AdapterError.badSpec("'\(s)' ends with ':' but no scale — use NAME:SCALE, e.g. \(name):0.5") }
        }
        return (s, 1)
    }

    /// Where the adapter `nameOrPath` is: `adapters/NAME.gguf`, `adapters/NAME/`, or the path itself.
    public func locate(_ nameOrPath: String) throws -> String {
        let fm = FileManager.default
        var candidates: [String] = []
        if !nameOrPath.contains("/") {
            candidates += [directory.appendingPathComponent(nameOrPath + ".gguf").path,
                           directory.appendingPathComponent(nameOrPath).path]
        }
        candidates.append(nameOrPath)
        for c in candidates where fm.fileExists(atPath: c) { return c }
        throw AdapterError.notFound(name: nameOrPath, searched: candidates)
    }

    /// Loads the adapter `nameOrPath`, named by its file or folder name.
    public func load(_ nameOrPath: String) throws -> LoRAAdapter {
        let path = try locate(nameOrPath)
        let url = URL(fileURLWithPath: path)
        let name = url.pathExtension == "gguf" ? url.deletingPathExtension().lastPathComponent : url.lastPathComponent
        return try LoRAAdapter.load(path: path, name: name)
    }

    /// The adapters in the folder, by name: `*.gguf` files and folders holding `adapter_config.json`.
    public func names() -> [String] {
        let fm = FileManager.default
        guard let items = try? fm.contentsOfDirectory(atPath: directory.path) else { return [] }
        var out: [String] = []
        for item in items where !item.hasPrefix(".") {
            let url = directory.appendingPathComponent(item)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                if fm.fileExists(atPath: url.appendingPathComponent("adapter_config.json").path) { out.append(item) }
            } else if url.pathExtension == "gguf" {
                out.append(url.deletingPathExtension().lastPathComponent)
            }
        }
        return out.sorted()
    }

    /// Deletes the adapter `name` from the folder (never a path outside it); returns what was removed.
    @discardableResult
    public func remove(_ name: String) throws -> String {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw AdapterError.badSpec("'\(name)' is not an adapter name — 'adapt rm' only removes adapters from \(directory.path); see 'strata adapt list'")
        }
        let fm = FileManager.default
        let file = directory.appendingPathComponent(name + ".gguf"), folder = directory.appendingPathComponent(name)
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: file.path) {
            try fm.removeItem(at: file)
            return file.path
        }
        if fm.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue,
           fm.fileExists(atPath: folder.appendingPathComponent("adapter_config.json").path) {
            try fm.removeItem(at: folder)
            return folder.path
        }
        throw AdapterError.notFound(name: name, searched: [file.path, folder.path])
    }
}
