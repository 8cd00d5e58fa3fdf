//! Operations: `/healthz` (alive), `/readyz` (records writable, schedules loaded), `/metrics`
//! (Prometheus text format, written by hand), and [`Metrics`], the counters the dispatcher and
//! the app bump.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::state::AppState;

/// Upper bounds (seconds) of the push latency histogram.
pub const LATENCY_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Counters and gauges for `/metrics`. Cheap to bump from any thread.
#[derive(Debug, Default)]
pub struct Metrics {
    pushes: Mutex<BTreeMap<String, u64>>,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    endpoint_up: Mutex<BTreeMap<String, bool>>,
    /// Kind → status → count; looked up by `&str`, so counting allocates only a new kind.
    pulls: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
    reach: Mutex<BTreeMap<String, u64>>,
    retries: AtomicU64,
    expired: AtomicU64,
    runs: Mutex<BTreeMap<String, u64>>,
    /// Endpoint → Unix seconds it last answered.
    endpoint_seen: Mutex<BTreeMap<String, i64>>,
    /// Live instances whose content version differs from this one's, each as `/readyz` says it.
    content: Mutex<Vec<String>>,
    /// The instance label every sample carries, when several instances share a ledger.
    instance: std::sync::OnceLock<String>,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K, by: u64) {
    let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
    *m.entry(key).or_default() += by;
}

impl Metrics {
    /// One push attempt ended with `outcome` (e.g. `delivered`, `rejected`, `timeout`).
    pub fn push(&self, outcome: &str, latency: Duration) {
        bump(&self.pushes, outcome.to_string(), 1);
        let s = latency.as_secs_f64();
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if s <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    }

    /// Whether an endpoint is currently healthy (circuit closed).
    pub fn endpoint_health(&self, endpoint: &str, up: bool) {
        let mut m = self.endpoint_up.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(endpoint.to_string(), up);
    }

    /// One pull answered (`kind`: playlist, day, county, audio, coverage, page, ebd_state).
    pub fn pull(&self, kind: &str, status: u16) {
        let mut m = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
        let by_status = match m.get_mut(kind) {
            Some(s) => s,
            None => m.entry(kind.to_string()).or_default(),
        };
        *by_status.entry(status).or_default() += 1;
    }

    /// An attempt that did not settle its delivery: another one follows.
    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// `n` deliveries expired (past their air-by deadline, never aired).
    pub fn expired(&self, n: u64) {
        self.expired.fetch_add(n, Ordering::Relaxed);
    }

    /// A run `opened` or `closed`.
    pub fn run(&self, event: &str) {
        bump(&self.runs, event.to_string(), 1);
    }

    /// An endpoint answered at `at`.
    pub fn endpoint_seen(&self, endpoint: &str, at: chrono::DateTime<chrono::Utc>) {
        let mut m = self.endpoint_seen.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(endpoint.to_string(), at.timestamp());
    }

    /// Population reached (`delivered`, `played`, `targeted`) by the last closed run.
    pub fn reach(&self, what: &str, people: u64) {
        let mut m = self.reach.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(what.to_string(), people);
    }

    /// The live instances whose content version differs from this one's (replaces the last).
    pub fn content_mismatches(&self, notes: Vec<String>) {
        *self.content.lock().unwrap_or_else(|e| e.into_inner()) = notes;
    }

