//! The app's records over the ledger: any [`Ledger`] read as coverage inputs and endpoint
//! health, and a readiness check that the ledger file accepts a write lock (or the ledger's
//! database answers).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::state::{EndpointStatus, Records, RecordsError};
use crate::coverage::{FailureRow, Inputs, RunOutcome};
use crate::ledger::{Ledger, SqliteLedger};

/// A ledger seen as the app's records.
pub struct LedgerRecords {
    ledger: Arc<dyn Ledger>,
    /// The SQLite file, for the write check; `None` skips it.
    file: Option<PathBuf>,
}

/// Open the SQLite ledger at `path` as records.
pub fn open(path: &Path) -> Result<Arc<dyn Records>, RecordsError> {
    let ledger = SqliteLedger::open(path)?;
    Ok(shared(Arc::new(ledger), Some(path.to_path_buf())))
}

/// Records over a ledger already open (the service's one ledger); `file` for the write check.
pub fn shared(ledger: Arc<dyn Ledger>, file: Option<PathBuf>) -> Arc<dyn Records> {
    Arc::new(LedgerRecords::new(ledger, file))
}

impl LedgerRecords {
    pub fn new(ledger: Arc<dyn Ledger>, file: Option<PathBuf>) -> LedgerRecords {
        LedgerRecords { ledger, file }
    }
}

impl std::fmt::Debug for LedgerRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerRecords")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl Records for LedgerRecords {
    fn coverage_inputs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        campaign: Option<&str>,
    ) -> Result<Inputs, RecordsError> {
        let mut inputs = Inputs::default();
        for run in self.ledger.runs(from, to, campaign)? {
            let rows = self.ledger.run_reach_rows(run.id)?;
            for f in self.ledger.failures(Some(run.id))? {
                inputs.failures.push(FailureRow {
                    run: run.id.0,
                    occurrence: run.occurrence,
                    campaign: run.campaign.clone(),
                    endpoint: f.endpoint,
                    lang: f.lang,
                    townships: f.townships,
                    state: f.state.as_str().to_string(),
                    reason: f.reason.or(f.last_error),
                });
            }
            inputs.runs.push(RunOutcome {
                run: run.id.0,
                campaign: run.campaign,
                occurrence: run.occurrence,
                rows,
            });
        }
        Ok(inputs)
    }

    fn endpoints(&self) -> Result<Vec<EndpointStatus>, RecordsError> {
        let list = self.ledger.endpoint_healths()?;
        Ok(list
            .into_iter()
            .map(|h| EndpointStatus {
                endpoint: h.endpoint,
                circuit: h.circuit.as_str().to_string(),
                consecutive_failures: h.consecutive_failures,
                last_seen: h.last_seen,
                reason: h.reason,
            })
            .collect())
    }

    fn latest_run(&self) -> Result<Option<DateTime<Utc>>, RecordsError> {
        let runs = self
            .ledger
            .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)?;
        Ok(runs.into_iter().map(|r| r.occurrence).max())
    }

    fn record_state_report(
        &self,
        report: &crate::ledger::StateReport,
    ) -> Result<Option<i64>, RecordsError> {
        let found = self.ledger.record_state_report(report)?;
        Ok(found.map(|d| d.0))
    }

    /// Take and release SQLite's write lock on a second connection; a ledger without a file
    /// (PostgreSQL) must answer a query.
    fn check_writable(&self) -> Result<(), RecordsError> {
        let Some(file) = &self.file else {
            return Ok(self.ledger.ping()?);
        };
        let conn = rusqlite::Connection::open(file)?;
        conn.busy_timeout(Duration::from_secs(2))?;
        Ok(conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")?)
    }
}
