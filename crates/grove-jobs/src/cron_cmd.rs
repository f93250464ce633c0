//! `grove-jobs cron next|describe`: check a schedule from the command line.
//!
//! ```text
//! grove-jobs cron next "0 2 * * *" --tz America/Los_Angeles --after 2026-03-07T12:00:00Z -n 3
//! Sun 08 Mar 2026 03:00 PDT (2026-03-08T10:00:00Z)
//! Mon 09 Mar 2026 02:00 PDT (2026-03-09T09:00:00Z)
//! Tue 10 Mar 2026 02:00 PDT (2026-03-10T09:00:00Z)
//! note: Sun 8 Mar: 02:00 does not exist in America/Los_Angeles; runs at 03:00 PDT
//! ```
//!
//! Output goes to stdout; bad input prints `error: <message>` to stderr and
//! exits with status 2. The current time is a parameter, never read here.

use std::process::ExitCode;

use grove_core::calendar::CalendarPayload;
use grove_core::job_config::{JobConfigPayload, JobType, ScheduleConfig};
use grove_core::plan::{Calendars, JobPlan};
use grove_core::schedule::{self, DstPolicy, Schedule};
use grove_core::validate::Checker;
use jiff::Timestamp;

/// The `cron` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CronCommand {
    /// Print the next runs of an expression in a time zone.
    Next {
        /// A cron expression: 5 fields, 6 with leading seconds, or @daily etc.
        expression: String,
        /// IANA time zone the expression is evaluated in.
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// RFC 3339 instant (with Z or an offset); runs strictly after it. Default: now.
        #[arg(long)]
        after: Option<String>,
        /// How many runs to print.
        #[arg(short = 'n', default_value_t = 5)]
        count: usize,
        /// Print JSON: {expression, timezone, description, next, notes}.
        #[arg(long)]
        json: bool,
        /// Daylight-saving policy: cron or literal.
        #[arg(long, default_value = "cron")]
        dst_policy: String,
        /// A calendar payload (JSON file) whose excluded times the runs skip; repeatable.
        #[arg(long = "exclude-calendar", value_name = "FILE")]
        exclude_calendar: Vec<std::path::PathBuf>,
    },
    /// Print the human text of an expression.
    Describe {
        /// A cron expression.
        expression: String,
    },
}

/// Calendars from files, each named by its file's stem (`us-holidays.json`
/// is `us-holidays` in the notes).
fn read_calendars(files: &[std::path::PathBuf]) -> Result<(Calendars, Vec<String>), String> {
    let mut calendars = Calendars::default();
    let mut ids = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("--exclude-calendar {}: {e}", file.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("--exclude-calendar {}: not JSON ({e})", file.display()))?;
        // A calendar object ({meta, payload}) or its payload alone.
        let payload = value.get("payload").cloned().unwrap_or(value);
        let mut checker = Checker::new();
        let Some(calendar) = CalendarPayload::decode(&payload, &mut checker) else {
            let problems: Vec<String> = checker
                .into_problems()
                .iter()
                .map(ToString::to_string)
                .collect();
            return Err(format!(
                "--exclude-calendar {}: {}",
                file.display(),
                problems.join("; ")
            ));
        };
        let id = file.file_stem().map_or_else(
            || "calendar".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        );
        calendars.insert(id.clone(), calendar);
        ids.push(id);
    }
    Ok((calendars, ids))
}

/// Upper bound on `-n`, so a typo cannot print millions of lines.
const MAX_COUNT: usize = 10_000;

