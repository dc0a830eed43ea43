//! The depth-width study's findings in English: each [`Finding`] rendered as the sentence the
//! report and the console show.

use super::findings::{Activity, Comparison, DepthPays, Finding, Line, Shape};
use std::fmt::{self, Display, Formatter};

impl Display for Finding {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        match self {
            Finding::Answer(t) => {
                let (d, n) = (t.dataset, t.comparisons);
                match t.depth_pays() {
                    DepthPays::Helps => write!(
                        f,
                        "On {d}, depth helps: at equal size the deeper network was the more accurate in {} of {n} \
                         comparisons.",
                        t.deeper_wins
                    ),
                    DepthPays::Hurts => write!(
                        f,
                        "On {d}, depth does not help: at equal size the shallower network was the more accurate in \
                         {} of {n} comparisons.",
                        t.shallower_wins
                    ),
                    DepthPays::Neither => write!(
                        f,
                        "On {d}, depth neither helps nor hurts: deeper and shallower networks each won {} of {n} \
                         equal-size comparisons.",
                        t.deeper_wins
                    ),
                }?;
                write!(f, " The best shape is {} ({:.4} test accuracy). ", name(&t.best), t.best.test_acc)?;
                match t.overfit {
                    0 => write!(f, "No shape overfits (train ahead of test by more than 0.01)."),
                    o if o == t.shapes => write!(f, "Every shape overfits: train is ahead of test by more than 0.01."),
                    o => write!(
                        f,
                        "{o} of {} shapes overfit (train ahead of test by more than 0.01).",
                        t.shapes
                    ),
                }
            }
            Finding::BestWorst { dataset, best, worst } => write!(
                f,
                "On {dataset}, the best shape is {} (depth × width; {} parameters) at {:.4} test accuracy; the worst is \
                 {} ({} parameters) at {:.4}.",
                name(best), best.params, best.test_acc, name(worst), worst.params, worst.test_acc
            ),
            Finding::EqualParams { dataset, comparisons } => write!(
                f,
                "At equal parameters on {dataset} (shapes within 15% of each other's size), the deeper network wins {} \
                 of {} comparisons: {}.",
                comparisons.iter().filter(|c| c.margin() > 0.0).count(),
                comparisons.len(),
                join(comparisons.iter().map(comparison), "; ")
            ),
            Finding::NoEqualParams { dataset } => write!(
                f,
                "On {dataset}, no two shapes of different depth have parameter counts within 15% of each other; use \
                 --equal-params to compare them at the same size."
            ),
            Finding::Width { dataset, lines } => {
                write!(f, "Width on {dataset}: {}.", join(lines.iter().map(width_note), "; "))
            }
            Finding::Depth { dataset, lines } => {
                write!(f, "Depth on {dataset}: {}.", join(lines.iter().map(depth_note), "; "))
            }
            Finding::Gap { .. } => gap(f, self),
            Finding::Diverged { dataset, shapes } => write!(
                f,
                "Diverged on {dataset}: {}.",
                join(shapes.iter().map(|(d, w)| format!("{d}×{w}")), ", ")
            ),
            Finding::OneSeed => write!(
                f,
                "Each shape was trained with one seed, so differences of a few thousandths may be run-to-run noise; \
                 --seeds K gives means and spreads."
            ),
            Finding::SeedSpread { seeds, median, max } => write!(
                f,
                "Across {seeds} seeds, one shape's final test accuracy varies by {median:.4} (median over shapes) and \
                 at most {max:.4}: differences smaller than that are noise."
            ),
            Finding::Failure { .. } => failure(f, self),
            Finding::Fixes { dataset, depth, width, fixes } => {
                let each = fixes.iter().map(|x| {
                    let ratio = x.grad_ratio.map_or(String::new(), |r| {
                        format!(", |dW{}|/|dW1| at init {}", depth + 1, factor(r))
                    });
                    format!("{} reaches {:.4}{ratio}", x.setup.describe(), x.test_acc)
                });
                write!(
                    f,
                    "What fixes it on {dataset}, one change at a time ({depth}×{width}, same budget): {}.",
                    join(each, "; ")
                )
            }
        }
    }
}

/// `2×50`: depth × width.
fn name(s: &Shape) -> String {
    format!("{}×{}", s.depth, s.width)
}

/// `1 hidden layer`, `3 hidden layers`.
fn layers(depth: usize) -> String {
    format!("{depth} hidden layer{}", if depth == 1 { "" } else { "s" })
}

fn join(items: impl Iterator<Item = String>, separator: &str) -> String {
    items.collect::<Vec<_>>().join(separator)
}

