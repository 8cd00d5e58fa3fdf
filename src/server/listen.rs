//! The accept loop. Before it, on Linux, the kernel keeps connections that have sent nothing
//! back from the server altogether ([`Limits::defer_accept`], see [`defer_accept`]): they take
//! no descriptor until their first bytes arrive. What is accepted is held in two tiers:
//! - [`serve_http`] holds at most [`Limits::max_connections`] connections at once (a
//!   semaphore): by default as many as the process's open-file limit, raised as far as it goes,
//!   holds after a reserve, at most 65,536 ([`fit_connections`]). A connection that has sent
//!   nothing yet is only its socket, a timer and a small task (~1.4 KB), so thousands of idle
//!   sockets are held rather than closed, and no client is made to reconnect. At the cap, a new
//!   client takes the place of the connection that has been silent longest (see [`Silent`]), as
//!   nginx reuses idle connections, so sockets that never send cannot keep a pull or a health
//!   probe out; when every held connection has sent something, the new one waits for a slot.
//!   Evictions are paced ([`EVICTIONS_PER_S`]), so clients that reopen whatever is closed
//!   cannot turn them into a churn that takes the CPU.
//! - Of those, at most [`Limits::max_active`] hold HTTP state at once (hyper's connection and its
//!   buffers, ~16 KiB): one whose first byte arrives while all are taken waits for one, within
//!   its header timeout. So many clients that each send a byte and stall cost bounded memory.
//!
//! It also closes any connection that has sent nothing within [`Limits::first_byte_timeout`] of
//! opening (60 s by default, as nginx's `client_header_timeout`: a silent connection is cheap and
//! gives way at the cap, and clients that reopen what is closed reconnect less often), or has not
//! completed a request head within [`Limits::header_timeout`] of its first byte — and again after
//! each answer on a kept-alive connection, so that bound is also the idle keep-alive timeout. On
//! shutdown the listener closes, idle connections are closed, and requests in flight finish
//! within the drain time.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};

use super::state::{AppState, Limits};

/// Serve the app on `listener` until `shutdown` completes, then let in-flight requests finish
/// (each is bounded by the request timeout), at most the request timeout and a second. Without a
/// configured base URL, audio links use `http://` and the listener's address.
pub async fn serve_http(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let base = state.base_url_or(|| format!("http://{local}"));
    if local.ip().is_unspecified() && base.ends_with(&local.to_string()) {
        tracing::warn!(%base, "listening on every address without `--base-url`: audio links name an unreachable host");
    }
    let limits = state.limits().clone();
    if let Err(err) = defer_accept(&listener, limits.defer_accept) {
        tracing::warn!(%err, "silent connections are accepted at once: the kernel would not defer them");
    }
    let cap = fit_connections(limits.max_connections);
    let drain = limits.request_timeout + Duration::from_secs(1);
    let app = super::app(state);
    let slots = Arc::new(Semaphore::new(cap));
    let active = Arc::new(Semaphore::new(limits.max_active.clamp(1, cap)));
    let silent = Silent::new(cap);
    let (stop_tx, stop_rx) = watch::channel(false);
    let spawn = |stream: TcpStream, slot| {
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            app.clone(),
            (limits.first_byte_timeout, limits.header_timeout),
            stop_rx.clone(),
            (slot, silent.enter(), Arc::clone(&active)),
        ));
    };
    let mut pace = Pace::new(tokio::time::Instant::now());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Out of file descriptors or a connection reset before accept: not fatal.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                // At the cap: the longest-silent connection makes room, if there is one, at most
                // EVICTIONS_PER_S a second (a slot freed meanwhile is taken instead).
                if let Some(until) = pace.wait() {
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep_until(until) => pace.next(until),
                        slot = slots.clone().acquire_owned() => {
                            spawn(stream, slot.expect("the semaphore is never closed"));
                            continue;
                        }
                    }
                }
                pace.used += 1;
                if !silent.evict_oldest() {
                    tracing::debug!("at the connection cap with every connection busy: waiting");
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                }
            }
        };
        spawn(stream, slot);
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    if tokio::time::timeout(drain, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            drain_s = drain.as_secs(),
            "in-flight requests did not drain in time"
        );
    }
    Ok(())
}

