//! Villages (村) and communities (社区) as places of their own: look-up by 12-digit code, name
//! or `township/village`, the Chinese-aware "did you mean" of [`super::lookup`], and their
//! populations.
//!
//! No village-level figures are public, so a village's population is an estimate: its
//! township's population (itself an estimate unless staff replaced it) shared evenly over the
//! township's village-level units, largest remainder first, so the villages of a township add
//! up to it exactly. Staff replace a village's figure with a `[[population]]` entry naming its
//! 12-digit code. A community cannot be told from a village by its code number; its name says
//! so (`…社区居民委员会`).

use super::lookup::{best, stem};
use super::{
    Directory, Level, LookupError, Population, Suggestion, Township, Village,
    estimate_by_village_units,
};

/// A village and the township whose endpoint serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VillageRef<'d> {
    pub village: &'d Village,
    pub township: &'d Township,
}

impl Village {
    /// Whether the unit is a community (社区) rather than a village (村), by its name.
    pub fn is_community(&self) -> bool {
        self.name.contains("社区")
    }
}

/// A village's name without its committee suffix and without `村`/`社区`:
/// `俄尔古取村村民委员会` → `俄尔古取`, `城南社区` → `城南`.
pub fn village_stem(name: &str) -> &str {
    stem(stem(name))
}

/// Share a township's population evenly over its villages (estimates, exact sum); a village
/// with a staff-supplied figure keeps it.
pub(super) fn estimate_villages(t: &mut Township) {
    let people = estimate_by_village_units(t.population.people, &vec![1; t.villages.len()]);
    let units = t.villages.len();
    let of = if t.population.estimated {
        "estimated"
    } else {
        "staff-supplied"
    };
    for (v, people) in t.villages.iter_mut().zip(people) {
        if !v.population.estimated {
            continue;
        }
        v.population = Population {
            people,
            estimated: true,
            source: format!(
                "estimate: {} {of} population ({}) shared evenly by its {units} village-level units",
                t.name, t.population.people
            ),
        };
    }
}

fn is_village_code(q: &str) -> bool {
    q.len() == 12 && q.bytes().all(|b| b.is_ascii_digit())
}

impl Directory {
    /// A village by its 12-digit code.
    pub fn village_by_code(&self, code: &str) -> Option<VillageRef<'_>> {
        let &(t, v) = self.village_index.get(code)?;
        let township = &self.townships[t];
        Some(VillageRef {
            village: &township.villages[v],
            township,
        })
    }

    /// A village by 12-digit code, name (`尼日村` or `尼日村村民委员会`), or
    /// `township/village` and `county/township/village` where a name repeats.
    pub fn village(&self, query: &str) -> Result<VillageRef<'_>, LookupError> {
        let q = query.trim();
        if let Some(found) = self.village_by_code(q) {
            return Ok(found);
        }
        let (within, name) = match q.rsplit_once('/') {
            Some((t, n)) => (Some(self.township(t)?), n.trim()),
            None => (None, q),
        };
        let key = village_stem(name);
        let candidates = || {
            self.townships
                .iter()
                .filter(move |t| within.is_none_or(|w| w.code == t.code))
                .flat_map(|t| {
                    t.villages.iter().map(move |v| VillageRef {
                        village: v,
                        township: t,
                    })
                })
        };
        let found: Vec<VillageRef<'_>> = candidates()
            .filter(|r| r.village.name == name || village_stem(&r.village.name) == key)
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(self.village_error(q, name, within, candidates)),
            many => Err(LookupError::Ambiguous {
                query: q.to_string(),
                codes: many.iter().map(|r| r.village.code.clone()).collect(),
            }),
        }
    }

    fn village_error<'d, I: Iterator<Item = VillageRef<'d>>>(
        &'d self,
        q: &str,
        name: &str,
        within: Option<&Township>,
        candidates: impl Fn() -> I,
    ) -> LookupError {
        if within.is_none()
            && !is_village_code(q)
            && let Ok(t) = self.township(q)
        {
            let county = self.county_of(t).map_or("", |c| c.name.as_str());
            return LookupError::Misplaced {
                query: q.to_string(),
                message: crate::t!(
                    "lookup-township-in-villages",
                    query = q,
                    name = &t.name,
                    code = &t.code,
                    county = county
                ),
                help: crate::t!("lookup-use-townships", query = q),
            };
        }
        let suggestion = if q.bytes().all(|b| b.is_ascii_digit()) {
            let codes: Vec<&str> = candidates().map(|r| r.village.code.as_str()).collect();
            crate::diag::did_you_mean(q, codes.iter().copied())
                .and_then(|code| self.village_by_code(code))
        } else {
            let named = candidates().map(|r| (village_stem(&r.village.name).to_string(), r));
            best(
                village_stem(name),
                named.map(|(n, r)| (n, r.village.code.clone())),
            )
            .and_then(|code| self.village_by_code(&code))
        };
        LookupError::Unknown {
            what: Level::Village,
            query: q.to_string(),
            suggestion: suggestion.map(|r| self.village_suggestion(r)),
        }
    }

    fn village_suggestion(&self, r: VillageRef<'_>) -> Suggestion {
        let county = self.county_of(r.township).map_or("", |c| c.name.as_str());
        let short = village_stem(&r.village.name);
        let repeated = self
            .townships
            .iter()
            .flat_map(|t| &t.villages)
            .filter(|v| village_stem(&v.name) == short)
            .count()
            > 1;
        Suggestion {
            text: if repeated {
                format!("{}/{}", r.township.name, r.village.name)
            } else {
                r.village.name.clone()
            },
            help: crate::t!(
                "lookup-suggest-village",
                name = &r.village.name,
                code = &r.village.code,
                county = county,
                township = &r.township.name
            ),
        }
    }

    /// An area by code: a 9-digit township or a 12-digit village.
    pub fn area(&self, code: &str) -> Option<Area<'_>> {
        if is_village_code(code) {
            let r = self.village_by_code(code)?;
            return Some(Area {
                name: format!("{} {}", r.township.name, r.village.name),
                township: r.township,
                village: Some(r.village),
                population: &r.village.population,
            });
        }
        let t = self.township(code).ok()?;
        Some(Area {
            name: t.name.clone(),
            township: t,
            village: None,
            population: &t.population,
        })
    }
}

/// A place broadcasts are counted by: a township targeted whole, or one village of a township
/// targeted in part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area<'d> {
    /// The township's name, or `township village` (`竹核镇 尼日村村民委员会`).
    pub name: String,
    pub township: &'d Township,
    pub village: Option<&'d Village>,
    pub population: &'d Population,
}
