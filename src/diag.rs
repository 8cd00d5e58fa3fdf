//! User-facing diagnostics: what went wrong, where (`file:line:col`), the source line and a
//! caret as wide as the offending text (Han and Yi characters count two columns).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

/// How bad a diagnostic is: errors make `check` exit 1, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A position in a source file, with the line it points into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
    /// Display width of the caret in terminal columns (at least 1).
    pub width: usize,
    /// The whole source line, without its line ending.
    pub source_line: String,
}

impl Location {
    /// Locate a byte range of `src`. The caret covers the range, clipped to its first line.
    pub fn from_range(src: &str, range: Range<usize>) -> Location {
        let start = floor_char_boundary(src, range.start.min(src.len()));
        let end = floor_char_boundary(src, range.end.clamp(start, src.len()));
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let line = src[..start].matches('\n').count() + 1;
        let col = src[line_start..start].chars().count() + 1;
        let caret_end = end.min(line_end);
        let width = src[start..caret_end].width().max(1);
        let source_line = src[line_start..line_end].trim_end_matches('\r').to_string();
        Location {
            line,
            col,
            width,
            source_line,
        }
    }

    /// Display columns before the caret (for aligning it under the source line).
    fn caret_offset(&self) -> usize {
        let prefix: String = self.source_line.chars().take(self.col - 1).collect();
        prefix.width()
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One problem found in the input, with enough context to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file the problem is in, as the user should see it (relative to the project root).
    pub file: PathBuf,
    /// Where in the file, when the problem has a position.
    pub location: Option<Location>,
    /// What is wrong: lowercase, no final period, user input in backticks.
    pub message: String,
    /// A hint such as "did you mean `timezone`?".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(file: impl Into<PathBuf>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            location: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(file: impl Into<PathBuf>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, message)
        }
    }

    /// Point the diagnostic at a byte range of the file's source text.
    pub fn at(mut self, src: &str, range: Range<usize>) -> Diagnostic {
        self.location = Some(Location::from_range(src, range));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col` (or just the file when there is no position).
    pub fn position(&self) -> String {
        match &self.location {
            Some(loc) => format!("{}:{}:{}", self.file.display(), loc.line, loc.col),
            None => self.file.display().to_string(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => crate::t!("diag-error"),
            Severity::Warning => crate::t!("diag-warning"),
        };
        writeln!(f, "{label}: {}", self.message)?;
        write!(f, "  ——▶ {}", self.position())?;
        if let Some(loc) = &self.location {
            let gutter = loc.line.to_string().len();
            let pad = " ".repeat(gutter);
            write!(f, "\n{pad} |\n{} | {}\n", loc.line, loc.source_line)?;
            write!(
                f,
                "{pad} | {}{}",
                " ".repeat(loc.caret_offset()),
                "^".repeat(loc.width)
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = {}: {help}", crate::t!("diag-help"))?;
        }
        Ok(())
    }
}

/// The closest candidate to `input`, if one is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(input, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// A TOML/serde error as a diagnostic at its span: serde's words made plain, lowercase, and for
/// an unknown key "did you mean" among the keys serde lists (or `keys`, when it lists none).
pub fn toml_error(file: &Path, src: &str, e: &toml::de::Error, keys: &[&str]) -> Diagnostic {
    let message = lowercase_first(&plain_serde(e.message().trim().trim_end_matches('.')));
    let mut diag = Diagnostic::error(file, message.clone());
    if let Some(span) = e.span() {
        diag = diag.at(src, span);
    }
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return diag;
    };
    let unknown = rest.split('`').next().unwrap_or_default();
    let listed: Vec<&str> = rest
        .split_once("expected one of ")
        .or_else(|| rest.split_once("expected "))
        .map(|(_, list)| list.split(", ").map(|k| k.trim_matches('`')).collect())
        .unwrap_or_default();
    let known: Vec<&str> = if listed.is_empty() {
        keys.to_vec()
    } else {
        listed
    };
    diag.message = crate::t!("unknown-key", key = unknown);
    match did_you_mean(unknown, known.iter().copied()) {
        Some(best) => diag.with_help(crate::t!("did-you-mean", name = best)),
        None => diag.with_help(crate::t!("expected-one-of", list = known.join(", "))),
    }
}

/// serde's message with Rust type names replaced by what to write in TOML.
pub fn plain_serde(message: &str) -> String {
    let mut message = message.to_string();
    for (rust, plain) in SERDE_WORDS {
        message = message.replace(rust, plain);
    }
    message
}

/// serde names Rust types; say what to write instead.
const SERDE_WORDS: [(&str, &str); 6] = [
    ("invalid type: map", "invalid type: table"),
    ("expected i64", "expected a whole number"),
    ("expected u64", "expected a whole number"),
    ("expected f64", "expected a number"),
    ("expected a sequence", "expected a list"),
    ("invalid type: ", "wrong type: "),
];

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().chain(chars).collect::<String>()
    })
}

/// A path shown relative to `root` when it lies inside it.
pub fn display_path(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_line_col_and_width() {
        let src = "a = 1\nname = \"彝族\"\n";
        let start = src.find("彝").unwrap();
        let loc = Location::from_range(src, start..start + "彝族".len());
        assert_eq!((loc.line, loc.col, loc.width), (2, 9, 4));
        assert_eq!(loc.source_line, "name = \"彝族\"");
    }

    #[test]
    fn renders_caret_under_wide_text() {
        let src = "title = \"ꆈꌠ\" x\n";
        let at = src.find('x').unwrap();
        let d = Diagnostic::error("schedules/a.toml", "unexpected `x`").at(src, at..at + 1);
        let text = d.to_string();
        assert!(text.contains("——▶ schedules/a.toml:1:14"), "{text}");
        // `title = "` is 9 columns, the two Yi syllables 4, `" ` 2: the caret sits at column 15.
        assert!(
            text.ends_with(&format!("  | {}^", " ".repeat(15))),
            "{text}"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        let keys = ["timezone", "messages", "slots"];
        assert_eq!(did_you_mean("timezon", keys), Some("timezone"));
        assert_eq!(did_you_mean("zzz", keys), None);
    }
}