/// Connections the kernel queues for `accept`, asked as high as it goes: the kernel lowers it to
/// `net.core.somaxconn` (4,096 by default), so the host's setting decides. tokio's
/// `TcpListener::bind` asks for 128, as std's: a burst of clients beyond that (stations polling
/// at the top of the hour, a reconnecting crowd) had their handshakes dropped and retried a
/// second or more later. It also bounds the silent connections the kernel holds back under
/// [`Limits::defer_accept`]: a host that raises `somaxconn` keeps that many out of the process.
const BACKLOG: u32 = 65_535;

/// A listener on `addr` (address reuse on, as `TcpListener::bind` sets it) with a listen queue of
/// [`BACKLOG`].
pub async fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Have the kernel hold a new connection on `listener` until its first bytes arrive, for up to
/// `wait` (Linux's `TCP_DEFER_ACCEPT`, rounded up by the kernel to its SYN-ACK retransmission
/// steps; zero turns it off). Clients that open sockets and send nothing then cost the server no
/// descriptor, no task and no place under the connection cap: tens of thousands of them beyond
/// the open-file limit no longer take one another's places in an eviction churn. The kernel keeps
/// them in the listen queue's handshake half; beyond its length ([`BACKLOG`] as `somaxconn`
/// lowers it) it answers with SYN cookies, and those are accepted silent, as without the option.
/// Not on other systems.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn defer_accept(listener: &TcpListener, wait: Duration) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let secs = libc::c_int::try_from(wait.as_secs()).unwrap_or(libc::c_int::MAX);
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>())
        .expect("an int's size fits socklen_t");
    // SAFETY: the descriptor is the listener's, open for the whole call; the option's value is
    // a live `c_int` on this stack of exactly `len` bytes, which `setsockopt` only reads. (No
    // safe wrapper offers this option: std's `set_deferaccept` is unstable, and rustix, socket2
    // and nix lack it.)
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            std::ptr::from_ref(&secs).cast(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn defer_accept(_: &TcpListener, _: Duration) -> std::io::Result<()> {
    Ok(())
}

/// At the connection cap, the most connections a second that give way to new clients. Clients
/// that reopen at once whatever is closed (tens of thousands of idle sockets beyond what the
/// open-file limit holds) otherwise make every eviction a reconnect that evicts the next, a churn
/// as fast as the CPU allows; paced, the rest wait in the listen queue, and a new client there
/// is accepted within its place in the queue ÷ this many seconds.
pub const EVICTIONS_PER_S: u32 = 4000;
/// Evictions are counted in windows of this length (tokio's timers tick once a millisecond, so a
/// gap of 250 µs between single evictions could not be kept).
const PACE_WINDOW: Duration = Duration::from_millis(10);

/// Evictions in the current [`PACE_WINDOW`].
#[derive(Debug)]
struct Pace {
    window: tokio::time::Instant,
    used: u32,
}

impl Pace {
    const PER_WINDOW: u32 = EVICTIONS_PER_S / (1000 / PACE_WINDOW.as_millis() as u32);

    fn new(now: tokio::time::Instant) -> Pace {
        Pace {
            window: now,
            used: 0,
        }
    }

    /// When the next eviction may come, if not now (a new window starts when the last has ended).
    fn wait(&mut self) -> Option<tokio::time::Instant> {
        let now = tokio::time::Instant::now();
        if now >= self.window + PACE_WINDOW {
            self.next(now);
        }
        (self.used >= Self::PER_WINDOW).then_some(self.window + PACE_WINDOW)
    }

    fn next(&mut self, at: tokio::time::Instant) {
        self.window = at;
        self.used = 0;
    }
}

/// Descriptors kept for everything but client connections: the listener, the ledger, audio
/// files being sent, pushes and state requests going out.
const FD_RESERVE: u64 = 256;

/// The default connection cap where the open-file limit holds more.
pub const DEFAULT_MAX_CONNECTIONS: usize = 65_536;

/// The connection cap that fits this process's file descriptors. The soft `RLIMIT_NOFILE`
/// (often 1,024) is first raised to the hard limit (at most 2^20), as servers do. The cap is then
/// `want`, lowered with a warning to what the limit leaves after [`FD_RESERVE`]; or, without
/// one, what the limit leaves, at most [`DEFAULT_MAX_CONNECTIONS`]. A cap above the limit would
/// never be reached: accepts would fail with "Too many open files" while silent connections held
/// every descriptor, and no new client, health probe included, would get in.
pub fn fit_connections(want: Option<usize>) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let Some(mut soft) = limit.current else {
        // Unlimited: at most 2^20, as when the limit is raised.
        return want.unwrap_or(DEFAULT_MAX_CONNECTIONS).clamp(1, 1 << 20);
    };
    let most = limit.maximum.unwrap_or(u64::MAX).min(1 << 20);
    if most > soft {
        let raised = Rlimit {
            current: Some(most),
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => soft = most,
            Err(err) => tracing::debug!(%err, soft, "open-file limit not raised"),
        }
    }
    let fits = usize::try_from(soft.saturating_sub(FD_RESERVE))
        .unwrap_or(usize::MAX)
        .max(1);
    let Some(want) = want.map(|w| w.max(1)) else {
        return fits.min(DEFAULT_MAX_CONNECTIONS);
    };
    if want > fits {
        tracing::warn!(
            max_connections = want,
            open_file_limit = soft,
            held = fits,
            "the open-file limit holds fewer connections than asked; raise it (ulimit -n, systemd LimitNOFILE) to hold more"
        );
        return fits;
    }
    want
}

