import Foundation
import Runtime

/// One `strata` subcommand. Each lives in its own file and is listed in `allCommands`.
protocol CLICommand: Sendable {
    /// The word after `strata` (for nested commands, e.g. "eval retrieval", the full phrase).
    static var name: String { get }
    /// One line for `strata --help`.
    static var summary: String { get }
    /// Usage line(s) and longer description for `strata NAME --help`.
    static var usage: String { get }
    static var options: [OptionSpec] { get }
    /// Runs the command; the return value is the process exit status.
    static func run(_ args: ParsedArguments) throws -> Int32
}

/// An error the user can act on: printed as `strata: message` with a hint, never a stack trace.
enum CLIError: Error, LocalizedError {
    case usage(String, command: String)
    case failed(String)

    var errorDescription: String? {
        switch self {
        case .usage(let m, let command): "\(m)\nrun 'strata \(command) --help' for usage"
        case .failed(let m): m
        }
    }
    var exitCode: Int32 {
        switch self { case .usage: 64; case .failed: 1 }
    }
}

/// Standard error, unbuffered, for progress and diagnostics.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
}
nonisolated(unsafe) var stderrStream = StandardError()

func printErr(_ s: String) { print(s, to: &stderrStream) }

/// "1 question", "2 questions": counts in messages read as English.
func counted(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }

enum StrataCLI {
    static func run(_ argv: [String]) -> Int32 {
        guard let first = argv.first, first != "--help", first != "-h", first != "help" else {
            print(topLevelHelp())
            return argv.isEmpty ? 64 : 0
        }
        if first == "--version" { print("strata 0.1.0"); return 0 }
        // Global options may come before the command: `strata --db x.db search ...`.
        var leading: [String] = []
        var rest = argv[...]
        while let a = rest.first, a.hasPrefix("--db") || a.hasPrefix("--config") {
            leading.append(a); rest = rest.dropFirst()
            if a == "--db" || a == "--config", let v = rest.first { leading.append(v); rest = rest.dropFirst() }
        }
        // Longest matching command phrase wins ("eval retrieval" before "eval").
        let words = Array(rest)
        var match: (any CLICommand.Type)?
        var used = 0
        for cmd in allCommands {
            let phrase = cmd.name.split(separator: " ").map(String.init)
            if phrase.count > used, words.count >= phrase.count, Array(words.prefix(phrase.count)) == phrase {
                match = cmd; used = phrase.count
            }
        }
        guard let cmd = match else {
            let word = words.first ?? ""
            let groups = allCommands.filter { $0.name.hasPrefix(word + " ") }
            if !groups.isEmpty {
                printErr("strata: '\(word)' needs a subcommand: " + groups.map { "'\($0.name)'" }.joined(separator: ", "))
            } else {
                printErr("strata: unknown command '\(word)'\nrun 'strata --help' to see the commands")
            }
            return 64
        }
        do {
            var parsed = try ArgumentParser.parse(leading + words.dropFirst(used), specs: cmd.options, command: cmd.name)
            if parsed.has("help") { print(help(for: cmd)); return 0 }
            if CPU.missingFeatures { 
                printErr("strata: this CPU lacks AVX2/FMA/F16C, which this build of Strata requires")
                return 1
            }
            // The settings, resolved once; the resources are loaded as the command asks for them.
            let runtime = Runtime(configuration: try RuntimeConfiguration(flags: parsed.runtimeFlags), note: writeErr)
            defer { runtime.close() }
            parsed.runtime = runtime
            return try cmd.run(parsed)
        } catch RuntimeError.usage(let m) {
            printErr("strata \(cmd.name): \(CLIError.usage(m, command: cmd.name).localizedDescription)")
            return 64
        } catch let e as CLIError {
            printErr("strata \(cmd.name): \(e.localizedDescription)")
            return e.exitCode
        } catch {
            printErr("strata \(cmd.name): \(error.localizedDescription)")
            return 1
        }
    }

    static func help(for cmd: any CLICommand.Type) -> String {
        var s = "strata \(cmd.name) — \(cmd.summary)\n\n\(cmd.usage)\n\nOptions:\n"
        for o in cmd.options + globalOptions {
            var left = "  --\(o.name)"
            if let v = o.valueName { left += " \(v)" }
            if let sh = o.short { left = "  -\(sh), " + left.dropFirst(2) }
            s += left.padding(toLength: max(left.count + 2, 28), withPad: " ", startingAt: 0) + o.help + "\n"
        }
        return s
    }

    static func topLevelHelp() -> String {
        var s = """
        strata — an on-premises assistant over your documents and business tables

        Usage: strata [--db PATH] [--config FILE] COMMAND [options]

        Commands:

        """
        for c in allCommands {
            s += "  " + c.name.padding(toLength: 20, withPad: " ", startingAt: 0) + c.summary + "\n"
        }
        s += "\nRun 'strata COMMAND --help' for a command's options."
        return s
    }
}

/// Writes to standard output at once (no buffering), for answers streamed as they are generated.
/// Sanitised like `print` (`TerminalText`): the pieces are a model's text.
func writeOut(_ s: String) { FileHandle.standardOutput.write(Data(TerminalText.block(s).utf8)) }

/// Writes a note or warning to standard error at once.
func writeErr(_ s: String) { FileHandle.standardError.write(Data(TerminalText.block(s).utf8)) }
