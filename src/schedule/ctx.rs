//! Diagnostics of one campaign file as it is checked: errors and warnings pointed at byte
//! spans of the source (inside a string's quotes, so the caret sits under the text itself).

use std::ops::Range;
use std::path::Path;

use crate::diag::{Diagnostic, Location};

/// Collects the diagnostics of one file.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub file: &'a Path,
    pub src: &'a str,
    pub diags: Vec<Diagnostic>,
    /// Tables that had unknown keys dropped: a key "missing" there is probably misspelt, and
    /// that error is already reported.
    pub dropped: Vec<&'static str>,
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a Path, src: &'a str) -> Ctx<'a> {
        Ctx {
            file,
            src,
            diags: Vec::new(),
            dropped: Vec::new(),
        }
    }

    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::error(self.file, message).at(self.src, self.inner(span));
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    pub fn warning(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::warning(self.file, message).at(self.src, self.inner(span));
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    /// Report a missing key of `table`, unless an unknown key was dropped there.
    pub fn missing(&mut self, table: &str, span: Range<usize>, message: &str) {
        if !self.dropped.contains(&table) {
            self.error(span, message);
        }
    }

    pub fn help(d: &mut Diagnostic, help: Option<String>) {
        d.help = help;
    }

    /// A string value's span without its quotes, so the caret sits under the text itself.
    pub fn inner(&self, span: Range<usize>) -> Range<usize> {
        let text = self.src.get(span.clone()).unwrap_or("");
        for q in ["\"\"\"", "'''", "\"", "'"] {
            if text.len() >= 2 * q.len() && text.starts_with(q) && text.ends_with(q) {
                return span.start + q.len()..span.end - q.len();
            }
        }
        span
    }

    pub fn location(&self, span: Range<usize>) -> Location {
        Location::from_range(self.src, self.inner(span))
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}