/// One HTTP/1.1 connection, holding its `slot` until it ends. Until the client sends its first
/// byte the connection is only its socket, a timer and this small task: hyper's state and its
/// read and write buffers (8 KiB each) are allocated, boxed, once a peek has seen a byte and an
/// `active` permit is free, so idle sockets that never send cost little memory and no parsing.
/// (Not `readable()`: a socket just accepted is reported readable before anything has arrived.)
async fn connection(
    stream: TcpStream,
    app: axum::Router,
    (first_byte_timeout, header_timeout): (Duration, Duration),
    mut stop: watch::Receiver<bool>,
    (_slot, evicted, active): (OwnedSemaphorePermit, oneshot::Receiver<()>, Arc<Semaphore>),
) {
    // A peek, not `readable()`: it waits for a byte (or the end) that is really there.
    let mut byte = [0u8; 1];
    let first = tokio::select! {
        first = tokio::time::timeout(first_byte_timeout, stream.peek(&mut byte)) => first,
        () = stopped(&mut stop) => return,
        Ok(()) = evicted => {
            // Silent longest when a new client came at the cap: reset, not closed, so neither
            // end keeps it in TIME_WAIT (as nginx's `reset_timedout_connection`).
            let _ = stream.set_zero_linger();
            return;
        }
    };
    if !matches!(first, Ok(Ok(1))) {
        return; // silent for the whole first-byte timeout, closed, or failed: close it
    }
    // HTTP state only within the active cap; closed if none frees within the header timeout.
    let _active = tokio::select! {
        permit = tokio::time::timeout(header_timeout, active.acquire_owned()) => match permit {
            Ok(Ok(permit)) => permit,
            _ => return,
        },
        () = stopped(&mut stop) => return,
    };
    Box::pin(http1(stream, app, header_timeout, stop)).await;
}