    /// What [`Metrics::content_mismatches`] last set.
    pub fn content_notes(&self) -> Vec<String> {
        self.content
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let pushes = self.pushes.lock().unwrap_or_else(|e| e.into_inner());
        family(
            &mut out,
            "shengbo_pushes_total",
            "counter",
            "push attempts by outcome",
        );
        for (outcome, n) in pushes.iter() {
            let _ = writeln!(
                out,
                "shengbo_pushes_total{{outcome=\"{}\"}} {n}",
                esc(outcome)
            );
        }
        drop(pushes);
        let name = "shengbo_push_latency_seconds";
        family(&mut out, name, "histogram", "push attempt latency");
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let n = self.latency_buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let sum = self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
        let up = self.endpoint_up.lock().unwrap_or_else(|e| e.into_inner());
        family(
            &mut out,
            "shengbo_endpoint_up",
            "gauge",
            "1 when the endpoint's circuit is closed",
        );
        for (endpoint, ok) in up.iter() {
            let _ = writeln!(
                out,
                "shengbo_endpoint_up{{endpoint=\"{}\"}} {}",
                esc(endpoint),
                u8::from(*ok)
            );
        }
        drop(up);
        let pulls = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
        family(
            &mut out,
            "shengbo_pulls_total",
            "counter",
            "HTTP pulls by kind and status",
        );
        for ((kind, status), n) in pulls
            .iter()
            .flat_map(|(k, by)| by.iter().map(move |(s, n)| ((k, s), n)))
        {
            let _ = writeln!(
                out,
                "shengbo_pulls_total{{kind=\"{}\",status=\"{status}\"}} {n}",
                esc(kind)
            );
        }
        drop(pulls);
        let reach = self.reach.lock().unwrap_or_else(|e| e.into_inner());
        family(
            &mut out,
            "shengbo_reach_population",
            "gauge",
            "population reached by the last closed run",
        );
        for (what, n) in reach.iter() {
            let _ = writeln!(
                out,
                "shengbo_reach_population{{reached=\"{}\"}} {n}",
                esc(what)
            );
        }
        drop(reach);
        self.render_service(&mut out);
        let name = "shengbo_content_version_mismatch";
        family(
            &mut out,
            name,
            "gauge",
            "live instances whose content version differs from this one's",
        );
        let _ = writeln!(out, "{name} {}", self.content_notes().len());
        match self.instance.get() {
            Some(name) => with_label(&out, "instance", name),
            None => out,
        }
    }

    /// Label every sample with `instance="name"` (set once; later calls are ignored).
    pub fn set_instance(&self, name: &str) {
        let _ = self.instance.set(name.to_string());
    }

    /// Retries, expiries, runs and endpoints' last answers.
    fn render_service(&self, out: &mut String) {
        let name = "shengbo_push_retries_total";
        family(
            out,
            name,
            "counter",
            "attempts that did not settle their delivery",
        );
        let _ = writeln!(out, "{name} {}", self.retries.load(Ordering::Relaxed));
        let name = "shengbo_deliveries_expired_total";
        family(out, name, "counter", "deliveries expired past their air-by");
        let _ = writeln!(out, "{name} {}", self.expired.load(Ordering::Relaxed));
        let name = "shengbo_runs_total";
        family(out, name, "counter", "runs opened and closed");
        for (event, n) in self.runs.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "{name}{{event=\"{}\"}} {n}", esc(event));
        }
        let name = "shengbo_endpoint_last_seen_seconds";
        family(out, name, "gauge", "Unix time an endpoint last answered");
        let seen = self.endpoint_seen.lock().unwrap_or_else(|e| e.into_inner());
        for (endpoint, at) in seen.iter() {
            let _ = writeln!(out, "{name}{{endpoint=\"{}\"}} {at}", esc(endpoint));
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Escape a label value (backslash, quote, newline).
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The kind of pull a path is, for the pulls counter.
fn pull_kind(path: &str) -> &'static str {
    if path.starts_with("/v1/audio/") {
        "audio"
    } else if path.starts_with("/v1/townships/") && path.contains("/day.") {
        "day"
    } else if path.starts_with("/v1/townships/") {
        "playlist"
    } else if path.starts_with("/v1/counties/") {
        "county"
    } else if path.starts_with("/v1/coverage") {
        "coverage"
    } else if path.starts_with("/v1/ebd/") {
        "ebd_state"
    } else if path == "/coverage" {
        "page"
    } else {
        "other"
    }
}

/// Middleware: count every API response by kind and status.
pub async fn count_pulls(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let kind = pull_kind(req.uri().path());
    let resp = next.run(req).await;
    state.metrics().pull(kind, resp.status().as_u16());
    resp
}

