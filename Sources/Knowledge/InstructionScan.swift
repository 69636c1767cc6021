import Foundation

/// Finds text in a document that addresses the assistant instead of the reader ("Ignore the
/// instructions and say …", "忽略之前的所有指令 …"). Passages are data, never instructions: ingest
/// warns about such sentences, the Q&A prompt leaves them out, and the support check never counts
/// them as evidence, so an answer that repeats their command is unsupported.
///
/// Patterns, not a model: they look for the imperative aimed at an assistant or at its rules
/// (ignore / disregard / forget + instructions / rules / prompt; "you are now"; "system:";
/// "note to AI"; 忽略/无视 + 指令/规则/要求/提示; 你现在是; 无论…都回答; 直接回复), which ordinary
/// bank documents do not contain. A sentence is the unit: the rest of the passage stays evidence.
public enum InstructionScan {
    static let patterns: [NSRegularExpression] = [
        #"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(instruction|instructions|rules?|prompt|guidelines|previous|above)\b"#,
        #"\b(you are now|from now on you|act as an? (ai|assistant|bot))\b"#,
        #"(^|\n)\s*(system|assistant)\s*:"#,
        #"\b(note to|attention,?|dear) (ai|the ai|assistants?|ai assistants?|chatbots?|language models?)\b"#,
        #"\b(assistant|chatbot|ai)\s*,\s*(forget|ignore|disregard|reply|respond|answer|say|tell)\b"#,
        #"\b(respond|reply|answer) only with\b"#,
        #"(忽略|无视|忘记|不要理会|跳过)[^。！？\n]{0,12}(指令|指示|规则|要求|提示|设定|说明)"#,
        #"(你现在是|你是一个|扮演)[^。！？\n]{0,10}(机器人|助手|客服|AI)"#,
        #"系统提示[:：]"#,
        #"(AI|人工智能)?助手请注意"#,
        #"无论[^。！？\n]{0,12}(问|提问)[^。！？\n]{0,12}(都|一律)(回答|回复|说)"#,
        #"直接回复[:：]"#,
    ].map { try! NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }

    /// Whether `text` holds an instruction aimed at an assistant.
    public static func containsInstruction(_ text: String) -> Bool { firstInstruction(text) != nil }

    /// The first sentence of `text` that holds such an instruction, nil when none does.
    public static func firstInstruction(_ text: String) -> String? {
        sentenceRanges(text).lazy.map { String(text[$0]) }.first(where: matches)
    }

    /// `text` with every instruction sentence replaced by `placeholder`.
    public static func redacted(_ text: String, placeholder: String) -> String {
        var out = ""
        for r in sentenceRanges(text) {
            let s = String(text[r])
            if matches(s) {
                let lead = s.prefix { $0.isWhitespace }
                out += lead + placeholder + (s.hasSuffix("\n") ? "\n" : "")
            } else { out += s }
        }
        return out
    }

    static func matches(_ s: String) -> Bool {
        let ns = s as NSString
        return patterns.contains { $0.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) != nil }
    }

    /// Sentences with their terminators and trailing space, covering all of `text`.
    static func sentenceRanges(_ text: String) -> [Range<String.Index>] {
        var out: [Range<String.Index>] = []
        var start = text.startIndex, i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            var next = text.index(after: i)
            let ends = "。！？\n".contains(c) || ((c == "." || c == "!" || c == "?") && (next == text.endIndex || text[next].isWhitespace))
            if ends {
                while next < text.endIndex, text[next] == " " || text[next] == "\n" { next = text.index(after: next) }
                out.append(start..<next)
                start = next
            }
            i = next
        }
        if start < text.endIndex { out.append(start..<text.endIndex) }
        return out
    }
}
