//! Tests of `villages` and `exclude_villages` in `[targets]`.

use std::path::Path;

use crate::diag::Severity;
use crate::directory::Directory;
use crate::schedule::{Campaign, parse_str};

fn campaign(targets: &str) -> Result<Campaign, Vec<(usize, Severity, String)>> {
    crate::locale::set_thread(crate::locale::Locale::En);
    let src = format!(
        "name = \"t\"\nmessages = [\"m\"]\n[targets]\n{targets}\n[[slots]]\ncron = \"0 8 * * *\"\n"
    );
    let dir = Directory::liangshan();
    let file = Path::new("schedules/t.toml");
    let (c, diags) = crate::schedule::parse_at(file, &src, &dir, chrono::Utc::now());
    let shown: Vec<(usize, Severity, String)> = diags
        .into_iter()
        .map(|d| {
            let line = d.location.map_or(0, |l| l.line);
            let text = format!("{} {}", d.message, d.help.unwrap_or_default());
            (line, d.severity, text)
        })
        .collect();
    let warned = shown.iter().any(|d| d.1 == Severity::Warning);
    match c {
        Some(c) if !warned => Ok(c),
        _ => Err(shown),
    }
}

#[test]
fn villages_by_code_name_and_township_target_their_townships_in_part() {
    let c = campaign(
        "villages = [\"513431102200\", \"竹核镇/火洛村\", \"新城镇/城南社区\"]\ntownships = [\"城北镇\"]",
    )
    .unwrap();
    assert_eq!(c.villages["513431102"], ["513431102200", "513431102201"]);
    assert_eq!(c.villages["513431100"], ["513431100001"]);
    assert!(c.townships.contains(&"513431102".to_string()));
    assert!(c.townships.contains(&"513431100".to_string()));
    // A township targeted whole has no village list.
    let whole = &c.townships.iter().find(|t| !c.villages.contains_key(*t));
    assert!(whole.is_some(), "{:?}", c.townships);
    assert_eq!(c.townships.len(), 3);
}

#[test]
fn excluding_a_village_from_a_whole_township_keeps_the_others() {
    let c = campaign("townships = [\"竹核镇\"]\nexclude_villages = [\"尼日村\"]").unwrap();
    let all = Directory::liangshan();
    let t = all.township("513431102").unwrap();
    let kept = &c.villages["513431102"];
    assert_eq!(kept.len(), t.villages.len() - 1);
    assert!(!kept.contains(&"513431102200".to_string()));
    assert_eq!(c.townships, ["513431102"]);
    // Excluding every village listed leaves nothing to target.
    let e = campaign("villages = [\"尼日村\"]\nexclude_villages = [\"513431102200\"]").unwrap_err();
    assert!(e.iter().any(|d| d.1 == Severity::Error), "{e:?}");
}

#[test]
fn unknown_and_misplaced_villages_are_reported_at_their_line_with_a_fix() {
    let e = campaign("villages = [\"竹核镇/泥日村\"]").unwrap_err();
    let (line, sev, text) = &e[0];
    assert_eq!((*line, *sev), (4, Severity::Error), "{e:?}");
    assert!(
        text.contains("unknown village") && text.contains("尼日村村民委员会"),
        "{text}"
    );
    let e = campaign("villages = [\"竹核镇\"]").unwrap_err();
    assert!(
        e[0].2.contains("not a village") && e[0].2.contains("townships = ["),
        "{e:?}"
    );
    // A village of a township targeted whole adds nothing: a warning.
    let e = campaign("counties = [\"昭觉县\"]\nvillages = [\"尼日村\"]").unwrap_err();
    assert_eq!((e[0].0, e[0].1), (5, Severity::Warning), "{e:?}");
    assert!(e[0].2.contains("targeted whole"), "{e:?}");
    // Excluding a village nothing targets is a warning too.
    let e = campaign("townships = [\"新城镇\"]\nexclude_villages = [\"尼日村\"]").unwrap_err();
    assert_eq!(e[0].1, Severity::Warning, "{e:?}");
    // A village named in a township's place still says how to target it.
    let e = campaign("townships = [\"尼日村\"]").unwrap_err();
    assert!(e[0].2.contains("villages = [\"尼日村\"]"), "{e:?}");
}

#[test]
fn parse_str_keeps_villages_for_the_planner() {
    let dir = Directory::liangshan();
    let src = "name = \"t\"\nmessages = [\"m\"]\n[targets]\nvillages = [\"尼日村\"]\n[[slots]]\ncron = \"0 8 * * *\"\n";
    let c = parse_str(Path::new("schedules/t.toml"), src, &dir).unwrap();
    assert_eq!(c.villages["513431102"], ["513431102200"]);
}
