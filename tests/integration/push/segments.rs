//! A programme of two messages × two repeats pushed through a capturing proxy in front of the
//! simulator: one EBM per airing, play windows in the pair order (Yi, Mandarin, next message,
//! next repeat) without overlap, each pair naming the other, each carrying its own clip.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use shengbo::ebd::package::read_package;
use shengbo::ebd::{Body, EbdProfile, Ebm, Limits, parse_ebd};

use super::*;

const MESSAGES: [&str; 2] = ["police-impersonation", "fake-rights-agents"];
const REPEATS: usize = 2;
const GAP_S: i64 = 1;

/// Request bodies with their content types, in arrival order.
type Captured = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
/// A broadcast EBM and its package's media files by name.
type Sent = (Ebm, std::collections::BTreeMap<String, Vec<u8>>);

#[derive(Clone)]
struct Proxy {
    sim: String,
    client: reqwest::Client,
    bodies: Captured,
}

/// Keep every request body (with its content type) and pass it on to the simulator unchanged.
async fn forward(
    State(p): State<Proxy>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Bytes) {
    let kind = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    p.bodies.lock().unwrap().push((kind.clone(), body.to_vec()));
    let resp = p
        .client
        .post(format!("{}{}", p.sim, uri.path()))
        .header("content-type", kind)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
    (status, resp.bytes().await.unwrap())
}

async fn start_proxy(sim: &str) -> (String, Proxy) {
    let proxy = Proxy {
        sim: sim.to_string(),
        client: shengbo::transport::http_client().unwrap(),
        bodies: Arc::default(),
    };
    let app = axum::Router::new()
        .fallback(axum::routing::post(forward))
        .with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, proxy)
}

/// The tar inside a `multipart/form-data` body (its one part).
fn tar_of(content_type: &str, body: &[u8]) -> Vec<u8> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .unwrap()
        .trim_matches('"');
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(body, b"\r\n\r\n").unwrap() + 4;
    let end = start + find(&body[start..], format!("\r\n--{boundary}").as_bytes()).unwrap();
    body[start..end].to_vec()
}

/// Every broadcast EBM the proxy saw, with its package's media files.
fn broadcasts(bodies: &[(String, Vec<u8>)]) -> Vec<Sent> {
    let format = EbdProfile::default().id_format;
    let mut out = Vec::new();
    for (kind, body) in bodies {
        let raw = read_package(&tar_of(kind, body)[..], &Limits::default()).unwrap();
        let ebd = parse_ebd(std::str::from_utf8(&raw.ebdb).unwrap(), format).unwrap();
        if let Body::Ebm(ebm) = ebd.body
            && ebm.content.is_some()
            && !out.iter().any(|(e, _): &Sent| e.id == ebm.id)
        {
            out.push((ebm, raw.media));
        }
    }
    out.sort_by_key(|(e, _)| e.basic.start_time);
    out
}

/// The drill, hourly at `at`'s minute: its programme (over two minutes) would overlap itself
/// if it fired every minute, and a programme never starts while another plays.
fn campaign(at: DateTime<Utc>) -> String {
    let messages: Vec<String> = MESSAGES.iter().map(|m| format!("\"{m}\"")).collect();
    format!(
        "id = \"drill\"\nname = \"drill\"\nmessages = [{}]\nrotation = \"all\"\n\
         order = [\"ii\", \"zh\"]\ngap_s = {GAP_S}.0\nrepeats = {REPEATS}\nquiet_hours = []\n\
         [targets]\ncounties = [\"昭觉县\"]\n[[slots]]\nlabel = \"hourly\"\n\
         cron = \"{} * * * *\"\n",
        messages.join(", "),
        at.minute()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_airing_is_one_ebm_in_pair_order_without_overlap() {
    let sim = start_sim(Faults::default(), 120.0).await;
    let (proxy_url, proxy) = start_proxy(&sim.url).await;
    let at = this_minute();
    let proj = project(&campaign(at), None);
    let out = run_once(proj.path(), &proxy_url, at, &[]).await;
    util::assert_exit(&out, 0);

    let sent = broadcasts(&proxy.bodies.lock().unwrap());
    let want: Vec<String> = (0..REPEATS)
        .flat_map(|_| MESSAGES.iter())
        .flat_map(|m| [format!("{m}-ii.wav"), format!("{m}-zh.wav")])
        .collect();
    let got: Vec<String> = sent
        .iter()
        .map(|(e, media)| {
            let aux = &e.content.as_ref().unwrap().auxiliary;
            assert_eq!(aux.len(), 1, "one clip per EBM");
            assert_eq!(media.keys().collect::<Vec<_>>(), [&aux[0].desc]);
            aux[0].desc.clone()
        })
        .collect();
    assert_eq!(
        got, want,
        "Yi then Mandarin, message by message, repeat by repeat"
    );
    let langs: Vec<&str> = sent
        .iter()
        .map(|(e, _)| e.content.as_ref().unwrap().language_code.as_str())
        .collect();
    assert!(
        langs.chunks(2).all(|p| p[0] != p[1] && p[0] == langs[0]),
        "{langs:?}"
    );
    for w in sent.windows(2) {
        let (a, b) = (&w[0].0.basic, &w[1].0.basic);
        assert!(a.start_time < a.end_time);
        assert_eq!(
            b.start_time - a.end_time,
            chrono::TimeDelta::seconds(GAP_S),
            "gap, no overlap"
        );
    }
    for pair in sent.chunks(2) {
        let (yi, zh) = (&pair[0].0, &pair[1].0);
        assert_eq!(yi.related.as_ref(), Some(&zh.id));
        assert_eq!(zh.related.as_ref(), Some(&yi.id));
    }
    // A repeat airs the same clip bytes; the two languages' clips differ.
    let n = sent.len() / REPEATS;
    for (first, again) in sent[..n].iter().zip(&sent[n..]) {
        assert_eq!(first.1, again.1);
    }
    assert_ne!(sent[0].1.values().next(), sent[1].1.values().next());

    let ledger = ledger(proj.path());
    let run = ledger
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)
        .unwrap()[0]
        .id;
    let deliveries = ledger.deliveries_of_run(run).unwrap();
    let mut segments: Vec<u32> = deliveries.iter().map(|d| d.plan.segment).collect();
    segments.sort_unstable();
    assert_eq!(segments, (0..want.len() as u32).collect::<Vec<_>>());
    assert!(
        deliveries.iter().all(|d| d.state == DeliveryState::Played),
        "{deliveries:?}"
    );
    assert_eq!(sim.state.stats().messages, want.len() as u64);
}
