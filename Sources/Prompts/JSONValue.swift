// Module Prompts.
//
// L3 prompt packs: strict decoding of pack.json, a small template renderer, a library of packs.
import Foundation

/// A JSON value as written in a pack file, so decoding can tell a number from a string from a
/// boolean and name the exact key that holds the wrong one (Codable's errors name neither pack nor file).
public indirect enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// The word used in error messages ("expected a number, found a string").
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

/// Reads one JSON object key by key and remembers which keys were read, so `finish()` can reject
/// every key nobody asked for (a misspelt "max_tokens" must not silently fall back to a default).
struct StrictObject {
    let fields: [String: JSONValue]
    /// Where this object is, for errors: pack name, file, and the key path leading here.
    let pack: String
    let file: String
    let path: String
    private(set) var read: Set<String> = []

    init(_ value: JSONValue, pack: String, file: String, path: String) throws {
        guard case .object(let f) = value else {
            throw PackError.wrongType(pack: pack, file: file, key: path.isEmpty ? "(top level)" : path,
                                      expected: "an object", found: value.kind)
        }
        fields = f; self.pack = pack; self.file = file; self.path = path
    }

    private func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private mutating func raw(_ key: String, required: Bool) throws -> JSONValue? {
        read.insert(key)
        guard let v = fields[key], v != .null else {
            if required { throw PackError.missingKey(pack: pack, file: file, key: keyPath(key)) }
            return nil
        }
        return v
    }

    private func wrong(_ key: String, _ expected: String, _ v: JSONValue) -> PackError {
        .wrongType(pack: pack, file: file, key: keyPath(key), expected: expected, found: v.kind)
    }

    mutating func string(_ key: String) throws -> String {
        try optionalString(key, required: true)!
    }
    mutating func optionalString(_ key: String, required: Bool = false) throws -> String? {
        guard let v = try raw(key, required: required) else { return nil }
        guard case .string(let s) = v else { throw wrong(key, "a string", v) }
        return s
    }
    mutating func optionalDouble(_ key: String) throws -> Double? {
        guard let v = try raw(key, required: false) else { return nil }
        guard case .number(let d) = v else { throw wrong(key, "a number", v) }
        return d
    }
    mutating func optionalInt(_ key: String) throws -> Int? {
        guard let v = try raw(key, required: false) else { return nil }
        guard case .number(let d) = v, d == d.rounded(), abs(d) < 1e15 else { throw wrong(key, "a whole number", v) }
        return Int(d)
    }
    mutating func optionalBool(_ key: String) throws -> Bool? {
        guard let v = try raw(key, required: false) else { return nil }
        guard case .bool(let b) = v else { throw wrong(key, "true or false", v) }
        return b
    }
    mutating func stringList(_ key: String, required: Bool = false) throws -> [String]? {
        guard let v = try raw(key, required: required) else { return nil }
        guard case .array(let items) = v else { throw wrong(key, "a list of strings", v) }
        return try items.enumerated().map { i, item in
            guard case .string(let s) = item else { throw wrong("\(key)[\(i)]", "a string", item) }
            return s
        }
    }
    mutating func stringMap(_ key: String, required: Bool = false) throws -> [String: String]? {
        guard let v = try raw(key, required: required) else { return nil }
        guard case .object(let o) = v else { throw wrong(key, "an object of strings", v) }
        var out: [String: String] = [:]
        for (k, item) in o {
            guard case .string(let s) = item else { throw wrong("\(key).\(k)", "a string", item) }
            out[k] = s
        }
        return out
    }
    mutating func object(_ key: String, required: Bool = false) throws -> StrictObject? {
        guard let v = try raw(key, required: required) else { return nil }
        return try StrictObject(v, pack: pack, file: file, path: keyPath(key))
    }

    /// Fails on the first key (in sorted order, so the message is stable) that was never read.
    func finish() throws {
        if let unknown = fields.keys.sorted().first(where: { !read.contains($0) }) {
            throw PackError.unknownKey(pack: pack, file: file, key: keyPath(unknown),
                                       known: read.sorted())
        }
    }
}
