//! The batch-size study's answer to its question: typed findings drawn from the per-size
//! summaries, and the sentence each one is rendered as (its `Display`).

use super::analysis::SizeSummary;
use super::BatchSizePlan;
use crate::experiment::Budget;
use std::fmt;

/// A final test accuracy this close to the best counts as reaching it.
const NEAR_BEST: f64 = 0.005;
/// A throughput at least this fraction of the peak counts as having reached it.
const NEAR_PEAK: f64 = 0.9;
/// A train − test gap this wide (training ahead) counts as overfitting.
const OVERFIT_GAP: f64 = 0.02;

/// A batch size that reached the target: after `seconds` of updates, `epochs` of samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Reach {
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// Mean seconds of updates until the target.
    pub seconds: f64,
    /// Mean epochs until then.
    pub epochs: f64,
}

/// A batch size's mean training throughput.
#[derive(Clone, Debug, PartialEq)]
pub struct SizeRate {
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// Mean training samples per second of updates.
    pub samples_per_s: f64,
}

/// A batch size's mean final test accuracy, and what an update of it costs.
#[derive(Clone, Debug, PartialEq)]
pub struct SizeAcc {
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// Mean final test accuracy.
    pub test_acc: f64,
    /// Mean median milliseconds per update.
    pub median_update_ms: f64,
}

/// One thing the measurements say, with the numbers behind it.
#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    /// No run has finished yet.
    NoRuns,
    /// Which sizes reached the target test accuracy, soonest first (`reached` may be empty),
    /// and which never did within the budget.
    Target {
        /// The target test accuracy.
        target: f64,
        /// The budget each run had.
        budget: Budget,
        /// The sizes that reached it, by seconds of updates.
        reached: Vec<Reach>,
        /// The sizes that did not, smallest first.
        never: Vec<usize>,
    },
    /// Only one batch size finished: nothing to compare, its figures alone.
    OneSize {
        /// Its throughput.
        rate: SizeRate,
        /// Its final test accuracy and update time.
        acc: SizeAcc,
    },
    /// Where throughput stops growing (two sizes or more).
    Throughput {
        /// The smallest batch tried.
        smallest: SizeRate,
        /// The largest batch tried.
        largest: SizeRate,
        /// The highest throughput.
        fastest: SizeRate,
        /// The smallest batch within 10% of the highest throughput.
        plateau: SizeRate,
    },
    /// Where accuracy stops improving (two sizes or more).
    Accuracy {
        /// The highest final test accuracy.
        best: SizeAcc,
        /// The other sizes within 0.005 of it, smallest first.
        near: Vec<SizeAcc>,
        /// The lowest final test accuracy.
        worst: SizeAcc,
        /// The smallest batch within 0.005 of the best: past it, a larger one adds little.
        enough: SizeAcc,
        /// The smallest batch tried.
        smallest: SizeAcc,
        /// The largest batch tried.
        largest: SizeAcc,
    },
    /// Batch 1: fast updates, slow samples.
    BatchOne {
        /// Median milliseconds per update.
        median_update_ms: f64,
        /// Updates per second.
        updates_per_s: f64,
        /// Samples per second.
        samples_per_s: f64,
        /// Updates made.
        updates: f64,
        /// Final test accuracy.
        test_acc: f64,
    },
    /// The largest batch (when it is not the most accurate): slow updates, few of them.
    LargestBatch {
        /// Rows per mini-batch.
        batch_size: usize,
        /// Median milliseconds per update.
        median_update_ms: f64,
        /// Updates the budget allowed.
        updates: f64,
        /// Final test accuracy.
        test_acc: f64,
    },
    /// The largest train − test gap (training furthest ahead of test).
    Gap {
        /// Training rows the training accuracy was measured on.
        train_eval_rows: usize,
        /// The size with the largest gap.
        batch_size: usize,
        /// Its mean gap (train − test): zero or less when training was never ahead.
        gap: f64,
        /// Whether that gap is wide enough to call overfitting.
        overfits: bool,
    },
    /// Sizes with runs that diverged: (batch size, runs).
    Diverged {
        /// Each size and how many of its runs diverged.
        sizes: Vec<(usize, usize)>,
    },
}

