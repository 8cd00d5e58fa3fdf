//! Where the interface language comes from besides `--lang`: the environment (`LANGUAGE`,
//! `LC_ALL`, `LC_MESSAGES`, `LANG`, in that order, as gettext reads them) and the `locale` key
//! of `schedules/settings.toml`.

use std::path::Path;

use super::Locale;

/// The variables that name the language of messages, most specific first.
const VARS: [&str; 4] = ["LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"];

/// The first language the environment names that has a catalogue. `LANGUAGE` is a
/// colon-separated preference list; `C` and `POSIX` name no language and are passed over.
pub fn from_env() -> Option<Locale> {
    from_vars(|name| std::env::var(name).ok())
}

fn from_vars(get: impl Fn(&str) -> Option<String>) -> Option<Locale> {
    VARS.iter()
        .filter_map(|name| get(name))
        .flat_map(|value| {
            value
                .split(':')
                .map(str::to_string)
                .collect::<Vec<String>>()
        })
        .find_map(|tag| Locale::negotiate(&tag))
}

/// The `locale` setting of `<root>/schedules/settings.toml`, read before anything else is
/// printed. A file that is missing or does not parse says nothing here (`check` reports it);
/// a `locale` naming no catalogue is reported by the settings' own checks.
pub fn from_settings_file(root: &Path) -> Option<Locale> {
    let text = std::fs::read_to_string(root.join(crate::settings::SETTINGS_FILE)).ok()?;
    let table: toml::Table = text.parse().ok()?;
    table.get("locale")?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Option<Locale> {
        from_vars(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn reads_the_variables_in_gettext_order() {
        assert_eq!(env(&[]), None);
        assert_eq!(env(&[("LANG", "en_US.UTF-8")]), Some(Locale::En));
        assert_eq!(env(&[("LANG", "zh_CN.UTF-8")]), Some(Locale::Zh));
        assert_eq!(
            env(&[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "en_GB.UTF-8")]),
            Some(Locale::En)
        );
        assert_eq!(
            env(&[("LC_ALL", "en_GB.UTF-8"), ("LC_MESSAGES", "zh_CN")]),
            Some(Locale::En)
        );
        assert_eq!(
            env(&[("LANGUAGE", "fr:zh_CN:en"), ("LANG", "en_US.UTF-8")]),
            Some(Locale::Zh)
        );
    }

    #[test]
    fn c_and_posix_name_no_language() {
        assert_eq!(
            env(&[("LC_ALL", "C"), ("LANG", "en_US.UTF-8")]),
            Some(Locale::En)
        );
        assert_eq!(env(&[("LANG", "POSIX")]), None);
        assert_eq!(env(&[("LANG", "C.UTF-8")]), None);
        assert_eq!(env(&[("LANG", "fr_FR.UTF-8")]), None);
    }

    #[test]
    fn settings_file_locale_is_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(from_settings_file(dir.path()), None);
        std::fs::create_dir(dir.path().join("schedules")).unwrap();
        let file = dir.path().join("schedules/settings.toml");
        std::fs::write(&file, "locale = \"en\"\n").unwrap();
        assert_eq!(from_settings_file(dir.path()), Some(Locale::En));
        std::fs::write(&file, "locale = \"zh-CN\"\n").unwrap();
        assert_eq!(from_settings_file(dir.path()), Some(Locale::Zh));
        std::fs::write(&file, "locale = \"xx\"\n").unwrap();
        assert_eq!(from_settings_file(dir.path()), None);
    }
}
