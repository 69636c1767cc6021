import Foundation
import Synchronization

private let presses = Atomic<Int>(0)
private let secondPressExits = Atomic<Bool>(false)

/// Ctrl-C, one way for every command: the handler only counts presses; the long-running loop
/// (generation, a report's sections, ingestion, training) polls `requested` at a point where it
/// can stop cleanly and says what it kept.
public enum Interruption {
    /// Installs the handler until `end()`. With `secondPressExits`, a second Ctrl-C quits at once
    /// (exit status 130) for work whose clean stop may take long: SQLite rolls back an open
    /// transaction on the next open.
    public static func begin(secondPressExits exits: Bool = false) {
        presses.store(0, ordering: .relaxed)
        secondPressExits.store(exits, ordering: .relaxed)
        signal(SIGINT) { _ in
            let n = presses.wrappingAdd(1, ordering: .relaxed).newValue
            if n > 1 && secondPressExits.load(ordering: .relaxed) { _exit(130) }
        }
    }

    /// Whether Ctrl-C was pressed since `begin()` or the last `reset()`.
    public static var requested: Bool { presses.load(ordering: .relaxed) > 0 }

    /// Forgets earlier presses (a conversation: Ctrl-C cancels one answer, not the next).
    public static func reset() { presses.store(0, ordering: .relaxed) }

    /// Restores the default: Ctrl-C ends the process.
    public static func end() { signal(SIGINT, SIG_DFL) }
}
