//! The slips a Chinese input method and a Windows editor make in a TOML file, found before the
//! TOML parser sees them so each is one diagnostic that names it: a file saved as GBK or
//! UTF-16, full-width punctuation (`：` `，` `＝` `“”` `【】`), a key given twice (both lines),
//! a bracket never closed (at the bracket), and `[slots]` written for `[[slots]]`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diag::Diagnostic;

/// Full-width characters typed for TOML's punctuation: (character, catalogue name, half-width).
const FULL_WIDTH: [(char, &str, &str); 11] = [
    ('：', "fw-colon", "="),
    ('，', "fw-comma", ","),
    ('＝', "fw-equals", "="),
    ('“', "fw-quote", "\""),
    ('”', "fw-quote", "\""),
    ('【', "fw-bracket", "["),
    ('】', "fw-bracket", "]"),
    ('［', "fw-bracket", "["),
    ('］', "fw-bracket", "]"),
    ('\u{3000}', "fw-space", " "),
    ('。', "fw-period", "."),
];

/// The text of a file, or the diagnostic saying it is not UTF-8 and how to save it as UTF-8.
pub fn decode(file: &Path, bytes: &[u8]) -> Result<String, Box<Diagnostic>> {
    let encoding = match bytes {
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => Some("UTF-16"),
        _ if looks_utf16(bytes) => Some("UTF-16"),
        _ => None,
    };
    let text = match encoding {
        Some(_) => None,
        None => std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).ok(),
    };
    if let Some(text) = text {
        return Ok(text.to_string());
    }
    let encoding = encoding.unwrap_or(if looks_gbk(bytes) { "GBK" } else { "?" });
    let shown = file.display().to_string();
    let message = crate::t!("text-not-utf8", file = shown, encoding = encoding);
    let d = Diagnostic::error(file, message).with_help(crate::t!("text-save-utf8"));
    Err(Box::new(d))
}

/// UTF-16 without a byte-order mark: ASCII text leaves every other byte zero.
fn looks_utf16(bytes: &[u8]) -> bool {
    let zeros = bytes.iter().filter(|b| **b == 0).count();
    bytes.len() >= 4 && zeros * 4 >= bytes.len()
}

/// GBK: every byte above ASCII leads a pair (0x81–0xFE, then 0x40–0xFE but 0x7F).
fn looks_gbk(bytes: &[u8]) -> bool {
    let mut i = 0;
    let mut pairs = 0;
    while i < bytes.len() {
        match bytes[i] {
            0..=0x7F => i += 1,
            0x81..=0xFE if matches!(bytes.get(i + 1), Some(0x40..=0x7E | 0x80..=0xFE)) => {
                pairs += 1;
                i += 2;
            }
            _ => return false,
        }
    }
    pairs > 0
}

/// The slips of one UTF-8 file: full-width punctuation, keys given twice, brackets never
/// closed, `[slots]`. Empty when the file has none of them.
pub fn slips(file: &Path, src: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut table = String::new();
    let mut keys: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut open: Option<(usize, char)> = None;
    let mut offset = 0;
    for (n, line) in src.split_inclusive('\n').enumerate() {
        let code = code_part(line);
        let trimmed = code.trim();
        let starts_item = trimmed.starts_with('[') || trimmed.contains('=');
        if let Some((at, c)) = open.filter(|_| starts_item) {
            out.push(unclosed(file, src, at, c));
            open = None;
        }
        if let Some((i, c)) = code.char_indices().find(|(_, c)| full_width(*c).is_some()) {
            let (name, ascii) = full_width(c).unwrap_or_default();
            let at = offset + i;
            out.push(
                Diagnostic::error(
                    file,
                    crate::t!(
                        "text-fullwidth",
                        char = c.to_string(),
                        name = crate::t!(name)
                    ),
                )
                .at(src, at..at + c.len_utf8())
                .with_help(crate::t!("text-type-halfwidth", ascii = ascii)),
            );
        } else if trimmed.starts_with('[') {
            let lead = offset + line.len() - line.trim_start().len();
            header(file, src, trimmed, lead, &mut table, &mut keys, &mut out);
        } else if let Some(eq) = code.find('=') {
            // The key as written (`code` has quoted keys blanked out).
            let key = line[..eq].trim().trim_matches(['"', '\'']).to_string();
            if let Some(first) = keys.insert((table.clone(), key.clone()), n + 1) {
                let lead = offset + line.len() - line.trim_start().len();
                out.push(duplicate(file, src, &key, (first, n + 1), lead));
            }
            open = open_bracket(&code).map(|(i, c)| (offset + i, c));
        } else if open.is_some() && code.contains(']') {
            open = None;
        }
        offset += line.len();
    }
    if let Some((at, c)) = open {
        out.push(unclosed(file, src, at, c));
    }
    out
}

