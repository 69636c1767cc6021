import Foundation

/// A dataset or records file that cannot be used, with what to do about it.
package enum EvaluationError: Error, LocalizedError, Equatable {
    /// The message names the file (and line) and the fix.
    case failed(String)

    package var errorDescription: String? {
        switch self { case .failed(let m): m }
    }
}
