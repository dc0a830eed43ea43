//! The architecture study's findings in English: each [`Finding`] rendered as the sentence the
//! report and the console show.

use super::findings::{verdict, Case, Finding, Net, Tally, Verdict, Versus, Winner};
use super::Role;
use std::fmt::{self, Display, Formatter};

impl Display for Finding {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        match self {
            Finding::Answer {
                dataset,
                params,
                macs,
                slower,
                best,
            } => {
                let pays = match verdict(params, macs) {
                    Verdict::Pays => "pays",
                    Verdict::Mostly => "mostly pays",
                    Verdict::Neither => "neither pays nor hurts",
                    Verdict::Hurts => "does not pay",
                };
                write!(
                    f,
                    "On {dataset}, convolution's weight sharing {pays}: {}, and {}. ",
                    tally(params),
                    tally(macs)
                )?;
                write!(
                    f,
                    "Per training sample a conv net takes {} the time of the MLP with its multiply-adds. The most \
                     accurate network is {} ({}) at {} test error.",
                    times(*slower),
                    best.name,
                    best.role.describe(),
                    error(best)
                )
            }
            Finding::Group {
                dataset,
                params,
                macs,
            } => group(f, *dataset, params, macs),
            Finding::MlpBetter {
                dataset,
                comparisons,
                cases,
            } => mlp_better(f, *dataset, *comparisons, cases),
            Finding::ConvEverywhere { dataset } => write!(
                f,
                "On {dataset}, no comparison here favours an MLP: not the final error at equal parameters or \
                 multiply-adds, not the accuracy after equal training time, not the smallest budgets measured."
            ),
            Finding::Diverged { dataset, nets } => {
                write!(f, "Diverged on {dataset}: {}.", nets.join(", "))
            }
            Finding::OneSeed => write!(
                f,
                "Each network was trained with one seed, so differences of a few tenths of a point may be run-to-run \
                 noise; --seeds K gives means, standard deviations and ranges."
            ),
            Finding::SeedSpread { seeds, median, max } => write!(
                f,
                "Across {seeds} seeds, one network's final test error varies by {} points (median over networks of the \
                 min–max range) and at most {}: differences smaller than that are noise.",
                points(*median),
                points(*max)
            ),
        }
    }
}

/// `at equal parameters the conv net has the lower test error in 3 of 3 comparisons (1.21
/// points less on average, 45% of the MLP's error)`.
fn tally(t: &Tally) -> String {
    let at = match t.matched {
        Role::MlpParams => "at equal parameters",
        _ => "at equal multiply-adds per sample",
    };
    let mlp = if t.mlp_wins > 0 {
        format!(", the MLP in {}", t.mlp_wins)
    } else {
        String::new()
    };
    let average = if t.mean_cut >= 0.0 {
        format!(
            "{} points less on average, {:.0}% of the MLP's error",
            points(t.mean_cut),
            100.0 * t.mean_relative
        )
    } else {
        format!(
            "{} points more on average, {:.0}% above the MLP's error",
            points(-t.mean_cut),
            -100.0 * t.mean_relative
        )
    };
    format!(
        "{at} the conv net has the lower test error in {} of {} comparisons{mlp} ({average})",
        t.conv_wins, t.comparisons
    )
}

/// One conv net against its two MLPs.
fn group(
    f: &mut Formatter,
    dataset: super::DatasetKind,
    params: &Versus,
    macs: &Versus,
) -> fmt::Result {
    let c = &params.conv;
    write!(
        f,
        "On {dataset}, {} ({} parameters, {} multiply-adds per sample) ends at {} test error, {:.2} µs per training \
         sample; the MLP {} of about its parameters ({}) at {} in {:.2} µs; the MLP {} of about its multiply-adds \
         ({}) at {} in {:.2} µs. ",
        c.name,
        thousands(c.params),
        thousands(c.macs),
        error(c),
        c.us_per_sample,
        params.mlp.name,
        thousands(params.mlp.params),
        error(&params.mlp),
        params.mlp.us_per_sample,
        macs.mlp.name,
        thousands(macs.mlp.macs),
        error(&macs.mlp),
        macs.mlp.us_per_sample,
    )?;
    write!(
        f,
        "At equal parameters weight sharing {}; at equal multiply-adds it {}. The conv net takes {:.1}× the time \
         per sample of the latter.",
        gain(params),
        gain(macs),
        macs.slower
    )
}

/// `cuts the error by 1.58 points (51%)`, or why it does not.
fn gain(v: &Versus) -> String {
    match (v.winner(), v.noise) {
        (_, Some(noise)) => format!(
            "makes no difference beyond the seeds' spread ({} points apart, against a spread of {}): no winner",
            points(v.cut.abs()),
            points(noise)
        ),
        (Winner::Mlp, _) => format!(
            "costs {} points of error ({:.0}% more than the MLP's)",
            points(-v.cut),
            -100.0 * v.relative
        ),
        _ => format!(
            "cuts the error by {} points ({:.0}%)",
            points(v.cut),
            100.0 * v.relative
        ),
    }
}

