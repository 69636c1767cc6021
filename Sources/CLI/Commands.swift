/// Every subcommand, in the order `strata --help` lists them. Add a new command here.
let allCommands: [any CLICommand.Type] = [
    IngestCommand.self,
    SearchCommand.self,
    ReindexCommand.self,
    AskCommand.self,
    ChatCommand.self,
    ReportCommand.self,
    SupportCommand.self,
    LogCommand.self,
    DataImportCommand.self, DataListCommand.self, DataShowCommand.self, DataCheckCommand.self,
    PacksListCommand.self, PacksShowCommand.self, PacksCheckCommand.self,
    GenerateCommand.self,
    AdaptListCommand.self, AdaptShowCommand.self, AdaptRemoveCommand.self, AdaptTrainCommand.self,
    EvalRetrievalCommand.self,
    EvalQACommand.self,
    EvalIntentCommand.self,
    EvalPerplexityCommand.self,
]
