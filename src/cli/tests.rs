use super::Cli;
use clap::CommandFactory;

/// Every command's `--help` text, by its full name ("scratchnet study batch-size").
fn every_help() -> Vec<(String, String)> {
    fn walk(command: &mut clap::Command, name: String, helps: &mut Vec<(String, String)>) {
        helps.push((name.clone(), command.render_long_help().to_string()));
        for sub in command.get_subcommands_mut() {
            let sub_name = format!("{name} {}", sub.get_name());
            walk(sub, sub_name, helps);
        }
    }
    let mut cli = Cli::command();
    cli.build();
    let mut helps = Vec::new();
    walk(&mut cli, "scratchnet".to_string(), &mut helps);
    helps
}

/// The help of the command named `name`.
fn help_of(name: &str) -> String {
    let helps = every_help();
    let found = helps.iter().find(|(n, _)| n == name);
    found.unwrap_or_else(|| panic!("no {name}")).1.clone()
}

#[test]
fn help_walks_every_subcommand() {
    let names: Vec<String> = every_help().into_iter().map(|(name, _)| name).collect();
    for expected in [
        "scratchnet train",
        "scratchnet eval",
        "scratchnet study batch-size",
        "scratchnet study merge",
        "scratchnet demo optimizers",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
}

#[test]
fn no_help_shows_rustdoc_markup() {
    for (name, help) in every_help() {
        // [`Sgd`], [`Choice`]: an intra-doc link that rustdoc would render and clap does not.
        let markup = help.match_indices("[`").find(|&(at, _)| {
            let rest = &help[at + 2..];
            rest.find("`]")
                .is_some_and(|end| !rest[..end].contains('\n'))
        });
        assert!(
            markup.is_none(),
            "{name} --help shows rustdoc markup:\n{help}"
        );
    }
}

#[test]
fn only_eval_talks_about_eval_in_its_dataset_help() {
    for (name, help) in every_help() {
        let Some(at) = help.find("--dataset <") else {
            continue;
        };
        // The flag's help runs until the blank line before the next flag.
        let rest = &help[at..];
        let dataset_help = &rest[..rest.find("\n\n").unwrap_or(rest.len())];
        if name == "scratchnet eval" {
            assert!(dataset_help.contains("trained on"), "{dataset_help}");
        } else {
            assert!(!dataset_help.contains("eval"), "{name}: {dataset_help}");
        }
    }
}

#[test]
fn train_help_says_what_the_default_run_is() {
    let help = help_of("scratchnet train");
    assert!(!help.contains("users'"), "{help}");
    assert!(
        help.contains("the book's chapter-4 training: 10000 updates"),
        "{help}"
    );
}

#[test]
fn resume_refuses_every_flag_of_train_that_cannot_apply_to_a_resumed_run() {
    let mut cli = Cli::command();
    cli.build();
    let train = cli
        .get_subcommands()
        .find(|c| c.get_name() == "train")
        .expect("a train command");
    let resume = train
        .get_arguments()
        .find(|a| a.get_id() == "resume")
        .expect("--resume");
    let refused: Vec<&str> = train
        .get_arg_conflicts_with(resume)
        .iter()
        .map(|a| a.get_id().as_str())
        .collect();
    for arg in train.get_arguments() {
        let id = arg.get_id().as_str();
        if ["help", "quiet"].contains(&id) || super::train::RESUME_ALLOWS.contains(&id) {
            continue;
        }
        assert!(
            refused.contains(&id),
            "--{id} is neither refused with --resume nor listed as applying to a resumed run"
        );
    }
}
