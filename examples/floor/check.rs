//! What the floor's kernels are checked against: the same updates in plain scalar code, and in
//! scratchnet's own TwoLayerNet and SGD (the library `scratchnet train` runs).

use crate::kernels::{Row, Small, BATCH, C, D, H, LR, ZERO};
use crate::Data;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::layers::{Activation, SparseRows, Targets};
use scratchnet_core::net::{Network, TwoLayerNet, TwoLayerNetConfig};
use scratchnet_core::optim::{self, Sgd};

/// The same updates in plain scalar code, dense W1 (D × H) without padding or FMA.
pub fn reference(data: &Data, init: &(Vec<Row>, Small), steps: usize) -> Vec<f32> {
    let mut w1: Vec<f32> = init.0.iter().flat_map(|r| r.0[..H].to_vec()).collect();
    let mut b1 = init.1.b1.0[..H].to_vec();
    let mut w2 = vec![0.0f32; H * C];
    for (k, row) in init.1.w2t.iter().enumerate() {
        for j in 0..H {
            w2[j * C + k] = row.0[j];
        }
    }
    let mut b2 = init.1.b2.to_vec();
    for step in 0..steps {
        let (mut dw1, mut db1) = (vec![0.0f32; D * H], vec![0.0f32; H]);
        let (mut dw2, mut db2) = (vec![0.0f32; H * C], vec![0.0f32; C]);
        for b in 0..BATCH {
            let (r, t) = (
                data.batches[step * BATCH + b],
                data.batch_labels[step * BATCH + b] as usize,
            );
            let (idx, val) = data.train.row(r);
            let mut z = b1.clone();
            for (&i, &v) in idx.iter().zip(val) {
                for j in 0..H {
                    z[j] += v * w1[i as usize * H + j];
                }
            }
            z.iter_mut().for_each(|z| *z = 1.0 / (1.0 + (-*z).exp()));
            let a: Vec<f32> = (0..C)
                .map(|k| b2[k] + (0..H).map(|j| z[j] * w2[j * C + k]).sum::<f32>())
                .collect();
            let m = a.iter().fold(f32::MIN, |m, &a| m.max(a));
            let e: Vec<f32> = a.iter().map(|a| (a - m).exp()).collect();
            let sum: f32 = e.iter().sum();
            let dy: Vec<f32> = (0..C)
                .map(|k| (e[k] / sum - if k == t { 1.0 } else { 0.0 }) / BATCH as f32)
                .collect();
            let mut dh = [0.0f32; H];
            for j in 0..H {
                for k in 0..C {
                    dw2[j * C + k] += z[j] * dy[k];
                    dh[j] += dy[k] * w2[j * C + k];
                }
                dh[j] *= (1.0 - z[j]) * z[j];
                db1[j] += dh[j];
            }
            for k in 0..C {
                db2[k] += dy[k];
            }
            for (&i, &v) in idx.iter().zip(val) {
                for j in 0..H {
                    dw1[i as usize * H + j] += v * dh[j];
                }
            }
        }
        for (p, g) in [
            (&mut w1, &dw1),
            (&mut b1, &db1),
            (&mut w2, &dw2),
            (&mut b2, &db2),
        ] {
            p.iter_mut().zip(g).for_each(|(p, g)| *p -= LR * g);
        }
    }
    w1
}

/// The same updates by scratchnet's own TwoLayerNet and SGD (the library `scratchnet train` runs).
pub fn library(
    x_train: &SparseRows<f32>,
    data: &Data,
    steps: usize,
) -> scratchnet::Result<Vec<f32>> {
    let mut net = network()?;
    let mut sgd = Sgd::new(f64::from(LR))?;
    let (mut x, mut mask, mut t) = (SparseRows::new(), vec![0; BATCH], vec![0; BATCH]);
    for step in 0..steps {
        for b in 0..BATCH {
            mask[b] = data.batches[step * BATCH + b] as usize;
            t[b] = data.batch_labels[step * BATCH + b] as usize;
        }
        x.gather(x_train.view(), &mask);
        net.gradient(&x, Targets::Labels(&t));
        optim::step(&mut net, &mut sgd);
    }
    Ok(net.params()[0].value.iter().copied().collect())
}

pub fn network() -> scratchnet::Result<TwoLayerNet<f32>> {
    Ok(TwoLayerNetConfig {
        hidden_size: H,
        activation: Activation::Sigmoid,
        weight_init_std: 0.01,
    }
    .init::<f32>(D, C, &mut ChaCha8Rng::seed_from_u64(0))?)
}

/// scratchnet's initial weights (seed 0), padded.
pub fn initial() -> scratchnet::Result<(Vec<Row>, Small)> {
    let net = network()?;
    let p = net.params();
    let (w1, b1, w2, b2) = (&p[0].value, &p[1].value, &p[2].value, &p[3].value);
    let mut rows = vec![ZERO; D];
    for (i, row) in rows.iter_mut().enumerate() {
        for j in 0..H {
            row.0[j] = w1[[i, j]];
        }
    }
    let mut s = Small {
        b1: ZERO,
        w2t: [ZERO; C],
        w2: [[0.0; 16]; H],
        b2: [0.0; C],
    };
    for j in 0..H {
        s.b1.0[j] = b1[[j]];
        for k in 0..C {
            s.w2t[k].0[j] = w2[[j, k]];
            s.w2[j][k] = w2[[j, k]];
        }
    }
    for k in 0..C {
        s.b2[k] = b2[[k]];
    }
    Ok((rows, s))
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .fold(0.0, |m: f64, (a, b)| m.max(f64::from((a - b).abs())))
}
