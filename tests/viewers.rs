//! The remembered-viewers store: round trip, permissions, recovery from a bad file, the cap,
//! forgetting, and that nothing but name, identifier and time ever reaches the disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use mitid_flex_tv::viewers::{
    ProblemCause, StoreError, StoreProblem, ViewerKey, ViewerStore, default_path_with,
};

const ANNA: &str = "4f6b2d4e-8c1a-4d2e-9b7a-1c2d3e4f5a6b";
const BO: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

fn uuid(s: &str) -> ViewerKey {
    ViewerKey::Uuid(s.to_string())
}

fn user(s: &str) -> ViewerKey {
    ViewerKey::UserId(s.to_string())
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

fn names(store: &ViewerStore) -> Vec<&str> {
    store.list().iter().map(|v| v.name.as_str()).collect()
}

/// A store in a directory that does not exist yet, so the store creates it.
fn fresh(max: usize) -> (tempfile::TempDir, PathBuf, ViewerStore) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("state").join("viewers.json");
    let (store, problem) = ViewerStore::open(&path, max);
    assert!(problem.is_none(), "a missing file is not a problem");
    assert!(store.list().is_empty());
    (tmp, path, store)
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn round_trip() {
    let (_tmp, path, mut store) = fresh(6);
    store.remember("Anna", uuid(ANNA), 1_000).expect("remember");
    store
        .remember("Bo", user("bo.hansen"), 2_000)
        .expect("remember");
    assert_eq!(names(&store), ["Bo", "Anna"], "most recently used first");

    let (reopened, problem) = ViewerStore::open(&path, 6);
    assert!(problem.is_none());
    assert_eq!(reopened.list(), store.list());
    assert_eq!(reopened.list()[1].key, uuid(ANNA));
    assert_eq!(reopened.list()[1].last_used, 1_000);
    assert_eq!(reopened.list()[0].key, user("bo.hansen"));
}

#[test]
fn upsert_by_key_renames_and_normalises_the_uuid() {
    let (_tmp, _path, mut store) = fresh(6);
    store.remember("Anna", uuid(ANNA), 1).expect("remember");
    store.remember("Bo", uuid(BO), 2).expect("remember");
    store
        .remember("Anna J.", uuid(&ANNA.to_uppercase()), 3)
        .expect("remember");
    assert_eq!(names(&store), ["Anna J.", "Bo"]);
    assert_eq!(store.list()[0].key, uuid(ANNA), "stored lower-case");
    assert_eq!(store.list()[0].last_used, 3);
}

#[test]
fn permissions_are_0600_after_every_write_and_the_new_dir_is_0700() {
    let (_tmp, path, mut store) = fresh(6);
    let dir = path.parent().expect("parent").to_path_buf();
    let check = |what: &str| {
        assert_eq!(mode(&path), 0o600, "file after {what}");
        assert_eq!(mode(&dir), 0o700, "directory after {what}");
        assert_eq!(
            files_in(&dir),
            BTreeSet::from(["viewers.json".to_string()]),
            "no temp files after {what}"
        );
    };
    store.remember("Anna", uuid(ANNA), 1).expect("remember");
    check("remember");
    store.remember("Bo", uuid(BO), 2).expect("remember");
    check("second remember");
    assert!(store.touch(&uuid(ANNA), 3).expect("touch"));
    check("touch");
    assert!(store.forget(&uuid(BO)).expect("forget"));
    check("forget");
    store.forget_all().expect("forget_all");
    check("forget_all");
}

#[test]
fn a_world_readable_file_is_tightened_on_open() {
    let (_tmp, path, mut store) = fresh(6);
    store.remember("Anna", uuid(ANNA), 1).expect("remember");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let (mut store, problem) = ViewerStore::open(&path, 6);
    assert!(problem.is_none());
    assert_eq!(mode(&path), 0o600);
    store.remember("Bo", uuid(BO), 2).expect("remember");
    assert_eq!(mode(&path), 0o600);
}

/// Writes `bytes` as the store, opens it, checks the recovery contract and returns the cause.
fn recover_from(bytes: &[u8]) -> ProblemCause {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("viewers.json");
    fs::write(&path, bytes).expect("write");
    let (mut store, problem) = ViewerStore::open(&path, 6);
    let problem = problem.expect("the problem is reported");
    assert!(
        problem.to_string().contains("viewers.json"),
        "it can be shown: {problem}"
    );
    assert!(store.list().is_empty(), "the app continues with no viewers");
    let StoreProblem {
        moved_to, cause, ..
    } = problem;

    let moved = moved_to.expect("moved aside");
    let moved_name = moved
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let ts = moved_name
        .strip_prefix("viewers.json.corrupt-")
        .expect("named viewers.json.corrupt-<ts>");
    assert!(
        ts.parse::<u64>().is_ok_and(|t| t > 1_600_000_000),
        "unix seconds: {moved_name}"
    );
    assert_eq!(
        fs::read(&moved).expect("moved file"),
        bytes,
        "preserved byte for byte"
    );
    assert!(!path.exists(), "the original name is free");

    store
        .remember("Anna", uuid(ANNA), 1)
        .expect("the store is usable");
    let (reopened, problem) = ViewerStore::open(&path, 6);
    assert!(problem.is_none());
    assert_eq!(names(&reopened), ["Anna"]);
    assert_eq!(
        fs::read(&moved).expect("moved file"),
        bytes,
        "not overwritten by the new store"
    );
    cause
}

#[test]
fn recovers_from_garbage() {
    assert!(matches!(
        recover_from(b"\x00\xffnot json at all"),
        ProblemCause::Corrupt(_)
    ));
}

#[test]
fn recovers_from_truncated_json() {
    let full = format!(
        r#"{{"version":1,"viewers":[{{"name":"Anna","key":{{"kind":"uuid","id":"{ANNA}"}},"last_used":1}}]}}"#
    );
    let truncated = &full.as_bytes()[..full.len() / 2];
    assert!(matches!(recover_from(truncated), ProblemCause::Corrupt(_)));
    assert!(matches!(recover_from(b""), ProblemCause::Corrupt(_)));
}

#[test]
fn unknown_version_is_preserved_not_read() {
    let v2 = br#"{"version":2,"viewers":[],"future":true}"#;
    assert!(matches!(recover_from(v2), ProblemCause::UnknownVersion(2)));
}

#[test]
fn a_file_with_a_cpr_field_or_value_is_refused() {
    let extra = format!(
        r#"{{"version":1,"viewers":[{{"name":"Anna","cpr":"0804361234","key":{{"kind":"uuid","id":"{ANNA}"}},"last_used":1}}]}}"#
    );
    assert!(matches!(
        recover_from(extra.as_bytes()),
        ProblemCause::Corrupt(_)
    ));
    let kind = br#"{"version":1,"viewers":[{"name":"Anna","key":{"kind":"cpr","id":"0804361234"},"last_used":1}]}"#;
    assert!(matches!(recover_from(kind), ProblemCause::Corrupt(_)));
    let value = br#"{"version":1,"viewers":[{"name":"Anna","key":{"kind":"user_id","id":"080436-1234"},"last_used":1}]}"#;
    assert!(matches!(
        recover_from(value),
        ProblemCause::InvalidEntry(StoreError::LooksLikeCpr)
    ));
}

#[test]
fn an_unreadable_store_is_moved_aside() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("viewers.json");
    // A directory where the file should be: opening works, reading fails (even as root).
    fs::create_dir(&path).expect("mkdir");
    let (mut store, problem) = ViewerStore::open(&path, 6);
    let problem = problem.expect("reported");
    assert!(
        matches!(problem.cause, ProblemCause::Unreadable(_)),
        "{problem}"
    );
    assert!(problem.moved_to.as_deref().is_some_and(Path::is_dir));
    store.remember("Anna", uuid(ANNA), 1).expect("usable");
    assert!(path.is_file());
}

