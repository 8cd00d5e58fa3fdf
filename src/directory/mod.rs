//! The directory: Liangshan's 17 counties, 304 townships and 2,377 villages (official codes,
//! names, populations and where each figure comes from), embedded in the binary so a fresh
//! clone needs nothing else. Provenance: `src/directory/data/README.md`.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::Serialize;

mod load;
pub mod lookup;
mod population;
mod search;
mod village;

pub use population::{PopulationOverride, estimate_by_village_units};
pub use village::{Area, VillageRef, village_stem};

/// Where a population figure comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Population {
    pub people: u64,
    /// True when the figure is an estimate by a stated rule rather than a published count.
    pub estimated: bool,
    /// The source or rule, in plain words.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct County {
    /// 6-digit county code, e.g. `513431`.
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub population: Population,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Village {
    /// 12-digit village code.
    pub code: String,
    pub name: String,
    /// An estimate (its township's people shared evenly) unless staff supplied a figure.
    pub population: Population,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Township {
    /// 9-digit township code, e.g. `513431100`.
    pub code: String,
    pub name: String,
    pub county_code: String,
    /// subdistrict (街道), town (镇), township (乡) or ethnic_township (民族乡).
    pub kind: String,
    pub villages: Vec<Village>,
    pub population: Population,
}

impl Township {
    /// The 12-digit region code used on the emergency-broadcast wire (`513431100000`).
    pub fn region_code(&self) -> String {
        format!("{}000", self.code)
    }
}

/// A code or name that names no county or township (or more than one, or a place of another
/// level). Its text is the catalogue's, in the interface language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    Unknown {
        what: Level,
        query: String,
        /// The clearly closest place, for "did you mean".
        suggestion: Option<Suggestion>,
    },
    Ambiguous {
        query: String,
        codes: Vec<String>,
    },
    /// A place of another level than asked for (a county code among townships, a village),
    /// with what to write instead.
    Misplaced {
        query: String,
        message: String,
        help: String,
    },
}

/// The level of a place asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    County,
    Township,
    Village,
}

/// What to type instead of an unknown name, and the sentence that offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// What to write: a name, or `county/township` where the name repeats across counties.
    pub text: String,
    /// "did you mean 竹核镇 `513431102` (昭觉县)?"
    pub help: String,
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            LookupError::Unknown {
                what: Level::County,
                query,
                ..
            } => crate::t!("lookup-unknown-county", query = query),
            LookupError::Unknown {
                what: Level::Village,
                query,
                ..
            } => crate::t!("lookup-unknown-village", query = query),
            LookupError::Unknown { query, .. } => {
                crate::t!("lookup-unknown-township", query = query)
            }
            LookupError::Ambiguous { query, codes } => crate::t!(
                if codes.iter().all(|c| c.len() == 12) {
                    "lookup-ambiguous-village"
                } else {
                    "lookup-ambiguous"
                },
                query = query,
                count = codes.len(),
                list = codes.join(", ")
            ),
            LookupError::Misplaced { message, .. } => message.clone(),
        };
        f.write_str(&text)
    }
}

impl std::error::Error for LookupError {}

impl LookupError {
    /// What to write instead, when one candidate clearly wins.
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            LookupError::Unknown { suggestion, .. } => suggestion.as_ref().map(|s| s.text.as_str()),
            _ => None,
        }
    }

    /// The hint to show: the suggestion's sentence, or what to write for a misplaced place.
    pub fn help(&self) -> Option<&str> {
        match self {
            LookupError::Unknown { suggestion, .. } => suggestion.as_ref().map(|s| s.help.as_str()),
            LookupError::Misplaced { help, .. } => Some(help),
            LookupError::Ambiguous { .. } => None,
        }
    }
}

/// Counties and townships, looked up by code or Chinese name.
#[derive(Debug, Clone)]
pub struct Directory {
    counties: Vec<County>,
    townships: Vec<Township>,
    township_index: BTreeMap<String, usize>,
    /// Village code → (township, village) positions.
    village_index: HashMap<String, (usize, usize)>,
}

