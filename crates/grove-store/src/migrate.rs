//! Migrations embedded in the binary, one list per backend, applied in
//! order at start. Each adapter records applied versions in
//! `schema_migrations`; a migration runs in one transaction.

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The SQLite schema, oldest first. Versions only need to increase (a gap is
/// fine: each adapter applies every listed version not yet recorded).
pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "objects, revisions, tokens, seeds",
        sql: include_str!("../migrations/sqlite/0001_objects.sql"),
    },
    Migration {
        version: 2,
        name: "executions, attempts, logs, slot positions",
        sql: include_str!("../migrations/sqlite/0002_executions.sql"),
    },
    Migration {
        version: 3,
        name: "grove data: sprouts, signals, aggregates, advancement events, journal, outbox, archive",
        sql: include_str!("../migrations/sqlite/0003_grove_data.sql"),
    },
    Migration {
        version: 4,
        name: "config.changed journal triggers",
        sql: include_str!("../migrations/sqlite/0004_config_journal.sql"),
    },
    // 5 (coordination of several instances) is PostgreSQL's alone; the
    // number is kept here so both backends report the same version.
    Migration {
        version: 5,
        name: "nothing: coordination is PostgreSQL's alone",
        sql: "SELECT 1;",
    },
    Migration {
        version: 6,
        name: "the change feed: a changes table written by triggers",
        sql: include_str!("../migrations/sqlite/0006_change_feed.sql"),
    },
    Migration {
        version: 7,
        name: "runs reach the change feed through data_version, not triggers",
        sql: include_str!("../migrations/sqlite/0007_runs_without_triggers.sql"),
    },
    Migration {
        version: 8,
        name: "access: token revocation and last use, console sessions, the audit trail",
        sql: include_str!("../migrations/sqlite/0008_access.sql"),
    },
    Migration {
        version: 9,
        name: "executions: when a scheduled run is due (slot plus jitter)",
        sql: include_str!("../migrations/sqlite/0009_due_at.sql"),
    },
    Migration {
        version: 10,
        name: "calendars reach the change feed",
        sql: include_str!("../migrations/sqlite/0010_calendar_changes.sql"),
    },
    Migration {
        version: 11,
        name: "executions: per-run overrides and chained runs",
        sql: include_str!("../migrations/sqlite/0011_runs_of_runs.sql"),
    },
    Migration {
        version: 12,
        name: "journal: entries by subject",
        sql: include_str!("../migrations/sqlite/0012_journal_by_subject.sql"),
    },
    // 13 registers the live instances on PostgreSQL; SQLite has one.
    Migration {
        version: 13,
        name: "nothing: one process fires every slot",
        sql: "SELECT 1;",
    },
    // 14 quiets PostgreSQL's notifications of runs ending; SQLite has no
    // run notifications (version 7).
    Migration {
        version: 14,
        name: "nothing: runs are not announced here (version 7)",
        sql: "SELECT 1;",
    },
    Migration {
        version: 15,
        name: "active runs indexed by config; the chain key and the queue hold only their own runs",
        sql: include_str!("../migrations/sqlite/0015_active_and_chained_runs.sql"),
    },
];

/// The PostgreSQL schema, oldest first; same versions as [`SQLITE`].
pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "objects, revisions, tokens, seeds",
        sql: include_str!("../migrations/postgres/0001_objects.sql"),
    },
    Migration {
        version: 2,
        name: "executions, attempts, logs, slot positions",
        sql: include_str!("../migrations/postgres/0002_executions.sql"),
    },
    Migration {
        version: 3,
        name: "grove data: sprouts, signals, aggregates, advancement events, journal, outbox, archive",
        sql: include_str!("../migrations/postgres/0003_grove_data.sql"),
    },
    Migration {
        version: 4,
        name: "config.changed journal triggers",
        sql: include_str!("../migrations/postgres/0004_config_journal.sql"),
    },
    Migration {
        version: 5,
        name: "change notifications and leader leases",
        sql: include_str!("../migrations/postgres/0005_coordination.sql"),
    },
    // 6 is SQLite's change feed; PostgreSQL's is NOTIFY (version 5). The
    // number is kept so both backends report the same version.
    Migration {
        version: 6,
        name: "nothing: the change feed is NOTIFY here (version 5)",
        sql: "SELECT 1;",
    },
    // 7 removes SQLite's per-run change triggers; nothing changes here.
    Migration {
        version: 7,
        name: "nothing: runs are announced by NOTIFY here (version 5)",
        sql: "SELECT 1;",
    },
    Migration {
        version: 8,
        name: "access: token revocation and last use, console sessions, the audit trail",
        sql: include_str!("../migrations/postgres/0008_access.sql"),
    },
    Migration {
        version: 9,
        name: "executions: when a scheduled run is due (slot plus jitter)",
        sql: include_str!("../migrations/postgres/0009_due_at.sql"),
    },
    Migration {
        version: 10,
        name: "calendars reach the change feed",
        sql: include_str!("../migrations/postgres/0010_calendar_changes.sql"),
    },
    Migration {
        version: 11,
        name: "executions: per-run overrides and chained runs",
        sql: include_str!("../migrations/postgres/0011_runs_of_runs.sql"),
    },
    Migration {
        version: 12,
        name: "journal: entries by subject",
        sql: include_str!("../migrations/postgres/0012_journal_by_subject.sql"),
    },
    Migration {
        version: 13,
        name: "live instances, which divide the firing of slots",
        sql: include_str!("../migrations/postgres/0013_instances.sql"),
    },
    Migration {
        version: 14,
        name: "a run ending is announced only when another of its config is queued",
        sql: include_str!("../migrations/postgres/0014_quieter_run_ends.sql"),
    },
    Migration {
        version: 15,
        name: "the chain key holds chained runs only",
        sql: include_str!("../migrations/postgres/0015_chained_runs.sql"),
    },
];

/// The schema version this build expects.
pub fn latest(migrations: &[Migration]) -> i64 {
    migrations.last().map_or(0, |m| m.version)
}
