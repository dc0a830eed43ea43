//! The depth-width study's answer to its question: typed findings drawn from the shape
//! summaries, and the sentence each one is rendered as (its `Display`).

use super::analysis::{diagnostic_of, grid_of, ShapeSummary};
use super::{DepthWidthPlan, Setup};
use crate::data::DatasetKind;
use scratchnet_core::layers::Activation;

/// Shapes whose parameter counts are within this factor of each other are compared as equal.
const EQUAL_SIZE: f64 = 1.15;
/// A widening or an added layer gaining less test accuracy than this has stopped paying.
const PAYS: f64 = 0.002;
/// A train − test gap above this is overfitting.
const OVERFIT_GAP: f64 = 0.01;
/// A final test accuracy below this is chance level (ten classes).
const CHANCE: f64 = 0.2;

/// A shape of the grid and how it ended (means over the seeds).
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    /// Hidden layers.
    pub depth: usize,
    /// Neurons per hidden layer.
    pub width: usize,
    /// Weights and biases.
    pub params: usize,
    /// Final test accuracy.
    pub test_acc: f64,
    /// Train − test gap.
    pub gap: f64,
}

impl Shape {
    fn of(s: &ShapeSummary) -> Shape {
        Shape {
            depth: s.depth,
            width: s.width,
            params: s.params,
            test_acc: s.final_test_acc.0,
            gap: s.gap.0,
        }
    }
}

/// Shapes of different depths at about the same parameter count, compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The shallowest shape of the group.
    pub shallow: Shape,
    /// The deepest.
    pub deep: Shape,
    /// The group's other shapes, by depth (empty for a pair).
    pub between: Vec<Shape>,
    /// deep − shallow test accuracy.
    pub diff: f64,
    /// With several seeds, when `diff` lies inside either shape's min–max range: that range
    /// (the difference is noise, there is no winner).
    pub spread: Option<f64>,
    /// The group's most accurate shape.
    pub best: Shape,
}

impl Comparison {
    /// The difference that counts: 0 when it is inside the seeds' spread.
    pub fn margin(&self) -> f64 {
        if self.spread.is_some() {
            0.0
        } else {
            self.diff
        }
    }
}

/// One dataset's equal-size comparisons in a line.
#[derive(Clone, Debug, PartialEq)]
pub struct Tally {
    /// The dataset.
    pub dataset: DatasetKind,
    /// Comparisons the deeper network won.
    pub deeper_wins: usize,
    /// Comparisons the shallower won.
    pub shallower_wins: usize,
    /// All comparisons.
    pub comparisons: usize,
    /// The grid's most accurate shape.
    pub best: Shape,
    /// Shapes whose train − test gap is above 0.01.
    pub overfit: usize,
    /// Shapes in the grid.
    pub shapes: usize,
}

/// Whether depth pays, by the equal-size comparisons: the deeper network won more of them,
/// fewer, or as many as the shallower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthPays {
    /// The deeper network won more comparisons.
    Helps,
    /// The shallower network won more.
    Hurts,
    /// Each won as many.
    Neither,
}

impl Tally {
    /// Whether depth pays on this dataset.
    pub fn depth_pays(&self) -> DepthPays {
        match self.deeper_wins.cmp(&self.shallower_wins) {
            std::cmp::Ordering::Greater => DepthPays::Helps,
            std::cmp::Ordering::Less => DepthPays::Hurts,
            std::cmp::Ordering::Equal => DepthPays::Neither,
        }
    }
}

/// Where one more step (wider, or one layer deeper) first gains less than 0.002.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Width or depth before the step.
    pub from: usize,
    /// After it.
    pub to: usize,
    /// The test accuracy it gains.
    pub gain: f64,
}

/// One line of the grid: a depth across widths, or a width across depths.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The first shape of the line.
    pub first: Shape,
    /// The last.
    pub last: Shape,
    /// The most accurate.
    pub best: Shape,
    /// The first step that stopped paying, if any.
    pub stop: Option<Step>,
}

/// What the failing network's last hidden layer does at initialisation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activity {
    /// Sigmoid outputs all nearly the same value (std below 0.05).
    Uniform,
    /// Most activations pass no gradient.
    MostlyInactive,
    /// Neither.
    Spread,
}