/// Every sample line of `text` with `name="value"` first among its labels.
fn with_label(text: &str, name: &str, value: &str) -> String {
    let label = format!("{name}=\"{}\"", esc(value));
    let mut out = String::with_capacity(text.len() * 5 / 4);
    for line in text.lines() {
        let _ = match (line.starts_with('#'), line.find('{'), line.find(' ')) {
            (false, Some(i), _) => writeln!(out, "{}{label},{}", &line[..=i], &line[i + 1..]),
            (false, None, Some(i)) => writeln!(out, "{}{{{label}}}{}", &line[..i], &line[i..]),
            _ => writeln!(out, "{line}"),
        };
    }
    out
}

pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the snapshot's schedules loaded and the records (if any) are writable.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut problems = Vec::new();
    if !state.snapshot().schedules_loaded {
        problems.push("schedules not loaded".to_string());
    }
    if let Some(records) = state.records() {
        let check = tokio::task::spawn_blocking(move || records.check_writable()).await;
        match check {
            Ok(Ok(())) => {}
            Ok(Err(err)) => problems.push(format!("ledger not writable: {err}")),
            Err(err) => problems.push(format!("ledger check failed: {err}")),
        }
    }
    if problems.is_empty() {
        // Still ready: this instance pushes what it loaded; the operator is told it differs.
        let notes: String = state
            .metrics()
            .content_notes()
            .iter()
            .map(|n| format!("{n}\n"))
            .collect();
        (StatusCode::OK, format!("ready\n{notes}")).into_response()
    } else {
        let body = problems.join("\n") + "\n";
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_label_goes_on_every_sample() {
        let m = Metrics::default();
        m.push("delivered", Duration::from_millis(80));
        let plain = m.render();
        m.set_instance("county-b");
        let text = m.render();
        assert!(
            text.contains("shengbo_pushes_total{instance=\"county-b\",outcome=\"delivered\"} 1")
        );
        assert!(text.contains("shengbo_push_retries_total{instance=\"county-b\"} 0"));
        let samples = |t: &str| t.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(samples(&text), samples(&plain));
        assert!(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .all(|l| l.contains("instance=\"county-b\"")),
            "{text}"
        );
    }

    #[test]
    fn text_format_has_families_and_cumulative_buckets() {
        let m = Metrics::default();
        m.push("delivered", Duration::from_millis(80));
        m.push("delivered", Duration::from_millis(700));
        m.push("timeout", Duration::from_secs(90));
        m.endpoint_health("zhao\"jue", false);
        m.pull("playlist", 304);
        m.reach("played", 1234);
        let text = m.render();
        assert!(text.contains("shengbo_pushes_total{outcome=\"delivered\"} 2"));
        assert!(text.contains("shengbo_push_latency_seconds_bucket{le=\"0.1\"} 1"));
        assert!(text.contains("shengbo_push_latency_seconds_bucket{le=\"1\"} 2"));
        assert!(text.contains("shengbo_push_latency_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("shengbo_push_latency_seconds_count 3"));
        assert!(text.contains("shengbo_endpoint_up{endpoint=\"zhao\\\"jue\"} 0"));
        assert!(text.contains("shengbo_pulls_total{kind=\"playlist\",status=\"304\"} 1"));
        assert!(text.contains("shengbo_reach_population{reached=\"played\"} 1234"));
        m.retry();
        m.expired(2);
        m.run("closed");
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        m.endpoint_seen("zhaojue", at);
        let text = m.render();
        assert!(text.contains("shengbo_push_retries_total 1"));
        assert!(text.contains("shengbo_deliveries_expired_total 2"));
        assert!(text.contains("shengbo_runs_total{event=\"closed\"} 1"));
        assert!(
            text.contains("shengbo_endpoint_last_seen_seconds{endpoint=\"zhaojue\"} 1800000000")
        );
        assert_eq!(text.matches("# TYPE").count(), 10);
        assert!(text.contains("shengbo_content_version_mismatch 0"));
        m.content_mismatches(vec!["content differs from instance county-b".into()]);
        assert!(m.render().contains("shengbo_content_version_mismatch 1"));
    }
}
