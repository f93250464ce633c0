//! Next-run computation: ours, `cron` and `croner`, side by side, in UTC and
//! in a daylight-saving zone. Run with
//! `cargo bench -p grove-core --bench schedule -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;
use std::str::FromStr;

use criterion::{Criterion, criterion_group, criterion_main};
use grove_core::schedule::{DstPolicy, Schedule};
use jiff::Timestamp;

const EXPRESSIONS: &[&str] = &[
    "0 2 * * *",
    "*/15 9-17 * * MON-FRI",
    "30 4 1 * *",
    "0 0 * * SUN",
    "0 */6 * * *",
];

const AFTER: &str = "2026-03-07T12:34:56Z";

fn bench(c: &mut Criterion) {
    let after: Timestamp = AFTER.parse().unwrap();
    let croner_parser = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build();
    for (zone, label) in [("UTC", "utc"), ("America/Los_Angeles", "los_angeles")] {
        let mut group = c.benchmark_group(format!("next_after/{label}"));
        for expr in EXPRESSIONS {
            let ours = Schedule::parse(expr, zone, DstPolicy::Cron).unwrap();
            group.bench_function(format!("ours/{expr}"), |b| {
                b.iter(|| black_box(&ours).next_after(black_box(after)))
            });

            let croner = croner_parser.parse(expr).unwrap();
            let start = after.to_zoned(jiff::tz::TimeZone::get(zone).unwrap());
            group.bench_function(format!("croner/{expr}"), |b| {
                b.iter(|| {
                    black_box(&croner)
                        .find_next_occurrence(black_box(&start), false)
                        .ok()
                        .map(|z| z.timestamp())
                })
            });

            // `cron` wants a seconds field and chrono types.
            let cron = cron::Schedule::from_str(&format!("0 {expr}")).unwrap();
            let utc = chrono::DateTime::from_timestamp(after.as_second(), 0).unwrap();
            if zone == "UTC" {
                group.bench_function(format!("cron/{expr}"), |b| {
                    b.iter(|| {
                        black_box(&cron)
                            .after(black_box(&utc))
                            .next()
                            .map(|d| d.timestamp())
                    })
                });
            } else {
                let local = utc.with_timezone(&chrono_tz::America::Los_Angeles);
                group.bench_function(format!("cron/{expr}"), |b| {
                    b.iter(|| {
                        black_box(&cron)
                            .after(black_box(&local))
                            .next()
                            .map(|d| d.timestamp())
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
