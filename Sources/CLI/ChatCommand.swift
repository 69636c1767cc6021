import Foundation
import Assistant
import Runtime

struct ChatCommand: CLICommand {
    static let name = "chat"
    static let summary = "ask questions in a conversation (follow-ups understood)"
    static let usage = """
    Usage: strata chat [--as GROUPS] [--pack NAME] [--explain]

    One question per line; a follow-up ("and for credit cards?") is combined with the previous
    question for retrieval. /help lists the commands. Ctrl-C cancels the answer being generated,
    Ctrl-D (or /quit) leaves. Reads from a pipe too: `printf 'q1\\nq2\\n' | strata chat`.
    """
    static let options = AssistantWiring.options

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.isEmpty else {
            throw CLIError.usage("chat takes no arguments; type the questions after it starts", command: name)
        }
        let session = ChatSession(qa: try AssistantWiring.knowledgeQA(args), library: args.packLibrary,
                                  groups: args.groups, adapter: args.value("adapter"))
        session.layers = AssistantWiring.layers(args)
        let interactive = isatty(STDIN_FILENO) == 1
        let progress = AskProgress(enabled: isatty(STDERR_FILENO) == 1)
        // Ctrl-C cancels the answer being generated (the streaming callback reads it), not the chat.
        Interruption.begin()
        defer { Interruption.end() }
        if interactive { print("strata chat — pack \(session.qa.pack.name); /help for commands, Ctrl-D to leave") }
        while true {
            if interactive { writeOut("> ") }
            guard let line = readLine() else { if interactive { print("") }; return 0 }
            Interruption.reset()
            do {
                // A progress line while the answer is written and checked; only the checked
                // answer is printed (the draft the support check rewrites is never shown).
                let reply = try session.handle(line, onStage: progress.stage, onPiece: { _ in
                    progress.wrote()
                    return !Interruption.requested
                })
                progress.done()
                switch reply {
                case .quit: return 0
                case .info(let text):
                    if line.trimmingCharacters(in: .whitespaces) == "/sources", let a = session.lastAnswer, !a.refused {
                        print(AssistantWiring.sourcesList(a))   // one line per source, as under an answer
                    } else if !text.isEmpty { print(text) }
                case .answer(let a):
                    if a.cancelled { print("(cancelled)") }
                    print(AssistantWiring.render(a, explain: args.has("explain")))
                }
            } catch {
                // A bad command or a failed answer must not end the conversation.
                printErr("strata chat: \(error.localizedDescription)")
            }
        }
    }
}
