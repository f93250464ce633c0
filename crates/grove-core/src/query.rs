//! The registry's small query language and JSON-path access.
//!
//! Paths are dotted (`payload.schedule.isEnabled`); a metric query is
//! `count()` or `count(where: COND and COND ...)` with `COND` = `PATH=VALUE`
//! or `PATH!=VALUE`. Values are bare words, numbers, `true`/`false`/`null`
//! or double-quoted strings.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

/// Reads a dotted path (`payload.limits.batchSize`); list items by index.
pub fn get_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| match v {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// `PATH=VALUE` or `PATH!=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub path: String,
    pub negated: bool,
    pub value: Value,
}

impl Condition {
    pub fn matches(&self, object: &Value) -> bool {
        self.holds_for(get_path(object, &self.path))
    }

    /// Whether the condition holds for what its path found (`None`: no such
    /// field), for callers that resolve the path without a whole document.
    pub fn holds_for(&self, found: Option<&Value>) -> bool {
        found.is_some_and(|v| loosely_equal(v, &self.value)) != self.negated
    }
}

/// Equality where a query's bare word `5` matches the number 5 and the
/// string "5", and `true` matches the boolean.
pub fn loosely_equal(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::String(a), Value::String(e)) => a == e,
        (Value::Number(a), Value::Number(e)) => a.as_f64() == e.as_f64(),
        (Value::String(a), e) => a == &e.to_string(),
        (a, Value::String(e)) => &a.to_string() == e,
        (a, e) => a == e,
    }
}

/// A parsed metric query.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    pub conditions: Vec<Condition>,
}

/// A query that does not parse, with the position and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub query: String,
    pub position: usize,
    pub expected: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed query \"{}\" at character {}: expected {}",
            self.query,
            self.position + 1,
            self.expected
        )
    }
}

impl std::error::Error for QueryError {}

impl MetricQuery {
    pub fn parse(query: &str) -> Result<Self, QueryError> {
        let mut p = Parser { src: query, pos: 0 };
        p.skip_ws();
        p.expect_word("count")?;
        p.skip_ws();
        p.expect_char('(')?;
        p.skip_ws();
        let mut conditions = Vec::new();
        if !p.peek_is(')') {
            p.expect_word("where")?;
            p.skip_ws();
            p.expect_char(':')?;
            loop {
                p.skip_ws();
                conditions.push(p.condition()?);
                p.skip_ws();
                if p.peek_is(')') {
                    break;
                }
                p.expect_word("and")?;
            }
        }
        p.expect_char(')')?;
        p.skip_ws();
        if p.pos != query.len() {
            return Err(p.error("the end of the query"));
        }
        Ok(Self { conditions })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.matches_with(|path| get_path(object, path))
    }

    /// `matches` over an object whose fields `lookup` finds by their
    /// dotted path.
    pub fn matches_with<'v>(&self, lookup: impl Fn(&str) -> Option<&'v Value>) -> bool {
        self.conditions.iter().all(|c| c.holds_for(lookup(&c.path)))
    }

    pub fn count<'v>(&self, objects: impl IntoIterator<Item = &'v Value>) -> usize {
        objects.into_iter().filter(|o| self.matches(o)).count()
    }
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn error(&self, expected: &str) -> QueryError {
        QueryError {
            query: self.src.to_owned(),
            position: self.pos,
            expected: expected.to_owned(),
        }
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn peek_is(&self, c: char) -> bool {
        self.rest().starts_with(c)
    }

    fn expect_char(&mut self, c: char) -> Result<(), QueryError> {
        if self.peek_is(c) {
            self.pos += c.len_utf8();
            Ok(())
        } else {
            Err(self.error(&format!("\"{c}\"")))
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), QueryError> {
        let rest = self.rest();
        let boundary = rest[word.len().min(rest.len())..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word) && boundary {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error(&format!("\"{word}\"")))
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !f(c))
            .unwrap_or(self.rest().len());
        self.pos += len;
        &self.src[start..start + len]
    }

    fn condition(&mut self) -> Result<Condition, QueryError> {
        let path = self
            .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .to_owned();
        if path.is_empty() || path.starts_with('.') || path.ends_with('.') || path.contains("..") {
            return Err(self.error("a field path such as payload.schedule.isEnabled"));
        }
        self.skip_ws();
        let negated = if self.rest().starts_with("!=") {
            self.pos += 2;
            true
        } else if self.peek_is('=') {
            self.pos += 1;
            false
        } else {
            return Err(self.error("\"=\" or \"!=\""));
        };
        self.skip_ws();
        let value = self.value()?;
        Ok(Condition {
            path,
            negated,
            value,
        })
    }

    fn value(&mut self) -> Result<Value, QueryError> {
        if self.peek_is('"') {
            self.pos += 1;
            let text = self.take_while(|c| c != '"').to_owned();
            self.expect_char('"')?;
            return Ok(Value::String(text));
        }
        let word = self.take_while(|c| !c.is_whitespace() && c != ')');
        if word.is_empty() {
            return Err(self.error("a value"));
        }
        Ok(parse_bare_value(word))
    }
}

/// `true`, `false`, `null` and numbers become JSON values; anything else a string.
pub fn parse_bare_value(word: &str) -> Value {
    match word {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => word
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| {
                word.parse::<f64>()
                    .ok()
                    .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            })
            .unwrap_or_else(|| Value::String(word.to_owned())),
    }
}

/// Orders two values found at a sort path; missing values sort last.
pub fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Greater,
        (_, None | Some(Value::Null)) => Ordering::Less,
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
    }
}

/// Case-insensitive substring search over the given paths.
pub fn matches_search(object: &Value, fields: &[&str], needle: &str) -> bool {
    let needle = needle.to_lowercase();
    fields.iter().any(|path| match get_path(object, path) {
        Some(Value::String(s)) => s.to_lowercase().contains(&needle),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string().contains(&needle),
        _ => false,
    })
}
