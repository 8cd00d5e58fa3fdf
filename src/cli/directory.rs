//! `shengbo directory [QUERY] [--county C] [--format table|json|csv]`: counties, townships and
//! villages with their codes and populations (estimates marked), the endpoints serving each and
//! the campaigns targeting it. QUERY matches codes, Chinese names (whole or in part, with or
//! without 县/镇/乡…) and pinyin. Without QUERY: the counties and their townships.

use std::process::ExitCode;

use serde::Serialize;

use super::Global;
use crate::directory::lookup::matches;
use crate::directory::{County, Directory, Township};
use crate::schedule::Campaign;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A code (or its first digits), a Chinese name or part of one, or pinyin (`zhaojue`).
    pub query: Option<String>,
    /// Only this county (code or name).
    #[arg(long)]
    pub county: Option<String>,
    /// An aligned table, or rows as JSON or CSV (English keys).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// One place, as JSON and CSV give it (stable English keys).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `county`, `township` or `village`.
    pub level: &'static str,
    pub code: String,
    pub name: String,
    pub county: String,
    /// The township a village belongs to (empty for counties and townships).
    pub township: String,
    /// People, where the directory has a figure (a village's is an estimate unless staff gave one).
    pub population: Option<u64>,
    pub estimated: bool,
    /// Endpoint ids serving the place (for a county: any of its townships), `;`-joined in CSV.
    pub endpoints: String,
    /// Campaign ids targeting the place (for a county: any of its townships).
    pub campaigns: String,
}

/// What the project says about each township: who serves it and who targets it.
#[derive(Debug, Default)]
pub struct Usage {
    pub campaigns: Vec<Campaign>,
    pub registry: Option<crate::endpoint::Registry>,
}

impl Usage {
    /// The project's campaigns and endpoints; what does not load leaves its column empty
    /// (`check` is where its problems are reported).
    pub fn load(root: &std::path::Path, directory: &Directory) -> Usage {
        let (campaigns, _) = crate::schedule::load_dir(root, directory);
        let registry = crate::scheduler::endpoints::load_registry(root, directory, None)
            .ok()
            .map(|(r, _)| r);
        Usage {
            campaigns,
            registry,
        }
    }

    fn of<'a>(&self, townships: impl Iterator<Item = &'a str> + Clone) -> (String, String) {
        let mut endpoints: Vec<&str> = Vec::new();
        let mut campaigns: Vec<&str> = Vec::new();
        for t in townships {
            if let Some(r) = &self.registry {
                endpoints.extend(r.endpoints_for(t).map(|e| e.id.as_str()));
            }
            let targeting = self
                .campaigns
                .iter()
                .filter(|c| c.townships.iter().any(|x| x == t));
            campaigns.extend(targeting.map(|c| c.id.as_str()));
        }
        for list in [&mut endpoints, &mut campaigns] {
            list.sort_unstable();
            list.dedup();
        }
        (endpoints.join(";"), campaigns.join(";"))
    }
}

/// The rows matching `query` within `county` (all counties when `None`). Without a query:
/// counties and townships; with one: every county, township and village it matches.
pub fn rows(
    dir: &Directory,
    usage: &Usage,
    query: Option<&str>,
    county: Option<&County>,
) -> Vec<Row> {
    let mut out = Vec::new();
    let in_scope = |c: &County| county.is_none_or(|k| k.code == c.code);
    for c in dir.counties().iter().filter(|c| in_scope(c)) {
        let towns: Vec<&Township> = dir.townships_of(&c.code).collect();
        if query.is_none_or(|q| matches(q, &c.name, &c.code, Some(&c.name_en))) {
            let (endpoints, campaigns) = usage.of(towns.iter().map(|t| t.code.as_str()));
            out.push(Row {
                level: "county",
                code: c.code.clone(),
                name: c.name.clone(),
                county: c.name.clone(),
                township: String::new(),
                population: Some(c.population.people),
                estimated: c.population.estimated,
                endpoints,
                campaigns,
            });
        }
        for t in towns {
            let (endpoints, campaigns) = usage.of(std::iter::once(t.code.as_str()));
            if query.is_none_or(|q| matches(q, &t.name, &t.code, None)) {
                out.push(Row {
                    level: "township",
                    code: t.code.clone(),
                    name: t.name.clone(),
                    county: c.name.clone(),
                    township: String::new(),
                    population: Some(t.population.people),
                    estimated: t.population.estimated,
                    endpoints: endpoints.clone(),
                    campaigns: campaigns.clone(),
                });
            }
            let Some(q) = query else { continue };
            for v in t
                .villages
                .iter()
                .filter(|v| matches(q, &v.name, &v.code, None))
            {
                out.push(Row {
                    level: "village",
                    code: v.code.clone(),
                    name: v.name.clone(),
                    county: c.name.clone(),
                    township: t.name.clone(),
                    population: Some(v.population.people),
                    estimated: v.population.estimated,
                    endpoints: endpoints.clone(),
                    campaigns: campaigns.clone(),
                });
            }
        }
    }
    out
}

/// The rows as an aligned table (Han and Yi characters count two columns) and a count line.
pub fn table(rows: &[Row]) -> String {
    let head = [
        crate::t!("dir-col-level"),
        crate::t!("dir-col-code"),
        crate::t!("dir-col-name"),
        crate::t!("dir-col-county"),
        crate::t!("dir-col-township"),
        crate::t!("dir-col-population"),
        crate::t!("dir-col-endpoint"),
        crate::t!("dir-col-campaigns"),
    ];
    let none = crate::t!("dir-none");
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            let population = r.population.map_or_else(
                || none.clone(),
                |p| match r.estimated {
                    true => format!("{p}{}", crate::t!("dir-estimated")),
                    false => p.to_string(),
                },
            );
            let or_none = |s: &str| {
                if s.is_empty() {
                    none.clone()
                } else {
                    s.to_string()
                }
            };
            [
                crate::t!(&format!("dir-level-{}", r.level)),
                r.code.clone(),
                r.name.clone(),
                r.county.clone(),
                or_none(&r.township),
                population,
                or_none(&r.endpoints),
                or_none(&r.campaigns),
            ]
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let cells: Vec<Vec<String>> = cells.into_iter().map(Vec::from).collect();
    let mut out = super::plan::table::render(&head, &cells, &[]);
    let count = |level: &str| rows.iter().filter(|r| r.level == level).count();
    out.push_str(&crate::t!(
        "dir-count",
        counties = count("county"),
        townships = count("township"),
        villages = count("village")
    ));
    out.push('\n');
    out
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let dir = Directory::liangshan();
    let county = match args.county.as_deref().map(|c| dir.county(c)) {
        Some(Err(e)) => {
            eprintln!("{}: {e}", crate::t!("diag-error"));
            if let Some(help) = e.help() {
                eprintln!("  = {}: {help}", crate::t!("diag-help"));
            }
            return Ok(ExitCode::from(1));
        }
        Some(Ok(c)) => Some(c),
        None => None,
    };
    let usage = Usage::load(&global.root, &dir);
    let found = rows(&dir, &usage, args.query.as_deref(), county);
    if found.is_empty() {
        let query = args.query.as_deref().unwrap_or_default();
        eprintln!("{}", crate::t!("dir-no-match", query = query));
        return Ok(ExitCode::from(1));
    }
    match args.format {
        Format::Table => print!("{}", table(&found)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&found)?),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            for r in &found {
                w.serialize(r)?;
            }
            w.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests;
