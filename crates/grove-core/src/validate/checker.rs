use serde_json::{Map, Value};

use super::{Problem, child_pointer};

/// A closed set of string values (enums in the schema).
pub trait Choice: Sized + Copy + 'static {
    /// Every accepted spelling, in the order they are listed to operators.
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }

    fn names() -> String {
        Self::ALL
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A JSON object being read, with its pointer.
#[derive(Debug, Clone)]
pub struct Obj<'v> {
    pub map: &'v Map<String, Value>,
    pub pointer: String,
}

/// Collects problems while typed values are read out of JSON.
#[derive(Debug, Default)]
pub struct Checker {
    problems: Vec<Problem>,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(pointer, message));
    }

    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// `Ok(value)` when nothing was reported, else every problem.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Vec<Problem>> {
        match value {
            Some(v) if self.problems.is_empty() => Ok(v),
            _ => Err(if self.problems.is_empty() {
                vec![Problem::new("", "is not valid")]
            } else {
                self.problems
            }),
        }
    }

    /// Reads `value` as an object whose keys must be among `allowed`; keys in
    /// `ignored` are accepted and skipped (read-only fields sent back).
    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        pointer: &str,
        allowed: &[&str],
        ignored: &[&str],
    ) -> Option<Obj<'v>> {
        let Value::Object(map) = value else {
            self.push(
                pointer,
                format!("must be an object, got {}", kind_of(value)),
            );
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) && !ignored.contains(&key.as_str()) {
                let hint = closest(key, allowed)
                    .map(|c| format!("; did you mean \"{c}\"?"))
                    .unwrap_or_else(|| format!("; expected one of {}", allowed.join(", ")));
                self.push(
                    child_pointer(pointer, key),
                    format!("unknown field \"{key}\"{hint}"),
                );
            }
        }
        Some(Obj {
            map,
            pointer: pointer.to_owned(),
        })
    }

    /// A nested object field (required when `required`), with its own allowed keys.
    pub fn nested<'v>(
        &mut self,
        obj: &Obj<'v>,
        key: &str,
        required: bool,
        allowed: &[&str],
        ignored: &[&str],
    ) -> Option<Obj<'v>> {
        let value = self.field(obj, key, required)?;
        let pointer = child_pointer(&obj.pointer, key);
        self.object(value, &pointer, allowed, ignored)
    }

    /// The raw value of a field; reports "is required" when missing and
    /// `required`. `null` counts as missing.
    pub fn field<'v>(&mut self, obj: &Obj<'v>, key: &str, required: bool) -> Option<&'v Value> {
        match obj.map.get(key) {
            Some(Value::Null) | None => {
                if required {
                    self.push(child_pointer(&obj.pointer, key), "is required");
                }
                None
            }
            Some(v) => Some(v),
        }
    }

    pub fn pointer_of(obj: &Obj<'_>, key: &str) -> String {
        child_pointer(&obj.pointer, key)
    }

    /// A string field. Control characters (other than tab and newline) and
    /// bidirectional controls are refused in every string: they hide or
    /// reorder what an operator reads in the console and in logs.
    pub fn string(&mut self, obj: &Obj<'_>, key: &str, required: bool) -> Option<String> {
        let v = self.field(obj, key, required)?;
        match v {
            Value::String(s) => {
                let pointer = child_pointer(&obj.pointer, key);
                self.clean_string(&pointer, s).then(|| s.clone())
            }
            other => {
                self.push(
                    child_pointer(&obj.pointer, key),
                    format!("must be a string, got {}", kind_of(other)),
                );
                None
            }
        }
    }

    /// Reports a string holding a character [`forbidden_char`] refuses;
    /// `true` when it holds none.
    pub fn clean_string(&mut self, pointer: &str, s: &str) -> bool {
        match s.char_indices().find(|&(i, ch)| forbidden_char(s, i, ch)) {
            None => true,
            Some((i, ch)) => {
                let position = s[..i].chars().count() + 1;
                let what = if is_bidi_control(ch) {
                    "a bidirectional control character"
                } else {
                    "a control character"
                };
                self.push(
                    pointer,
                    format!(
                        "contains {what} (U+{:04X} at character {position}); only printable text, tabs and line breaks are allowed",
                        u32::from(ch)
                    ),
                );
                false
            }
        }
    }

    /// A string that must not be blank: it needs at least one visible
    /// character (not only spaces, zero-width or other invisible ones).
    pub fn text(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        required: bool,
        max_len: usize,
    ) -> Option<String> {
        let s = self.string(obj, key, required)?;
        let pointer = child_pointer(&obj.pointer, key);
        if s.trim().is_empty() {
            self.push(pointer, "must not be empty");
            None
        } else if !s.chars().any(is_visible) {
            self.push(
                pointer,
                "must contain a visible character; it holds only invisible ones such as zero-width spaces",
            );
            None
        } else if s.chars().count() > max_len {
            self.push(
                pointer,
                format!("must be at most {max_len} characters long"),
            );
            None
        } else {
            Some(s)
        }
    }

    pub fn boolean(&mut self, obj: &Obj<'_>, key: &str, required: bool) -> Option<bool> {
        match self.field(obj, key, required)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.push(
                    child_pointer(&obj.pointer, key),
                    format!("must be true or false, got {}", kind_of(other)),
                );
                None
            }
        }
    }

    /// A whole number within `min..=max`.
    pub fn integer(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        required: bool,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let v = self.field(obj, key, required)?;
        let pointer = child_pointer(&obj.pointer, key);
        let n = match v {
            Value::Number(n) => match n.as_i64() {
                Some(i) => i,
                None if n.as_f64().is_some_and(|f| f.fract() != 0.0) => {
                    self.push(pointer, format!("must be a whole number, got {n}"));
                    return None;
                }
                None => {
                    self.push(pointer, format!("must be between {min} and {max}, got {n}"));
                    return None;
                }
            },
            other => {
                self.push(
                    pointer,
                    format!("must be a whole number, got {}", kind_of(other)),
                );
                return None;
            }
        };
        if n < min || n > max {
            let msg = if n < min && max == i64::MAX {
                format!("must be at least {min}, got {n}")
            } else {
                format!("must be between {min} and {max}, got {n}")
            };
            self.push(pointer, msg);
            return None;
        }
        Some(n)
    }

    /// A number (whole or not) within `min..=max`.
    pub fn number(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        required: bool,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        let v = self.field(obj, key, required)?;
        let pointer = child_pointer(&obj.pointer, key);
        let Some(n) = v.as_f64() else {
            self.push(pointer, format!("must be a number, got {}", kind_of(v)));
            return None;
        };
        if !(min..=max).contains(&n) {
            self.push(pointer, format!("must be between {min} and {max}, got {n}"));
            return None;
        }
        Some(n)
    }

    pub fn choice<C: Choice>(&mut self, obj: &Obj<'_>, key: &str, required: bool) -> Option<C> {
        let pointer = child_pointer(&obj.pointer, key);
        let s = self.string(obj, key, required)?;
        self.choice_value(&pointer, &s)
    }

    pub fn choice_value<C: Choice>(&mut self, pointer: &str, s: &str) -> Option<C> {
        match C::from_name(s) {
            Some(c) => Some(c),
            None => {
                self.push(pointer, format!("\"{s}\" is not one of {}", C::names()));
                None
            }
        }
    }

    /// A list of strings; each item reported at its index.
    pub fn string_list(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        required: bool,
    ) -> Option<Vec<(String, String)>> {
        let v = self.field(obj, key, required)?;
        let pointer = child_pointer(&obj.pointer, key);
        let Value::Array(items) = v else {
            self.push(pointer, format!("must be a list, got {}", kind_of(v)));
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_pointer = format!("{pointer}/{i}");
            match item {
                Value::String(s) => {
                    if self.clean_string(&item_pointer, s) {
                        out.push((item_pointer, s.clone()));
                    } else {
                        ok = false;
                    }
                }
                other => {
                    ok = false;
                    self.push(
                        item_pointer,
                        format!("must be a string, got {}", kind_of(other)),
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// A list of choices without duplicates.
    pub fn choice_list<C: Choice + PartialEq>(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        required: bool,
    ) -> Option<Vec<C>> {
        let items = self.string_list(obj, key, required)?;
        let mut out: Vec<C> = Vec::with_capacity(items.len());
        let mut ok = true;
        for (pointer, s) in items {
            match self.choice_value::<C>(&pointer, &s) {
                Some(c) if out.contains(&c) => {
                    ok = false;
                    self.push(pointer, format!("\"{s}\" is listed twice"));
                }
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A list of objects; `each` reads one item given its value and pointer.
    pub fn list<T>(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        required: bool,
        mut each: impl FnMut(&mut Self, &Value, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let v = self.field(obj, key, required)?;
        let pointer = child_pointer(&obj.pointer, key);
        let Value::Array(items) = v else {
            self.push(pointer, format!("must be a list, got {}", kind_of(v)));
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match each(self, item, &format!("{pointer}/{i}")) {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// Bidirectional formatting controls (embeddings, overrides, isolates and
/// the implicit marks): they make text display in an order other than the
/// one it is stored in.
pub fn is_bidi_control(ch: char) -> bool {
    matches!(ch, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters no string field accepts: C0 controls other than tab and
/// newline (a carriage return only as part of CRLF, which browsers send for
/// a textarea's line breaks), DEL, C1 controls and bidirectional controls.
fn forbidden_char(s: &str, i: usize, ch: char) -> bool {
    match ch {
        '\t' | '\n' => false,
        '\r' => s.as_bytes().get(i + 1) != Some(&b'\n'),
        c if c.is_control() => true,
        c => is_bidi_control(c),
    }
}

/// Whether a character shows as something: not white space, not a control,
/// not a default-ignorable code point (zero-width spaces and joiners,
/// variation selectors, the byte order mark, fillers).
pub fn is_visible(ch: char) -> bool {
    !(ch.is_whitespace()
        || ch.is_control()
        || is_bidi_control(ch)
        || matches!(
            ch,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        ))
}

/// The allowed key closest to a mistyped one, for "did you mean".
fn closest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    let key_lower = key.to_ascii_lowercase();
    allowed
        .iter()
        .map(|a| (edit_distance(&key_lower, &a.to_ascii_lowercase()), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
