//! MNIST and Fashion-MNIST: the IDX file format, loading, and fetching from checksummed sources.

/// Everything that can be wrong with a dataset file or its sources.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Placeholder until the data issue lands.
    #[error("{0}")]
    Other(String),
}
