//! The edge stays up: idle sockets are closed after the header timeout while health checks keep
//! answering, connections beyond the cap wait for a slot instead of being served, and requests
//! beyond the active cap wait while silent sockets stay held.

use std::time::Duration;

use shengbo::server::Limits;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Fixture;
use super::socket::{Running, healthz, start};

/// How many idle sockets this process can hold: both ends are ours, so two descriptors each,
/// and some left over; at most 2,000.
fn idle_budget() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1024);
    (soft.saturating_sub(300) / 2).clamp(100, 2000)
}

/// How many of `sockets` the server has ended (a read would not wait): silent sockets get no
/// data, so that is a close or a reset.
fn ended(sockets: &[TcpStream]) -> usize {
    let mut byte = [0u8; 1];
    sockets
        .iter()
        .filter(|s| !matches!(s.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock))
        .count()
}

/// A whole request sent now is not answered within a minute (paused time: it passes as soon as
/// nothing else can happen) while `blocker` holds the `cap`'s last slot, and is once it ends.
async fn answered_only_once_it_ends(addr: std::net::SocketAddr, blocker: TcpStream, cap: &str) {
    let mut waiting = TcpStream::connect(addr).await.unwrap();
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let early =
        tokio::time::timeout(Duration::from_secs(60), waiting.read_to_end(&mut answer)).await;
    assert!(
        early.is_err() && answer.is_empty(),
        "served beyond the {cap}"
    );
    drop(blocker);
    tokio::time::timeout(Duration::from_secs(60), waiting.read_to_end(&mut answer))
        .await
        .unwrap_or_else(|_| panic!("not served once the {cap} had room"))
        .unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200 OK"), "{answer:?}");
}

/// Read until the server closes; what it sent (nothing is expected).
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    match tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut got)).await {
        Ok(Ok(_)) | Ok(Err(_)) => got,
        Err(_) => panic!("an idle connection was never closed"),
    }
}

/// By default (the kernel's deferral on) sockets that send nothing are never handed to the
/// server: 200 of them against a cap of 8 take no place, none is evicted or closed, and a probe
/// is answered at once beside them. Each is accepted and answered as soon as it sends a request.
#[tokio::test(start_paused = true)]
async fn silent_sockets_wait_in_the_kernel_and_take_no_place_under_the_cap() {
    let f = Fixture::new();
    let state = f.state.clone().with_limits(Limits {
        max_connections: Some(8),
        ..Limits::default()
    });
    let server = start(state).await;
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    for _ in 0..3 {
        let mut probe = TcpStream::connect(server.addr).await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(1), healthz(&mut probe)).await;
        assert_eq!(answer.as_deref().ok(), Some("HTTP/1.1 200 OK"));
    }
    assert_eq!(ended(&silent), 0, "silent sockets evicted or closed");
    // Each one held by the kernel is handed over with its first request and answered.
    for (i, s) in silent.iter_mut().enumerate().step_by(20) {
        let answer = tokio::time::timeout(Duration::from_secs(1), healthz(s)).await;
        assert_eq!(
            answer.as_deref().ok(),
            Some("HTTP/1.1 200 OK"),
            "socket {i}"
        );
    }
    drop(silent);
    server.shutdown().await;
}

