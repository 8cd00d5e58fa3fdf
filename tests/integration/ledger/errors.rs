//! PostgreSQL's errors say what the server said: its severity, SQLSTATE code, message and
//! detail, on one line (for logs) and once in the command line's chain of causes; the client's
//! error stays the source.

use postgres::error::SqlState;
use shengbo::lang::Lang;
use shengbo::ledger::{LedgerError, RunId};

use super::{LedgerTarget, Store, new_delivery, t};

/// The client's error under a ledger error.
fn client_error(err: &LedgerError) -> &postgres::Error {
    std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<postgres::Error>())
        .expect("the client's error is the source")
}

/// Why the ledger at `url` does not open, and how that reads.
fn not_opened(url: &str) -> (LedgerError, String) {
    let err = LedgerTarget::parse(url, |_| None)
        .unwrap()
        .open()
        .err()
        .expect("no ledger");
    let text = err.to_string();
    (err, text)
}

#[test]
fn a_write_the_server_refuses_says_why() {
    let l = Store::postgres().open();
    let new = new_delivery(RunId(999), "ep-1", Lang::Ii, &["513431001"], 1);
    let err = l.record_delivery(&new, t(9, 50)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("ledger database: db error: ERROR: "),
        "{text}"
    );
    assert!(text.contains("violates foreign key constraint"), "{text}");
    assert!(
        text.contains(
            " (SQLSTATE 23503); DETAIL: Key (run_id)=(999) is not present in table \"runs\"."
        ),
        "{text}"
    );
    assert!(!text.contains('\n'), "one line: {text}");
    let source = client_error(&err);
    assert_eq!(source.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    let chain = shengbo::transport::error_chain(&err);
    assert_eq!(chain.matches("violates foreign key").count(), 1, "{chain}");
}

#[test]
fn a_database_that_is_not_there_is_named_with_the_servers_words() {
    let url = crate::util::pg::url("no_such_ledger");
    let (err, text) = not_opened(&url);
    assert!(
        text.contains(
            "/no_such_ledger`: cannot connect: db error: FATAL: database \"no_such_ledger\" \
             does not exist (SQLSTATE 3D000)"
        ),
        "{text}"
    );
    let LedgerError::PgConnect { source, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(source.code(), Some(&SqlState::INVALID_CATALOG_NAME));
    let chain = shengbo::transport::error_chain(&err);
    assert_eq!(chain.matches("does not exist").count(), 1, "{chain}");
}

#[test]
fn a_server_that_is_not_there_says_how_the_connection_failed() {
    // A loopback port nobody listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/ledger?connect_timeout=5");
    let (err, text) = not_opened(&url);
    assert!(
        text.contains("cannot connect: error connecting to server: "),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
    let chain = shengbo::transport::error_chain(&err);
    assert_eq!(chain, text, "every cause said once");
}
