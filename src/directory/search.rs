//! Why a county or township look-up failed, and what to write instead: a code of the wrong
//! level, a village's name, or the clearly closest name ([`super::lookup`]).

use super::lookup::{best, stem};
use super::{County, Directory, Level, LookupError, Suggestion, Township, village_stem};
use crate::diag::did_you_mean;

fn is_code(q: &str, len: usize) -> bool {
    q.len() == len && q.bytes().all(|b| b.is_ascii_digit())
}

/// A county query that found nothing.
pub(super) fn county_error(dir: &Directory, q: &str) -> LookupError {
    if is_code(q, 9)
        && let Ok(t) = dir.township(q)
    {
        let county = dir.county_of(t).map_or("", |c| c.name.as_str());
        return LookupError::Misplaced {
            query: q.to_string(),
            message: crate::t!(
                "lookup-township-code-in-counties",
                query = q,
                name = &t.name,
                county = county
            ),
            help: crate::t!("lookup-use-townships", query = q),
        };
    }
    let suggestion = if q.bytes().all(|b| b.is_ascii_digit()) {
        let codes = dir.counties.iter().map(|c| c.code.as_str());
        did_you_mean(q, codes).and_then(|code| dir.counties.iter().find(|c| c.code == code))
    } else {
        let names = dir.counties.iter().enumerate();
        best(q, names.map(|(i, c)| (c.name.clone(), i))).map(|i| &dir.counties[i])
    };
    LookupError::Unknown {
        what: Level::County,
        query: q.to_string(),
        suggestion: suggestion.map(county_suggestion),
    }
}

fn county_suggestion(c: &County) -> Suggestion {
    Suggestion {
        text: c.name.clone(),
        help: crate::t!("lookup-suggest-county", name = &c.name, code = &c.code),
    }
}

/// A township query (`name`, within `county` when the query named one) that found nothing.
pub(super) fn township_error(dir: &Directory, county: Option<&County>, name: &str) -> LookupError {
    let query = match county {
        Some(c) => format!("{}/{name}", c.name),
        None => name.to_string(),
    };
    if is_code(name, 6)
        && let Some(c) = dir.counties.iter().find(|c| c.code == name)
    {
        return LookupError::Misplaced {
            message: crate::t!(
                "lookup-county-code-in-townships",
                query = name,
                name = &c.name
            ),
            help: crate::t!("lookup-use-counties", query = name),
            query,
        };
    }
    let within = |t: &&Township| county.is_none_or(|c| c.code == t.county_code);
    if let Some(found) = village(dir, name, &within) {
        return found.into_error(dir, query);
    }
    let suggestion = if name.bytes().all(|b| b.is_ascii_digit()) {
        let codes = dir.townships.iter().filter(within).map(|t| t.code.as_str());
        did_you_mean(name, codes).and_then(|code| dir.township(code).ok())
    } else {
        let names = dir.townships.iter().enumerate().filter(|(_, t)| within(t));
        best(name, names.map(|(i, t)| (t.name.clone(), i))).map(|i| &dir.townships[i])
    };
    LookupError::Unknown {
        what: Level::Township,
        query,
        suggestion: suggestion.map(|t| township_suggestion(dir, t)),
    }
}

fn township_suggestion(dir: &Directory, t: &Township) -> Suggestion {
    let county = dir.county_of(t).map_or("", |c| c.name.as_str());
    let repeated = dir.townships.iter().filter(|o| o.name == t.name).count() > 1;
    Suggestion {
        text: if repeated {
            format!("{county}/{}", t.name)
        } else {
            t.name.clone()
        },
        help: crate::t!(
            "lookup-suggest",
            name = &t.name,
            code = &t.code,
            county = county
        ),
    }
}

/// A village that a township query named (by 12-digit code, or by name when every village of
/// that name lies in one township).
struct VillageHit<'d> {
    name: &'d str,
    code: &'d str,
    township: &'d Township,
}

impl VillageHit<'_> {
    fn into_error(self, dir: &Directory, query: String) -> LookupError {
        let county = dir.county_of(self.township).map_or("", |c| c.name.as_str());
        let t = self.township;
        LookupError::Misplaced {
            message: crate::t!(
                "lookup-village",
                query = self.name,
                township = &t.name,
                code = &t.code,
                county = county
            ),
            help: crate::t!(
                "lookup-use-township",
                code = &t.code,
                township = &t.name,
                query = if query.contains('/') {
                    self.code
                } else {
                    query.as_str()
                }
            ),
            query,
        }
    }
}

fn village<'d>(
    dir: &'d Directory,
    q: &str,
    within: &impl Fn(&&Township) -> bool,
) -> Option<VillageHit<'d>> {
    let by_code = is_code(q, 12);
    let q_stem = stem(q);
    let townships = dir.townships.iter().filter(within);
    if !by_code && townships.clone().any(|t| stem(&t.name) == q_stem) {
        return None;
    }
    let mut hits = townships.flat_map(|t| {
        t.villages
            .iter()
            .filter(move |v| {
                if by_code {
                    v.code == q
                } else {
                    v.name == q || village_stem(&v.name) == village_stem(q)
                }
            })
            .map(move |v| VillageHit {
                name: v.name.as_str(),
                code: v.code.as_str(),
                township: t,
            })
    });
    let first = hits.next()?;
    hits.all(|h| h.township.code == first.township.code)
        .then_some(first)
}