/// A diagnostic setting's run on the diagnostic shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    /// Activation, initialisation, optimizer.
    pub setup: Setup,
    /// Final test accuracy.
    pub test_acc: f64,
    /// At initialisation, the output layer's mean |dW| over the first layer's.
    pub grad_ratio: Option<f64>,
}

/// One thing the measurements say, with the numbers behind it.
#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    /// The plain answer for one dataset: does depth pay, which shape is best, how many shapes
    /// overfit.
    Answer(Tally),
    /// The best and the worst shape of a dataset's grid.
    BestWorst {
        /// The dataset.
        dataset: DatasetKind,
        /// The most accurate shape.
        best: Shape,
        /// The least.
        worst: Shape,
    },
    /// Deep against shallow at equal parameter counts.
    EqualParams {
        /// The dataset.
        dataset: DatasetKind,
        /// Each group of shapes within 15% of each other's size.
        comparisons: Vec<Comparison>,
    },
    /// No two shapes of different depth are about the same size.
    NoEqualParams {
        /// The dataset.
        dataset: DatasetKind,
    },
    /// Per depth, where widening stops paying.
    Width {
        /// The dataset.
        dataset: DatasetKind,
        /// One line per depth with two widths or more.
        lines: Vec<Line>,
    },
    /// Per width, where adding layers stops paying.
    Depth {
        /// The dataset.
        dataset: DatasetKind,
        /// One line per width with two depths or more.
        lines: Vec<Line>,
    },
    /// The train − test gap.
    Gap {
        /// The dataset.
        dataset: DatasetKind,
        /// Training rows the training accuracy was measured on.
        train_eval_rows: usize,
        /// The shape with the widest gap.
        widest: Shape,
        /// Shapes whose gap exceeds 0.01.
        open: usize,
        /// Shapes in the grid.
        shapes: usize,
        /// The smallest of those that overfit.
        smallest_open: Option<Shape>,
    },
    /// Shapes with runs that diverged.
    Diverged {
        /// The dataset.
        dataset: DatasetKind,
        /// (depth, width) of each.
        shapes: Vec<(usize, usize)>,
    },
    /// Each shape had one seed: small differences may be noise.
    OneSeed,
    /// How much one shape's accuracy varies across seeds.
    SeedSpread {
        /// Seeds per shape.
        seeds: u64,
        /// The median over shapes of the min–max range.
        median: f64,
        /// The largest range.
        max: f64,
    },
    /// The first diagnostic setting (the chapter-4 one) on the diagnostic shape, and why it
    /// fails.
    Failure {
        /// The dataset.
        dataset: DatasetKind,
        /// The diagnostic shape: hidden layers.
        depth: usize,
        /// Neurons per hidden layer.
        width: usize,
        /// The setting.
        setup: Setup,
        /// Final test accuracy.
        test_acc: f64,
        /// Whether that is chance level.
        chance: bool,
        /// At initialisation, the mean |dW| of the first and of the output layer.
        init_grads: Option<(f64, f64)>,
        /// At initialisation, the last hidden layer's activations: mean, std, what they do.
        activations: Option<(f64, f64, Activity)>,
        /// After the first epoch (or the run's end): epochs, and the first layer's mean |dW|.
        later: Option<(f64, f64)>,
    },
    /// The other diagnostic settings: what fixes it.
    Fixes {
        /// The dataset.
        dataset: DatasetKind,
        /// The diagnostic shape: hidden layers.
        depth: usize,
        /// Neurons per hidden layer.
        width: usize,
        /// One per setting, in the plan's order.
        fixes: Vec<Fix>,
    },
}

