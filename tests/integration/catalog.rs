//! Integration tests: catalog — `shengbo catalog` on generated audio covering every gate
//! reason, the repo's own `audio/`, and the probe cache. Needs `ffmpeg` for MP3/OGG/FLAC/M4A.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{run_in, run_in_default_lang, shengbo, stderr, stdout};

const RATE: u32 = 16_000;

/// A speech-like test signal: 0.25 s "syllables" whose pitch and loudness follow `seed`,
/// with short pauses between them.
fn speechy(seed: u32, secs: f64) -> impl Fn(f64) -> f64 {
    move |t| {
        let syl = (t / 0.25) as u32;
        let h = syl
            .wrapping_mul(2_654_435_761)
            .wrapping_add(seed.wrapping_mul(40_503))
            >> 7;
        let within = t % 0.25;
        if within > 0.2 || t > secs {
            return 0.0;
        }
        let freq = 150.0 + f64::from(h % 7) * 45.0;
        let amp = 0.1 + f64::from(h % 5) * 0.08;
        amp * (std::f64::consts::TAU * freq * t).sin() * (1.0 - (-within * 80.0).exp())
    }
}

fn write_wav(path: &Path, secs: f64, f: impl Fn(f64) -> f64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * f64::from(RATE)) as usize {
        let v = f(i as f64 / f64::from(RATE)).clamp(-1.0, 1.0);
        w.write_sample((v * 32767.0).round() as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Encode `wav` to `out` with ffmpeg (the codec follows the extension).
fn ffmpeg(wav: &Path, out: &Path) {
    let codec: &[&str] = match out.extension().and_then(|e| e.to_str()) {
        Some("ogg") => &["-c:a", "libvorbis"],
        Some("m4a") => &["-c:a", "aac", "-b:a", "64k"],
        Some("mp3") => &["-c:a", "libmp3lame", "-b:a", "64k"],
        _ => &[],
    };
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(wav)
        .args(codec)
        .arg(out)
        .status()
        .expect("ffmpeg must be installed");
    assert!(status.success(), "ffmpeg failed for {}", out.display());
}

/// A temporary project with messages added one by one.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        Project {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn msg_dir(&self, id: &str) -> PathBuf {
        let d = self.root().join("audio").join(id);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("message.toml"),
            format!(
                "title_zh = \"测试{id}\"\ntopic = \"test\"\n[text]\nii = \"ꆈꌠ\"\nzh = \"测试\"\n"
            ),
        )
        .unwrap();
        d
    }

    /// A clip in `lang` of message `id`: a speech-like WAV of `secs`, encoded to `ext`.
    fn clip(&self, id: &str, lang: &str, ext: &str, seed: u32, secs: f64) -> PathBuf {
        let d = self.msg_dir(id);
        let wav = self.root().join(format!("src-{id}-{lang}.wav"));
        write_wav(&wav, secs, speechy(seed, secs));
        let out = d.join(format!("{lang}.{ext}"));
        if ext == "wav" {
            std::fs::rename(&wav, &out).unwrap();
        } else {
            ffmpeg(&wav, &out);
            std::fs::remove_file(&wav).unwrap();
        }
        out
    }

    /// A good pair: different speech-like audio in each language.
    fn good_pair(&self, id: &str, ext: &str) {
        self.clip(id, "ii", ext, 1, 6.0);
        self.clip(id, "zh", ext, 2, 7.0);
    }

    fn catalog(&self) -> (i32, Vec<Value>, String) {
        let out = run_in(self.root(), &["catalog", "--json"]);
        let rows: Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("bad json ({e}): {}\n{}", stdout(&out), stderr(&out)));
        (
            out.status.code().unwrap(),
            rows.as_array().unwrap().clone(),
            stderr(&out),
        )
    }
}

fn row<'a>(rows: &'a [Value], message: &str, lang: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["message"] == message && r["lang"] == lang)
        .unwrap_or_else(|| panic!("no row {message}/{lang} in {rows:#?}"))
}

/// Assert the row's status and that its reason contains `reason`.
fn expect(rows: &[Value], message: &str, lang: &str, status: &str, reason: &str) {
    let r = row(rows, message, lang);
    assert_eq!(r["status"], status, "{message}/{lang}: {r:#}");
    let text = r["reason"].as_str().unwrap_or("");
    assert!(
        text.contains(reason),
        "{message}/{lang}: `{text}` lacks `{reason}`"
    );
}

