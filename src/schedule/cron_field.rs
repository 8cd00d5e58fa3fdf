//! The five crontab fields (`minute`, `hour`, `day-of-month`, `month`, `day-of-week`): the line
//! split into fields and each parsed into the set of values it selects, with byte ranges of
//! every mistake in the staff's own text.

use std::collections::BTreeSet;
use std::ops::Range;

use super::cron::CronError;

/// Which of the five crontab fields, with its bounds and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl Field {
    pub(crate) const ALL: [Field; 5] = [
        Field::Minute,
        Field::Hour,
        Field::DayOfMonth,
        Field::Month,
        Field::DayOfWeek,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// Smallest and largest value written (day-of-week allows 7 for Sunday).
    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    fn expected(self) -> String {
        let (lo, hi) = self.bounds();
        match self {
            Field::Month => format!("{lo}–{hi} or `jan`…`dec`"),
            Field::DayOfWeek => format!("{lo}–{hi} (0 and 7 are Sunday) or `sun`…`sat`"),
            _ => format!("{lo}–{hi}"),
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &MONTHS,
            Field::DayOfWeek => &WEEKDAYS,
            _ => &[],
        }
    }

    /// The value of a name (`mon` → 1, `jan` → 1), case-insensitive.
    fn value_of_name(self, name: &str) -> Option<u32> {
        let lower = name.to_ascii_lowercase();
        let pos = self.names().iter().position(|n| *n == lower)? as u32;
        Some(if self == Field::Month { pos + 1 } else { pos })
    }
}

/// A parsed field: the values it selects and whether it began with `*` (crontab's rule for
/// combining day-of-month and day-of-week looks only at that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldSet {
    pub(crate) values: BTreeSet<u32>,
    pub(crate) starred: bool,
}

/// Parse one field's text; `base` is its byte offset in the whole expression.
pub(crate) fn parse_field(field: Field, text: &str, base: usize) -> Result<FieldSet, CronError> {
    let mut values = BTreeSet::new();
    let mut offset = 0;
    for item in text.split(',') {
        let at = base + offset;
        offset += item.len() + 1;
        if item.is_empty() {
            return Err(err(
                format!(
                    "empty item in {} list, expected {}",
                    field.name(),
                    field.expected()
                ),
                at..at,
            ));
        }
        values.extend(parse_item(field, item, at)?);
    }
    if field == Field::DayOfWeek && values.remove(&7) {
        values.insert(0);
    }
    Ok(FieldSet {
        values,
        starred: text.starts_with('*'),
    })
}

/// One list item: `*`, `N`, `A-B`, each optionally followed by `/STEP`.
fn parse_item(field: Field, item: &str, at: usize) -> Result<Vec<u32>, CronError> {
    let (range_text, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(parse_step(field, s, at + r.len() + 1)?)),
        None => (item, None),
    };
    let (lo, hi) = field.bounds();
    let (start, end) = if range_text == "*" {
        (lo, if field == Field::DayOfWeek { 6 } else { hi })
    } else if let Some((a, b)) = range_text.split_once('-') {
        let start = parse_value(field, a, at)?;
        let end = parse_value(field, b, at + a.len() + 1)?;
        if start > end {
            return Err(err(
                format!(
                    "{} range `{range_text}` runs backwards, expected the smaller value first",
                    field.name()
                ),
                at..at + range_text.len(),
            ));
        }
        (start, end)
    } else {
        let v = parse_value(field, range_text, at)?;
        // `N/STEP` means from N to the field's maximum, as in Vixie cron and cronie.
        (v, if step.is_some() { hi } else { v })
    };
    let step = step.unwrap_or(1) as usize;
    Ok((start..=end).step_by(step).collect())
}

fn parse_step(field: Field, text: &str, at: usize) -> Result<u32, CronError> {
    let (_, hi) = field.bounds();
    match text.parse::<u32>() {
        Ok(n) if (1..=hi.max(1)).contains(&n) => Ok(n),
        _ => Err(err(
            format!(
                "invalid {} step `{text}`, expected a whole number from 1 to {hi}",
                field.name()
            ),
            at..at + text.len().max(1),
        )),
    }
}

fn parse_value(field: Field, text: &str, at: usize) -> Result<u32, CronError> {
    let range = at..at + text.len().max(1);
    let expected = field.expected();
    if text.is_empty() {
        return Err(err(
            format!("missing {} value, expected {expected}", field.name()),
            range,
        ));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let (lo, hi) = field.bounds();
        return match text.parse::<u32>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(n),
            _ => Err(err(
                format!(
                    "{} `{text}` out of range, expected {expected}",
                    field.name()
                ),
                range,
            )),
        };
    }
    if let Some(v) = field.value_of_name(text) {
        return Ok(v);
    }
    let hint = crate::diag::did_you_mean(&text.to_ascii_lowercase(), field.names().iter().copied())
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    Err(err(
        format!(
            "invalid {} `{text}`, expected {expected}{hint}",
            field.name()
        ),
        range,
    ))
}

