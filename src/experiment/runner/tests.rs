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
    let err = merge_studies(
        &study(None),
        &[squares.clone(), missing.clone()],
        &out,
        false,
    )
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
    let err = merge_studies(&study(None), &[root.path().to_path_buf()], &out, false)
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
    let err = merge_studies(&study(None), &[squares.clone(), other.clone()], &out, false)
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
    let merged = merge_studies(&study(None), &parts, &root.path().join("merged"), false).unwrap();
    assert!(merged.missing.is_empty());
    assert_eq!(merged.outcomes, whole.outcomes);
    assert!(root.path().join("merged/runs/run-4/note.txt").exists());
    let all = std::fs::read_to_string(root.path().join("merged/all.json")).unwrap();
    assert_eq!(
        all,
        std::fs::read_to_string(root.path().join("whole/all.json")).unwrap()
    );
}

/// Shard `index` of 3 of the five squares, run into `root/part<index>`.
fn shard_of_three(root: &Path, index: usize) -> PathBuf {
    let dir = root.join(format!("part{index}"));
    let shard = Shard { index, count: 3 };
    run_study(&study(None), &(), &dir, shard, &crate::progress::Silent).unwrap();
    dir
}

#[test]
fn merging_shards_that_miss_runs_names_them_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    // Shards 1 and 3 of 3 hold runs 1, 4 and 3; shard 2 (runs 2 and 5) never ran.
    let parts = [
        shard_of_three(root.path(), 1),
        shard_of_three(root.path(), 3),
    ];
    let out = root.path().join("merged");
    let err = merge_studies(&study(None), &parts, &out, false)
        .err()
        .unwrap();
    match &err {
        Error::IncompleteStudy { missing, .. } => assert_eq!(missing, &["run-2", "run-5"]),
        other => panic!("{other}"),
    }
    assert_eq!(
        err.to_string(),
        "the study folders together lack 2 of the study's 5 runs: run-2, run-5 (runs number \
         2, 5 of 5; with --shard I/N, run k belongs to shard ((k − 1) mod N) + 1). Run the \
         shards that hold them (rerunning a shard into its folder does only its missing runs) \
         and merge again, or give --allow-partial to merge the 3 present"
    );
    assert!(!out.exists(), "nothing is written when runs are missing");

    // Allowed, the partial study is written and says what it lacks.
    let merged = merge_studies(&study(None), &parts, &out, true).unwrap();
    assert_eq!(merged.outcomes, vec![(1, 1), (3, 9), (4, 16)]);
    assert_eq!(merged.missing, vec!["run-2", "run-5"]);

    // Runs already in the output folder count: merging the missing shard in completes it.
    let last = shard_of_three(root.path(), 2);
    let merged = merge_studies(&study(None), &[last], &out, false).unwrap();
    assert_eq!(merged.outcomes.len(), 5);
    assert!(merged.missing.is_empty());
}

#[test]
fn a_folder_of_another_study_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    run_whole(&study(None), dir.path()).unwrap();
    let mut other = study(None);
    other.plan = vec![7];
    let err = run_whole(&other, dir.path()).err().unwrap();
    assert!(err.to_string().contains("plan.json"), "{err}");
    let err = merge_studies(
        &other,
        &[dir.path().to_path_buf()],
        &dir.path().join("m"),
        false,
    )
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

/// An environment holding `pairs`.
fn env(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The shard `pairs` give, or the error's text.
fn auto(pairs: &[(&str, &str)]) -> std::result::Result<(usize, usize), String> {
    ShardSpec::Auto
        .resolve(&env(pairs))
        .map(|(s, _)| (s.index, s.count))
        .map_err(|e| e.to_string())
}

/// A Slurm array task `id` of `count` tasks from `min` by `step`.
fn slurm(
    id: &str,
    min: &str,
    step: &str,
    count: &str,
) -> std::result::Result<(usize, usize), String> {
    auto(&[
        ("SLURM_ARRAY_TASK_ID", id),
        ("SLURM_ARRAY_TASK_MIN", min),
        ("SLURM_ARRAY_TASK_STEP", step),
        ("SLURM_ARRAY_TASK_COUNT", count),
        ("SLURM_JOB_ID", "812"),
    ])
}

#[test]
fn shard_auto_reads_a_slurm_array_task_from_its_min_and_step() {
    // --array=0-3: tasks 0..3 are shards 1/4..4/4.
    assert_eq!(slurm("0", "0", "1", "4"), Ok((1, 4)));
    assert_eq!(slurm("3", "0", "1", "4"), Ok((4, 4)));
    // --array=1-7:2: tasks 1, 3, 5, 7.
    assert_eq!(slurm("1", "1", "2", "4"), Ok((1, 4)));
    assert_eq!(slurm("5", "1", "2", "4"), Ok((3, 4)));
    assert_eq!(slurm("7", "1", "2", "4"), Ok((4, 4)));
    // --array=10-11 without a step variable (step 1).
    assert_eq!(
        auto(&[
            ("SLURM_ARRAY_TASK_ID", "11"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]),
        Ok((2, 2))
    );
    let (_, said) = ShardSpec::Auto
        .resolve(&env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]))
        .unwrap();
    assert_eq!(
        said,
        "Slurm job array: SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_MIN=1, \
         SLURM_ARRAY_TASK_STEP=2, SLURM_ARRAY_TASK_COUNT=4"
    );
}

