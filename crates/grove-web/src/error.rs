//! API errors as RFC 9457 problem details.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use grove_app::AppError;
use grove_core::validate::Problem;
use grove_engine::EngineError;
use grove_store::StoreError;

use crate::wire::object::GroveObject;
use crate::wire::problem::{self, FieldProblem};

/// Everything an API handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("the input is not valid")]
    Validation(Vec<Problem>),
    /// A stale write: carries the current object so the client can merge.
    #[error("{message}")]
    Conflict {
        message: String,
        current: Option<Box<GroveObject>>,
    },
    #[error("{0}")]
    BadRequest(String),
    /// A conditional request whose precondition cannot hold (a weak
    /// `If-Match`).
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("authentication required: send Authorization: Bearer <token>")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("the request body is larger than the {0} byte limit")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    Unavailable(String),
    /// Too many failed authentications from this client lately.
    #[error("too many failed authentications from this address; try again in {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    /// Busy for now (a cap is reached): 503 with `Retry-After`.
    #[error("{detail}")]
    Busy {
        detail: String,
        retry_after_secs: u32,
    },
    #[error("internal error: {0}")]
    Internal(String),
    /// Any other error answer (an extractor's rejection), kept at its
    /// status and given a problem body.
    #[error("{detail}")]
    Other { status: StatusCode, detail: String },
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Other { status, .. } => *status,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "Not found",
            Self::Validation(_) => "Validation failed",
            Self::Conflict { .. } => "Conflict",
            Self::BadRequest(_) => "Bad request",
            Self::PreconditionFailed(_) => "Precondition failed",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden(_) => "Forbidden",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::MethodNotAllowed(_) => "Method not allowed",
            Self::PayloadTooLarge(_) => "Payload too large",
            Self::TooManyAttempts { .. } => "Too many requests",
            Self::Unavailable(_) | Self::Busy { .. } => "Service unavailable",
            Self::Internal(_) => "Internal server error",
            Self::Other { status, .. } => status.canonical_reason().unwrap_or("Error"),
        }
    }

    /// The problem+json body.
    pub fn body(&self) -> problem::Problem {
        let mut body = problem::Problem {
            r#type: "about:blank",
            title: self.title(),
            status: self.status().as_u16(),
            detail: self.to_string(),
            errors: None,
            current: None,
        };
        match self {
            Self::Validation(problems) => {
                body.detail = format!(
                    "{} problem{} found: {}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                body.errors = Some(problems.iter().map(FieldProblem::from).collect());
            }
            Self::Conflict { current, .. } => body.current.clone_from(current),
            _ => {}
        }
        body
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} does not exist"))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound("not found".to_owned()),
            StoreError::AlreadyExists => Self::Conflict {
                message: "an object with this id already exists".to_owned(),
                current: None,
            },
            StoreError::Conflict { current } => Self::Conflict {
                message: format!(
                    "the object was changed by someone else; the current version is {current}"
                ),
                current: None,
            },
            e if e.is_transient() => Self::Unavailable(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(_) | AppError::UnknownType { .. } => Self::NotFound(e.to_string()),
            AppError::Validation(problems) => Self::Validation(problems),
            AppError::Conflict {
                message,
                current,
                seen_at,
            } => Self::Conflict {
                message,
                current: current.map(|c| Box::new(GroveObject::new(&c, seen_at))),
            },
            AppError::BadQuery(_) | AppError::PatchNotAnObject => Self::BadRequest(e.to_string()),
            AppError::NotFinished { .. }
            | AppError::AlreadyEnded { .. }
            | AppError::Unrunnable { .. }
            | AppError::RunRecordedTwice => Self::Conflict {
                message: with_causes(&e),
                current: None,
            },
            AppError::InvalidDocuments(problems) => {
                Self::Validation(problems.into_iter().map(|p| p.problem).collect())
            }
            AppError::Metric(_) => Self::Internal(with_causes(&e)),
            AppError::Engine(e) => e.into(),
            AppError::Store(e) => e.into(),
        }
    }
}

/// An error and its causes as one sentence: "outer: cause: cause".
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotRunning => Self::Unavailable(e.to_string()),
            EngineError::Store(s) => s.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(m) = &self {
            tracing::error!(error = %m, "internal error");
        }
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Self::Unauthorized => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyAttempts { retry_after } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            Self::Busy {
                retry_after_secs, ..
            } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub use grove_core::outbound::printable;
