import CReadline
import Foundation
import Lang
import Workbench

/// Standard input is not a terminal: read lines, print results, no prompts or escapes.
/// Lines already waiting (a pasted or piped block) let the session hold a complete input
/// until the next line shows whether it continues with `|>`.
func runPiped(_ session: ReplSession) -> Int32 {
    installInterruptHandler()
    let input = LineReader(fd: 0)
    while let line = input.next() {
        switch line {
        case .text(let text): emit(session.feed(text, more: input.hasMore))
        case .tooLong(let n): emit(session.reject("input line \(n) is longer than 16 MiB; skipped"))
        }
        if session.quitRequested { break }
    }
    if !session.quitRequested { emit(session.finish()) }
    return session.hadError ? 1 : 0
}

/// Input already typed or pasted that readline has not read yet.
func terminalInputWaiting() -> Bool {
    var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0
}

/// The terminal's width in columns (for `:env`), or nil when it does not say.
func terminalColumns() -> Int? {
    var size = winsize()
    guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 40 else { return nil }
    return Int(size.ws_col)
}

func emit(_ r: (out: String, err: String)) {
    if !r.out.isEmpty { FileHandle.standardOutput.write(Data(r.out.utf8)) }
    if !r.err.isEmpty { FileHandle.standardError.write(Data(r.err.utf8)) }
}

nonisolated(unsafe) var completionSession: ReplSession?
nonisolated(unsafe) var completionCandidates: [String] = []
nonisolated(unsafe) var atPrompt: Int32 = 0
nonisolated(unsafe) let primaryPrompt = strdup("mlw> ")

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
    // Readline's own signal handling fights with ours; handle SIGINT here instead (the
    // recipe from the readline manual): a fresh, empty prompt line.
    rl_catch_signals = 0
    signal(SIGINT) { _ in
        mlwInterruptRequested = 1
        if atPrompt != 0 {
            _ = write(1, "\n", 1)
            rl_set_prompt(primaryPrompt)  // a pending multi-line input is abandoned too
            rl_on_new_line()
            rl_replace_line("", 0)
            rl_redisplay()
        }
    }
    if let columns = terminalColumns() { session.width = columns - 1 }
    print("MLW \(Workbench.version) — :help for help, Ctrl-D to quit")
    while !session.quitRequested {
        atPrompt = 1
        mlwInterruptRequested = 0
        let prompt = session.isContinuing ? "...> " : "mlw> "
        guard let cline = readline(prompt) else {
            print("")
            emit(session.finish())
            break
        }
        atPrompt = 0
        let line = String(cString: cline)
        free(cline)
        if mlwInterruptRequested != 0 {
            // Ctrl-C while typing: the partial line is gone; drop a pending multi-line input
            // too, and run what was typed after it.
            mlwInterruptRequested = 0
            session.cancelInput()
        }
        if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(line) }
        emit(session.feed(line, more: terminalInputWaiting()))
    }
    write_history(historyPath)
    return 0
}