/// The answer to the study's question, each finding carrying the numbers behind it.
pub fn findings(plan: &DepthWidthPlan, shapes: &[ShapeSummary]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut tallies = Vec::new();
    for dataset in &plan.datasets {
        let grid = grid_of(shapes, *dataset);
        if grid.is_empty() {
            continue;
        }
        let best = Shape::of(most_accurate(&grid));
        let worst = grid
            .iter()
            .min_by(|a, b| a.final_test_acc.0.total_cmp(&b.final_test_acc.0))
            .expect("not empty");
        out.push(Finding::BestWorst {
            dataset: *dataset,
            best: best.clone(),
            worst: Shape::of(worst),
        });
        let comparisons = equal_params(plan, &grid);
        if comparisons.is_empty() {
            out.push(Finding::NoEqualParams { dataset: *dataset });
        } else {
            tallies.push(Tally {
                dataset: *dataset,
                deeper_wins: comparisons.iter().filter(|c| c.margin() > 0.0).count(),
                shallower_wins: comparisons.iter().filter(|c| c.margin() < 0.0).count(),
                comparisons: comparisons.len(),
                best,
                overfit: grid.iter().filter(|s| s.gap.0 > OVERFIT_GAP).count(),
                shapes: grid.len(),
            });
            out.push(Finding::EqualParams {
                dataset: *dataset,
                comparisons,
            });
        }
        let by_depth = plan
            .depths
            .iter()
            .map(|&d| line(&grid, |s| s.depth == d, |s| s.width));
        let lines: Vec<Line> = by_depth.flatten().collect();
        if !lines.is_empty() {
            out.push(Finding::Width {
                dataset: *dataset,
                lines,
            });
        }
        let mut widths: Vec<usize> = grid.iter().map(|s| s.width).collect();
        widths.sort_unstable();
        widths.dedup();
        let by_width = widths
            .iter()
            .map(|&w| line(&grid, |s| s.width == w, |s| s.depth));
        let lines: Vec<Line> = by_width.flatten().collect();
        if !lines.is_empty() {
            out.push(Finding::Depth {
                dataset: *dataset,
                lines,
            });
        }
        out.push(gap(plan, *dataset, &grid));
        let diverged: Vec<(usize, usize)> = grid
            .iter()
            .filter(|s| s.diverged > 0)
            .map(|s| (s.depth, s.width))
            .collect();
        if !diverged.is_empty() {
            out.push(Finding::Diverged {
                dataset: *dataset,
                shapes: diverged,
            });
        }
    }
    let answers = tallies.into_iter().map(Finding::Answer);
    out.splice(0..0, answers);
    out.push(noise(plan, shapes));
    out.extend(diagnosis(plan, shapes));
    out
}

/// The shape with the highest mean final test accuracy (the last of equals).
fn most_accurate<'a>(shapes: &[&'a ShapeSummary]) -> &'a ShapeSummary {
    shapes
        .iter()
        .max_by(|a, b| a.final_test_acc.0.total_cmp(&b.final_test_acc.0))
        .expect("not empty")
}

/// Groups of shapes of different depths within 15% of each other's size, smallest first.
fn equal_params(plan: &DepthWidthPlan, grid: &[&ShapeSummary]) -> Vec<Comparison> {
    let mut sorted = grid.to_vec();
    sorted.sort_by_key(|s| s.params);
    let mut used = vec![false; sorted.len()];
    let mut out = Vec::new();
    for i in 0..sorted.len() {
        if used[i] {
            continue;
        }
        let group: Vec<usize> = (i..sorted.len())
            .filter(|&j| {
                !used[j] && sorted[j].params as f64 <= sorted[i].params as f64 * EQUAL_SIZE
            })
            .collect();
        let mut depths: Vec<usize> = group.iter().map(|&j| sorted[j].depth).collect();
        depths.sort_unstable();
        depths.dedup();
        if depths.len() < 2 {
            continue;
        }
        for &j in &group {
            used[j] = true;
        }
        let members: Vec<&ShapeSummary> = group.iter().map(|&j| sorted[j]).collect();
        let mut by_depth = members.clone();
        by_depth.sort_by_key(|s| s.depth);
        let (shallow, deep) = (by_depth[0], by_depth[by_depth.len() - 1]);
        let diff = deep.final_test_acc.0 - shallow.final_test_acc.0;
        // With several seeds, a difference inside either shape's min–max range is noise.
        let range = |s: &ShapeSummary| s.final_test_acc.2 - s.final_test_acc.1;
        let noise = range(shallow).max(range(deep));
        out.push(Comparison {
            shallow: Shape::of(shallow),
            deep: Shape::of(deep),
            between: by_depth[1..by_depth.len() - 1]
                .iter()
                .map(|s| Shape::of(s))
                .collect(),
            diff,
            spread: (plan.seeds > 1 && diff.abs() <= noise).then_some(noise),
            best: Shape::of(most_accurate(&members)),
        });
    }
    out
}

