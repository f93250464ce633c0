//! The engine's one error type.

use grove_store::StoreError;

/// What can go wrong in the engine or when asking it for something.
/// (Refusals of operator requests, such as retrying a running execution,
/// are the application layer's: `grove_app::AppError`.)
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// This handle is not connected to a running engine.
    #[error("the engine is not running in this process")]
    NotRunning,
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}
