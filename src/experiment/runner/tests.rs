use super::*;
use std::cell::RefCell;

/// A study whose runs are numbers; a run's outcome is its square. Fails on `fail_on`;
/// on `interrupt_on` leaves a checkpoint and stops as training does on Ctrl-C.
struct Squares {
    plan: Vec<u32>,
    fail_on: Option<u32>,
    interrupt_on: Option<u32>,
    executed: RefCell<Vec<(u32, Start)>>,
}

impl Study for Squares {
    type Run = u32;
    type Outcome = (u32, u32);
    type Plan = Vec<u32>;
    const KIND: &'static str = "squares";
    type Data = ();
    fn plan(&self) -> &Vec<u32> {
        &self.plan
    }
    fn runs(&self) -> Vec<u32> {
        self.plan.clone()
    }
    fn run_id(&self, run: &u32) -> String {
        format!("run-{run}")
    }
    fn execute(
        &self,
        run: &u32,
        _: &(),
        dir: &RunDir,
        start: Start,
        progress: &dyn Progress,
    ) -> Result<Executed<(u32, u32)>> {
        progress.line(&format!("squaring {run}"));
        if self.fail_on == Some(*run) {
            return Err(Error::invalid("run", run, "not the failing one"));
        }
        if self.interrupt_on == Some(*run) {
            write_atomic(&dir.checkpoint(), b"where it stood")?;
            return Ok(Executed::Interrupted { iteration: 7 });
        }
        self.executed.borrow_mut().push((*run, start));
        dir.remove_checkpoint()?;
        write_atomic(&dir.path().join("note.txt"), b"done")?;
        Ok(Executed::Kept((*run, run * run)))
    }
    fn describe(&self, o: &(u32, u32)) -> String {
        format!("{o:?}")
    }
    fn write_outputs(&self, outcomes: &[(u32, u32)], dir: &Path) -> Result<Vec<PathBuf>> {
        let path = dir.join("all.json");
        save_json(&path, outcomes)?;
        Ok(vec![path])
    }
}

fn study(fail_on: Option<u32>) -> Squares {
    Squares {
        plan: vec![1, 2, 3, 4, 5],
        fail_on,
        interrupt_on: None,
        executed: RefCell::new(Vec::new()),
    }
}

/// Every run of `study` into `dir`, silently.
fn run_whole(study: &Squares, dir: &Path) -> Result<StudyResult<(u32, u32)>> {
    run_study(study, &(), dir, Shard::ALL, &crate::progress::Silent)
}

/// The runs a study executed, in order.
fn executed(study: &Squares) -> Vec<u32> {
    study
        .executed
        .borrow()
        .iter()
        .map(|(run, _)| *run)
        .collect()
}

#[test]
fn a_stopped_study_resumes_with_only_the_missing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let first = study(Some(3));
    assert!(run_whole(&first, dir.path()).is_err());
    assert_eq!(executed(&first), vec![1, 2]);
    let second = study(None);
    let result = run_whole(&second, dir.path()).unwrap();
    assert_eq!(executed(&second), vec![3, 4, 5]);
    assert_eq!(result.ran, 3);
    assert_eq!(
        result.outcomes,
        vec![(1, 1), (2, 4), (3, 9), (4, 16), (5, 25)]
    );
}

#[test]
fn an_interrupted_run_is_named_and_continues_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let first = Squares {
        interrupt_on: Some(3),
        ..study(None)
    };
    let err = run_whole(&first, dir.path()).err().unwrap();
    let checkpoint = RunDir::open(&dir.path().join("runs/run-3")).checkpoint();
    match &err {
        Error::StudyInterrupted {
            run,
            iteration: 7,
            checkpoint: saved,
        } => assert_eq!((run.as_str(), saved), ("run-3", &checkpoint)),
        other => panic!("{other}"),
    }
    assert!(err.is_interrupted());
    assert_eq!(
        err.to_string(),
        "interrupted during run run-3 after 7 iterations"
    );
    assert!(checkpoint.exists());
    let second = study(None);
    run_whole(&second, dir.path()).unwrap();
    assert_eq!(
        *second.executed.borrow(),
        vec![(3, Start::Resume), (4, Start::Fresh), (5, Start::Fresh)]
    );
    assert!(!checkpoint.exists());
}

