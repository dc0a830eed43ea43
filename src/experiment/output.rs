//! What every study writes the same way from its outcomes: `study.csv` (one row struct per
//! run, through the `csv` crate), `study.json`, the charts as SVG and PNG, and `report.html`.

use super::runner::save_json;
use crate::files::write_atomic;
use crate::plot::Chart;
use crate::report::Report;
use crate::Result;
use serde::{Serialize, Serializer};
use std::path::{Path, PathBuf};

/// A number written with `D` decimals (`{:.D}`): the CSV tables keep the precision a
/// measurement deserves, where serde would write every digit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fixed<const D: usize>(pub f64);

impl<const D: usize> Serialize for Fixed<D> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.*}", D, self.0))
    }
}

/// A number as Rust's `{}` shows it (`0.1`, `1`), where serde would write `1.0`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Plain(pub f64);

impl Serialize for Plain {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A study's charts: (file stem, chart, caption).
pub type Charts<C> = Vec<(String, C, String)>;

/// The header line of a CSV of `R` rows: its field names, in order (without the newline).
pub fn csv_header<R: Serialize + Default>() -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(R::default()).expect("rows serialise");
    let text = String::from_utf8(w.into_inner().expect("writes to memory")).expect("UTF-8");
    text.lines().next().unwrap_or_default().to_string()
}

/// A CSV of `rows`: the header from `R`'s field names, then one line per row (a header
/// even when there are no rows).
pub fn csv_text<R: Serialize + Default>(rows: &[R]) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for row in rows {
        w.serialize(row).expect("rows serialise");
    }
    let body = String::from_utf8(w.into_inner().expect("writes to memory")).expect("UTF-8");
    format!("{}\n{body}", csv_header::<R>())
}

/// Writes a study's outputs into `dir` — `study.csv` from `rows`, `study.json` from `json`,
/// each chart as SVG and PNG, and the report that `report` builds from the charts' (SVG,
/// caption) pairs — and returns the files in that order.
pub fn write_study<R, C>(
    dir: &Path,
    rows: &[R],
    json: &impl Serialize,
    charts: &[(String, C, String)],
    report: impl FnOnce(&[(PathBuf, String)]) -> Result<Report>,
) -> Result<Vec<PathBuf>>
where
    R: Serialize + Default,
    C: Chart,
{
    let mut files = Vec::new();
    let csv = dir.join("study.csv");
    write_atomic(&csv, csv_text(rows).as_bytes())?;
    files.push(csv);
    let json_path = dir.join("study.json");
    save_json(&json_path, json)?;
    files.push(json_path);
    let mut svgs = Vec::new();
    for (stem, chart, caption) in charts {
        let [svg, png] = crate::plot::save(chart, dir, stem)?;
        svgs.push((svg.clone(), caption.clone()));
        files.extend([svg, png]);
    }
    let path = dir.join("report.html");
    report(&svgs)?.save(&path)?;
    files.push(path);
    Ok(files)
}

/// A report table's cell for a shape or size some of whose runs diverged (empty when none).
pub fn diverged_cell(diverged: usize) -> String {
    match diverged {
        0 => String::new(),
        n => format!("{n} diverged"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Serialize)]
    struct Row {
        name: String,
        count: usize,
        share: Fixed<3>,
        rate: Plain,
        when: Option<Fixed<1>>,
        flag: bool,
    }

    #[test]
    fn csv_rows_keep_their_precision_and_leave_missing_values_empty() {
        let rows = [Row {
            name: "a;b".into(),
            count: 7,
            share: Fixed(0.12345),
            rate: Plain(1.0),
            when: None,
            flag: true,
        }];
        assert_eq!(
            csv_text(&rows),
            "name,count,share,rate,when,flag\na;b,7,0.123,1,,true\n"
        );
        assert_eq!(csv_text::<Row>(&[]), "name,count,share,rate,when,flag\n");
        assert_eq!(csv_header::<Row>(), "name,count,share,rate,when,flag");
    }
}
