//! A throwaway PostgreSQL cluster for the tests, started once per test process: `initdb` into a
//! fresh folder under /tmp, `pg_ctl start` on a free loopback port (as the `postgres` user when
//! the tests run as root, which PostgreSQL refuses), one new database per test.
//!
//! The cluster lives as long as the test process: a small shell holds it and waits on a pipe
//! from this process; when the process ends, however it ends, the pipe closes and the shell
//! stops the cluster and removes its folder. Missing PostgreSQL is a failure, never a skip.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// Runs with `$1` = port, `$2` = the PostgreSQL programs' folder; prints `ready`, then holds.
const HOLDER: &str = r#"
set -e
PATH="$2:$PATH"
d=$(mktemp -d /tmp/shengbo-pg.XXXXXX)
trap 'pg_ctl -D "$d/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$d"' EXIT
initdb -D "$d/data" -U postgres -A trust -E UTF8 --no-sync >"$d/initdb.log" 2>&1 \
  || { cat "$d/initdb.log" >&2; exit 1; }
pg_ctl -D "$d/data" -w -l "$d/log" start -o "-c listen_addresses=127.0.0.1 -p $1 -k $d \
  -c fsync=off -c max_connections=400" >/dev/null || { cat "$d/log" >&2; exit 1; }
echo ready
read _ || true
"#;

struct Cluster {
    port: u16,
    _holder: Mutex<(Child, ChildStdin)>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The folder holding `initdb` and `pg_ctl`: on the PATH, else Debian's newest
/// `/usr/lib/postgresql/N/bin`.
fn bin_dir() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
    let debian = || {
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let v = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((v, bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, bin)| bin)
    };
    on_path.or_else(debian).unwrap_or_else(|| {
        panic!(
            "the ledger tests need PostgreSQL (initdb, pg_ctl) and found none on the PATH or \
             under /usr/lib/postgresql: install Debian's `postgresql` package (`.ci/run` does)"
        )
    })
}

fn start() -> Cluster {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = bin_dir();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh"]);
        c
    } else {
        Command::new("sh")
    };
    cmd.args(["-c", HOLDER, "sh", &port.to_string()])
        .arg(&bin)
        .current_dir("/tmp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start PostgreSQL from {}: {e}", bin.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line.trim(),
        "ready",
        "the throwaway PostgreSQL cluster did not start (its log is above)"
    );
    let stdin = child.stdin.take().unwrap();
    Cluster {
        port,
        _holder: Mutex::new((child, stdin)),
    }
}

/// The URL of database `name` on the test cluster.
pub fn url(name: &str) -> String {
    let cluster = CLUSTER.get_or_init(start);
    format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port)
}

/// A new, empty database on the test cluster; its URL.
pub fn fresh_database() -> String {
    let name = format!(
        "t{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    );
    let admin = url("postgres");
    let create = format!("CREATE DATABASE {name}");
    // The sync client must not run inside a tokio runtime: a plain thread is never in one.
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        c.batch_execute(&create).unwrap();
    })
    .join()
    .unwrap();
    url(&name)
}

/// A client on `url`, for tests that look at the tables themselves (from a plain thread).
pub fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}