/// The answer to the study's question, each finding carrying the numbers behind it.
pub fn findings(plan: &BatchSizePlan, sizes: &[SizeSummary]) -> Vec<Finding> {
    // Smallest batch first, whatever order --sizes gave: "first", "largest" and "past it" below
    // rely on it.
    let mut ok: Vec<&SizeSummary> = sizes.iter().filter(|s| s.runs > 0).collect();
    ok.sort_by_key(|s| s.batch_size);
    let Some(&last) = ok.last() else {
        return vec![Finding::NoRuns];
    };
    let mut out = vec![target(plan, &ok)];
    if let [one] = ok[..] {
        out.push(Finding::OneSize {
            rate: rate(one),
            acc: acc(one),
        });
    } else {
        out.extend([throughput(&ok), accuracy(&ok)]);
    }
    let best = ok
        .iter()
        .max_by(|a, b| a.final_test_acc.0.total_cmp(&b.final_test_acc.0))
        .expect("not empty");
    if let Some(one) = ok.iter().find(|s| s.batch_size == 1) {
        out.push(Finding::BatchOne {
            median_update_ms: one.median_update_ms,
            updates_per_s: one.updates_per_s,
            samples_per_s: one.samples_per_s.0,
            updates: one.updates,
            test_acc: one.final_test_acc.0,
        });
    }
    if last.batch_size > 1 && last.batch_size != best.batch_size {
        out.push(Finding::LargestBatch {
            batch_size: last.batch_size,
            median_update_ms: last.median_update_ms,
            updates: last.updates,
            test_acc: last.final_test_acc.0,
        });
    }
    let widest = ok
        .iter()
        .max_by(|a, b| a.gap.0.total_cmp(&b.gap.0))
        .expect("not empty");
    out.push(Finding::Gap {
        train_eval_rows: plan.train_eval_rows,
        batch_size: widest.batch_size,
        gap: widest.gap.0,
        overfits: widest.gap.0 >= OVERFIT_GAP,
    });
    let diverged: Vec<(usize, usize)> = sizes
        .iter()
        .filter(|s| s.diverged > 0)
        .map(|s| (s.batch_size, s.diverged))
        .collect();
    if !diverged.is_empty() {
        out.push(Finding::Diverged { sizes: diverged });
    }
    out
}

/// Who reached the target first (`ok`: the finished sizes, smallest first).
fn target(plan: &BatchSizePlan, ok: &[&SizeSummary]) -> Finding {
    let mut reached: Vec<Reach> = ok
        .iter()
        .filter_map(|s| {
            s.to_target.map(|(seconds, epochs)| Reach {
                batch_size: s.batch_size,
                seconds,
                epochs,
            })
        })
        .collect();
    reached.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    Finding::Target {
        target: plan.target,
        budget: plan.budget,
        reached,
        never: ok
            .iter()
            .filter(|s| s.to_target.is_none())
            .map(|s| s.batch_size)
            .collect(),
    }
}

/// A size's mean throughput.
fn rate(s: &SizeSummary) -> SizeRate {
    SizeRate {
        batch_size: s.batch_size,
        samples_per_s: s.samples_per_s.0,
    }
}

/// A size's mean final test accuracy and update time.
fn acc(s: &SizeSummary) -> SizeAcc {
    SizeAcc {
        batch_size: s.batch_size,
        test_acc: s.final_test_acc.0,
        median_update_ms: s.median_update_ms,
    }
}

/// Where throughput stops growing (`ok`: the finished sizes, smallest first).
fn throughput(ok: &[&SizeSummary]) -> Finding {
    let fastest = ok
        .iter()
        .max_by(|a, b| a.samples_per_s.0.total_cmp(&b.samples_per_s.0))
        .expect("not empty");
    let plateau = ok
        .iter()
        .find(|s| s.samples_per_s.0 >= NEAR_PEAK * fastest.samples_per_s.0)
        .expect("the fastest qualifies");
    Finding::Throughput {
        smallest: rate(ok[0]),
        largest: rate(ok[ok.len() - 1]),
        fastest: rate(fastest),
        plateau: rate(plateau),
    }
}

