//! Content versions in the ledger, on both stores: a run keeps the version it was created
//! with (a second instance finding it cannot change it), runs from before versions have none,
//! and each instance's current version is written and read back by every instance.

use chrono::TimeDelta;
use shengbo::ledger::InstanceVersion;
use shengbo::push::version::{ContentVersion, Permit, live_others, may_push};

use super::{Store, t};

both_stores!(
    a_run_keeps_the_version_it_was_created_with,
    instances_read_each_others_versions,
);

/// Created under A; found again by an instance at B: still A, and that instance may not push it
/// while A is live elsewhere.
fn a_run_keeps_the_version_it_was_created_with(store: &Store) {
    let l = store.open();
    let (run, created) = l
        .open_run_versioned("c", t(10, 0), 3, Some("aaaa"), t(9, 0))
        .unwrap();
    assert!(created);
    let (again, created) = l
        .open_run_versioned("c", t(10, 0), 3, Some("bbbb"), t(9, 1))
        .unwrap();
    assert_eq!((again, created), (run, false));
    let reopened = store.open();
    let r = reopened.run(run).unwrap().unwrap();
    assert_eq!(r.content_hash.as_deref(), Some("aaaa"), "{r:?}");
    let listed = reopened.runs(t(9, 0), t(11, 0), None).unwrap();
    assert_eq!(listed[0].content_hash.as_deref(), Some("aaaa"));
    // A run opened without a version (as before versions were) has none, and anyone pushes it.
    let (old, _) = reopened.open_run("d", t(10, 0), 1, t(9, 0)).unwrap();
    let old = reopened.run(old).unwrap().unwrap();
    assert_eq!(old.content_hash, None);
    assert_eq!(may_push(&old, "bbbb", &[]), Ok(Permit::Same));

    let live = [("county-a".to_string(), "aaaa".to_string())];
    let refused = may_push(&r, "bbbb", &live).unwrap_err();
    assert_eq!(refused.held_by, ["county-a"]);
    let said = refused.to_string();
    assert!(said.contains("aaaa") && said.contains("bbbb"), "{said}");
    assert!(
        said.contains("county-a") && said.contains("not pushed"),
        "{said}"
    );
    assert_eq!(may_push(&r, "aaaa", &live), Ok(Permit::Same));
    // Nobody holds A any more (an edit while the run was interrupted): adopted.
    assert_eq!(may_push(&r, "bbbb", &[]), Ok(Permit::Adopted));
}

fn row(name: &str, version: &ContentVersion, at: chrono::DateTime<chrono::Utc>) -> InstanceVersion {
    InstanceVersion {
        name: name.to_string(),
        content_hash: version.hash.clone(),
        files: version.manifest(),
        loaded_at: at,
        seen_at: at,
        pushes: true,
    }
}

fn version(files: &[(&str, &str)]) -> ContentVersion {
    ContentVersion::of_files(
        files
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect(),
    )
}

/// Two instances write their rows; a third reads both and tells live from gone; the manifest
/// read back names the file that differs; a mirror's row is told from a pusher's.
fn instances_read_each_others_versions(store: &Store) {
    let a = version(&[
        ("schedules/x.toml", "11"),
        ("schedules/endpoints.toml", "22"),
    ]);
    let b = version(&[
        ("schedules/x.toml", "13"),
        ("schedules/endpoints.toml", "22"),
    ]);
    assert_ne!(a.hash, b.hash);
    let (one, two) = (store.open(), store.open());
    one.put_instance(&row("county-a", &a, t(9, 30))).unwrap();
    two.put_instance(&row("county-b", &a, t(9, 0))).unwrap();
    // b reloads an edited set: its row is replaced, not added.
    two.put_instance(&row("county-b", &b, t(9, 30))).unwrap();
    let all = store.open().instances().unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0], row("county-a", &a, t(9, 30)));
    assert_eq!(all[1], row("county-b", &b, t(9, 30)));
    let theirs = ContentVersion::parse_manifest(&all[1].files);
    assert_eq!(theirs, b, "the manifest reads back as the version");
    assert_eq!(a.differing(&theirs), ["schedules/x.toml"]);

    // At 9:31 both are live; ten minutes later neither has been seen for too long.
    let live: Vec<&str> = live_others(&all, "county-b", t(9, 31))
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(live, ["county-a"]);
    let soon = t(9, 30) + TimeDelta::seconds(60);
    assert_eq!(live_others(&all, "county-a", soon).count(), 1);
    assert_eq!(live_others(&all, "county-a", t(9, 40)).count(), 0);

    // A `--no-schedule` mirror's row reads back as not pushing: it is no live pusher, and a run
    // whose version only the mirror holds is adopted, not refused.
    let mirror = InstanceVersion {
        pushes: false,
        ..row("county-a-mirror", &b, t(9, 31))
    };
    one.put_instance(&mirror).unwrap();
    let all = store.open().instances().unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all[1], mirror);
    let live: Vec<&str> = live_others(&all, "county-a", t(9, 31))
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(live, ["county-b"]);
    let held: Vec<(String, String)> = live_others(&all, "county-a", t(9, 31))
        .map(|i| (i.name.clone(), i.content_hash.clone()))
        .collect();
    let l = store.open();
    let (run, _) = l
        .open_run_versioned("m", t(10, 0), 1, Some(&b.hash), t(9, 31))
        .unwrap();
    let run = l.run(run).unwrap().unwrap();
    let without_b: Vec<_> = held.into_iter().filter(|(n, _)| n != "county-b").collect();
    assert_eq!(may_push(&run, &a.hash, &without_b), Ok(Permit::Adopted));
}
