//! Dates and crontab lines as staff write them (`2030/12/31`, `2030年12月31日`; `07:30`,
//! `周一-周五`), read so `check` can say what to type (`2030-12-31`; `30 7 * * *`, `1-5`).

use chrono::NaiveDate;

/// The date `text` means when written in a common form other than `YYYY-MM-DD`.
pub fn staff_date(text: &str) -> Option<NaiveDate> {
    let numbers: Vec<&str> = text
        .trim()
        .trim_end_matches('日')
        .split(['/', '.', '-', '年', '月', '／', '－'])
        .map(str::trim)
        .collect();
    let [y, m, d] = numbers.as_slice() else {
        return None;
    };
    let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The help for a date `text` that is not `YYYY-MM-DD`: the date to type, when it is clear.
pub fn date_help(text: &str) -> Option<String> {
    let date = staff_date(text)?;
    Some(crate::t!(
        "date-write-as",
        date = date.format("%Y-%m-%d").to_string()
    ))
}

/// Chinese weekday names and their crontab numbers (0 = Sunday).
const WEEKDAYS: [(&str, &str); 17] = [
    ("工作日", "1-5"),
    ("周末", "6,0"),
    ("周一", "1"),
    ("周二", "2"),
    ("周三", "3"),
    ("周四", "4"),
    ("周五", "5"),
    ("周六", "6"),
    ("周日", "0"),
    ("周天", "0"),
    ("星期一", "1"),
    ("星期二", "2"),
    ("星期三", "3"),
    ("星期四", "4"),
    ("星期五", "5"),
    ("星期六", "6"),
    ("星期日", "0"),
];

/// The crontab line meant by a time of day (`07:30` → `30 7 * * *`) or by a line with Chinese
/// weekday names (`0 8 * * 周一-周五` → `0 8 * * 1-5`; `周一至周五` too).
pub fn staff_cron(expr: &str) -> Option<String> {
    let e = expr.trim().replace('：', ":");
    if let Some((h, m)) = e.split_once(':') {
        let (h, m): (u32, u32) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
        return (h < 24 && m < 60).then(|| format!("{m} {h} * * *"));
    }
    if !WEEKDAYS.iter().any(|(name, _)| e.contains(name)) {
        return None;
    }
    let mut out = e.replace(['至', '到', '~', '～'], "-");
    for (name, number) in WEEKDAYS {
        out = out.replace(name, number);
    }
    let fields = out.split_whitespace().count();
    (fields == 5 && out.is_ascii()).then_some(out)
}

/// The help for a crontab line written as staff write it: the line to type.
pub fn cron_help(expr: &str) -> Option<String> {
    staff_cron(expr).map(|line| crate::t!("cron-write-as", line = line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::{Locale, set_thread};

    #[test]
    fn reads_the_forms_staff_write() {
        let want = NaiveDate::from_ymd_opt(2030, 12, 31);
        for text in [
            "2030/12/31",
            "2030.12.31",
            "2030年12月31日",
            "2030-12-31",
            "2030／12／31",
        ] {
            assert_eq!(staff_date(text), want, "{text}");
        }
        assert_eq!(staff_date("2030-6-1"), NaiveDate::from_ymd_opt(2030, 6, 1));
        assert_eq!(staff_date("2030/2/30"), None);
        assert_eq!(staff_date("明年"), None);
        set_thread(Locale::En);
        assert_eq!(
            date_help("2030年6月1日").as_deref(),
            Some("write `2030-06-01`")
        );
    }

    #[test]
    fn reads_times_and_chinese_weekdays_as_crontab() {
        assert_eq!(staff_cron("07:30").as_deref(), Some("30 7 * * *"));
        assert_eq!(staff_cron("7：05").as_deref(), Some("5 7 * * *"));
        assert_eq!(staff_cron("25:00"), None);
        assert_eq!(
            staff_cron("0 8 * * 周一-周五").as_deref(),
            Some("0 8 * * 1-5")
        );
        assert_eq!(
            staff_cron("0 8 * * 周一至周五").as_deref(),
            Some("0 8 * * 1-5")
        );
        assert_eq!(
            staff_cron("30 9 * * 工作日").as_deref(),
            Some("30 9 * * 1-5")
        );
        assert_eq!(
            staff_cron("30 9 * * 星期六,星期日").as_deref(),
            Some("30 9 * * 6,0")
        );
        assert_eq!(
            staff_cron("周一-周五"),
            None,
            "no time of day: nothing clear to offer"
        );
        assert_eq!(staff_cron("0 8 * * mon-fry"), None);
        set_thread(Locale::En);
        assert_eq!(cron_help("07:30").as_deref(), Some("write `30 7 * * *`"));
    }
}
