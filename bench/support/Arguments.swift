import Foundation

/// Checks a benchmark's command line against the options it knows: `flags` take no value,
/// `valued` take the next argument, and at most `positional` plain arguments (nil: any number).
/// Anything else prints what is wrong and the usage and exits 2, so a mistyped option never
/// runs a minutes-long benchmark on defaults. `--help` prints the usage and exits 0.
public func checkArguments(_ program: String, usage: String, flags: Set<String> = [], valued: Set<String> = [],
                           positional: Int? = 0) {
    let args = Array(CommandLine.arguments.dropFirst())
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(program): \(message)\n\(usage)\n".utf8))
        exit(2)
    }
    var i = 0, plain = 0
    while i < args.count {
        let a = args[i]
        if a == "--help" || a == "-h" { print(usage); exit(0) }
        if flags.contains(a) { i += 1; continue }
        if valued.contains(a) {
            guard i + 1 < args.count else { fail("\(a) needs a value") }
            i += 2; continue
        }
        if a.hasPrefix("-") { fail("unknown option '\(a)'") }
        plain += 1
        if let positional, plain > positional {
            fail(positional == 0 ? "unexpected argument '\(a)' (this benchmark takes only options)" : "unexpected argument '\(a)'")
        }
        i += 1
    }
}