#[test]
fn shard_auto_refuses_a_slurm_task_outside_its_array() {
    for (id, min, step, count) in [
        ("4", "0", "1", "4"), // past the last task
        ("0", "1", "1", "4"), // below the first
        ("4", "1", "2", "4"), // between two tasks of 1-7:2
        ("1", "0", "0", "4"), // no step
    ] {
        let err = slurm(id, min, step, count).unwrap_err();
        assert!(
            err.starts_with("--shard auto: SLURM_ARRAY_TASK_ID=")
                && err.contains(&format!(
                    "do not agree: the task is not one of the {count} tasks"
                ))
                && err.contains("sbatch --array=MIN-MAX"),
            "{id} {min} {step} {count}: {err}"
        );
    }
    let err = slurm("x", "0", "1", "4").unwrap_err();
    assert_eq!(
        err,
        "--shard auto: SLURM_ARRAY_TASK_ID=\"x\" is not a whole number ≥ 0; is it the scheduler's?"
    );
    let err = auto(&[
        ("SLURM_ARRAY_TASK_ID", "1"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
        ("SCRATCHNET_SHARD_COUNT", "3"),
    ])
    .unwrap_err();
    assert!(
        err.contains("SCRATCHNET_SHARD_COUNT=3 but the Slurm array has SLURM_ARRAY_TASK_COUNT=2"),
        "{err}"
    );
}

#[test]
fn shard_auto_refuses_a_slurm_task_without_its_count_or_min() {
    let err = auto(&[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_MIN", "0")]).unwrap_err();
    assert!(
        err.starts_with("--shard auto: SLURM_ARRAY_TASK_COUNT is not set"),
        "{err}"
    );
    let err = auto(&[
        ("SLURM_ARRAY_TASK_ID", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
    ])
    .unwrap_err();
    assert!(
        err.starts_with("--shard auto: SLURM_ARRAY_TASK_MIN is not set"),
        "{err}"
    );
}

#[test]
fn shard_auto_reads_a_kubernetes_indexed_job_with_the_count_passed_in() {
    let k8s = |index: &str, count: Option<&str>| {
        let mut pairs = vec![("JOB_COMPLETION_INDEX", index)];
        pairs.extend(count.map(|c| ("SCRATCHNET_SHARD_COUNT", c)));
        auto(&pairs)
    };
    assert_eq!(k8s("0", Some("3")), Ok((1, 3)));
    assert_eq!(k8s("2", Some("3")), Ok((3, 3)));
    assert_eq!(
        k8s("3", Some("3")).unwrap_err(),
        "--shard auto: JOB_COMPLETION_INDEX=3 is not below SCRATCHNET_SHARD_COUNT=3 (indices \
         run from 0 to SCRATCHNET_SHARD_COUNT − 1); set SCRATCHNET_SHARD_COUNT to the Job's \
         completions"
    );
    let err = k8s("1", None).unwrap_err();
    assert!(
        err.starts_with(
            "--shard auto: JOB_COMPLETION_INDEX=1 is set but SCRATCHNET_SHARD_COUNT is not"
        ) && err.contains("completions"),
        "{err}"
    );
    assert!(k8s("1", Some("0")).unwrap_err().contains("is not below"));
    let both = auto(&[
        ("JOB_COMPLETION_INDEX", "0"),
        ("SCRATCHNET_SHARD_COUNT", "2"),
        ("SLURM_ARRAY_TASK_ID", "0"),
    ])
    .unwrap_err();
    assert!(
        both.contains(
            "both SLURM_ARRAY_TASK_ID (Slurm) and JOB_COMPLETION_INDEX (Kubernetes) are set"
        ),
        "{both}"
    );
}

#[test]
fn shard_auto_with_nothing_set_names_every_variable_it_looked_for() {
    // A Slurm job that is not an array, and a count alone, give no shard.
    let err = auto(&[("SLURM_JOB_ID", "812"), ("SCRATCHNET_SHARD_COUNT", "2")]).unwrap_err();
    for name in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_STEP",
        "SLURM_ARRAY_TASK_COUNT",
        "JOB_COMPLETION_INDEX",
        "SCRATCHNET_SHARD_COUNT",
        "--shard I/N",
    ] {
        assert!(err.contains(name), "{name}: {err}");
    }
    assert!(err.starts_with("--shard auto: no scheduler's shard variables are set"));
    // A given shard ignores the environment.
    let given: ShardSpec = "2/3".parse().unwrap();
    assert_eq!(
        given.resolve(&env(&[])).unwrap().0,
        Shard { index: 2, count: 3 }
    );
    assert_eq!("auto".parse::<ShardSpec>().unwrap(), ShardSpec::Auto);
}
