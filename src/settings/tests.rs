//! Unit tests of settings parsing: defaults, every key, unknown keys, bad values, overrides.

use std::path::Path;

use super::*;

/// Parse in English: the tests read the messages.
fn parse(src: &str) -> (Settings, Vec<Diagnostic>) {
    crate::locale::set_thread(crate::locale::Locale::En);
    Settings::parse(Path::new("schedules/settings.toml"), src)
}

const EVERY_KEY: &str = r#"
[gate]
max_duration_s = 90.0
min_duration_s = 2.0
silence_dbfs = -50.0
max_silent_fraction = 0.5
min_lufs = -40.0
clip_run_samples = 6
clip_peak_dbfs = -0.3
clip_peak_count = 40
clip_peak_fraction = 0.002
pair_duration_ratio = 3.0

[loudness]
target_lufs = -18.0
max_true_peak_dbtp = -2.0
pair_tolerance_lu = 0.5
limiter = false

[[population]]
township = "513431100"
people = 12345
source = "乡政府 2024 户籍统计"

[ebd]
extra_sender_ebrids = ["45134310000000102010102", "45134310000000102010103"]
"#;

#[test]
fn empty_file_is_every_default() {
    let (s, diags) = parse("# nothing set\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(s, Settings::default());
    assert_eq!(s.gate, GateConfig::default());
    assert_eq!(s.loudness, LoudnessConfig::default());
}

#[test]
fn every_key_is_read() {
    let (s, diags) = parse(EVERY_KEY);
    assert!(diags.is_empty(), "{diags:?}");
    let g = &s.gate;
    assert_eq!(
        (
            g.max_duration_s,
            g.min_duration_s,
            g.silence_dbfs,
            g.max_silent_fraction
        ),
        (90.0, 2.0, -50.0, 0.5)
    );
    assert_eq!((g.clip_run_samples, g.clip_peak_count), (6, 40));
    assert_eq!(
        (
            g.clip_peak_dbfs,
            g.clip_peak_fraction,
            g.pair_duration_ratio
        ),
        (-0.3, 0.002, 3.0)
    );
    let l = &s.loudness;
    assert_eq!(
        (l.target_lufs, l.max_true_peak_dbtp, l.pair_tolerance_lu),
        (-18.0, -2.0, 0.5)
    );
    assert!(!l.limiter);
    assert_eq!(g.min_lufs, -40.0);
    assert_eq!(s.population.len(), 1);
    assert_eq!(s.population[0].people, 12345);
    assert_eq!(s.population[0].source, "乡政府 2024 户籍统计");
    assert_eq!(
        s.ebd.extra_sender_ebrids,
        ["45134310000000102010102", "45134310000000102010103"]
    );
    assert_eq!(s.ebd.senders().unwrap().len(), 3);
}

#[test]
fn the_committed_settings_file_parses_to_the_defaults() {
    let src = include_str!("../../schedules/settings.toml");
    let (s, diags) = parse(src);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(s, Settings::default());
    // Every key is documented there (commented out at its default).
    for key in EVERY_KEY
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, _)| k)
    {
        assert!(
            src.contains(&format!("# {key} = ")),
            "`{key}` not documented"
        );
    }
}

#[test]
fn unknown_keys_point_at_themselves_with_a_suggestion_and_the_rest_applies() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let src =
        "[gate]\nmax_duraton_s = 60.0\nmin_duration_s = 3.0\n\n[loudnes]\ntarget_lufs = -20.0\n";
    let (s, diags) = parse(src);
    assert_eq!(diags.len(), 2, "{diags:?}");
    let first = diags[0].to_string();
    assert!(first.contains("unknown key `max_duraton_s`"), "{first}");
    assert!(first.contains("schedules/settings.toml:2:1"), "{first}");
    assert!(first.contains("did you mean `max_duration_s`?"), "{first}");
    let second = diags[1].to_string();
    assert!(second.contains("unknown key `loudnes`"), "{second}");
    assert!(second.contains(":5:"), "{second}");
    assert!(second.contains("did you mean `loudness`?"), "{second}");
    assert_eq!(s.gate.min_duration_s, 3.0);
    assert_eq!(s.gate.max_duration_s, GateConfig::default().max_duration_s);
}

#[test]
fn bad_values_are_reported_at_their_position_and_keep_the_default() {
    let src = "[loudness]\ntarget_lufs = 5.0\npair_tolerance_lu = \"one\"\n\n[gate]\nmax_silent_fraction = 1.5\nclip_run_samples = 0\nmin_lufs = -90.0\n";
    let (s, diags) = parse(src);
    let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
    assert_eq!(diags.len(), 5, "{text:#?}");
    let find = |needle: &str| {
        text.iter()
            .find(|t| t.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {text:#?}"))
    };
    assert!(find("`target_lufs` in `[loudness]` is `5`").contains(":2:15"));
    assert!(find("wrong type").contains(":3:21"));
    assert!(find("`max_silent_fraction`").contains(":6:23"));
    assert!(find("`clip_run_samples`").contains(":7:20"));
    assert!(find("`min_lufs` in `[gate]` is `-90`").contains(":8:12"));
    assert_eq!(s.loudness, LoudnessConfig::default());
    assert_eq!(s.gate, GateConfig::default());
}

#[test]
fn min_duration_must_stay_below_max() {
    let (s, diags) = parse("[gate]\nmin_duration_s = 10.0\nmax_duration_s = 5.0\n");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].message.contains("must be below `max_duration_s`"));
    assert_eq!(diags[0].location.as_ref().unwrap().line, 2);
    assert_eq!(s.gate, GateConfig::default());
}