/// hyper's HTTP/1.1 on `stream`, closing gracefully when the loop says stop.
async fn http1(
    stream: TcpStream,
    app: axum::Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let service = TowerToHyperService::new(app);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(err) = ended {
        tracing::debug!(%err, "connection ended");
    }
}

/// The connections that have sent nothing yet, oldest first: each holds the receiving end of
/// its entry, dropped once it has sent a byte (or ended), so an entry whose receiver is gone is
/// skipped, and swept when the list outgrows twice the cap.
#[derive(Debug)]
struct Silent {
    waiting: Arc<std::sync::Mutex<std::collections::VecDeque<oneshot::Sender<()>>>>,
    sweep_at: usize,
}

impl Silent {
    fn new(cap: usize) -> Silent {
        Silent {
            waiting: Arc::default(),
            sweep_at: cap.saturating_mul(2).max(64),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<oneshot::Sender<()>>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new connection's entry.
    fn enter(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let mut waiting = self.lock();
        if waiting.len() >= self.sweep_at {
            waiting.retain(|tx| !tx.is_closed());
        }
        waiting.push_back(tx);
        rx
    }

    /// Close the connection silent longest; false when none is.
    fn evict_oldest(&self) -> bool {
        let mut waiting = self.lock();
        while let Some(tx) = waiting.pop_front() {
            if tx.send(()).is_ok() {
                return true;
            }
        }
        false
    }
}

/// When the loop says stop (or is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The edge's limits as `serve` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct EdgeArgs {
    /// Most connections held at once, idle ones included (default: as many as the open-file
    /// limit, raised to the hard one at start, holds after 256 for the server's own files, at
    /// most 65,536; a larger N is lowered to that, with a warning); at the cap a new client takes
    /// the place of the longest-silent connection, or waits in the listen backlog.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: Option<u32>,
    /// Most connections with a request under way or kept alive between requests at once (each
    /// holds ~16 KiB of HTTP buffers; a connection that has sent nothing holds none): one that
    /// starts a request while all are taken waits for one, within its header timeout.
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_active: u32,
    /// Seconds the kernel keeps a new connection that has sent nothing away from the server
    /// (Linux's TCP_DEFER_ACCEPT, as nginx's `listen … deferred`): until its first bytes arrive
    /// it takes no descriptor and no place under the cap; past this time it is accepted silent.
    /// 0: off.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub defer_accept_s: u64,
    /// Seconds an accepted connection may stay silent before its first byte (at the connection
    /// cap the longest-silent one gives way to a new client sooner).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub first_byte_timeout_s: u64,
    /// Seconds a connection may take to complete a request head from its first byte, or to
    /// start the next one after an answer (so also the idle keep-alive timeout).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_s: u64,
}

impl EdgeArgs {
    /// The default limits with these flags in place.
    pub fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections.map(|n| n as usize),
            max_active: self.max_active as usize,
            defer_accept: Duration::from_secs(self.defer_accept_s),
            first_byte_timeout: Duration::from_secs(self.first_byte_timeout_s),
            header_timeout: Duration::from_secs(self.header_timeout_s),
            ..Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_the_open_file_limit_raised_as_far_as_it_goes() {
        use rustix::process::{Resource, getrlimit};
        assert_eq!(fit_connections(Some(10)), 10, "a small cap is kept");
        let fits = fit_connections(Some(usize::MAX));
        assert_eq!(
            fit_connections(None),
            fits.min(DEFAULT_MAX_CONNECTIONS),
            "by default, what the limit holds"
        );
        let limit = getrlimit(Resource::Nofile);
        match limit.current {
            // The soft limit now stands at the hard one (or 2^20), and the cap leaves the reserve.
            Some(soft) => {
                assert_eq!(soft, limit.maximum.unwrap_or(u64::MAX).min(1 << 20));
                assert_eq!(fits as u64, soft.saturating_sub(FD_RESERVE).max(1));
            }
            None => assert_eq!(fits, 1 << 20, "unlimited"),
        }
    }
}