/// Keeps every line it is given.
#[derive(Default)]
struct Lines(std::sync::Mutex<Vec<String>>);

impl Progress for Lines {
    fn line(&self, text: &str) {
        self.0.lock().unwrap().push(text.to_string());
    }
}

#[test]
fn a_runs_lines_reach_the_study_log_named_by_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let log = Lines::default();
    run_study(
        &study(None),
        &(),
        dir.path(),
        Shard { index: 2, count: 2 },
        &log,
    )
    .unwrap();
    let from_runs: Vec<String> = log
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("squaring"))
        .cloned()
        .collect();
    assert_eq!(from_runs, vec!["run-2: squaring 2", "run-4: squaring 4"]);
}

#[test]
fn merging_names_a_folder_that_is_no_study_or_another_study() {
    let root = tempfile::tempdir().unwrap();
    let squares = root.path().join("squares");
    run_whole(&study(None), &squares).unwrap();
    let out = root.path().join("merged");
    let missing = root.path().join("missing");
    let err = merge_studies(&study(None), &[squares.clone(), missing.clone()], &out)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: no such folder;", missing.display()))
            && err.contains("a study folder is the --out folder")
            && err.contains("plan.json"),
        "{err}"
    );
    assert_eq!(err.matches("os error").count(), 0, "{err}");
    let err = merge_studies(&study(None), &[root.path().to_path_buf()], &out)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("not a study folder (it holds no plan.json)"),
        "{err}"
    );
    let other = root.path().join("other");
    save_json(
        &other.join("plan.json"),
        &serde_json::json!({ "study": "cubes", "plan": { "edges": [2] } }),
    )
    .unwrap();
    let err = merge_studies(&study(None), &[squares.clone(), other.clone()], &out)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: holds a cubes study, which cannot be merged with a squares study ({}); \
             only folders of the same study, with equal plan.json, can be merged",
            other.display(),
            squares.display()
        )
    );
    assert!(
        !out.exists(),
        "nothing is written before every folder is checked"
    );
}

#[test]
fn shards_merged_equal_the_whole_study() {
    let root = tempfile::tempdir().unwrap();
    let whole = run_whole(&study(None), &root.path().join("whole")).unwrap();
    let mut parts = Vec::new();
    for index in 1..=2 {
        let dir = root.path().join(format!("part{index}"));
        let s = study(None);
        let part = run_study(
            &s,
            &(),
            &dir,
            Shard { index, count: 2 },
            &crate::progress::Silent,
        )
        .unwrap();
        assert_eq!(part.ran, if index == 1 { 3 } else { 2 });
        parts.push(dir);
    }
    let merged = merge_studies(&study(None), &parts, &root.path().join("merged")).unwrap();
    assert_eq!(merged.outcomes, whole.outcomes);
    assert!(root.path().join("merged/runs/run-4/note.txt").exists());
    let all = std::fs::read_to_string(root.path().join("merged/all.json")).unwrap();
    assert_eq!(
        all,
        std::fs::read_to_string(root.path().join("whole/all.json")).unwrap()
    );
}

#[test]
fn a_folder_of_another_study_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    run_whole(&study(None), dir.path()).unwrap();
    let mut other = study(None);
    other.plan = vec![7];
    let err = run_whole(&other, dir.path()).err().unwrap();
    assert!(err.to_string().contains("plan.json"), "{err}");
    let err = merge_studies(&other, &[dir.path().to_path_buf()], &dir.path().join("m"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("same study"), "{err}");
}

#[test]
fn shards_parse_and_partition() {
    let s: Shard = "2/3".parse().unwrap();
    assert_eq!(
        (0..7).filter(|&i| s.contains(i)).collect::<Vec<_>>(),
        vec![1, 4]
    );
    for bad in ["0/2", "3/2", "1", "a/b", "1/0"] {
        assert!(
            bad.parse::<Shard>()
                .unwrap_err()
                .to_string()
                .contains("I/N"),
            "{bad}"
        );
    }
}