/// Where accuracy stops improving (`ok`: the finished sizes, smallest first).
fn accuracy(ok: &[&SizeSummary]) -> Finding {
    let best = ok
        .iter()
        .max_by(|a, b| a.final_test_acc.0.total_cmp(&b.final_test_acc.0))
        .expect("not empty");
    let worst = ok
        .iter()
        .min_by(|a, b| a.final_test_acc.0.total_cmp(&b.final_test_acc.0))
        .expect("not empty");
    let near_best = |s: &&&SizeSummary| s.final_test_acc.0 >= best.final_test_acc.0 - NEAR_BEST;
    Finding::Accuracy {
        best: acc(best),
        near: ok
            .iter()
            .filter(|s| s.batch_size != best.batch_size)
            .filter(near_best)
            .map(|s| acc(s))
            .collect(),
        worst: acc(worst),
        enough: acc(ok.iter().find(near_best).expect("the best qualifies")),
        smallest: acc(ok[0]),
        largest: acc(ok[ok.len() - 1]),
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Finding::NoRuns => write!(f, "No run has finished yet."),
            Finding::Target {
                target,
                budget,
                reached,
                never,
            } => target_sentence(f, *target, *budget, reached, never),
            Finding::OneSize { rate, acc } => write!(
                f,
                "Only batch {} was tried, so nothing is compared: {:.0} samples/s, updates of {:.4} ms, final test \
                 accuracy {:.4}. Give more --sizes to see where speed and accuracy stop growing.",
                rate.batch_size, rate.samples_per_s, acc.median_update_ms, acc.test_acc
            ),
            Finding::Throughput {
                smallest,
                largest,
                fastest,
                plateau,
            } => throughput_sentence(f, smallest, largest, fastest, plateau),
            Finding::Accuracy { .. } => accuracy_sentence(f, self),
            Finding::BatchOne {
                median_update_ms,
                updates_per_s,
                samples_per_s,
                updates,
                test_acc,
            } => write!(
                f,
                "At batch 1 each update takes {median_update_ms:.4} ms (median), {updates_per_s:.0} updates/s, but only \
                 {samples_per_s:.0} samples/s; after {updates:.0} updates the test accuracy is {test_acc:.4}."
            ),
            Finding::LargestBatch {
                batch_size,
                median_update_ms,
                updates,
                test_acc,
            } => write!(
                f,
                "At the largest batch ({batch_size}) each update takes {median_update_ms:.1} ms; the budget allows \
                 {updates:.0} updates, and the test accuracy ends at {test_acc:.4}."
            ),
            Finding::Gap {
                train_eval_rows,
                batch_size,
                gap,
                overfits,
            } if *gap <= 0.0 => write!(
                f,
                "Training accuracy (on {train_eval_rows} training images) was never ahead of test accuracy: the gap \
                 train − test is at most {gap:+.4} (batch {batch_size}), so no batch size overfits."
            ),
            Finding::Gap {
                train_eval_rows,
                batch_size,
                gap,
                overfits,
            } => write!(
                f,
                "The widest train − test gap (training accuracy on {train_eval_rows} training images) is {gap:+.4}, at \
                 batch {batch_size}: {}.",
                if *overfits {
                    "the network starts to overfit there"
                } else {
                    "no batch size overfits at this network size and budget"
                }
            ),
            Finding::Diverged { sizes } => write!(
                f,
                "Diverged (loss NaN, infinite, or far worse than guessing): {}; their learning rate was too large.",
                join(sizes.iter().map(|(b, n)| format!("batch {b} ({n} runs)")))
            ),
        }
    }
}

