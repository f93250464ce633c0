//! Human text, snapshot-tested over a wide set of expressions.

use grove_core::schedule::describe;

const EXPRESSIONS: &[&str] = &[
    "* * * * *",
    "*/15 * * * *",
    "*/5 * * * *",
    "0 * * * *",
    "15 * * * *",
    "0,30 * * * *",
    "5-10 * * * *",
    "5-55/10 * * * *",
    "10/5 * * * *",
    "0 */6 * * *",
    "30 */6 * * *",
    "0 */1 * * *",
    "0 2 * * *",
    "30 14 * * *",
    "0 0 * * *",
    "0 12 * * *",
    "0 9,17 * * *",
    "0,30 9 * * *",
    "0 9-17 * * *",
    "*/15 9-17 * * MON-FRI",
    "*/10 9 * * *",
    "* 9 * * *",
    "0 8-18/2 * * *",
    "*/15 9,17 * * *",
    "0 1-3,5 * * *",
    "0 0 * * 0",
    "0 0 * * 7",
    "0 9 * * MON",
    "0 9 * * MON-FRI",
    "0 9 * * 1,3,5",
    "0 9 * * SAT,SUN",
    "0 9 * * */2",
    "0 0 1 * *",
    "0 0 15 * *",
    "0 0 1,15 * *",
    "0 0 1-7 * *",
    "0 0 */2 * *",
    "0 0 L * *",
    "0 0 L-3 * *",
    "0 0 LW * *",
    "0 0 15W * *",
    "0 0 1,L * *",
    "0 18 * * 5L",
    "0 18 * * FRIL",
    "0 10 * * MON#1",
    "0 10 * * 2#3,4#3",
    "0 0 1 1 *",
    "0 0 25 12 *",
    "0 0 1 */3 *",
    "0 0 1 JAN,APR,JUL,OCT *",
    "0 0 * 6-8 *",
    "0 0 1 3/2 *",
    "0 0 13 * FRI",
    "0 0 1 * MON-FRI",
    "0 9 * 12 MON",
    "*/30 * * * * *",
    "15 * * * * *",
    "0,15,30,45 * * * * *",
    "30 0 2 * * *",
    "* * * * * *",
    "10-20 * * * * *",
    "0 */5 * * * *",
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
    "0 0 29 2 *",
    "0 12 * JAN-MAR MON",
    "1 2 3 4 *",
    "59 23 31 12 *",
    "0 0,6,12,18 * * *",
    "0 0,3,6,9,12,15,18,21 * * *",
    "1 * * * *",
    "0 0 ? * MON",
];

#[test]
fn human_text_snapshot() {
    let text: String = EXPRESSIONS
        .iter()
        .map(|e| {
            format!(
                "{e:<28} => {}\n",
                describe(e).unwrap_or_else(|err| panic!("{e}: {err}"))
            )
        })
        .collect();
    insta::assert_snapshot!("describe", text);
}

#[test]
fn issue_examples() {
    let cases = [
        (
            "*/15 9-17 * * MON-FRI",
            "Every 15 minutes, between 9:00 AM and 5:59 PM, Monday through Friday",
        ),
        ("0 2 * * *", "Daily at 2:00 AM"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 */6 * * *", "Every 6 hours"),
        ("0 0 * * 0", "Weekly on Sunday at 12:00 AM"),
    ];
    for (expr, want) in cases {
        assert_eq!(describe(expr).unwrap(), want, "{expr}");
    }
}