#[test]
fn two_corruptions_in_the_same_second_keep_both_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("viewers.json");
    let mut moved = Vec::new();
    for garbage in [&b"one"[..], b"two", b"three"] {
        fs::write(&path, garbage).expect("write");
        let (_, problem) = ViewerStore::open(&path, 6);
        moved.push(problem.and_then(|p| p.moved_to).expect("moved"));
    }
    assert_eq!(moved.iter().collect::<BTreeSet<_>>().len(), 3);
    assert_eq!(fs::read(&moved[0]).expect("read"), b"one");
    assert_eq!(fs::read(&moved[2]).expect("read"), b"three");
}

#[test]
fn the_cap_evicts_the_least_recently_used() {
    let (_tmp, path, mut store) = fresh(3);
    for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
        store
            .remember(name, user(&format!("user-{name}")), 10 + i as u64)
            .expect("remember");
    }
    assert_eq!(names(&store), ["d", "c", "b"], "a was least recently used");
    assert!(store.touch(&user("user-b"), 20).expect("touch"));
    assert_eq!(names(&store), ["b", "d", "c"]);
    store.remember("e", user("user-e"), 21).expect("remember");
    assert_eq!(names(&store), ["e", "b", "d"], "c went, not the touched b");
    store.remember("D", user("user-d"), 22).expect("remember");
    assert_eq!(names(&store), ["D", "e", "b"], "an update evicts nobody");
    assert!(
        !store.touch(&user("user-a"), 23).expect("touch"),
        "an evicted viewer is unknown"
    );

    // A lowered maximum applies when the store is opened.
    let (smaller, problem) = ViewerStore::open(&path, 2);
    assert!(problem.is_none());
    assert_eq!(names(&smaller), ["D", "e"]);
}

