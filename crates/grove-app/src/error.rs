//! What a use case can refuse or fail with. Front ends map each variant to
//! their own answer (an HTTP status, a console notice, an exit code); the
//! messages are written for operators and shown as they are.

use grove_core::validate::Problem;
use grove_engine::EngineError;
use grove_store::{ExecutionStatus, StoreError, StoredObject};
use jiff::Timestamp;

use crate::apply::DocumentProblem;

/// The application layer's error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// What is named does not exist: `job-config "x"`, `execution "r"`.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The object type is not in the registry.
    #[error("unknown object type \"{type_id}\"; known types: {known}")]
    UnknownType { type_id: String, known: String },
    /// The input breaks the type's rules; every problem at once.
    #[error("the input is not valid")]
    Validation(Vec<Problem>),
    /// A write lost a race: the id is taken, or the object was saved by
    /// someone else since the version the write names. Carries the object
    /// as stored now, so the caller can merge.
    #[error("{message}")]
    Conflict {
        message: String,
        current: Option<Box<StoredObject>>,
        /// When `current` was read (its derived fields are computed for it).
        seen_at: Timestamp,
    },
    /// Documents given to apply have problems (listed); nothing was
    /// planned or written.
    #[error("{} problem{} in the documents; nothing was applied", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    InvalidDocuments(Vec<DocumentProblem>),
    /// A list query the server cannot answer (bad sort path, limit, cursor…).
    #[error("{0}")]
    BadQuery(String),
    /// A merge patch must be a JSON object.
    #[error(
        "a merge patch must be a JSON object such as {{\"payload\": {{\"limits\": {{\"batchSize\": 50}}}}}}"
    )]
    PatchNotAnObject,
    /// Retry of an execution still queued or running.
    #[error("execution \"{run_id}\" is {status}; only a finished execution can be retried")]
    NotFinished {
        run_id: String,
        status: ExecutionStatus,
    },
    /// Cancel of an execution that has already ended.
    #[error("execution \"{run_id}\" has already ended ({status})")]
    AlreadyEnded {
        run_id: String,
        status: ExecutionStatus,
    },
    /// The stored job config does not decode, so it cannot be run (the
    /// decoding error is the source, not part of this message).
    #[error("job config \"{config_id}\" cannot be run as stored")]
    Unrunnable {
        config_id: String,
        #[source]
        source: serde_json::Error,
    },
    /// The store answered that this run was already recorded (a unique id
    /// collided); nothing was queued.
    #[error("the run was recorded twice; try again")]
    RunRecordedTwice,
    /// A metric query in the type registry does not parse: a defect of
    /// the registry, not of the request.
    #[error("a metric of the registry cannot be counted")]
    Metric(#[source] grove_core::query::QueryError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub(crate) fn not_found(what: impl std::fmt::Display) -> Self {
        Self::NotFound(what.to_string())
    }
}
