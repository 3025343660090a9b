import CReadline
import Foundation
import Lang
import Workbench

/// Standard input is not a terminal: read lines, print results, no prompts or escapes.
func runPiped(_ session: ReplSession) -> Int32 {
    installInterruptHandler()
    while let line = readLine(strippingNewline: true) {
        let r = session.feed(line)
        emit(r)
        if session.quitRequested { break }
    }
    if session.isContinuing {
        emit(session.feed(""))  // let the parser report what is still open
    }
    return session.hadError ? 1 : 0
}

func emit(_ r: (out: String, err: String)) {
    if !r.out.isEmpty { FileHandle.standardOutput.write(Data(r.out.utf8)) }
    if !r.err.isEmpty { FileHandle.standardError.write(Data(r.err.utf8)) }
}

nonisolated(unsafe) var completionSession: ReplSession?
nonisolated(unsafe) var completionCandidates: [String] = []
nonisolated(unsafe) var atPrompt: Int32 = 0

/// readline front end: history in ~/.mlw_history (or $MLW_HOME/history), completion from
/// the same tables `help` reads, Ctrl-C abandons the line, Ctrl-D exits.
func runInteractive(_ session: ReplSession) -> Int32 {
    let env = ProcessInfo.processInfo.environment
    let historyPath = env["MLW_HOME"].map { ($0 as NSString).appendingPathComponent("history") }
        ?? (NSHomeDirectory() as NSString).appendingPathComponent(".mlw_history")
    using_history()
    read_history(historyPath)
    stifle_history(5000)
    completionSession = session
    rl_readline_name = UnsafePointer(strdup("mlw"))
    rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n\"\\'`@$><=;|&{(,[+-*/%"))
    rl_attempted_completion_function = { text, _, _ in
        guard let text else { return nil }
        completionCandidates = completionSession?.completions(for: String(cString: text)) ?? []
        rl_attempted_completion_over = 1
        return rl_completion_matches(text) { _, state in
            if state == 0 { completionCandidates = completionCandidates.reversed() }
            guard let next = completionCandidates.popLast() else { return nil }
            return strdup(next)
        }
    }
    signal(SIGINT) { _ in
        mlwInterruptRequested = 1
        if atPrompt != 0 {
            // Abandon the typed line and show a fresh prompt.
            rl_replace_line("", 0)
            rl_crlf()
            rl_on_new_line()
            rl_redisplay()
        }
    }
    print("MLW \(Workbench.version) — :help for help, Ctrl-D to quit")
    while !session.quitRequested {
        atPrompt = 1
        mlwInterruptRequested = 0
        let prompt = session.isContinuing ? "...> " : "mlw> "
        guard let cline = readline(prompt) else { print(""); break }
        atPrompt = 0
        let line = String(cString: cline)
        free(cline)
        if mlwInterruptRequested != 0 {
            // Ctrl-C during input: drop the pending multi-line input as well.
            mlwInterruptRequested = 0
            session.cancelInput()
            continue
        }
        if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(line) }
        emit(session.feed(line))
    }
    write_history(historyPath)
    return 0
}