fn full_width(c: char) -> Option<(&'static str, &'static str)> {
    FULL_WIDTH
        .iter()
        .find(|(f, _, _)| *f == c)
        .map(|(_, name, ascii)| (*name, *ascii))
}

/// A table header: `[slots]` for `[[slots]]`, a header never closed, a table given twice.
fn header(
    file: &Path,
    src: &str,
    trimmed: &str,
    at: usize,
    table: &mut String,
    keys: &mut BTreeMap<(String, String), usize>,
    out: &mut Vec<Diagnostic>,
) {
    let array = trimmed.starts_with("[[");
    let name = trimmed.trim_start_matches('[');
    let close = if array { "]]" } else { "]" };
    let Some(end) = name.find(close) else {
        out.push(unclosed(file, src, at, '['));
        return;
    };
    let name = name[..end].trim().to_string();
    if !array && name == "slots" {
        out.push(
            Diagnostic::error(file, crate::t!("text-slots-single"))
                .at(src, at..at + "[slots]".len())
                .with_help(crate::t!("text-slots-double")),
        );
    }
    let line = src[..at].matches('\n').count() + 1;
    let seen = keys.insert((String::new(), format!("[{name}]")), line);
    if let (false, Some(first)) = (array, seen) {
        out.push(duplicate(
            file,
            src,
            &format!("[{name}]"),
            (first, line),
            at,
        ));
    }
    // Keys of an array table's entry start afresh with each `[[…]]`.
    keys.retain(|(t, _), _| t.is_empty() || *t != name);
    *table = name;
}

/// A line without its comment and with its strings blanked (so `#`, `[` and `=` inside a
/// string are not punctuation), byte offsets kept.
fn code_part(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        match quote {
            Some(q) => {
                if c == q && !escaped {
                    quote = None;
                    out.push(c);
                } else {
                    escaped = q == '"' && c == '\\' && !escaped;
                    out.extend(std::iter::repeat_n(' ', c.len_utf8()));
                }
            }
            None if c == '#' => break,
            None => {
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// An array opened on this line and not closed on it.
fn open_bracket(code: &str) -> Option<(usize, char)> {
    let mut stack = Vec::new();
    for (i, c) in code.char_indices() {
        match c {
            '[' => stack.push(i),
            ']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.first().map(|&i| (i, '['))
}

/// A key (or table header) given twice, at its second place `at`.
fn duplicate(
    file: &Path,
    src: &str,
    key: &str,
    (first, second): (usize, usize),
    at: usize,
) -> Diagnostic {
    let message = crate::t!(
        "text-duplicate-key",
        key = key,
        first = first,
        second = second
    );
    Diagnostic::error(file, message)
        .at(src, at..at + key.len())
        .with_help(crate::t!("text-keep-one"))
}

fn unclosed(file: &Path, src: &str, at: usize, open: char) -> Diagnostic {
    let close = if open == '[' { "]" } else { "}" };
    Diagnostic::error(file, crate::t!("text-unclosed", open = open.to_string()))
        .at(src, at..at + open.len_utf8())
        .with_help(crate::t!("text-close-it", close = close))
}

#[cfg(test)]
mod tests;
