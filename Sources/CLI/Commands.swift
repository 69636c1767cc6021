/// Every subcommand, in the order `strata --help` lists them. Add a new command here.
let allCommands: [any CLICommand.Type] = [
    PacksListCommand.self, PacksShowCommand.self, PacksCheckCommand.self,
    EvalIntentCommand.self,
]
