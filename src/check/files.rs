//! Files in `schedules/` that `check` and `serve` will not read, each named with why and what
//! to do: no campaign file at all, a wrong or upper-case extension (`foo.toml.txt`,
//! `FOO.TOML`), a subfolder, an editor backup, and a misspelt settings file read as a campaign.

use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::schedule::NOT_CAMPAIGNS;

/// Names that look like the settings file but are not it.
const SETTINGS_SLIPS: [&str; 5] = [
    "setting.toml",
    "settings.tml",
    "settting.toml",
    "setings.toml",
    "config.toml",
];

/// Warnings for what `<root>/schedules` holds that will not be read as campaigns (sorted by
/// name). A folder that cannot be listed says nothing here: the schedule loader reports it.
pub fn unread(root: &Path) -> Vec<Diagnostic> {
    let folder = root.join("schedules");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut names: Vec<(String, bool)> = entries
        .filter_map(Result::ok)
        .map(|e| {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (e.file_name().to_string_lossy().into_owned(), is_dir)
        })
        .collect();
    names.sort();
    let mut out = Vec::new();
    let mut campaigns = 0;
    for (name, is_dir) in &names {
        let shown = PathBuf::from("schedules").join(name);
        match judge(name, *is_dir) {
            Judgement::Campaign => campaigns += 1,
            Judgement::Other => {}
            Judgement::Warn(message, help) => {
                out.push(Diagnostic::warning(&shown, message).with_help(help));
            }
        }
    }
    if campaigns == 0 {
        out.push(Diagnostic::warning(
            "schedules",
            crate::t!("files-empty-schedules"),
        ));
    }
    out
}

enum Judgement {
    Campaign,
    /// Read by something else (`settings.toml`, `endpoints.toml`) or not ours to judge.
    Other,
    Warn(String, String),
}

fn judge(name: &str, is_dir: bool) -> Judgement {
    let file = name;
    if is_dir {
        return Judgement::Warn(
            crate::t!("files-subfolder", file = file),
            crate::t!("files-move-up"),
        );
    }
    if name.starts_with('.') && !name.ends_with(".swp") {
        return Judgement::Other;
    }
    if is_backup(name) {
        return Judgement::Warn(
            crate::t!("files-backup", file = file),
            crate::t!("files-delete-backup"),
        );
    }
    if NOT_CAMPAIGNS.contains(&name) {
        return Judgement::Other;
    }
    if SETTINGS_SLIPS.contains(&name.to_lowercase().as_str()) {
        return Judgement::Warn(
            crate::t!("files-settings-misspelt", file = file),
            crate::t!("files-settings-name"),
        );
    }
    if name.ends_with(".toml") {
        return Judgement::Campaign;
    }
    let lower = name.to_lowercase();
    if lower.ends_with(".toml") {
        let fixed = format!("{}.toml", &name[..name.len() - ".toml".len()]);
        return Judgement::Warn(
            crate::t!("files-upper-extension", file = file),
            crate::t!("files-rename-to", name = fixed),
        );
    }
    if let Some(i) = lower.find(".toml") {
        let fixed = format!("{}.toml", &name[..i]);
        return Judgement::Warn(
            crate::t!("files-wrong-extension", file = file),
            crate::t!("files-rename-to", name = fixed),
        );
    }
    Judgement::Other
}

fn is_backup(name: &str) -> bool {
    name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || [".bak", ".orig", ".swp", ".swo", ".tmp"]
            .iter()
            .any(|ext| name.to_lowercase().ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::{Locale, set_thread};

    fn project(files: &[&str], dirs: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let schedules = root.path().join("schedules");
        std::fs::create_dir(&schedules).unwrap();
        for f in files {
            std::fs::write(schedules.join(f), "").unwrap();
        }
        for d in dirs {
            std::fs::create_dir(schedules.join(d)).unwrap();
        }
        root
    }

    fn said(root: &Path) -> Vec<(String, String, String)> {
        unread(root)
            .into_iter()
            .map(|d| {
                let help = d.help.clone().unwrap_or_default();
                (d.file.display().to_string(), d.message, help)
            })
            .collect()
    }

    #[test]
    fn an_empty_schedules_folder_is_a_warning() {
        set_thread(Locale::En);
        let root = project(&["settings.toml", "endpoints.toml"], &[]);
        let got = said(root.path());
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].1.contains("no campaign file"), "{got:?}");
    }

    #[test]
    fn each_unread_file_is_named_with_what_to_do() {
        set_thread(Locale::En);
        let root = project(
            &[
                "a.toml",
                "foo.toml.txt",
                "FOO.TOML",
                "b.toml~",
                "c.toml.bak",
                "setting.toml",
                "notes.md",
                "settings.toml",
            ],
            &["old"],
        );
        let got = said(root.path());
        let files: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(
            files,
            [
                "schedules/FOO.TOML",
                "schedules/b.toml~",
                "schedules/c.toml.bak",
                "schedules/foo.toml.txt",
                "schedules/old",
                "schedules/setting.toml",
            ]
        );
        assert!(got[0].2.contains("`FOO.toml`"), "{got:?}");
        assert!(got[3].2.contains("rename it to `foo.toml`"), "{got:?}");
        assert!(got[4].1.contains("is a folder"), "{got:?}");
        assert!(got[5].2.contains("`settings.toml`"), "{got:?}");
    }

    #[test]
    fn warnings_read_in_chinese_too() {
        set_thread(Locale::Zh);
        let root = project(&["foo.toml.txt"], &[]);
        let got = said(root.path());
        assert!(got[0].1.contains("不会读取"), "{got:?}");
        assert!(got[1].1.contains("没有活动文件"), "{got:?}");
    }
}
