import Foundation

// The `strata` command: every layer is wired together here and nowhere else.
exit(StrataCLI.run(Array(CommandLine.arguments.dropFirst())))
