//! Chinese-aware matching of the names people type against the directory: "did you mean" for
//! schedules, settings and endpoints, and the search of `shengbo directory`.
//!
//! Names are compared after stripping their administrative suffix (县/市/镇/乡/街道/村/社区/
//! 村民委员会 …) by a weighted edit distance over characters: the same character costs 0, the
//! same toneless reading (any reading of a polyphone: 觉 jué/jiào) 0.25, the same reading after
//! the Sichuanese merges (zh/z, ch/c, sh/s, n/l, -ng/-n) 0.5, anything else 1. A name typed in
//! pinyin (`zhaojue`) matches the names it spells. A suggestion is made only when one candidate
//! clearly wins: close enough for its length and ahead of every other by a margin.

use pinyin::ToPinyinMulti;

use super::{Directory, Township};

/// Administrative suffixes, longest first (a village committee before a village).
const SUFFIXES: [&str; 14] = [
    "社区居民委员会",
    "村民委员会",
    "居民委员会",
    "藏族自治县",
    "彝族自治县",
    "街道办事处",
    "民族乡",
    "街道",
    "社区",
    "县",
    "市",
    "镇",
    "乡",
    "村",
];

/// How far ahead of the runner-up the best candidate must be to be suggested.
const MARGIN: f32 = 0.5;

/// A name without its administrative suffix: `昭觉县` → `昭觉`, `北城街道` → `北城`. A name
/// that is nothing but a suffix is kept whole.
pub fn stem(name: &str) -> &str {
    let name = name.trim();
    SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s).filter(|rest| !rest.is_empty()))
        .unwrap_or(name)
}

/// Every toneless reading of a character (`觉` → `jue`, `jiao`); a character that is not Han
/// reads as itself, lower-cased.
fn readings(c: char) -> Vec<String> {
    match c.to_pinyin_multi() {
        Some(multi) => multi.into_iter().map(|p| p.plain().to_string()).collect(),
        None => vec![c.to_lowercase().collect()],
    }
}

/// A reading after the Sichuanese merges: zh/z, ch/c, sh/s, n/l, -ng/-n.
fn merged(reading: &str) -> String {
    let r = reading
        .replacen("zh", "z", 1)
        .replacen("ch", "c", 1)
        .replacen("sh", "s", 1);
    let r = match r.strip_prefix('n') {
        Some(rest) if !rest.is_empty() => format!("l{rest}"),
        _ => r,
    };
    r.strip_suffix("ng")
        .map_or(r.clone(), |stem| format!("{stem}n"))
}

/// What replacing `a` by `b` costs.
pub fn char_cost(a: char, b: char) -> f32 {
    if a == b {
        return 0.0;
    }
    let (ra, rb) = (readings(a), readings(b));
    if ra.iter().any(|x| rb.contains(x)) {
        return 0.25;
    }
    let (ma, mb): (Vec<String>, Vec<String>) = (
        ra.iter().map(|r| merged(r)).collect(),
        rb.iter().map(|r| merged(r)).collect(),
    );
    if ma.iter().any(|x| mb.contains(x)) {
        0.5
    } else {
        1.0
    }
}

/// The weighted edit distance between two names (insertions and deletions cost 1): the
/// smaller of their stems' and their whole names' (`北城街到` is one slip from `北城街道`).
pub fn distance(a: &str, b: &str) -> f32 {
    edit(stem(a), stem(b)).min(edit(a.trim(), b.trim()))
}

fn edit(a: &str, b: &str) -> f32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<f32> = (0..=b.len()).map(|j| j as f32).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut row = vec![(i + 1) as f32; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            row[j + 1] = (prev[j] + char_cost(ca, cb))
                .min(prev[j + 1] + 1.0)
                .min(row[j] + 1.0);
        }
        prev = row;
    }
    prev[b.len()]
}

/// Whether `input` (ASCII letters, any case, spaces ignored) spells `name`'s stem in toneless
/// pinyin, any reading of each character: `zhaojue` spells `昭觉县`. With `prefix`, spelling the
/// first syllables is enough (`zhao` spells `昭觉县`).
pub fn spells(input: &str, name: &str, prefix: bool) -> bool {
    let input: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\'')
        .flat_map(char::to_lowercase)
        .collect();
    if input.is_empty() || !input.is_ascii() {
        return false;
    }
    let chars: Vec<Vec<String>> = stem(name).chars().map(readings).collect();
    // reach[i]: input[..i] is spelt by some leading characters of the stem, ending at char j.
    let mut ends: Vec<usize> = vec![0];
    for syllables in &chars {
        let mut next = Vec::new();
        for &at in &ends {
            for s in syllables {
                if input[at..].starts_with(s.as_str()) {
                    next.push(at + s.len());
                } else if prefix && s.starts_with(&input[at..]) {
                    return true;
                }
            }
        }
        if next.is_empty() {
            return false;
        }
        if prefix && next.contains(&input.len()) {
            return true;
        }
        ends = next;
    }
    ends.contains(&input.len())
}

/// The candidate that clearly wins for `input`, if one does: within reach for the stem's length
/// (a quarter of a character for one or two characters — a same-sound slip —, one character
/// for longer names) and ahead of every other candidate by [`MARGIN`]. Candidates are
/// `(name, value)`; several values under one name count as one candidate only when they are
/// equal.
pub fn best<T: Clone + PartialEq>(
    input: &str,
    candidates: impl IntoIterator<Item = (String, T)>,
) -> Option<T> {
    let mut scored: Vec<(f32, T)> = candidates
        .into_iter()
        .map(|(name, value)| {
            let d = if spells(input, &name, false) {
                0.0
            } else {
                distance(input, &name)
            };
            (d, value)
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (d1, first) = scored.first()?.clone();
    let reach = if stem(input).chars().count() <= 2 {
        0.5
    } else {
        1.0
    };
    if d1 > reach {
        return None;
    }
    let rival = scored
        .iter()
        .skip(1)
        .find(|(_, v)| *v != first)
        .is_some_and(|(d, _)| *d < d1 + MARGIN);
    (!rival).then_some(first)
}

/// Whether a place matches what someone searched for: a code or its first digits, a part of
/// the Chinese name (with or without its suffix), or the first syllables of its name in pinyin
/// (`zhaojue`, `zhao`), or its English name.
pub fn matches(query: &str, name: &str, code: &str, name_en: Option<&str>) -> bool {
    let q = query.trim();
    if q.is_empty() {
        return true;
    }
    if q.bytes().all(|b| b.is_ascii_digit()) {
        return code.starts_with(q);
    }
    name.contains(q)
        || name.contains(stem(q))
        || name_en.is_some_and(|en| en.to_lowercase().starts_with(&q.to_lowercase()))
        || spells(q, name, true)
}

/// A township as staff know it: `昭觉县 竹核镇 `513431102``.
pub fn township_label(directory: &Directory, code: &str) -> String {
    match directory.township(code) {
        Ok(t) => label(directory, t),
        Err(_) => format!("`{code}`"),
    }
}

fn label(directory: &Directory, t: &Township) -> String {
    let county = directory.county_of(t).map_or("", |c| c.name.as_str());
    format!("{county} {} `{}`", t.name, t.code)
}

#[cfg(test)]
mod tests;
