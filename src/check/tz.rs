//! What `check` says about a campaign's `timezone`: every way staff write Beijing time
//! (`Asia/Beijing`, `CST`, `UTC+8`, `北京时间` …) leads to `Asia/Shanghai`, other unknown names
//! get the closest IANA name, and a zone far from UTC+8 (or `Etc/GMT+8`, which is UTC−8) is a
//! warning.

use chrono::{Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::diag::did_you_mean;

/// Spellings of Beijing time, compared without case, spaces, `_` and `-`.
const BEIJING: [&str; 16] = [
    "asia/beijing",
    "beijing",
    "cst",
    "china",
    "chinastandardtime",
    "utc+8",
    "utc+08",
    "utc+0800",
    "utc+08:00",
    "gmt+8",
    "gmt+08:00",
    "+8",
    "+08:00",
    "北京时间",
    "北京",
    "中国标准时间",
];

/// The help for an unknown zone name: `Asia/Shanghai` for Beijing time in any spelling, else
/// the closest IANA name, if one is close.
pub fn unknown_zone_help(name: &str) -> Option<String> {
    let key: String = name
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    let key = key.replace('＋', "+").replace('：', ":");
    if BEIJING.contains(&key.as_str()) || key.starts_with("asia/beijing") {
        return Some(crate::t!("tz-use-shanghai"));
    }
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    did_you_mean(name, names).map(|n| crate::t!("did-you-mean", name = n))
}

/// A warning for a zone that parses but is unlikely meant: `Etc/GMT+8` (UTC−8), or any zone
/// whose offset today differs from Beijing's by three hours or more.
pub fn far_zone_warning(tz: Tz) -> Option<(String, Option<String>)> {
    if tz.name().eq_ignore_ascii_case("Etc/GMT+8") {
        let msg = crate::t!("tz-far", zone = tz.name(), offset = "UTC−8");
        return Some((msg, Some(crate::t!("tz-etc-sign"))));
    }
    let seconds = tz
        .offset_from_utc_datetime(&Utc::now().naive_utc())
        .fix()
        .local_minus_utc();
    if (seconds - 8 * 3600).abs() < 3 * 3600 {
        return None;
    }
    let hours = f64::from(seconds) / 3600.0;
    let offset = if seconds < 0 {
        format!("UTC−{}", -hours)
    } else {
        format!("UTC+{hours}")
    };
    let msg = crate::t!("tz-far", zone = tz.name(), offset = offset);
    Some((msg, Some(crate::t!("tz-use-shanghai"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::{Locale, set_thread};

    #[test]
    fn beijing_time_in_any_spelling_is_asia_shanghai() {
        set_thread(Locale::En);
        for name in [
            "Asia/Beijing",
            "CST",
            "UTC+8",
            "utc+08:00",
            "北京时间",
            "China Standard Time",
            "GMT+8",
        ] {
            assert_eq!(
                unknown_zone_help(name).as_deref(),
                Some("Beijing time is `Asia/Shanghai`"),
                "{name}"
            );
        }
        assert_eq!(
            unknown_zone_help("Asia/Shanghia").as_deref(),
            Some("did you mean `Asia/Shanghai`?")
        );
        assert_eq!(unknown_zone_help("zzzz"), None);
    }

    #[test]
    fn zones_far_from_beijing_warn() {
        set_thread(Locale::En);
        let (msg, help) = far_zone_warning(chrono_tz::Etc::GMTPlus8).unwrap();
        assert!(msg.contains("UTC−8"), "{msg}");
        assert!(help.unwrap().contains("reversed"));
        assert!(far_zone_warning(chrono_tz::Asia::Shanghai).is_none());
        assert!(far_zone_warning(chrono_tz::Asia::Chongqing).is_none());
        let (msg, _) = far_zone_warning(chrono_tz::America::Chicago).unwrap();
        assert!(msg.contains("America/Chicago"), "{msg}");
    }
}
