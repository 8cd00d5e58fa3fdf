//! Where a platform broadcasts: a county platform (its `DEST` resource code's region) plays
//! only in the areas it covers, so a broadcast naming an `AreaCode` outside them — a village of
//! another county — is refused (ResultCode 5) rather than counted.

use crate::ebd::{Body, Ebd};
use crate::reach::rule::covers;

/// A message addressed to an area outside the platform's own region.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "AreaCode `{outside}` lies outside this platform's region `{region}` (DEST/EBRID `{dest}`)"
)]
pub(super) struct AreaOutside {
    outside: String,
    region: String,
    dest: String,
}

/// Every `AreaCode` of a broadcast lies inside the region of the package's destination (no
/// destination named: no check). The error names the first code outside and the region.
pub(super) fn check_areas(ebd: &Ebd) -> Result<(), AreaOutside> {
    let (Some(dest), Body::Ebm(ebm)) = (&ebd.dest, &ebd.body) else {
        return Ok(());
    };
    let region = dest.region();
    let areas = ebm.content.iter().flat_map(|c| &c.area_codes);
    match areas.into_iter().find(|a| !covers(region, a)) {
        Some(outside) => Err(AreaOutside {
            outside: outside.to_string(),
            region: region.to_string(),
            dest: dest.to_string(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_containment_reads_the_zero_padded_levels() {
        let county = "513431000000";
        assert!(covers(county, "513431102200"));
        assert!(covers(county, "513431102000"));
        assert!(!covers(county, "513401001003"));
        assert!(!covers(county, "513432000000"));
        assert!(covers("513431102000", "513431102200"));
        assert!(!covers("513431102000", "513431103200"));
    }
}