impl Directory {
    /// The embedded Liangshan directory (NBS 2023 codes, 2020 census county populations,
    /// township populations estimated by village-level units).
    pub fn liangshan() -> Directory {
        static LIANGSHAN: LazyLock<Directory> = LazyLock::new(load::liangshan);
        LIANGSHAN.clone()
    }

    fn new(counties: Vec<County>, mut townships: Vec<Township>) -> Directory {
        townships.iter_mut().for_each(village::estimate_villages);
        let village_index = townships
            .iter()
            .enumerate()
            .flat_map(|(i, t)| {
                t.villages
                    .iter()
                    .enumerate()
                    .map(move |(j, v)| (v.code.clone(), (i, j)))
            })
            .collect();
        let township_index = townships
            .iter()
            .enumerate()
            .map(|(i, t)| (t.code.clone(), i))
            .collect();
        Directory {
            counties,
            townships,
            township_index,
            village_index,
        }
    }

    pub fn counties(&self) -> &[County] {
        &self.counties
    }

    pub fn townships(&self) -> &[Township] {
        &self.townships
    }

    /// The prefecture's population: the sum of its counties'.
    pub fn population(&self) -> u64 {
        self.counties.iter().map(|c| c.population.people).sum()
    }

    /// A county by 6-digit code, Chinese name (`昭觉县`), short name (`昭觉`) or English name.
    pub fn county(&self, query: &str) -> Result<&County, LookupError> {
        let q = query.trim();
        self.counties
            .iter()
            .find(|c| {
                c.code == q
                    || c.name == q
                    || c.name_en.eq_ignore_ascii_case(q)
                    || short_name(&c.name) == q
            })
            .ok_or_else(|| search::county_error(self, q))
    }

    /// A township by 9-digit code, Chinese name, or `county/township` (`昭觉县/新城镇`).
    pub fn township(&self, query: &str) -> Result<&Township, LookupError> {
        let q = query.trim();
        if let Some(&i) = self.township_index.get(q) {
            return Ok(&self.townships[i]);
        }
        let (county, name) = match q.split_once('/') {
            Some((c, n)) => (Some(self.county(c)?), n.trim()),
            None => (None, q),
        };
        let found: Vec<&Township> = self
            .townships
            .iter()
            .filter(|t| county.is_none_or(|c| c.code == t.county_code) && t.name == name)
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(search::township_error(self, county, name)),
            many => Err(LookupError::Ambiguous {
                query: q.to_string(),
                codes: many.iter().map(|t| t.code.clone()).collect(),
            }),
        }
    }

    /// The townships of a county, in code order.
    pub fn townships_of<'a>(&'a self, county_code: &'a str) -> impl Iterator<Item = &'a Township> {
        self.townships
            .iter()
            .filter(move |t| t.county_code == county_code)
    }

    /// The county a township belongs to.
    pub fn county_of(&self, township: &Township) -> Option<&County> {
        self.counties
            .iter()
            .find(|c| c.code == township.county_code)
    }

    /// Replace estimated township (or, by 12-digit code, village) populations with
    /// staff-supplied figures; a township's villages are estimated again from its new figure.
    pub fn apply_overrides(&mut self, overrides: &[PopulationOverride]) -> Result<(), LookupError> {
        for o in overrides {
            let figure = Population {
                people: o.people,
                estimated: false,
                source: o.source.clone(),
            };
            if let Some(&(t, v)) = self.village_index.get(o.township.trim()) {
                self.townships[t].villages[v].population = figure;
                continue;
            }
            let code = self.township(&o.township)?.code.clone();
            let i = self.township_index[&code];
            self.townships[i].population = figure;
            village::estimate_villages(&mut self.townships[i]);
        }
        Ok(())
    }
}

/// `昭觉县` → `昭觉`, `西昌市` → `西昌`, `木里藏族自治县` → `木里`.
fn short_name(name: &str) -> &str {
    let name = name.trim_end_matches(['县', '市']);
    name.strip_suffix("藏族自治").unwrap_or(name)
}

#[cfg(test)]
mod tests;
