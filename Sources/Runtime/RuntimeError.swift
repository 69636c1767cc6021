import Foundation

/// An error the user can act on, raised while the runtime resolves settings or loads resources.
/// The CLI prints it as `strata COMMAND: message`; `usage` adds the hint to read `--help`.
public enum RuntimeError: Error, LocalizedError, Equatable {
    /// A value given on the command line is wrong (exit status 64).
    case usage(String)
    /// A file, model or database is missing or unusable (exit status 1).
    case failed(String)

    public var errorDescription: String? {
        switch self { case .usage(let m), .failed(let m): m }
    }
}
