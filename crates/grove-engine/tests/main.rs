//! grove-engine's one integration-test binary: a real engine on a SQLite
//! file in a temp dir, driven by a `TestClock`. Loops sleep for the
//! distance to the clock's next instant; tests move the clock and call
//! `EngineHandle::tick`, then wait with `eventually` (polling the store
//! with a real-time deadline) — no test waits for a schedule in real time.

mod support;

mod deadman;
mod division;
mod executing;
mod handlers;
mod health;
mod plans;
mod recovery;
mod scheduling;

mod jobs;
