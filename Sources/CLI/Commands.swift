/// Every subcommand, in the order `strata --help` lists them. Add a new command here.
let allCommands: [any CLICommand.Type] = [
    IngestCommand.self, SearchCommand.self,
    AskCommand.self, ChatCommand.self, ReportCommand.self, LogCommand.self, EvalQACommand.self,
    PacksListCommand.self, PacksShowCommand.self, PacksCheckCommand.self,
]
