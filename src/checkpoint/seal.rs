//! A weights file's checksum: SHA-256 over every tensor (name, dtype, shape and bytes, in name
//! order) and the rest of scratchnet's metadata, stored in that metadata under [`SEAL_KEY`] —
//! so that a changed bit anywhere in the file is caught when it is read.

use super::Metadata;
use sha2::{Digest, Sha256};

/// The metadata key of the checksum (`sha256:<hex>`).
pub const SEAL_KEY: &str = "sha256";

/// One tensor as the checksum sees it: name, dtype's name, shape, little-endian bytes.
pub(super) type TensorBytes<'a> = (&'a str, String, &'a [usize], &'a [u8]);

/// The checksum of `tensors` (any order) and `metadata` (its own checksum left out).
pub(super) fn checksum(tensors: &[TensorBytes], metadata: &Metadata) -> String {
    let mut sorted: Vec<&TensorBytes> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut hash = Sha256::new();
    for (name, dtype, shape, data) in sorted {
        // Lengths before contents: no two different files give the same stream.
        for part in [name.as_bytes(), dtype.as_bytes()] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        hash.update((shape.len() as u64).to_le_bytes());
        for &d in shape.iter() {
            hash.update((d as u64).to_le_bytes());
        }
        hash.update((data.len() as u64).to_le_bytes());
        hash.update(data);
    }
    let mut rest = metadata.clone();
    rest.remove(SEAL_KEY);
    hash.update(
        serde_json::to_string(&rest)
            .expect("strings serialise")
            .as_bytes(),
    );
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