#[test]
fn syntax_error_is_located_and_everything_defaults() {
    let (s, diags) = parse("[gate\nmax_duration_s = 60.0\n");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].location.as_ref().unwrap().line, 1);
    assert_eq!(s, Settings::default());
}

#[test]
fn one_bad_population_entry_leaves_the_others() {
    let src = "[[population]]\ntownship = \"513431100\"\npeople = 0\nsource = \"x\"\n\n\
               [[population]]\ntownship = \"513431101\"\npeople = 900\n\n\
               [[population]]\ntownship = \"513431102\"\npeople = 800\nsource = \"乡政府\"\n";
    let (s, diags) = parse(src);
    let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
    assert_eq!(diags.len(), 2, "{text:#?}");
    assert!(
        text.iter()
            .any(|t| t.contains("`people` must be above 0") && t.contains(":3:10"))
    );
    assert!(
        text.iter().any(|t| t.contains("missing field `source`")),
        "{text:#?}"
    );
    assert_eq!(s.population.len(), 1);
    assert_eq!(s.population[0].township, "513431102");
}

#[test]
fn overrides_replace_estimates_and_unknown_townships_point_at_their_line() {
    let mut dir = Directory::liangshan();
    let code = dir.townships()[0].code.clone();
    assert!(dir.townships()[0].population.estimated);
    let src = format!(
        "[[population]]\ntownship = \"{code}\"\npeople = 4321\nsource = \"户籍\"\n\n\
         [[population]]\ntownship = \"513431999\"\npeople = 10\nsource = \"x\"\n\n\
         [[population]]\ntownship = \"{code}\"\npeople = 5\nsource = \"again\"\n"
    );
    let (s, diags) = parse(&src);
    assert!(diags.is_empty(), "{diags:?}");
    let diags = s.apply_population(&mut dir);
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert_eq!(diags[0].location.as_ref().unwrap().line, 7);
    assert!(diags[0].message.contains("513431999"), "{}", diags[0]);
    assert_eq!(diags[1].location.as_ref().unwrap().line, 12);
    assert!(
        diags[1]
            .message
            .contains("already has a population override")
    );
    let t = dir.township(&code).unwrap();
    assert_eq!((t.population.people, t.population.estimated), (4321, false));
    assert_eq!(t.population.source, "户籍");
}

#[test]
fn missing_file_means_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, diags) = Settings::load(tmp.path());
    assert!(diags.is_empty());
    assert_eq!(s, Settings::default());
}

const PRIMARY: &str = "45134310000000102010101";

#[test]
fn bad_extra_sender_codes_point_at_their_item_and_the_others_stay() {
    let src = format!(
        "[ebd]\nextra_sender_ebrids = [\n  \"45134310000000102010102\",\n  \"4513431000000010201010\",\n  \
         \"{PRIMARY}\",\n  \"45134310000000102010102\",\n  \"45134310000000102010103\",\n]\n"
    );
    let (s, diags) = parse(&src);
    let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
    assert_eq!(diags.len(), 3, "{text:#?}");
    assert!(text[0].contains(":4:3"), "{text:#?}");
    assert!(text[0].contains("extra_sender_ebrids[1]"), "{text:#?}");
    assert!(text[0].contains("expected 23 digits"), "{text:#?}");
    assert!(text[1].contains(":5:3") && text[1].contains("already a sender code"));
    assert!(text[2].contains(":6:3") && text[2].contains("already a sender code"));
    assert!(text.iter().all(|t| t.contains("left out")), "{text:#?}");
    assert_eq!(
        s.ebd.extra_sender_ebrids,
        ["45134310000000102010102", "45134310000000102010103"]
    );
    assert_eq!(s.ebd.sender_ebrid, PRIMARY);
}

#[test]
fn an_extra_sender_of_the_wrong_type_is_dropped_at_its_position() {
    let src =
        "[ebd]\nextra_sender_ebrids = [\"45134310000000102010102\", 45134310000000102010103]\n";
    let (s, diags) = parse(src);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let loc = diags[0].location.as_ref().unwrap();
    assert_eq!(loc.line, 2);
    assert_eq!(s.ebd.extra_sender_ebrids, ["45134310000000102010102"]);
}

#[test]
fn a_bad_first_sender_is_reported_at_its_key_and_ebd_defaults() {
    // The comment mentions `[ebd]` first: the error must point at the key, not the comment.
    let src = "# [ebd] holds our codes\n[ebd]\nsender_name = \"x\"\nsender_ebrid = \"123\"\n\
               extra_sender_ebrids = [\"45134310000000102010102\"]\n";
    let (s, diags) = parse(src);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let text = diags[0].to_string();
    assert!(text.contains("schedules/settings.toml:4:16"), "{text}");
    assert!(
        text.contains("sender_ebrid") && text.contains("`123`"),
        "{text}"
    );
    assert_eq!(s.ebd, EbdProfile::default());
}
