//! `render --township T` without `--at`: the township's next broadcast from now, said so, in
//! either language.

use super::project;
use crate::util::{run_in, stderr, stdout};

/// A campaign firing every minute on 北城街道, so a broadcast always starts within a minute.
const EVERY_MINUTE: &str = "id = \"drill\"\nname = \"演练\"\nmessages = [\"scam-calls\"]\n\
    quiet_hours = []\n[targets]\ntownships = [\"513401001\"]\n[[slots]]\ncron = \"* * * * *\"\n";

#[test]
fn render_without_at_takes_the_next_broadcast_and_says_which() {
    let (dir, _, _) = project();
    std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
    std::fs::write(dir.path().join("schedules/drill.toml"), EVERY_MINUTE).unwrap();
    let meta = "title_zh = \"警惕电话诈骗\"\ntopic = \"telecom-fraud\"\n[text]\nii = \"ꀊ\"\nzh = \"请注意\"\n";
    std::fs::write(dir.path().join("audio/scam-calls/message.toml"), meta).unwrap();
    let wav = dir.path().join("next.wav");
    let args = [
        "render",
        "--township",
        "513401001",
        "-o",
        wav.to_str().unwrap(),
    ];
    let out = run_in(dir.path(), &args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("no `--at`: the next broadcast from now (")
            && first.contains("北城街道 `513401001`")
            && first.contains("campaign `drill`, 2 clips"),
        "{text}"
    );
    let reader = hound::WavReader::open(&wav).unwrap();
    assert!(reader.duration() > 48_000 * 7, "{}", reader.duration());
    // In Chinese the same line, from the catalogue.
    let out = run_in(
        dir.path(),
        &[
            "--lang",
            "zh",
            "render",
            "--township",
            "北城街道",
            "-o",
            "zh.wav",
        ],
    );
    let text = stdout(&out);
    assert!(
        text.starts_with("没有 `--at`：从现在（"),
        "{text}{}",
        stderr(&out)
    );
}
