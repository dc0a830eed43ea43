use super::*;
use ndarray::{array, s, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random4(rng: &mut ChaCha8Rng, shape: (usize, usize, usize, usize)) -> Array4<f64> {
    Array4::from_shape_simple_fn(shape, || rng.random_range(-1.0..1.0))
}

fn window(filter: usize, stride: usize, pad: usize) -> Window {
    Window {
        filter_h: filter,
        filter_w: filter,
        stride,
        pad,
    }
}

#[test]
fn im2col_lists_each_patch_in_c_fh_fw_order() {
    // One 2-channel 3×3 image, a 2×2 filter, stride 1, no padding: 4 patches of 8 values.
    let x = Array4::from_shape_fn((1, 2, 3, 3), |(_, c, y, x)| (c * 100 + y * 10 + x) as f64);
    let col = im2col(x.view(), &window(2, 1, 0));
    assert_eq!(col.dim(), (4, 8));
    assert_eq!(col.row(0), array![0., 1., 10., 11., 100., 101., 110., 111.]);
    assert_eq!(
        col.row(3),
        array![11., 12., 21., 22., 111., 112., 121., 122.]
    );
    // Padding 1, stride 2 on the first channel alone: corners read zeros outside.
    let col = im2col(x.slice(s![.., ..1, .., ..]), &window(2, 2, 1));
    assert_eq!(col.dim(), (4, 4));
    assert_eq!(col.row(0), array![0., 0., 0., 0.]);
    assert_eq!(col.row(1), array![0., 0., 1., 2.]);
    assert_eq!(col.row(3), array![11., 12., 21., 22.]);
}

#[test]
fn the_books_shapes() {
    // The book's examples: (1, 3, 7, 7) with 5×5 → (9, 75); a batch of 10 → (90, 75).
    let w = window(5, 1, 0);
    assert_eq!(w.output_size(7, 7), Some((3, 3)));
    assert_eq!(
        im2col(Array4::<f64>::zeros((1, 3, 7, 7)).view(), &w).dim(),
        (9, 75)
    );
    assert_eq!(
        im2col(Array4::<f64>::zeros((10, 3, 7, 7)).view(), &w).dim(),
        (90, 75)
    );
    assert_eq!(window(3, 1, 2).output_size(14, 14), Some((16, 16)));
    assert_eq!(window(2, 2, 0).output_size(7, 7), Some((3, 3)));
    assert_eq!(window(5, 1, 0).output_size(4, 9), None);
    assert_eq!(window(5, 1, 1).output_size(3, 3), Some((1, 1)));
    assert_eq!(window(1, 0, 0).output_size(3, 3), None);
}

#[test]
fn col2im_adds_overlapping_patches_and_strips_the_padding() {
    // 3×3 image, 2×2 filter, stride 1: the centre is in all 4 patches, corners in 1.
    let shape = (1, 1, 3, 3);
    let ones = Array2::<f64>::ones((4, 4));
    let dx = col2im(ones.view(), shape, &window(2, 1, 0));
    assert_eq!(
        dx.slice(s![0, 0, .., ..]),
        array![[1., 2., 1.], [2., 4., 2.], [1., 2., 1.]]
    );
    // Padding 1: 16 patches of 4; every pixel is read by 4 patches.
    let dx = col2im(Array2::<f64>::ones((16, 4)).view(), shape, &window(2, 1, 1));
    assert!(dx.iter().all(|&v| v == 4.0), "{dx}");
}

#[test]
fn col2im_is_the_transpose_of_im2col() {
    // ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ for every stride and pad: col2im sends each value back
    // where im2col read it.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (filter, stride, pad) in [(3, 1, 0), (3, 2, 1), (2, 2, 0), (3, 1, 2), (1, 3, 0)] {
        let shape = (2, 3, 7, 6);
        let w = window(filter, stride, pad);
        let x = random4(&mut rng, shape);
        let col = im2col(x.view(), &w);
        let y = Array2::from_shape_simple_fn(col.dim(), || rng.random_range(-1.0..1.0));
        let left = (&col * &y).sum();
        let right = (&x * &col2im(y.view(), shape, &w)).sum();
        assert!((left - right).abs() < 1e-12, "{w:?}: {left} vs {right}");
    }
}

