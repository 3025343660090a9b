import Foundation
import Lang

/// An MLW script as escaped HTML with spans for comments, strings, numbers, keywords and
/// `param` names: a lexer-light scan (it never fails, whatever the bytes), so a script that
/// no longer parses still shows.
func highlightMLW(_ source: String) -> String {
    let chars = Array(source)
    var out = "", i = 0
    func span(_ cls: String, _ text: String) { out += "<span class=\"\(cls)\">\(htmlEscape(text))</span>" }
    while i < chars.count {
        let c = chars[i]
        if c == "#" {
            var j = i
            while j < chars.count, chars[j] != "\n" { j += 1 }
            span("c", String(chars[i..<j])); i = j
        } else if c == "\"" {
            var j = i + 1
            while j < chars.count, chars[j] != "\"", chars[j] != "\n" { j += chars[j] == "\\" ? 2 : 1 }
            j = min(j + 1, chars.count)
            span("s", String(chars[i..<j])); i = j
        } else if c.isNumber {
            var j = i
            while j < chars.count, chars[j].isNumber || chars[j] == "." || chars[j] == "_" || chars[j] == "e" { j += 1 }
            span("n", String(chars[i..<j])); i = j
        } else if c.isLetter || c == "_" {
            var j = i
            while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
            let word = String(chars[i..<j])
            if keywords.contains(word) { span("k", word) } else { out += htmlEscape(word) }
            i = j
        } else {
            out += htmlEscape(String(c)); i += 1
        }
    }
    return out
}
