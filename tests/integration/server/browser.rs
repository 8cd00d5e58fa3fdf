//! The coverage page in headless chromium, served on loopback: the DOM it builds, the fonts
//! that draw its Chinese and Yi text (read back from the PDF chromium prints), and the page
//! after `shengbo demo`, screenshotted in Chinese and English (copied to the folder
//! `SHENGBO_SCREENSHOTS` names, as the README's images are made).
//!
//! Chromium and a Chinese font are required, not optional: CI's `.ci/run` installs `chromium`
//! and `fonts-noto-cjk` (Yi comes with the page); without them these tests fail saying so.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};

use shengbo::server::{AppState, records};

use super::coverage::fixture_with_ledger;
use super::pdf::fonts_by_char;
use super::{Fixture, get};
use crate::util;

const INSTALL: &str =
    "apt-get install --no-install-recommends chromium fonts-noto-cjk (as .ci/run does)";

fn chromium() -> &'static str {
    ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .unwrap_or_else(|| panic!("the coverage page is tested in chromium: {INSTALL}"))
}

/// The app on a loopback port until [`Served::stop`].
struct Served {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve(state: AppState) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(shengbo::server::serve_http(listener, state, async {
        let _ = stopped.await;
    }));
    Served { addr, stop, task }
}

impl Served {
    fn url(&self, query: &str) -> String {
        format!("http://{}/coverage?{query}", self.addr)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Headless chromium on `url` with `args` (`--dump-dom`, `--print-to-pdf=…`, …), in a
/// throwaway profile; `fontconfig` replaces the system's font configuration.
async fn browse(url: &str, args: &[String], fontconfig: Option<&Path>) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(chromium());
    cmd.args(["--headless", "--no-sandbox", "--disable-gpu"])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
        ])
        .args(["--disable-sync", "--no-first-run", "--hide-scrollbars"])
        .args(["--no-pdf-header-footer", "--print-to-pdf-no-header"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url);
    if let Some(conf) = fontconfig {
        cmd.env("FONTCONFIG_FILE", conf);
    }
    let out = cmd.output().await.unwrap();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The page printed to PDF, and which fonts drew each character.
async fn printed(url: &str, fontconfig: Option<&Path>) -> BTreeMap<char, BTreeSet<String>> {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("page.pdf");
    browse(
        url,
        &[format!("--print-to-pdf={}", pdf.display())],
        fontconfig,
    )
    .await;
    fonts_by_char(&std::fs::read(&pdf).unwrap())
}

/// PostScript names (lower case, letters only) of the faces the page names for Chinese and Yi.
const CHINESE: [&str; 6] = [
    "pingfang",
    "microsoftyahei",
    "notosanscjk",
    "notosanssc",
    "sourcehansans",
    "wenquanyi",
];
const YI: [&str; 3] = ["nuosusil", "notosansyi", "microsoftyibaiti"];

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

fn is_yi(c: char) -> bool {
    ('\u{a000}'..='\u{a4cf}').contains(&c)
}

/// What is wrong: a character of `texts` the PDF does not draw, or a Han or Yi character drawn
/// by a face other than those the page names for its script (the box of a fallback face).
fn problems(fonts: &BTreeMap<char, BTreeSet<String>>, texts: &[&str]) -> Vec<String> {
    let fits = |font: &str, c: char| {
        let key: String = font
            .chars()
            .filter(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_lowercase();
        let families: &[&str] = if is_yi(c) { &YI } else { &CHINESE };
        families.iter().any(|f| key.starts_with(f))
    };
    let mut out = Vec::new();
    for text in texts {
        for c in text.chars().filter(|c| !fonts.contains_key(c)) {
            out.push(format!("`{c}` of `{text}` is drawn by no font"));
        }
    }
    for (&c, names) in fonts.iter().filter(|(c, _)| is_han(**c) || is_yi(**c)) {
        for name in names.iter().filter(|n| !fits(n, c)) {
            out.push(format!(
                "`{c}` drawn with {name}, not a face the page names for it"
            ));
        }
    }
    out
}

fn assert_real_fonts(fonts: &BTreeMap<char, BTreeSet<String>>, texts: &[&str]) {
    let found = problems(fonts, texts);
    assert!(
        found.is_empty(),
        "Chinese or Yi text drawn as boxes: {found:?}\nfonts used: {:?}\ninstall: {INSTALL}",
        fonts.values().flatten().collect::<BTreeSet<_>>()
    );
}

const PERIOD: &str = "from=2026-11-01&to=2026-12-01";

#[tokio::test]
async fn coverage_page_renders_in_headless_chromium() {
    let (f, _towns) = fixture_with_ledger();
    let served = serve(f.state.clone()).await;
    let url = served.url(&format!("{PERIOD}&lang=zh&token={}", f.coordinator));
    let out = browse(&url, &["--dump-dom".to_string()], None).await;
    served.stop().await;
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("反诈宣传覆盖情况"), "{dom}");
    assert!(
        dom.contains("<svg") && dom.contains("class=\"reached\""),
        "the chart is in the DOM"
    );
    assert!(dom.contains("昭觉县") && dom.contains("ꆈꌠ"));
    assert!(dom.contains("air-by passed &lt;before&gt; delivery"));
}

#[tokio::test]
async fn chinese_and_yi_text_is_drawn_with_real_fonts_in_both_languages() {
    let (f, _towns) = fixture_with_ledger();
    let served = serve(f.state.clone()).await;
    for lang in ["zh", "en"] {
        let url = served.url(&format!("{PERIOD}&lang={lang}&token={}", f.coordinator));
        let fonts = printed(&url, None).await;
        let mut texts = vec!["昭觉县", "ꆈꌠ"];
        if lang == "zh" {
            texts.push("反诈宣传覆盖情况");
        }
        assert_real_fonts(&fonts, &texts);
    }
    served.stop().await;
}

/// Without system fonts (a font configuration that knows only DejaVu) the same check finds
/// the Chinese boxes, so it can fail; the Yi text is still drawn, by the page's own face.
#[tokio::test]
async fn without_system_fonts_chinese_is_boxes_and_yi_comes_from_the_pages_own_face() {
    let dejavu = Path::new("/usr/share/fonts/truetype/dejavu");
    assert!(dejavu.is_dir(), "chromium's Debian package brings DejaVu");
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = conf_dir.path().join("fonts.conf");
    std::fs::write(
        &conf,
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE fontconfig SYSTEM \"fonts.dtd\"><fontconfig>\
             <dir>{}</dir><cachedir>{}</cachedir></fontconfig>",
            dejavu.display(),
            conf_dir.path().join("cache").display()
        ),
    )
    .unwrap();
    let (f, _towns) = fixture_with_ledger();
    let served = serve(f.state.clone()).await;
    let url = served.url(&format!("{PERIOD}&lang=zh&token={}", f.coordinator));
    let fonts = printed(&url, Some(&conf)).await;
    served.stop().await;
    let found = problems(&fonts, &["昭觉县"]);
    assert!(
        found.iter().any(|p| p.contains('昭')),
        "a box for `昭` went unnoticed: {found:?} {fonts:?}"
    );
    assert_real_fonts(&fonts, &["ꆈꌠ"]);
    assert!(
        fonts[&'ꆈ'].iter().all(|n| n.starts_with("NotoSansYi")),
        "{fonts:?}"
    );
}