/// Items separated by commas.
fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn target_sentence(
    f: &mut fmt::Formatter,
    target: f64,
    budget: Budget,
    reached: &[Reach],
    never: &[usize],
) -> fmt::Result {
    let Some((first, then)) = reached.split_first() else {
        return write!(
            f,
            "No batch size reached {target:.2} test accuracy within the budget ({budget})."
        );
    };
    write!(
        f,
        "Batch {} reached {target:.2} test accuracy first: after {:.2} s of updates ({:.3} epochs).",
        first.batch_size, first.seconds, first.epochs
    )?;
    if !then.is_empty() {
        let then = then.iter().map(|r| {
            format!(
                "batch {} after {:.2} s ({:.3} epochs)",
                r.batch_size, r.seconds, r.epochs
            )
        });
        write!(f, " Then {}.", join(then))?;
    }
    if !never.is_empty() {
        write!(
            f,
            " Batch {} never reached it within the budget ({budget}).",
            join(never.iter().map(usize::to_string))
        )?;
    }
    Ok(())
}

fn throughput_sentence(
    f: &mut fmt::Formatter,
    smallest: &SizeRate,
    largest: &SizeRate,
    fastest: &SizeRate,
    plateau: &SizeRate,
) -> fmt::Result {
    if fastest.batch_size == smallest.batch_size {
        write!(
            f,
            "Throughput is highest at the smallest batch tried, {} ({:.0} samples/s), and {:.0} samples/s at batch {}.",
            smallest.batch_size, smallest.samples_per_s, largest.samples_per_s, largest.batch_size
        )?;
    } else {
        write!(
            f,
            "Throughput grows from {:.0} samples/s at batch {} to a peak of {:.0} samples/s at batch {}.",
            smallest.samples_per_s, smallest.batch_size, fastest.samples_per_s, fastest.batch_size
        )?;
    }
    if plateau.batch_size == largest.batch_size {
        write!(f, " It was still growing at the largest size tried.")?;
    } else if plateau.batch_size != smallest.batch_size {
        write!(
            f,
            " It stops growing at batch {} ({:.0} samples/s, within 10% of the peak): larger batches buy little \
             more speed per sample{}.",
            plateau.batch_size,
            plateau.samples_per_s,
            if fastest.batch_size != largest.batch_size {
                ", and the largest are slower again"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

fn accuracy_sentence(f: &mut fmt::Formatter, finding: &Finding) -> fmt::Result {
    let Finding::Accuracy {
        best,
        near,
        worst,
        enough,
        smallest,
        largest,
    } = finding
    else {
        unreachable!("called for Accuracy")
    };
    write!(
        f,
        "Final test accuracy is highest at batch {} ({:.4}).",
        best.batch_size, best.test_acc
    )?;
    if !near.is_empty() {
        let near = near
            .iter()
            .map(|s| format!("batch {} ({:.4})", s.batch_size, s.test_acc));
        write!(f, " Within 0.005 of it: {}.", join(near))?;
    }
    if worst.batch_size != best.batch_size {
        write!(
            f,
            " The lowest is batch {} ({:.4}).",
            worst.batch_size, worst.test_acc
        )?;
    }
    if enough.batch_size == largest.batch_size {
        return write!(
            f,
            " Accuracy was still improving at the largest size tried (batch {}).",
            largest.batch_size
        );
    }
    let (at, acc) = (enough.batch_size, enough.test_acc);
    if at == best.batch_size && at == smallest.batch_size {
        write!(f, " No larger batch improves on batch {at}:")?;
    } else if at == best.batch_size {
        write!(
            f,
            " Accuracy stops improving at batch {at}: no larger batch does better, and"
        )?;
    } else {
        if at == smallest.batch_size {
            write!(
                f,
                " The smallest batch, {at} ({acc:.4}), is already within 0.005 of the best:"
            )?;
        } else {
            write!(
                f,
                " Accuracy stops improving at batch {at} ({acc:.4}, within 0.005 of the best):"
            )?;
        }
        if best.batch_size != largest.batch_size {
            write!(
                f,
                " larger batches add at most {:+.4}, and",
                best.test_acc - acc
            )?;
        }
    }
    write!(
        f,
        " batch {} ends at {:.4} ({:+.4}), with updates of {:.4} ms against {:.4} ms.",
        largest.batch_size,
        largest.test_acc,
        largest.test_acc - acc,
        largest.median_update_ms,
        enough.median_update_ms
    )
}