/// `at about 13000 parameters, 1×16 (0.9300) against 2×16 (0.9350): the deeper wins by 0.0050`.
fn comparison(c: &Comparison) -> String {
    let group = !c.between.is_empty();
    let list = if group {
        let all = std::iter::once(&c.shallow)
            .chain(&c.between)
            .chain([&c.deep])
            .map(|s| format!("{} {:.4}", name(s), s.test_acc));
        format!("{}; shallowest ", join(all, ", "))
    } else {
        String::new()
    };
    let verdict = if c.diff > 0.0 {
        "the deeper wins"
    } else if c.diff < 0.0 {
        "the shallower wins"
    } else {
        "a tie"
    };
    let within = c.spread.map_or(String::new(), |noise| {
        format!(", within the seeds' spread ({noise:.4}): no winner")
    });
    let best = if c.best.depth != c.shallow.depth && c.best.depth != c.deep.depth {
        format!(
            " (best of the group: {} at {:.4})",
            name(&c.best),
            c.best.test_acc
        )
    } else {
        String::new()
    };
    format!(
        "at about {} parameters, {list}{} ({:.4}) against {}{} ({:.4}): {verdict} by {:.4}{within}{best}",
        round_sig(c.shallow.params),
        name(&c.shallow),
        c.shallow.test_acc,
        if group { "deepest " } else { "" },
        name(&c.deep),
        c.deep.test_acc,
        c.diff.abs()
    )
}

fn width_note(l: &Line) -> String {
    let stop = match &l.stop {
        Some(s) => format!(
            ", and the first widening that gains less than 0.002 is {}→{} ({:+.4})",
            s.from, s.to, s.gain
        ),
        None => ", every widening gaining at least 0.002".into(),
    };
    format!(
        "with {} test accuracy goes from {:.4} at width {} to {:.4} at width {}{stop}",
        layers(l.first.depth),
        l.first.test_acc,
        l.first.width,
        l.last.test_acc,
        l.last.width
    )
}

fn depth_note(l: &Line) -> String {
    let stop = match &l.stop {
        Some(s) => format!(
            "; the first added layer that gains less than 0.002 is {}→{} ({:+.4})",
            s.from, s.to, s.gain
        ),
        None => "; every added layer gains at least 0.002".into(),
    };
    format!(
        "at width {}, {:.4} with {} and {:.4} with {}, best with {} ({:.4}){stop}",
        l.first.width,
        l.first.test_acc,
        layers(l.first.depth),
        l.last.test_acc,
        l.last.depth,
        l.best.depth,
        l.best.test_acc
    )
}

fn gap(f: &mut Formatter, finding: &Finding) -> fmt::Result {
    let Finding::Gap {
        dataset,
        train_eval_rows,
        widest,
        open,
        shapes,
        smallest_open,
    } = finding
    else {
        unreachable!("called for Gap")
    };
    write!(
        f,
        "The train − test gap on {dataset} (training accuracy on {train_eval_rows} training images) is largest at {} \
         ({} parameters): {:+.4}.",
        name(widest),
        widest.params,
        widest.gap
    )?;
    match smallest_open {
        Some(s) => write!(
            f,
            " It exceeds 0.01 in {open} of {shapes} shapes, the smallest of them {} ({} parameters, {:+.4}): \
             overfitting opens there.",
            name(s),
            s.params,
            s.gap
        ),
        None => write!(f, " No shape's gap exceeds 0.01: within this budget none overfits."),
    }
}

fn failure(f: &mut Formatter, finding: &Finding) -> fmt::Result {
    let Finding::Failure {
        dataset,
        depth: d,
        width: w,
        setup,
        test_acc,
        chance,
        init_grads,
        activations,
        later,
    } = finding
    else {
        unreachable!("called for Failure")
    };
    write!(
        f,
        "On {dataset}, the {d}×{w} network with {} ends at {test_acc:.4} test accuracy{}.",
        setup.describe(),
        if *chance {
            " — chance level: it does not learn"
        } else {
            ""
        }
    )?;
    if let Some((g1, gout)) = init_grads {
        write!(
            f,
            " At initialisation its mean |dW1| is {g1:.2e} against {gout:.2e} at the output layer W{}: the gradient \
             shrinks by a factor of {} on its way back through {d} layers.",
            d + 1,
            factor(gout / g1.max(1e-300))
        )?;
    }
    if let Some((mean, std, activity)) = activations {
        write!(
            f,
            " Its layer-{d} activations have mean {mean:.3} and standard deviation {std:.4}{}",
            match activity {
                Activity::Uniform => " — every neuron outputs nearly the same value, so the layers cannot tell images \
                                      apart (the book's figure 6-11).",
                Activity::MostlyInactive => " — most are saturated and pass no gradient.",
                Activity::Spread => ".",
            }
        )?;
    }
    if let Some((epochs, g1)) = later {
        write!(f, " After {epochs:.2} epochs its mean |dW1| is {g1:.2e}.")?;
    }
    Ok(())
}

/// A ratio: `3.6`, `12.0`, `250`, `2.5e8`.
fn factor(x: f64) -> String {
    if x >= 1e4 {
        format!("{x:.1e}")
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// A parameter count to two significant digits, for "about N parameters".
fn round_sig(n: usize) -> String {
    let n = n as f64;
    let scale = 10f64.powf(n.log10().floor() - 1.0).max(1.0);
    format!("{:.0}", (n / scale).round() * scale)
}