#[test]
fn good_clips_in_every_format_pass() {
    let p = Project::new();
    for ext in ["mp3", "ogg", "flac", "wav", "m4a"] {
        p.good_pair(&format!("good-{ext}"), ext);
    }
    let (code, rows, err) = p.catalog();
    assert_eq!(code, 0, "{err}");
    assert_eq!(rows.len(), 10);
    for ext in ["mp3", "ogg", "flac", "wav", "m4a"] {
        let r = row(&rows, &format!("good-{ext}"), "zh");
        assert_eq!(r["status"], "ok", "{r:#}");
        assert_eq!(r["format"], ext);
        assert_eq!(r["sample_rate"], RATE);
        let d = r["duration_s"].as_f64().unwrap();
        // AAC in MP4 is not gapless: allow its priming frames.
        assert!((d - 7.0).abs() < 0.15, "{ext}: {d}");
        assert!(r["lufs"].as_f64().unwrap() < -10.0);
        assert_eq!(r["sha256"].as_str().unwrap().len(), 64);
    }
}

/// Overwrite `len` bytes every `every` bytes from `start` with pseudo-random garbage.
fn damage(path: &Path, start: usize, every: usize, len: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut x: u32 = 12345;
    let mut i = start;
    while i + len < bytes.len() - 1000 {
        for b in &mut bytes[i..i + len] {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = (x >> 16) as u8;
        }
        i += every;
    }
    std::fs::write(path, bytes).unwrap();
}

fn cut(path: &Path, keep_fraction: f64) {
    let bytes = std::fs::read(path).unwrap();
    let keep = (bytes.len() as f64 * keep_fraction) as usize;
    std::fs::write(path, &bytes[..keep]).unwrap();
}

#[test]
fn broken_files_are_rejected_with_reasons() {
    let p = Project::new();
    p.good_pair("garbage", "mp3");
    std::fs::write(
        p.root().join("audio/garbage/ii.mp3"),
        b"not audio, ".repeat(500),
    )
    .unwrap();
    for ext in ["mp3", "flac", "m4a", "wav"] {
        let id = format!("cut-{ext}");
        p.good_pair(&id, ext);
        cut(&p.root().join(format!("audio/{id}/ii.{ext}")), 0.5);
    }
    p.good_pair("corrupt", "mp3");
    damage(&p.root().join("audio/corrupt/zh.mp3"), 3000, 997, 40);
    p.good_pair("empty", "mp3");
    std::fs::write(p.root().join("audio/empty/zh.mp3"), b"").unwrap();
    let (code, rows, _) = p.catalog();
    assert_eq!(code, 1);
    expect(&rows, "garbage", "ii", "rejected", "cannot be decoded");
    expect(&rows, "garbage", "zh", "ok", "");
    for ext in ["mp3", "flac", "m4a", "wav"] {
        expect(&rows, &format!("cut-{ext}"), "ii", "rejected", "truncated");
    }
    expect(&rows, "corrupt", "zh", "rejected", "corrupt");
    expect(&rows, "empty", "zh", "rejected", "empty");
    assert!(row(&rows, "empty", "zh")["duration_s"].is_null());
}

#[test]
fn bad_audio_is_rejected_with_reasons() {
    let p = Project::new();
    let d = p.msg_dir("silent");
    write_wav(&d.join("ii.wav"), 8.0, |_| 0.0);
    p.clip("silent", "zh", "mp3", 2, 7.0);
    let d = p.msg_dir("clipped");
    write_wav(&d.join("ii.wav"), 6.0, |t| {
        4.0 * (std::f64::consts::TAU * 200.0 * t).sin()
    });
    p.clip("clipped", "zh", "mp3", 2, 7.0);
    let d = p.msg_dir("clipped-mp3");
    let wav = p.root().join("loud.wav");
    write_wav(&wav, 6.0, |t| {
        4.0 * (std::f64::consts::TAU * 200.0 * t).sin()
    });
    ffmpeg(&wav, &d.join("ii.mp3"));
    p.clip("clipped-mp3", "zh", "mp3", 2, 7.0);
    p.clip("too-long", "ii", "wav", 1, 125.0);
    p.clip("too-long", "zh", "wav", 2, 100.0);
    p.clip("too-short", "ii", "wav", 1, 0.5);
    p.clip("too-short", "zh", "wav", 2, 6.0);
    let (code, rows, _) = p.catalog();
    assert_eq!(code, 1);
    expect(&rows, "silent", "ii", "rejected", "mostly silent");
    expect(&rows, "clipped", "ii", "rejected", "clipped");
    expect(&rows, "clipped-mp3", "ii", "rejected", "clipped");
    expect(&rows, "too-long", "ii", "rejected", "too long: 125.0 s");
    expect(&rows, "too-long", "zh", "ok", "");
    expect(&rows, "too-short", "ii", "rejected", "too short");
}

