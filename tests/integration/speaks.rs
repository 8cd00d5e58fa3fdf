//! `token`, `ledger`, `render`, `play`, `sim` and `serve` speak Chinese when nothing in the
//! environment names a language, and English with `--lang en`: their output, progress lines
//! and errors all come from the message catalogue.

use crate::render::project;
use crate::util::{run_in_default_lang, stderr, stdout};

#[test]
fn token_speaks_chinese_by_default_and_english_with_lang_en() {
    let dir = tempfile::tempdir().unwrap();
    let list = run_in_default_lang(dir.path(), &["token", "list"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    assert!(stdout(&list).ends_with("中没有令牌\n"), "{}", stdout(&list));
    let add = run_in_default_lang(
        dir.path(),
        &["token", "add", "--coordinator", "--name", "xichang"],
    );
    assert_eq!(add.status.code(), Some(0), "{}", stderr(&add));
    let out = stdout(&add);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "已创建令牌 `xichang`（协调员）；它只在此刻显示一次：",
        "{out}"
    );
    assert!(
        lines[1].starts_with("sb_"),
        "the secret stays alone on the last line: {out}"
    );
    let list = stdout(&run_in_default_lang(dir.path(), &["token", "list"]));
    assert!(list.starts_with("xichang\t协调员\t"), "{list}");
    let station = run_in_default_lang(
        dir.path(),
        &[
            "token",
            "add",
            "--county",
            "昭觉县",
            "--name",
            "zj",
            "--lang",
            "en",
        ],
    );
    assert!(
        stdout(&station).starts_with("token `zj` (station of county 513431) created"),
        "{}",
        stdout(&station)
    );
    let unknown = run_in_default_lang(
        dir.path(),
        &["token", "add", "--county", "5134319", "--name", "y"],
    );
    assert_eq!(unknown.status.code(), Some(1));
    let err = stderr(&unknown);
    assert!(
        err.starts_with("错误：") && err.contains("\n  = 提示："),
        "{err}"
    );
    let dup = run_in_default_lang(
        dir.path(),
        &["token", "add", "--coordinator", "--name", "xichang"],
    );
    assert_eq!(dup.status.code(), Some(1));
    assert_eq!(
        stderr(&dup),
        "错误：名为 `xichang` 的令牌已存在；请先吊销它，或换一个名称\n"
    );
    let revoke = run_in_default_lang(dir.path(), &["token", "revoke", "xichang"]);
    assert_eq!(stdout(&revoke), "已吊销令牌 `xichang`\n");
    let again = run_in_default_lang(dir.path(), &["token", "revoke", "xichang"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(stderr(&again), "错误：没有名为 `xichang` 的令牌\n");
}

#[test]
fn ledger_migrate_speaks_chinese_by_default_and_english_with_lang_en() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["ledger", "migrate", "--to", "postgres://sb@127.0.0.1:1/sb"];
    let out = run_in_default_lang(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("错误：`") && err.ends_with("` 没有台账\n"),
        "{err}"
    );
    let out = run_in_default_lang(dir.path(), &[&args[..], &["--lang", "en"]].concat());
    assert!(
        stderr(&out).starts_with("error: no ledger at `"),
        "{}",
        stderr(&out)
    );
    let ledger = dir.path().join("ledger.sqlite");
    std::fs::write(&ledger, b"").unwrap();
    let sqlite = format!("sqlite:{}", ledger.display());
    let out = run_in_default_lang(
        dir.path(),
        &["ledger", "migrate", "--to", &sqlite, "--ledger", &sqlite],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("错误：--to `{sqlite}`：应为 `postgres://` 地址\n")
    );
}

#[test]
fn render_and_play_speak_chinese_by_default_and_english_with_lang_en() {
    let (dir, _, _) = project();
    let wav = dir.path().join("out.wav");
    let args = [
        "render",
        "--message",
        "scam-calls",
        "-o",
        wav.to_str().unwrap(),
    ];
    let out = run_in_default_lang(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let wrote = format!("已写入 {}：48000 Hz，1 声道，16 位 PCM，", wav.display());
    assert!(text.contains(&wrote), "{text}");
    assert!(
        text.starts_with("开始       时长       语言  增益      预期响度   消息     文件\n")
            && text.contains("\n合计 0:"),
        "{text}"
    );
    let out = run_in_default_lang(dir.path(), &[&args[..], &["--lang", "en"]].concat());
    let wrote = format!(
        "wrote {}: 48000 Hz, 1 channel(s), 16-bit PCM, ",
        wav.display()
    );
    assert!(stdout(&out).contains(&wrote), "{}", stdout(&out));
    let out = run_in_default_lang(
        dir.path(),
        &["render", "--message", "scam-call", "-o", "x.wav"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("错误：") && err.contains("中没有消息 `scam-call`，是不是 `scam-calls`？"),
        "{err}"
    );
    let out = run_in_default_lang(dir.path(), &["render", "--message", "scam-calls"]);
    assert!(stderr(&out).contains("请说明写到哪里"), "{}", stderr(&out));
    if !cfg!(feature = "audio-device") {
        let out = run_in_default_lang(dir.path(), &["play", "--message", "scam-calls"]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.starts_with("错误：无法播放：")
                && err.contains("\n  = 提示：请改为渲染到文件：`shengbo render"),
            "{err}"
        );
    }
}

#[test]
fn sim_and_serve_speak_chinese_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let out = run_in_default_lang(dir.path(), &["sim", "--gen-keys", keys.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() == 2 && lines[0].starts_with("私钥：") && lines[1].starts_with("公钥："),
        "{text}"
    );
    // A port already taken: `serve` says so in Chinese, naming the address.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run_in_default_lang(dir.path(), &["serve", "--no-schedule", "--listen", &addr]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("错误：无法监听 `{addr}`")),
        "{err}"
    );
    // A project with errors: where it listened, the diagnostics, then why nothing is
    // scheduled.
    std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
    std::fs::write(
        dir.path().join("schedules/bad.toml"),
        "id = \"x\"\nname = \n",
    )
    .unwrap();
    let out = run_in_default_lang(dir.path(), &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("正在监听 http://127.0.0.1:"), "{err}");
    assert!(
        err.contains("\n错误：播出计划有 1 个错误；没有安排任何播出\n"),
        "{err}"
    );
}
