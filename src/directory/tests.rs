//! Tests of the embedded directory and its lookups.

use std::collections::BTreeSet;

use super::*;

#[test]
fn embedded_data_has_the_published_counts() {
    let d = Directory::liangshan();
    assert_eq!(d.counties().len(), 17);
    assert_eq!(d.townships().len(), 304);
    let villages: usize = d.townships().iter().map(|t| t.villages.len()).sum();
    assert_eq!(villages, 2377);
    assert_eq!(d.population(), 4_858_359);
}

#[test]
fn codes_are_well_formed_and_nested() {
    let d = Directory::liangshan();
    let mut seen = BTreeSet::new();
    for t in d.townships() {
        assert_eq!(t.code.len(), 9, "{}", t.code);
        assert!(t.code.starts_with(&t.county_code), "{}", t.code);
        assert!(d.county(&t.county_code).is_ok());
        assert!(seen.insert(t.code.clone()), "duplicate {}", t.code);
        for v in &t.villages {
            assert_eq!(v.code.len(), 12);
            assert!(v.code.starts_with(&t.code));
            assert!(seen.insert(v.code.clone()), "duplicate {}", v.code);
        }
        assert_eq!(t.region_code().len(), 12);
    }
}

#[test]
fn township_estimates_add_up_to_each_county() {
    let d = Directory::liangshan();
    for c in d.counties() {
        let sum: u64 = d.townships_of(&c.code).map(|t| t.population.people).sum();
        assert_eq!(sum, c.population.people, "{}", c.name);
        assert!(d.townships_of(&c.code).all(|t| t.population.estimated));
    }
}

#[test]
fn estimate_is_proportional_and_exact() {
    assert_eq!(estimate_by_village_units(10, &[1, 1, 1]), vec![4, 3, 3]);
    assert_eq!(estimate_by_village_units(100, &[3, 1]), vec![75, 25]);
    assert_eq!(estimate_by_village_units(7, &[0, 0]), vec![4, 3]);
    assert_eq!(estimate_by_village_units(5, &[0, 2]), vec![0, 5]);
    assert!(estimate_by_village_units(5, &[]).is_empty());
}

#[test]
fn looks_up_counties_by_code_and_names() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let d = Directory::liangshan();
    for q in ["513431", "昭觉县", "昭觉", "Zhaojue", "zhaojue"] {
        assert_eq!(d.county(q).unwrap().code, "513431", "{q}");
    }
    assert_eq!(d.county("木里").unwrap().code, "513422");
    let err = d.county("昭觉村").unwrap_err();
    assert_eq!(err.suggestion(), Some("昭觉县"));
    assert_eq!(err.to_string(), "unknown county `昭觉村`");
}

#[test]
fn looks_up_townships_by_code_name_and_qualified_name() {
    let d = Directory::liangshan();
    let by_code = d.township("513401001").unwrap();
    assert_eq!(by_code.name, "北城街道");
    assert_eq!(d.township("北城街道").unwrap().code, "513401001");
    assert_eq!(d.township("西昌市/北城街道").unwrap().code, "513401001");
    assert!(d.township("昭觉县/北城街道").is_err());
    let err = d.township("513401009").unwrap_err();
    assert!(err.suggestion().is_some());
}

#[test]
fn overrides_replace_estimates() {
    let mut d = Directory::liangshan();
    let o = PopulationOverride {
        township: "北城街道".into(),
        people: 12_345,
        source: "staff figure".into(),
    };
    d.apply_overrides(&[o]).unwrap();
    let t = d.township("513401001").unwrap();
    assert_eq!(t.population.people, 12_345);
    assert!(!t.population.estimated);
}

#[test]
fn villages_are_found_by_code_name_and_township() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let d = Directory::liangshan();
    let by_code = d.village("513431102200").unwrap();
    assert_eq!(by_code.village.name, "尼日村村民委员会");
    assert_eq!(by_code.township.code, "513431102");
    for q in [
        "尼日村",
        "尼日村村民委员会",
        "竹核镇/尼日村",
        "昭觉县/竹核镇/尼日村",
    ] {
        assert_eq!(d.village(q).unwrap().village.code, "513431102200", "{q}");
    }
    let community = d.village("513431100001").unwrap().village;
    assert!(community.is_community() && !by_code.village.is_community());
    // A name that repeats across townships asks for the township.
    let repeated = d
        .townships()
        .iter()
        .flat_map(|t| &t.villages)
        .find(|v| {
            let n = village_stem(&v.name);
            d.townships()
                .iter()
                .flat_map(|t| &t.villages)
                .filter(|o| village_stem(&o.name) == n)
                .count()
                > 1
        })
        .unwrap();
    let e = d.village(&repeated.name).unwrap_err();
    assert!(
        matches!(&e, LookupError::Ambiguous { codes, .. } if codes.len() > 1),
        "{e}"
    );
    assert!(e.to_string().contains("township/village"), "{e}");
}

#[test]
fn unknown_villages_get_a_chinese_did_you_mean_and_townships_are_named() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let d = Directory::liangshan();
    // 泥 for 尼: the same sound, one slip.
    let e = d.village("竹核镇/泥日村").unwrap_err();
    assert_eq!(e.suggestion(), Some("尼日村村民委员会"), "{e}");
    assert!(e.help().unwrap().contains("513431102200"), "{e:?}");
    assert!(e.to_string().contains("unknown village"), "{e}");
    let e = d.village("竹核镇").unwrap_err();
    assert!(matches!(e, LookupError::Misplaced { .. }), "{e:?}");
    assert!(e.to_string().contains("not a village"), "{e}");
    let e = d.village("513431102999").unwrap_err();
    assert!(e.suggestion().is_some_and(|s| s.contains('村')), "{e:?}");
}

#[test]
fn village_estimates_add_up_to_their_township_and_staff_figures_replace_them() {
    let mut d = Directory::liangshan();
    for t in d.townships() {
        let sum: u64 = t.villages.iter().map(|v| v.population.people).sum();
        assert_eq!(sum, t.population.people, "{}", t.name);
        assert!(t.villages.iter().all(|v| v.population.estimated));
    }
    let village = |o: &str, p: u64| PopulationOverride {
        township: o.into(),
        people: p,
        source: "村委会 2024 户籍".into(),
    };
    d.apply_overrides(&[village("513431102200", 1234), village("竹核镇", 9000)])
        .unwrap();
    let t = d.township("513431102").unwrap();
    assert_eq!(t.population.people, 9000);
    let own = &d.village("513431102200").unwrap().village.population;
    assert_eq!((own.people, own.estimated), (1234, false));
    let others: Vec<&Village> = t
        .villages
        .iter()
        .filter(|v| v.population.estimated)
        .collect();
    assert_eq!(others.len(), t.villages.len() - 1);
    assert!(others[0].population.source.contains("staff-supplied"));
    let area = d.area("513431102200").unwrap();
    assert_eq!(area.population.people, 1234);
    assert_eq!(area.name, "竹核镇 尼日村村民委员会");
    assert_eq!(area.township.code, "513431102");
    assert_eq!(d.area("513431102").unwrap().population.people, 9000);
    assert!(d.area("513431102999").is_none());
}