#[tokio::test]
async fn idle_sockets_are_closed_after_their_timeout_while_health_answers() {
    let f = Fixture::new();
    let n = idle_budget();
    let state = f.state.clone().with_limits(Limits {
        max_connections: Some(n + 8),
        defer_accept: Duration::ZERO,
        first_byte_timeout: Duration::from_secs(2),
        header_timeout: Duration::from_secs(2),
        ..Limits::default()
    });
    let server = start(state).await;
    let mut idle = Vec::with_capacity(n);
    for _ in 0..n {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    // A kept-alive connection that asked once and then went quiet is idle too.
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // Beside them all, health answers.
    let mut probe = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(healthz(&mut probe).await, "HTTP/1.1 200 OK");
    for s in &mut idle {
        assert!(
            until_closed(s).await.is_empty(),
            "idle sockets get no answer"
        );
    }
    let rest = until_closed(&mut kept).await;
    assert!(!String::from_utf8_lossy(&rest).contains("HTTP/1.1 200 OK\r\n\r\n"));
    drop(idle);
    let mut probe = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(healthz(&mut probe).await, "HTTP/1.1 200 OK");
    server.shutdown().await;
}

/// A server holding at most `cap` connections, none closed for silence within the test, and
/// silent ones accepted at once (the kernel's deferral off), so the server's own handling of
/// them is what is tested.
async fn start_capped(f: &Fixture, cap: usize) -> Running {
    let state = f.state.clone().with_limits(Limits {
        max_connections: Some(cap),
        defer_accept: Duration::ZERO,
        first_byte_timeout: Duration::from_secs(3600),
        header_timeout: Duration::from_secs(3600),
        ..Limits::default()
    });
    start(state).await
}

#[tokio::test(start_paused = true)]
async fn connections_beyond_the_cap_wait_for_a_slot() {
    let (cap, f) = (8, Fixture::new());
    let server = start_capped(&f, cap).await;
    let mut held = Vec::new();
    for _ in 0..cap {
        // Each has begun a request, so none is silent and none gives way.
        let mut busy = TcpStream::connect(server.addr).await.unwrap();
        busy.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(busy);
    }
    // One held connection ends: its slot goes to the waiting client.
    let last = held.pop().unwrap();
    answered_only_once_it_ends(server.addr, last, "cap").await;
    drop(held);
    server.shutdown().await;
}

/// A new connection may stay silent for the first-byte timeout, longer than the header
/// timeout; silent beyond it, it is closed without an answer.
#[tokio::test(start_paused = true)]
async fn a_silent_connection_waits_for_its_first_byte_longer_than_for_its_head() {
    let f = Fixture::new();
    let state = f.state.clone().with_limits(Limits {
        first_byte_timeout: Duration::from_secs(5),
        defer_accept: Duration::ZERO,
        header_timeout: Duration::from_secs(2),
        ..Limits::default()
    });
    let server = start(state).await;
    let mut patient = TcpStream::connect(server.addr).await.unwrap();
    let mut gone = TcpStream::connect(server.addr).await.unwrap();
    // Past the header timeout, within the first-byte one: still open, and answered.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(healthz(&mut patient).await, "HTTP/1.1 200 OK");
    let opened = tokio::time::Instant::now() - Duration::from_secs(4);
    assert!(until_closed(&mut gone).await.is_empty(), "no answer");
    let closed_after = opened.elapsed();
    assert!(
        closed_after >= Duration::from_secs(5) && closed_after < Duration::from_secs(6),
        "closed {closed_after:?} after opening"
    );
    server.shutdown().await;
}

/// Two active slots, taken by two clients that began a request head and stalled: a third
/// client's request waits until one of them goes, while the silent sockets beside them, which
/// hold no HTTP state, are all held and none is closed.
#[tokio::test(start_paused = true)]
async fn beyond_the_active_cap_a_request_waits_while_silent_sockets_stay_held() {
    let f = Fixture::new();
    let state = f.state.clone().with_limits(Limits {
        max_connections: Some(16),
        max_active: 2,
        defer_accept: Duration::ZERO,
        first_byte_timeout: Duration::from_secs(3600),
        header_timeout: Duration::from_secs(3600),
        ..Limits::default()
    });
    let server = start(state).await;
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let last = stalled.pop().unwrap();
    answered_only_once_it_ends(server.addr, last, "active cap").await;
    assert_eq!(
        ended(&silent),
        0,
        "silent sockets closed while requests waited"
    );
    drop((silent, stalled));
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn at_the_cap_a_new_client_takes_the_place_of_the_longest_silent_connection() {
    let (cap, f) = (8, Fixture::new());
    let server = start_capped(&f, cap).await;
    let mut silent = Vec::new();
    for _ in 0..cap {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Two new clients at the cap, each served at once in place of a silent connection (after
    // the first, one more silent socket fills the cap again).
    let mut later = Vec::new();
    for _ in 0..2 {
        let mut probe = TcpStream::connect(server.addr).await.unwrap();
        assert_eq!(healthz(&mut probe).await, "HTTP/1.1 200 OK");
        later.push(TcpStream::connect(server.addr).await.unwrap());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The two silent longest were reset (no TIME_WAIT kept for them); the others are still open.
    let mut closed = Vec::new();
    for (i, s) in silent.iter_mut().enumerate() {
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await;
        match read {
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => closed.push(i),
            Ok(other) => panic!("silent connection {i}: {other:?}, not a reset"),
            Err(_) => {} // still open
        }
    }
    assert_eq!(
        closed,
        [0, 1],
        "the oldest silent connections give way, oldest first"
    );
    drop((silent, later));
    server.shutdown().await;
}

/// At the cap, silent connections give way at a paced rate: 100 silent newcomers against a
/// full cap of 8 silent connections close at most a window's worth (10 ms) of evictions at a
/// time, and all have had their turn soon after.
#[tokio::test(start_paused = true)]
async fn at_the_cap_silent_connections_give_way_at_a_paced_rate() {
    let (cap, f) = (8, Fixture::new());
    let server = start_capped(&f, cap).await;
    let start = tokio::time::Instant::now();
    let mut all = Vec::new();
    for _ in 0..cap + 100 {
        all.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(1)).await;
    let windows = start.elapsed().as_millis() as usize / 10 + 1;
    let per_window = shengbo::server::EVICTIONS_PER_S as usize / 100;
    let early = ended(&all);
    assert!(
        (1..=per_window * windows).contains(&early),
        "{early} closed within {windows} windows of {per_window}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ended(&all), 100, "every newcomer had its turn");
    drop(all);
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_head_started_in_time_is_served_and_one_never_finished_is_closed() {
    let f = Fixture::new();
    let state = f.state.clone().with_limits(Limits {
        first_byte_timeout: Duration::from_secs(2),
        header_timeout: Duration::from_secs(2),
        ..Limits::default()
    });
    let server = start(state).await;
    // Silent for most of the first-byte timeout, then a whole request: answered.
    let mut late = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(healthz(&mut late).await, "HTTP/1.1 200 OK");
    // A head begun but never finished: closed without an answer.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let rest = until_closed(&mut slow).await;
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "{rest:?}"
    );
    // The header timeout counts from the first byte (a connection is only its socket until
    // then): silent for most of the first-byte timeout, then the head over another 1.5 s.
    let mut later = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    later.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    // 3 s after opening, 1.5 s after the first byte: the rest of the head.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    later
        .write_all(b"host: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    later.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
    server.shutdown().await;
}

/// `serve` started under a soft open-file limit of 200 (a shell's `ulimit -Sn`, as a service
/// manager's default of 1,024 would be for more clients) raises it as far as the hard limit
/// lets it, so 300 silent sockets keep no health probe out. Held at 200, its accepts failed with
/// "Too many open files" and the probe waited in the listen backlog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_raises_a_low_open_file_limit_so_silent_sockets_keep_no_probe_out() {
    // This process holds the 300 client ends.
    shengbo::server::fit_connections(Some(1));
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -Sn 200 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_shengbo"))
        .args(["serve", "--no-schedule", "--listen", "127.0.0.1:0"])
        .args(["--max-connections", "1000", "--header-timeout-s", "120"])
        // Silent sockets accepted at once, so they take the process's descriptors.
        .args(["--defer-accept-s", "0"])
        .env("SHENGBO_ROOT", env!("CARGO_MANIFEST_DIR"))
        .env("SHENGBO_DATA_DIR", dir.path())
        .env("LANG", "en_US.UTF-8")
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("serve says where it listens");
        if let Some(url) = line.strip_prefix("listening on http://") {
            break url.to_string();
        }
    };
    // Up first (a debug build on a loaded machine takes seconds to plan before it answers), so
    // the 5 s below are the probe's beside the silent sockets, not the start's.
    let mut first = TcpStream::connect(&addr).await.unwrap();
    let up = tokio::time::timeout(Duration::from_secs(120), healthz(&mut first)).await;
    assert_eq!(up.as_deref().ok(), Some("HTTP/1.1 200 OK"), "serve answers");
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(TcpStream::connect(&addr).await.unwrap());
    }
    let mut probe = TcpStream::connect(&addr).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), healthz(&mut probe)).await;
    assert_eq!(
        answer.as_deref().ok(),
        Some("HTTP/1.1 200 OK"),
        "a health probe beside 300 silent sockets"
    );
    // And the server holds them all: none was closed to make room.
    assert_eq!(ended(&silent), 0, "silent sockets closed to make room");
    drop(silent);
    crate::push::serve::stop(child).await;
}