/// Runs a `cron` subcommand; `now` is the default for `--after`.
pub fn run(cmd: CronCommand, now: Timestamp) -> ExitCode {
    match execute(cmd, now) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The whole output as text, or the error message.
fn execute(cmd: CronCommand, now: Timestamp) -> Result<String, String> {
    match cmd {
        CronCommand::Describe { expression } => schedule::describe(&expression)
            .map(|text| format!("{text}\n"))
            .map_err(|e| e.to_string()),
        CronCommand::Next {
            expression,
            tz,
            after,
            count,
            json,
            dst_policy,
            exclude_calendar,
        } => {
            let policy = match dst_policy.as_str() {
                "cron" => DstPolicy::Cron,
                "literal" => DstPolicy::Literal,
                other => {
                    return Err(format!(
                        "--dst-policy \"{other}\": expected cron or literal"
                    ));
                }
            };
            if count > MAX_COUNT {
                return Err(format!(
                    "-n {count}: at most {MAX_COUNT} runs can be listed"
                ));
            }
            let after = match after {
                None => now,
                Some(text) => text.parse::<Timestamp>().map_err(|e| {
                    format!(
                        "--after \"{text}\": not an RFC 3339 instant such as 2026-03-07T12:00:00Z or 2026-03-07T04:00:00-08:00 ({e})"
                    )
                })?,
            };
            let schedule = Schedule::parse(&expression, &tz, policy).map_err(|e| e.to_string())?;
            let preview = if exclude_calendar.is_empty() {
                schedule::preview(&schedule, after, count)
            } else {
                let (calendars, ids) = read_calendars(&exclude_calendar)?;
                let config = ScheduleConfig {
                    cron_expression: Some(expression.clone()),
                    timezone: tz.clone(),
                    dst_policy: policy,
                    exclude_calendars: ids,
                    ..JobConfigPayload::default_for(JobType::HealthCheck).schedule
                };
                let plan = JobPlan::new("cli", &config, &calendars)
                    .ok_or_else(|| "the schedule cannot be evaluated".to_owned())?;
                schedule::preview_plan(&schedule, &plan, after, count, 0)
            };
            if json {
                let value = serde_json::json!({
                    "expression": preview.expression,
                    "timezone": preview.timezone,
                    "description": preview.description,
                    "next": preview.runs.iter().map(|r| r.utc.to_string()).collect::<Vec<_>>(),
                    "notes": preview.notes,
                });
                let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
                return Ok(format!("{text}\n"));
            }
            let format = if schedule.has_seconds() {
                "%a %d %b %Y %H:%M:%S"
            } else {
                "%a %d %b %Y %H:%M"
            };
            let mut out = String::new();
            for run in &preview.runs {
                let local = run.utc.to_zoned(schedule.timezone().clone());
                out.push_str(&format!(
                    "{} {} ({})\n",
                    local.strftime(format),
                    run.abbreviation,
                    run.utc
                ));
            }
            if preview.runs.len() < count {
                out.push_str("note: no further runs within the supported date range\n");
            }
            for note in &preview.notes {
                out.push_str(&format!("note: {note}\n"));
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(args: &[&str]) -> Result<String, String> {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(subcommand)]
            cmd: CronCommand,
        }
        let cli = Cli::try_parse_from(std::iter::once("cron").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        execute(cli.cmd, "2026-03-07T12:00:00Z".parse().unwrap())
    }

    #[test]
    fn text_output_with_dst_note() {
        let out = next(&[
            "next",
            "30 2 * * *",
            "--tz",
            "America/Los_Angeles",
            "-n",
            "2",
        ])
        .unwrap();
        assert_eq!(
            out,
            "Sun 08 Mar 2026 03:00 PDT (2026-03-08T10:00:00Z)\n\
             Mon 09 Mar 2026 02:30 PDT (2026-03-09T09:30:00Z)\n\
             note: Sun 8 Mar: 02:30 does not exist in America/Los_Angeles; runs at 03:00 PDT\n"
        );
    }

    #[test]
    fn an_excluded_calendar_removes_runs_and_names_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("us-holidays.json");
        std::fs::write(&file, r#"{"dates": ["2026-03-09"]}"#).unwrap();
        let out = next(&[
            "next",
            "0 9 * * *",
            "--tz",
            "America/New_York",
            "-n",
            "3",
            "--exclude-calendar",
            file.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(
            out,
            "Sat 07 Mar 2026 09:00 EST (2026-03-07T14:00:00Z)\n\
             Sun 08 Mar 2026 09:00 EDT (2026-03-08T13:00:00Z)\n\
             Tue 10 Mar 2026 09:00 EDT (2026-03-10T13:00:00Z)\n\
             note: Mon 9 Mar: excluded by calendar us-holidays\n"
        );
        std::fs::write(&file, r#"{"dates": ["soon"]}"#).unwrap();
        let err = next(&[
            "next",
            "0 9 * * *",
            "--exclude-calendar",
            file.to_str().unwrap(),
        ])
        .unwrap_err();
        assert!(err.contains("/payload/dates/0"), "{err}");
    }

    #[test]
    fn json_output() {
        let out = next(&[
            "next",
            "0 2 * * *",
            "--after",
            "2026-03-07T04:00:00-08:00",
            "-n",
            "1",
            "--json",
        ])
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["next"], serde_json::json!(["2026-03-08T02:00:00Z"]));
        assert_eq!(v["description"], "Daily at 2:00 AM");
    }

    #[test]
    fn bad_input_is_a_precise_error() {
        assert_eq!(
            next(&["next", "61 * * * *"]).unwrap_err(),
            "minute field \"61\": 61 is out of range 0-59"
        );
        assert!(
            next(&["next", "0 2 * * *", "--tz", "Mars/Olympus"])
                .unwrap_err()
                .starts_with("unknown time zone")
        );
        assert!(
            next(&["next", "0 2 * * *", "--after", "yesterday"])
                .unwrap_err()
                .starts_with("--after \"yesterday\"")
        );
        assert!(
            next(&["next", "0 2 * * *", "--dst-policy", "wall"])
                .unwrap_err()
                .starts_with("--dst-policy")
        );
        assert_eq!(
            next(&["describe", "*/15 9-17 * * MON-FRI"]).unwrap(),
            "Every 15 minutes, between 9:00 AM and 5:59 PM, Monday through Friday\n"
        );
    }
}