/// Where an MLP is the better choice: each kind of condition, how often, and its extreme.
fn mlp_better(
    f: &mut Formatter,
    dataset: super::DatasetKind,
    comparisons: usize,
    cases: &[Case],
) -> fmt::Result {
    let mut parts = Vec::new();
    let more: Vec<&Versus> = cases
        .iter()
        .filter_map(|c| match c {
            Case::MoreAccurate(v) => Some(v),
            _ => None,
        })
        .collect();
    if !more.is_empty() {
        let each = more.iter().map(|v| {
            format!(
                "{} is more accurate than {} at equal {} ({} against {} test error)",
                v.mlp.name,
                v.conv.name,
                matched(v.mlp.role),
                error(&v.mlp),
                error(&v.conv)
            )
        });
        parts.push(format!("at the end of the budget, {}", join(each, " and ")));
    }
    let timed = cases.iter().filter_map(|c| match c {
        Case::EqualTime {
            conv,
            mlp,
            seconds,
            conv_acc,
            mlp_acc,
        } => Some((conv, mlp, *seconds, *conv_acc, *mlp_acc)),
        _ => None,
    });
    let timed: Vec<_> = timed.collect();
    if let Some((conv, mlp, seconds, conv_acc, mlp_acc)) = timed
        .iter()
        .max_by(|a, b| (a.4 - a.3).total_cmp(&(b.4 - b.3)))
    {
        parts.push(format!(
            "per second of training, in {} of {comparisons} comparisons: after the faster network's whole run the \
             MLP is the more accurate (the widest lead: {} at {mlp_acc:.4} test accuracy against {}'s {conv_acc:.4} \
             after {seconds:.2} s)",
            timed.len(),
            mlp.name,
            conv.name
        ));
    }
    let until: Vec<usize> = cases
        .iter()
        .filter_map(|c| match c {
            Case::TinyBudget { until, .. } => Some(*until),
            _ => None,
        })
        .collect();
    if let (Some(lo), Some(hi)) = (until.iter().min(), until.iter().max()) {
        let span = if lo == hi {
            thousands(*lo)
        } else {
            format!("{}–{}", thousands(*lo), thousands(*hi))
        };
        parts.push(format!(
            "on the smallest budgets, in {} of {comparisons} comparisons: the MLP is ahead of its conv net for every \
             seed from the first measurement up to {span} samples seen",
            until.len()
        ));
    }
    write!(
        f,
        "Where an MLP is the better choice on {dataset}: {}",
        parts.join("; ")
    )?;
    if more.is_empty() {
        write!(
            f,
            ". At the end of the budget, though, no MLP is more accurate than its conv net at equal parameters or \
             multiply-adds."
        )
    } else {
        write!(f, ".")
    }
}

/// One condition, for the report's table: (conv net, MLP, condition, MLP's figure, conv net's).
pub fn case_row(c: &Case) -> [String; 5] {
    match c {
        Case::MoreAccurate(v) => [
            v.conv.name.clone(),
            v.mlp.name.clone(),
            format!("final test error, equal {}", matched(v.mlp.role)),
            error(&v.mlp),
            error(&v.conv),
        ],
        Case::EqualTime {
            conv,
            mlp,
            seconds,
            conv_acc,
            mlp_acc,
        } => [
            conv.name.clone(),
            mlp.name.clone(),
            format!("test accuracy after {seconds:.2} s of training"),
            format!("{mlp_acc:.4}"),
            format!("{conv_acc:.4}"),
        ],
        Case::TinyBudget {
            conv,
            mlp,
            until,
            mlp_acc,
            conv_acc,
            overtaken,
        } => [
            conv.name.clone(),
            mlp.name.clone(),
            format!(
                "ahead from the first measurement to {} samples{}",
                thousands(*until),
                overtaken.map_or(" and to the end".into(), |s| format!(
                    " (not at {})",
                    thousands(s)
                ))
            ),
            format!("{mlp_acc:.4} at {}", thousands(*until)),
            format!("{conv_acc:.4}"),
        ],
    }
}

fn matched(role: Role) -> &'static str {
    match role {
        Role::MlpParams => "parameters",
        _ => "multiply-adds",
    }
}

/// A network's final test error in percent with its spread: `1.52% ± 0.04`.
pub fn error(n: &Net) -> String {
    format!(
        "{:.2}% ± {:.2}",
        100.0 * n.test_error.mean,
        100.0 * n.test_error.sd
    )
}

/// An error difference in percentage points: `1.58`.
fn points(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

/// A ratio range: `3.9×` or `1.8–4.2×`.
fn times((lo, hi): (f64, f64)) -> String {
    if (hi - lo).abs() < 0.05 {
        format!("{lo:.1}×")
    } else {
        format!("{lo:.1}–{hi:.1}×")
    }
}

/// `433,890`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn join(items: impl Iterator<Item = String>, separator: &str) -> String {
    items.collect::<Vec<_>>().join(separator)
}