#[test]
fn pairs_are_judged_together() {
    let p = Project::new();
    p.good_pair("same-file", "mp3");
    let d = p.root().join("audio/same-file");
    std::fs::copy(d.join("zh.mp3"), d.join("ii.mp3")).unwrap();
    // The same sound as WAV and FLAC (lossless), and as WAV and MP3 (lossy).
    let zh = p.clip("same-lossless", "zh", "wav", 5, 6.0);
    ffmpeg(&zh, &zh.with_file_name("ii.flac"));
    let zh = p.clip("same-lossy", "zh", "wav", 6, 6.0);
    ffmpeg(&zh, &zh.with_file_name("ii.mp3"));
    p.clip("missing", "zh", "mp3", 2, 6.0);
    p.clip("lengths", "ii", "mp3", 1, 3.0);
    p.clip("lengths", "zh", "mp3", 2, 9.0);
    p.clip("mixed", "ii", "ogg", 1, 6.0);
    p.clip("mixed", "zh", "m4a", 2, 6.5);
    let (code, rows, _) = p.catalog();
    assert_eq!(code, 1);
    for lang in ["ii", "zh"] {
        expect(&rows, "same-file", lang, "rejected", "same file");
        expect(&rows, "same-lossless", lang, "rejected", "same audio");
        expect(&rows, "same-lossy", lang, "rejected", "same audio");
        expect(&rows, "lengths", lang, "warning", "differ a lot");
        expect(&rows, "mixed", lang, "ok", "");
    }
    expect(
        &rows,
        "missing",
        "zh",
        "rejected",
        "no Nuosu Yi (`ii`) recording",
    );
}

#[test]
fn repo_audio_passes_the_gate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().unwrap();
    let out = shengbo()
        .args(["catalog", "--json"])
        .env("SHENGBO_ROOT", root)
        .env("SHENGBO_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(rows.len() >= 8, "{rows:#?}");
    for r in &rows {
        assert!(r["status"] == "ok" || r["status"] == "warning", "{r:#}");
        let d = r["duration_s"].as_f64().unwrap();
        assert!((8.0..=25.0).contains(&d), "{r:#}");
    }
    for id in [
        "police-impersonation",
        "illegal-fundraising",
        "fake-rights-agents",
        "bank-sim-card-rental",
    ] {
        for lang in ["ii", "zh"] {
            row(&rows, id, lang);
        }
    }
    let size: u64 = rows.iter().map(|r| r["size_bytes"].as_u64().unwrap()).sum();
    assert!(size < 3_000_000, "{size}");
}

#[test]
fn cache_is_used_and_invalidated_by_changes() {
    let p = Project::new();
    p.good_pair("cached", "wav");
    let (_, rows, _) = p.catalog();
    let sha = row(&rows, "cached", "zh")["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let entry = p
        .root()
        .join(".shengbo/cache/probe")
        .join(format!("{sha}.json"));
    assert!(entry.is_file(), "no cache entry at {}", entry.display());
    // Doctor the cached loudness: a second run that reports it read the cache, not the clip.
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    json["record"]["probe"]["lufs"] = Value::from(-33.25);
    std::fs::write(&entry, json.to_string()).unwrap();
    let (_, rows, _) = p.catalog();
    assert_eq!(row(&rows, "cached", "zh")["lufs"], -33.25);
    // A changed clip has a new hash: probed again, measured for real.
    p.clip("cached", "zh", "wav", 9, 7.0);
    let (_, rows, _) = p.catalog();
    let r = row(&rows, "cached", "zh");
    assert_ne!(r["sha256"], sha.as_str());
    assert_ne!(r["lufs"], -33.25);
    let new_entry = entry.with_file_name(format!("{}.json", r["sha256"].as_str().unwrap()));
    assert!(new_entry.is_file());
}

#[test]
fn layout_and_toml_problems_are_reported() {
    let p = Project::new();
    p.good_pair("fine", "wav");
    std::fs::write(p.root().join("audio/fine/notes.txt"), "hello").unwrap();
    p.good_pair("typo", "wav");
    let toml = p.root().join("audio/typo/message.toml");
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("topic", "topik");
    std::fs::write(&toml, text).unwrap();
    let out = run_in(p.root(), &["catalog"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("unknown file `notes.txt`"), "{err}");
    assert!(err.contains("audio/typo/message.toml:2:1"), "{err}");
    assert!(err.contains("did you mean `topic`?"), "{err}");
    let table = stdout(&out);
    assert!(
        table.lines().next().unwrap().starts_with("MESSAGE"),
        "{table}"
    );
    assert!(
        table.contains("message.toml` is missing or has errors"),
        "{table}"
    );
    // No language in the environment: the same table and note in Chinese.
    let out = run_in_default_lang(p.root(), &["catalog"]);
    let zh = stdout(&out);
    assert!(zh.starts_with("消息  语言  时长   格式"), "{zh}");
    assert!(zh.contains("不通过"), "{zh}");
    assert!(zh.contains("LUFS 和 dBTP 按播出时测量"), "{zh}");
    assert!(
        stderr(&out).contains("4 个音频中有 2 个未通过检测：不会排入播出"),
        "{}",
        stderr(&out)
    );
    let out = run_in_default_lang(p.root(), &["catalog", "--lang", "en"]);
    assert!(stdout(&out).starts_with("MESSAGE"), "{}", stdout(&out));
}

#[test]
fn missing_audio_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["catalog"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no `audio` folder"),
        "{}",
        stderr(&out)
    );
}
