//! What PostgreSQL said, for error messages: the client's text (only "db error" for an error
//! of the server's) followed by the server's severity, message, SQLSTATE code, detail and hint,
//! on one line (a log entry is one line); or, for an error on the client's side, its text and
//! its cause's. Each part is worded as the client's own causes are, so a chain of causes
//! printed after it (`transport::error_chain`) repeats none of them.

use std::fmt;

/// [`postgres::Error`] displayed with what the server said.
#[derive(Debug)]
pub struct Said<'a>(pub &'a postgres::Error);

impl fmt::Display for Said<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(db) = self.0.as_db_error() else {
            write!(f, "{}", self.0)?;
            // The client's text names the kind only ("error connecting to server"); the
            // cause says what happened (connection refused, a timeout).
            if let Some(cause) = std::error::Error::source(self.0) {
                write!(f, ": {cause}")?;
            }
            return Ok(());
        };
        let (severity, code) = (db.severity(), db.code().code());
        write!(
            f,
            "{}: {severity}: {} (SQLSTATE {code})",
            self.0,
            db.message()
        )?;
        if let Some(detail) = db.detail() {
            write!(f, "; DETAIL: {}", one_line(detail))?;
        }
        if let Some(hint) = db.hint() {
            write!(f, "; HINT: {}", one_line(hint))?;
        }
        Ok(())
    }
}

/// Text the server may break into lines, on one line.
fn one_line(text: &str) -> String {
    text.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}