#[test]
fn the_per_image_routes_give_the_references_bits() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for (shape, filter, stride, pad) in [
        ((2, 2, 5, 5), 3, 1, 1),
        ((3, 1, 7, 6), 3, 2, 2),
        ((1, 3, 8, 8), 2, 2, 0),
        ((2, 2, 6, 7), 4, 3, 1),
        ((1, 1, 4, 4), 5, 1, 1),
    ] {
        let w = window(filter, stride, pad);
        let x = random4(&mut rng, shape);
        let col = im2col(x.view(), &w);
        let (n, c, h, wd) = shape;
        let (oh, ow) = w.output_size(h, wd).unwrap();
        let p = oh * ow;
        let dcol = Array2::from_shape_simple_fn(col.dim(), || rng.random_range(-1.0..1.0));
        let dx = col2im(dcol.view(), shape, &w);
        for i in 0..n {
            let image = x.slice(s![i, .., .., ..]);
            let want = col.slice(s![i * p..(i + 1) * p, ..]);
            let k = w.patch_len(c);
            // The image with its padding (zeros around, NaN past its end: never read).
            let (hp, wd_p) = (h + 2 * pad, wd + 2 * pad);
            let mut buffer = vec![0.0; c * hp * wd_p];
            buffer.extend([f64::NAN; 8]);
            pad_image(image, pad, &mut buffer);
            // And back: the image itself, from inside its padding.
            let mut unpadded = Array3::from_elem(image.dim(), f64::NAN);
            unpad_image(&buffer, pad, unpadded.view_mut());
            assert_eq!(unpadded, image, "{w:?}");
            let padded =
                ndarray::ArrayView3::from_shape((c, hp, wd_p), &buffer[..c * hp * wd_p]).unwrap();
            // colᵀ in panels of every width, from 1 to wider than the image's positions.
            for nr in [1, 3, 8, 32, p] {
                let mut panels = vec![f64::NAN; p.div_ceil(nr) * nr * k];
                im2col_panels(padded, &w, nr, &mut panels);
                for (r, q, j) in (0..k).flat_map(|r| (0..p).map(move |at| (r, at / nr, at % nr))) {
                    let got = panels[(q * k + r) * nr + j];
                    assert_eq!(got, want[[q * nr + j, r]], "{w:?} nr {nr}");
                }
                let tail = (0..k).flat_map(|r| (p..p.div_ceil(nr) * nr).map(move |at| (r, at)));
                for (r, at) in tail {
                    assert_eq!(
                        panels[(at / nr * k + r) * nr + at % nr],
                        0.0,
                        "{w:?} nr {nr}"
                    );
                }
            }
            // col's columns in panels, any range of them, from the padded image.
            for (cols, nr) in [(0..k, 4), (k / 3..k - k / 4, 8), (1..k, 32)] {
                let mut panels = vec![f64::NAN; cols.len().div_ceil(nr) * nr * p];
                col_panels(padded, &w, cols.clone(), nr, &mut panels);
                for (q, j) in
                    (0..cols.len().div_ceil(nr)).flat_map(|q| (0..nr).map(move |j| (q, j)))
                {
                    for at in 0..p {
                        let col = cols.start + q * nr + j;
                        let want = if col < cols.end { want[[at, col]] } else { 0.0 };
                        assert_eq!(
                            panels[(q * p + at) * nr + j],
                            want,
                            "{w:?} {cols:?} nr {nr}"
                        );
                    }
                }
            }
            let dcol_t = dcol
                .slice(s![i * p..(i + 1) * p, ..])
                .t()
                .as_standard_layout()
                .into_owned();
            let mut dx_i = Array3::from_elem((c, h, wd), f64::NAN);
            col2im_image(dcol_t.view(), &w, dx_i.view_mut());
            let bits =
                |a: ndarray::ArrayView3<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(dx_i.view()),
                bits(dx.slice(s![i, .., .., ..])),
                "{w:?}"
            );
        }
    }
}
