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
