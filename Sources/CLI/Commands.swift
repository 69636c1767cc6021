/// Every subcommand, in the order `strata --help` lists them. Add a new command here.
let allCommands: [any CLICommand.Type] = [
    IngestCommand.self,
    SearchCommand.self,
    AskCommand.self, ChatCommand.self, LogCommand.self, EvalQACommand.self,
    PacksListCommand.self, PacksShowCommand.self, PacksCheckCommand.self,
    GenerateCommand.self,
    EvalPerplexityCommand.self,
    ReindexCommand.self,
    EvalRetrievalCommand.self,
    DataImportCommand.self, DataListCommand.self, DataShowCommand.self, DataCheckCommand.self,
    SupportCommand.self,
    EvalIntentCommand.self,
]