#[test]
fn max_zero_remembers_nobody() {
    let (_tmp, _path, mut store) = fresh(0);
    store.remember("Anna", uuid(ANNA), 1).expect("remember");
    assert!(store.list().is_empty());
}

#[test]
fn forget_and_forget_all() {
    let (_tmp, path, mut store) = fresh(6);
    store.remember("Anna", uuid(ANNA), 1).expect("remember");
    store.remember("Bo", uuid(BO), 2).expect("remember");
    store.remember("Carl", user("carl"), 3).expect("remember");

    assert!(
        store.forget(&uuid(&BO.to_uppercase())).expect("forget"),
        "found despite the case"
    );
    assert!(!store.forget(&uuid(BO)).expect("forget"), "already gone");
    assert_eq!(names(&store), ["Carl", "Anna"]);
    assert_eq!(
        names(&ViewerStore::open(&path, 6).0),
        ["Carl", "Anna"],
        "persisted"
    );

    store.forget_all().expect("forget_all");
    assert!(store.list().is_empty());
    let (reopened, problem) = ViewerStore::open(&path, 6);
    assert!(problem.is_none());
    assert!(reopened.list().is_empty(), "persisted");
    let json = fs::read_to_string(&path).expect("read");
    assert!(
        !json.contains("Anna") && !json.contains(ANNA),
        "nothing of the forgotten remains"
    );
}

fn collect_keys(v: &serde_json::Value, keys: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                keys.insert(k.clone());
                collect_keys(v, keys);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_keys(v, keys)),
        _ => {}
    }
}

#[test]
fn only_name_identifier_and_time_are_written() {
    let (_tmp, path, mut store) = fresh(6);
    store
        .remember("Anna", uuid(ANNA), 1_700_000_000)
        .expect("remember");
    store
        .remember("Bo", user("bo@example.dk"), 1_700_000_100)
        .expect("remember");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");

    let mut keys = BTreeSet::new();
    collect_keys(&json, &mut keys);
    let allowed: BTreeSet<String> = [
        "version",
        "viewers",
        "name",
        "key",
        "kind",
        "id",
        "last_used",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys, allowed);
    assert_eq!(json["version"], 1);
    let kinds: BTreeSet<&str> = json["viewers"]
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v["key"]["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, BTreeSet::from(["uuid", "user_id"]));
}

#[test]
fn cpr_numbers_are_refused_and_nothing_is_written() {
    let (_tmp, path, mut store) = fresh(6);
    for key in [
        user("080436-1234"),
        user("0804361234"),
        user("x080436 1234"),
    ] {
        assert!(matches!(
            store.remember("Anna", key, 1),
            Err(StoreError::LooksLikeCpr)
        ));
    }
    assert!(matches!(
        store.remember("0804361234", uuid(ANNA), 1),
        Err(StoreError::LooksLikeCpr)
    ));
    assert!(matches!(
        store.remember("Anna", uuid("0804361234"), 1),
        Err(StoreError::InvalidUuid)
    ));
    assert!(matches!(
        store.remember("  ", uuid(ANNA), 1),
        Err(StoreError::InvalidName)
    ));
    assert!(matches!(
        store.remember("Anna", user("has space"), 1),
        Err(StoreError::InvalidUserId)
    ));
    assert!(!path.exists(), "a refused viewer writes nothing");
    assert!(store.list().is_empty());
    // Ten digits that are not a date, or eleven digits, stay usable as a user ID.
    store
        .remember("Anna", user("9913001234"), 1)
        .expect("not CPR-shaped");
    store
        .remember("Bo", user("08043612345"), 2)
        .expect("not CPR-shaped");
}

#[test]
fn a_failed_write_changes_nothing_in_memory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The parent "directory" is a file: every write fails.
    let blocker = tmp.path().join("blocker");
    fs::write(&blocker, b"").expect("write");
    let (mut store, problem) = ViewerStore::open(blocker.join("viewers.json"), 6);
    assert!(problem.is_some() || store.list().is_empty());
    assert!(matches!(
        store.remember("Anna", uuid(ANNA), 1),
        Err(StoreError::Io { .. })
    ));
    assert!(store.list().is_empty());
}

#[test]
fn default_location() {
    let p = default_path_with(Some("/var/lib/mitid-flex-tv".as_ref())).expect("path");
    assert_eq!(p, Path::new("/var/lib/mitid-flex-tv/viewers.json"));
    let p = default_path_with(Some("/var/lib/a:/var/lib/b".as_ref())).expect("path");
    assert_eq!(
        p,
        Path::new("/var/lib/a/viewers.json"),
        "the first StateDirectory"
    );
    // Without (or with a relative) $STATE_DIRECTORY: the XDG data dir, if there is a home.
    for state in [None, Some("relative".as_ref()), Some("".as_ref())] {
        if let Some(p) = default_path_with(state) {
            assert!(p.ends_with("mitid-flex-tv/viewers.json"), "{}", p.display());
        }
    }
}
