//! How the book's `Trainer` (`common/trainer.py`) prints a run, for the runs that follow it —
//! those measuring each epoch on the first `evaluate_sample_num_per_epoch` images:
//!
//! ```text
//! === epoch:1, train acc:0.123, test acc:0.118 ===
//! …
//! =============== Final Test Accuracy ===============
//! test acc:0.9912
//! ```
//!
//! Numbers are written as Python's `str` writes a float. Other runs print the lab's lines.

use scratchnet_core::train::{EpochRecord, TrainConfig};

/// Whether a run of `config` prints the book's way: it follows the book's `Trainer` with an
/// `evaluate_sample_num_per_epoch`.
pub fn prints_like_the_book(config: &TrainConfig) -> bool {
    config.eval.evaluate_sample_num_per_epoch().is_some()
}

/// The book's line for an epoch mark: its epochs count from 1 (`current_epoch` is raised
/// before the first mark, at iteration 0).
pub fn epoch_line(record: &EpochRecord) -> String {
    format!(
        "=== epoch:{}, train acc:{}, test acc:{} ===",
        record.epoch + 1,
        python_float(record.train_acc),
        python_float(record.test_acc)
    )
}

/// The book's two lines after the last update: the final weights on the whole test set.
pub fn final_lines(test_acc: f64) -> [String; 2] {
    [
        "=============== Final Test Accuracy ===============".to_string(),
        format!("test acc:{}", python_float(test_acc)),
    ]
}

/// Which training rows a run's final training accuracy was measured on, for the line that
/// says it: "" for the whole set, " on the first 1000 training images" for the book's Trainer.
pub fn train_rows_note(config: &TrainConfig) -> String {
    match config.eval.evaluate_sample_num_per_epoch() {
        Some(n) => format!(" on the first {n} training images"),
        None => String::new(),
    }
}

/// `x` as Python's `str(x)` writes it: the shortest digits that read back as `x`, with a `.0`
/// on whole numbers, and an exponent of at least two digits below 1e-4 and from 1e16 on.
pub fn python_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 || (1e-4..1e16).contains(&x.abs()) {
        // Rust's Display writes the same shortest digits, without an exponent.
        let digits = x.to_string();
        return if digits.contains('.') {
            digits
        } else {
            digits + ".0"
        };
    }
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("LowerExp writes an exponent");
    let exponent: i32 = exponent.parse().expect("LowerExp's exponent is a number");
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_pythons_str_writes_them() {
        // Each as Python 3 prints it.
        for (x, python) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (0.991, "0.991"),
            (0.9912, "0.9912"),
            (987.0 / 1000.0, "0.987"),
            (1.0 / 3.0, "0.3333333333333333"),
            (0.0001, "0.0001"),
            (1.0 / 60000.0, "1.6666666666666667e-05"),
            (1e-5, "1e-05"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (2.5e-300, "2.5e-300"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(python_float(x), python, "{x:e}");
        }
    }

    #[test]
    fn the_lines_are_the_books() {
        let record = EpochRecord {
            epoch: 0,
            iteration: 0,
            samples_seen: 100,
            train_acc: 0.123,
            test_acc: 0.456,
            elapsed_s: 0.5,
            train_s: 0.25,
        };
        assert_eq!(
            epoch_line(&record),
            "=== epoch:1, train acc:0.123, test acc:0.456 ==="
        );
        assert_eq!(
            final_lines(0.9912),
            [
                "=============== Final Test Accuracy ===============",
                "test acc:0.9912"
            ]
        );
        let mut config = TrainConfig::default();
        assert!(!prints_like_the_book(&config));
        assert_eq!(train_rows_note(&config), "");
        config.eval = scratchnet_core::train::EvalSchedule::EpochsSampled {
            evaluate_sample_num_per_epoch: 1000,
        };
        assert!(prints_like_the_book(&config));
        assert_eq!(
            train_rows_note(&config),
            " on the first 1000 training images"
        );
    }
}
