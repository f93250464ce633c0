//! The HTTP wire format: one plain struct per JSON body the API sends or
//! reads, each built from the domain types by a `From` impl or a small
//! function. These types are what handlers serialise *and* what the
//! OpenAPI document describes, so the two cannot disagree; store types
//! carry no wire naming of their own.
//!
//! - [`access`]: API tokens and the audit trail.
//! - [`object`]: Grove objects `{meta, payload, derived?}`, pages, revisions.
//! - [`execution`]: executions with attempts, log lines, Run Now's reply,
//!   the engine's status.
//! - [`live`]: the server-sent events of a running execution.
//! - [`grove`]: sprout and signal batches, ingest reports, a sprout with
//!   its aggregates, advancement events, notifications.
//! - [`problem`]: RFC 9457 problem details.
//! - [`render`]: an execution's json-render status tree.
//! - [`schedule`]: a schedule preview.
//! - [`service`]: liveness, readiness, the type registry and its metrics.
//!
//! Names are the OpenAPI component names clients already know
//! (`ExecutionOut`, `GroveObject`, …). Timestamps are `jiff::Timestamp`,
//! written as RFC 3339 in UTC; enums from grove-core are written by their
//! names and documented as strings. A field that is always sent is
//! `required` in the schema (`#[schema(required = true)]` on an `Option`:
//! present, maybe null); a field left out when empty
//! (`skip_serializing_if`) is optional and never null
//! (`#[schema(nullable = false)]`). `tests/contract.rs` checks real
//! bodies against the document.

pub mod access;
pub mod execution;
pub mod grove;
pub mod live;
pub mod object;
pub mod problem;
pub mod render;
pub mod schedule;
pub mod service;
