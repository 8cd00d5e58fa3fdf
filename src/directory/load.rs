//! Parsing the embedded CSV files (`src/directory/data/`) into the directory.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{County, Directory, Population, Township, Village, estimate_by_village_units};

const COUNTIES: &str = include_str!("data/counties.csv");
const TOWNSHIPS: &str = include_str!("data/townships.csv");
const VILLAGES: &str = include_str!("data/villages.csv");

#[derive(Deserialize)]
struct CountyRow {
    county_code: String,
    county_name: String,
    county_name_en: String,
    population_2020: u64,
    population_note: String,
}

#[derive(Deserialize)]
struct TownshipRow {
    county_code: String,
    township_code: String,
    township_name: String,
    township_type: String,
    village_level_units: u32,
}

#[derive(Deserialize)]
struct VillageRow {
    township_code: String,
    village_code: String,
    village_name: String,
}

fn rows<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> Vec<T> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("embedded {name} is malformed: {e}"))
}

/// Build the directory from the embedded data. The data is part of the binary and checked by
/// the tests, so a malformed row is a build defect, not a runtime condition.
pub(super) fn liangshan() -> Directory {
    let counties: Vec<CountyRow> = rows("counties.csv", COUNTIES);
    let townships: Vec<TownshipRow> = rows("townships.csv", TOWNSHIPS);
    let villages: Vec<VillageRow> = rows("villages.csv", VILLAGES);

    let mut villages_of: BTreeMap<String, Vec<Village>> = BTreeMap::new();
    for v in villages {
        villages_of
            .entry(v.township_code)
            .or_default()
            .push(Village {
                code: v.village_code,
                name: v.village_name,
                population: Population {
                    people: 0,
                    estimated: true,
                    source: String::new(),
                },
            });
    }

    let mut out_townships = Vec::with_capacity(townships.len());
    let out_counties: Vec<County> = counties
        .into_iter()
        .map(|c| County {
            population: Population {
                people: c.population_2020,
                estimated: c.population_note.starts_with("rounded")
                    || c.population_note.starts_with("derived"),
                source: c.population_note,
            },
            code: c.county_code,
            name: c.county_name,
            name_en: c.county_name_en,
        })
        .collect();

    for county in &out_counties {
        let own: Vec<&TownshipRow> = townships
            .iter()
            .filter(|t| t.county_code == county.code)
            .collect();
        let units: Vec<u32> = own.iter().map(|t| t.village_level_units).collect();
        let people = estimate_by_village_units(county.population.people, &units);
        for (t, people) in own.into_iter().zip(people) {
            out_townships.push(Township {
                code: t.township_code.clone(),
                name: t.township_name.clone(),
                county_code: t.county_code.clone(),
                kind: t.township_type.clone(),
                villages: villages_of.remove(&t.township_code).unwrap_or_default(),
                population: Population {
                    people,
                    estimated: true,
                    source: format!(
                        "estimate: {} population ({}) shared by village-level units ({} of {})",
                        county.name,
                        county.population.people,
                        t.village_level_units,
                        units.iter().sum::<u32>()
                    ),
                },
            });
        }
    }
    out_townships.sort_by(|a, b| a.code.cmp(&b.code));
    Directory::new(out_counties, out_townships)
}
