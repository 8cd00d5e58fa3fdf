//! The two stores every ledger test runs against, [`Store`] (a SQLite file in a fresh folder,
//! or a fresh database on the throwaway PostgreSQL cluster of `util::pg`), the
//! `both_stores!` macro that makes one test of each, and [`race`] for instances at once.

use std::sync::{Arc, Barrier};

use shengbo::ledger::{Ledger, LedgerTarget};

/// One store for one test: a SQLite file in a fresh folder, or a fresh PostgreSQL database.
/// Opening it again is what a restart does.
pub enum Store {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Store {
    pub fn sqlite() -> Store {
        Store::Sqlite(tempfile::tempdir().unwrap())
    }

    pub fn postgres() -> Store {
        Store::Postgres(crate::util::pg::fresh_database())
    }

    /// The `--ledger` value naming this store.
    pub fn url(&self) -> String {
        match self {
            Store::Sqlite(dir) => {
                format!("sqlite:{}", dir.path().join("data/ledger.sqlite").display())
            }
            Store::Postgres(url) => url.clone(),
        }
    }

    pub fn open(&self) -> Arc<dyn Ledger> {
        self.try_open().unwrap()
    }

    pub fn try_open(&self) -> Result<Arc<dyn Ledger>, shengbo::ledger::LedgerError> {
        LedgerTarget::parse(&self.url(), |_| None).unwrap().open()
    }
}

/// `n` instances (ledgers of one store) started together, each calling `f` `times` times;
/// every result, instance after instance.
pub fn race<T: Send>(
    store: &Store,
    n: usize,
    times: usize,
    f: impl Fn(&dyn Ledger) -> T + Sync,
) -> Vec<T> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    // Opened at once too; one that fails still meets the others at the barrier,
                    // so they are not left waiting for it.
                    let l = store.try_open();
                    barrier.wait();
                    let l = l.unwrap();
                    (0..times).map(|_| f(l.as_ref())).collect::<Vec<T>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// Each named test function (taking `&Store`) as two tests, `NAME::sqlite` and `NAME::postgres`.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&super::Store::sqlite())
            }
            #[test]
            fn postgres() {
                super::$name(&super::Store::postgres())
            }
        }
    )*};
}