/// The text cron 0.17 reads for a set: `*` when every value is selected, else an explicit list
/// (weekdays and months by English name, so cron's 1 = Sunday numbering never comes into play).
pub(crate) fn to_cron_syntax(field: Field, set: &BTreeSet<u32>) -> String {
    let (lo, hi) = field.bounds();
    let hi = if field == Field::DayOfWeek { 6 } else { hi };
    if set.len() as u32 == hi - lo + 1 {
        return "*".to_string();
    }
    let names = field.names();
    let item = |v: u32| match field {
        Field::Month => names[(v - 1) as usize].to_string(),
        Field::DayOfWeek => names[v as usize].to_string(),
        _ => v.to_string(),
    };
    set.iter().map(|&v| item(v)).collect::<Vec<_>>().join(",")
}

/// Split an expression into its five whitespace-separated fields, with byte offsets.
pub(crate) fn split_fields(expr: &str) -> Result<Vec<(usize, &str)>, CronError> {
    let mut fields = Vec::new();
    let mut start = None;
    for (i, c) in expr.char_indices().chain([(expr.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                fields.push((s, &expr[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    const SHAPE: &str = "minute hour day-of-month month day-of-week";
    match fields.len() {
        5 => Ok(fields),
        n if n > 5 => {
            let (at, text) = fields[5];
            let end = fields.last().map_or(at, |(s, t)| s + t.len());
            let secs = if n == 6 {
                " (seconds and years are not part of crontab lines)"
            } else {
                ""
            };
            Err(CronError {
                message: format!(
                    "too many fields starting at `{text}`: expected 5 ({SHAPE}), found {n}{secs}"
                ),
                range: at..end,
            })
        }
        n => {
            let start = fields.first().map_or(0, |f| f.0);
            let end = fields.last().map_or(expr.len(), |(s, t)| s + t.len());
            Err(CronError {
                message: format!("expected 5 fields ({SHAPE}), found {n}"),
                range: start..end.max(start),
            })
        }
    }
}

/// Reject a day-of-month that no selected month has (`0 8 31 2 *`) — unless weekdays also fire.
pub(crate) fn check_day_exists(
    dom: &FieldSet,
    dow: &FieldSet,
    months: &FieldSet,
    (at, text): (usize, &str),
) -> Result<(), CronError> {
    if dom.starred || !dow.starred {
        return Ok(());
    }
    let longest = |m: u32| match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let fits = months
        .values
        .iter()
        .any(|&m| dom.values.iter().any(|&d| d <= longest(m)));
    if fits {
        return Ok(());
    }
    let names: Vec<&str> = months
        .values
        .iter()
        .map(|&m| MONTHS[(m - 1) as usize])
        .collect();
    Err(CronError {
        message: format!(
            "day-of-month `{text}` never occurs in `{}`, so this line would never fire",
            names.join(",")
        ),
        range: at..at + text.len(),
    })
}

fn err(message: String, range: Range<usize>) -> CronError {
    CronError { message, range }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(field: Field, text: &str) -> Vec<u32> {
        parse_field(field, text, 0)
            .unwrap()
            .values
            .into_iter()
            .collect()
    }

    #[test]
    fn lists_ranges_steps_and_names() {
        assert_eq!(values(Field::Minute, "0,15,30-32"), vec![0, 15, 30, 31, 32]);
        assert_eq!(values(Field::Minute, "*/20"), vec![0, 20, 40]);
        assert_eq!(values(Field::Hour, "8-18/5"), vec![8, 13, 18]);
        assert_eq!(values(Field::Hour, "20/2"), vec![20, 22]);
        assert_eq!(values(Field::Month, "jan,MAR-may"), vec![1, 3, 4, 5]);
        assert_eq!(values(Field::DayOfWeek, "mon-fri"), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn sunday_is_zero_and_seven() {
        assert_eq!(values(Field::DayOfWeek, "7"), vec![0]);
        assert_eq!(values(Field::DayOfWeek, "0,7"), vec![0]);
        assert_eq!(values(Field::DayOfWeek, "5-7"), vec![0, 5, 6]);
        assert_eq!(values(Field::DayOfWeek, "*").len(), 7);
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let e = parse_field(Field::Hour, "8,24", 10).unwrap_err();
        assert_eq!(e.range, 12..14);
        assert_eq!(e.message, "hour `24` out of range, expected 0–23");
        let e = parse_field(Field::DayOfWeek, "mon-fry", 0).unwrap_err();
        assert_eq!(e.range, 4..7);
        assert!(e.message.contains("did you mean `fri`?"), "{}", e.message);
        let e = parse_field(Field::Minute, "*/0", 0).unwrap_err();
        assert_eq!(e.range, 2..3);
        let e = parse_field(Field::Minute, "5-1", 0).unwrap_err();
        assert_eq!((e.range, e.message.contains("backwards")), (0..3, true));
        let e = parse_field(Field::Minute, "1,,2", 0).unwrap_err();
        assert_eq!(e.range, 2..2);
    }

    #[test]
    fn translates_to_names_for_cron() {
        let set = parse_field(Field::DayOfWeek, "1-5", 0).unwrap().values;
        assert_eq!(
            to_cron_syntax(Field::DayOfWeek, &set),
            "mon,tue,wed,thu,fri"
        );
        let set = parse_field(Field::DayOfWeek, "0-6", 0).unwrap().values;
        assert_eq!(to_cron_syntax(Field::DayOfWeek, &set), "*");
        let set = parse_field(Field::Month, "6", 0).unwrap().values;
        assert_eq!(to_cron_syntax(Field::Month, &set), "jun");
    }
}
