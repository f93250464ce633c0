//! The engine's one error type.

use grove_store::StoreError;

/// What can go wrong when asking the engine for something.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The job config or execution does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request does not fit the execution's state (retry of a running
    /// execution, cancel of a finished one).
    #[error("{0}")]
    Conflict(String),
    /// The stored job config cannot be run as it is.
    #[error("{0}")]
    InvalidConfig(String),
    /// This handle is not connected to a running engine.
    #[error("the engine is not running in this process")]
    NotRunning,
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}
