use super::*;

fn run() -> Kind {
    Kind::Run
}

#[test]
fn a_new_folder_is_claimed_and_a_second_claim_while_held_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("new");
    let claim = Claim::take(&dir, &run()).unwrap();
    assert_eq!(std::fs::read_to_string(dir.join(MARKER)).unwrap(), "run\n");
    let err = Claim::take(&dir, &run()).unwrap_err().to_string();
    assert!(
        err.contains("in use by another scratchnet command"),
        "{err}"
    );
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    drop(claim);
    let again = Claim::take(&dir, &run()).unwrap();
    assert_eq!(again.path(), dir);
}

#[test]
fn an_unused_claim_leaves_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("a").join("b");
    drop(Claim::take(&dir, &run()).unwrap());
    assert!(!dir.exists());
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    drop(Claim::take(&empty, &run()).unwrap());
    assert!(empty.is_dir() && !empty.join(MARKER).exists());
}

#[test]
fn other_kinds_files_and_foreign_folders_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let study = Kind::Study("batch-size".into());
    let dir = root.path().join("s");
    let claim = Claim::take(&dir, &study).unwrap();
    std::fs::write(dir.join("plan.json"), "{}").unwrap();
    drop(claim);
    let err = Claim::take(&dir, &run()).unwrap_err().to_string();
    assert!(
        err.contains("holds a batch-size study, not a `train` run"),
        "{err}"
    );
    let err = Claim::take(&dir, &Kind::Study("depth-width".into()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a depth-width study"), "{err}");

    let file = root.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let err = Claim::take(&file, &run()).unwrap_err().to_string();
    assert!(err.contains("is a file, not a folder"), "{err}");

    let mine = root.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "x").unwrap();
    let err = Claim::take(&mine, &run()).unwrap_err().to_string();
    assert!(err.contains("did not write (notes.txt)"), "{err}");
    assert!(!mine.join(MARKER).exists());
}

#[test]
fn folders_of_older_versions_are_recognised_by_their_files() {
    let root = tempfile::tempdir().unwrap();
    let old_run = root.path().join("run");
    std::fs::create_dir(&old_run).unwrap();
    std::fs::write(old_run.join("config.json"), "{}").unwrap();
    drop(Claim::take(&old_run, &run()).unwrap());
    assert_eq!(
        std::fs::read_to_string(old_run.join(MARKER)).unwrap(),
        "run\n"
    );
    let old_study = root.path().join("study");
    std::fs::create_dir(&old_study).unwrap();
    std::fs::write(
        old_study.join("plan.json"),
        r#"{"study":"depth-width","plan":{}}"#,
    )
    .unwrap();
    let err = Claim::take(&old_study, &Kind::Study("batch-size".into()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds a depth-width study"), "{err}");
    Claim::take(&old_study, &Kind::Study("depth-width".into())).unwrap();
}
