//! The directory: Liangshan's 17 counties, 304 townships and 2,377 villages (official codes,
//! names, populations and where each figure comes from), embedded in the binary.

use serde::Serialize;

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

/// Counties and townships, looked up by code or Chinese name.
#[derive(Debug, Clone)]
pub struct Directory {
    counties: Vec<County>,
    townships: Vec<Township>,
}

impl Directory {
    pub fn counties(&self) -> &[County] {
        &self.counties
    }

    pub fn townships(&self) -> &[Township] {
        &self.townships
    }
}