/// `shengbo demo` in a copy of the repository's project: its runs lie ahead of the clock.
fn demo_ledger() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    util::copy_dir(&repo.join("schedules"), &dir.path().join("schedules"));
    util::copy_dir(&repo.join("audio"), &dir.path().join("audio"));
    let out = util::run_in(
        dir.path(),
        &[
            "demo",
            "--slots",
            "1",
            "--speed",
            "600",
            "--play-fail-rate",
            "0.05",
            "--coverage",
            "0.85",
        ],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}\n{}",
        util::stdout(&out),
        util::stderr(&out)
    );
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_demo_the_page_without_a_period_shows_its_runs_in_both_languages() {
    let project = tokio::task::spawn_blocking(demo_ledger).await.unwrap();
    let mut f = Fixture::new();
    let ledger = project.path().join(".shengbo/ledger.sqlite");
    f.state = f
        .state
        .clone()
        .with_records(records::open(&ledger).unwrap());
    let page = get(&f.state, "/coverage?lang=zh", Some(&f.coordinator), &[])
        .await
        .text();
    assert!(page.contains("未指定期间：显示截至最近一次播发"), "{page}");
    assert!(
        !page.contains("共 0 次播发") && !page.contains("id=\"empty\""),
        "{page}"
    );
    assert_eq!(page.matches("<g class=\"bar\"").count(), 17, "every county");
    let served = serve(f.state.clone()).await;
    let shots = tempfile::tempdir().unwrap();
    for lang in ["zh", "en"] {
        let png = shots.path().join(format!("coverage-{lang}.png"));
        let url = served.url(&format!("lang={lang}&token={}", f.coordinator));
        browse(
            &url,
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=940,1160".to_string(),
            ],
            None,
        )
        .await;
        let bytes = std::fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{lang}: a PNG");
        if let Some(dir) = std::env::var_os("SHENGBO_SCREENSHOTS") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(&png, Path::new(&dir).join(png.file_name().unwrap())).unwrap();
        }
    }
    served.stop().await;
}