/// The grid's shapes that `on` picks, in grid order, as a line along `step` (None: fewer
/// than two).
fn line(
    grid: &[&ShapeSummary],
    on: impl Fn(&ShapeSummary) -> bool,
    step: fn(&ShapeSummary) -> usize,
) -> Option<Line> {
    let line: Vec<&ShapeSummary> = grid.iter().copied().filter(|s| on(s)).collect();
    if line.len() < 2 {
        return None;
    }
    let acc = |s: &ShapeSummary| s.final_test_acc.0;
    let stop = line
        .windows(2)
        .find(|w| acc(w[1]) - acc(w[0]) < PAYS)
        .map(|w| Step {
            from: step(w[0]),
            to: step(w[1]),
            gain: acc(w[1]) - acc(w[0]),
        });
    Some(Line {
        first: Shape::of(line[0]),
        last: Shape::of(line[line.len() - 1]),
        best: Shape::of(most_accurate(&line)),
        stop,
    })
}

/// The widest gap, and where overfitting opens.
fn gap(plan: &DepthWidthPlan, dataset: DatasetKind, grid: &[&ShapeSummary]) -> Finding {
    let widest = grid
        .iter()
        .max_by(|a, b| a.gap.0.total_cmp(&b.gap.0))
        .expect("not empty");
    let open: Vec<&&ShapeSummary> = grid.iter().filter(|s| s.gap.0 > OVERFIT_GAP).collect();
    Finding::Gap {
        dataset,
        train_eval_rows: plan.train_eval_rows,
        widest: Shape::of(widest),
        open: open.len(),
        shapes: grid.len(),
        smallest_open: open.iter().min_by_key(|s| s.params).map(|s| Shape::of(s)),
    }
}

/// How much the seeds disagree, or that there was one.
fn noise(plan: &DepthWidthPlan, shapes: &[ShapeSummary]) -> Finding {
    let mut ranges: Vec<f64> = shapes
        .iter()
        .filter(|s| s.grid && s.runs > 1)
        .map(|s| s.final_test_acc.2 - s.final_test_acc.1)
        .collect();
    if ranges.is_empty() {
        return Finding::OneSeed;
    }
    ranges.sort_by(f64::total_cmp);
    Finding::SeedSpread {
        seeds: plan.seeds,
        median: ranges[ranges.len() / 2],
        max: ranges[ranges.len() - 1],
    }
}

/// Why the deep sigmoid network with 0.01·randn weights fails, and what fixes it.
fn diagnosis(plan: &DepthWidthPlan, shapes: &[ShapeSummary]) -> Vec<Finding> {
    let mut out = Vec::new();
    let (depth, width) = plan.diagnostic_shape;
    for dataset in &plan.datasets {
        let diag = diagnostic_of(plan, shapes, *dataset);
        let Some(first) = diag.first() else { continue };
        let grads = |s: &ShapeSummary, k: usize| -> Option<(f64, f64)> {
            let p = s.probes.get(k)?;
            Some((*p.grad_mean_abs.first()?, *p.grad_mean_abs.last()?))
        };
        let activations = first.probes.first().map(|p| {
            let std = p.act_std.last().copied().unwrap_or(0.0);
            let inactive = p.act_inactive.last().copied().unwrap_or(0.0);
            let activity = if first.setup.activation == Activation::Sigmoid && std < 0.05 {
                Activity::Uniform
            } else if inactive > 0.5 {
                Activity::MostlyInactive
            } else {
                Activity::Spread
            };
            (p.act_mean.last().copied().unwrap_or(0.0), std, activity)
        });
        out.push(Finding::Failure {
            dataset: *dataset,
            depth,
            width,
            setup: first.setup,
            test_acc: first.final_test_acc.0,
            chance: first.final_test_acc.0 < CHANCE,
            init_grads: grads(first, 0),
            activations,
            later: grads(first, 1)
                .zip(first.probes.get(1))
                .map(|((g1, _), p)| (p.epochs, g1)),
        });
        let fixes: Vec<Fix> = diag[1..]
            .iter()
            .map(|x| Fix {
                setup: x.setup,
                test_acc: x.final_test_acc.0,
                grad_ratio: grads(x, 0).map(|(g1, gout)| gout / g1.max(1e-300)),
            })
            .collect();
        if !fixes.is_empty() {
            out.push(Finding::Fixes {
                dataset: *dataset,
                depth,
                width,
                fixes,
            });
        }
    }
    out
}
