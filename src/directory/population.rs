//! Township populations below the county: the estimation rule and staff-supplied overrides.
//!
//! No township-level census figures are public, so each county's 2020 census population is
//! shared among its townships in proportion to their village-level units (行政村 + 社区), by
//! largest remainder so the shares add up to the county figure exactly. Such figures are marked
//! `estimated` wherever they show; staff replace them with real figures through overrides.

use serde::Deserialize;

/// A staff-supplied township population replacing the estimate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationOverride {
    /// Township code or name.
    pub township: String,
    pub people: u64,
    /// Where the figure comes from (e.g. "乡政府 2024 户籍统计").
    pub source: String,
}

/// Share `total` over items weighted by `units`, largest remainder first, exact sum.
/// Items with zero units get nothing unless every item has zero units (then shared evenly).
pub fn estimate_by_village_units(total: u64, units: &[u32]) -> Vec<u64> {
    if units.is_empty() {
        return Vec::new();
    }
    let weights: Vec<u64> = if units.iter().all(|&u| u == 0) {
        vec![1; units.len()]
    } else {
        units.iter().map(|&u| u64::from(u)).collect()
    };
    let sum: u64 = weights.iter().sum();
    let mut shares: Vec<u64> = weights.iter().map(|w| total * w / sum).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Largest remainder first; ties to the earlier item so the result is deterministic.
    order.sort_by_key(|&i| (std::cmp::Reverse(total * weights[i] % sum), i));
    let left = total - shares.iter().sum::<u64>();
    for &i in order.iter().take(left as usize) {
        shares[i] += 1;
    }
    shares
}
