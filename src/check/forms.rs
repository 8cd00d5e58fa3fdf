//! Dates as staff write them (`2030/12/31`, `2030.12.31`, `2030年12月31日`, `2030-6-1`), read
//! so `check` can say which date to type (`2030-12-31`).

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
}
