//! Reads a YAML template into the JSON form of the same template, as
//! CloudFormation reads it.
//!
//! CloudFormation reads YAML 1.1 ("AWS CloudFormation supports the YAML
//! Version 1.1 specification with a few exceptions": no binary, omap, pairs,
//! set or timestamp tags, no aliases, no hash merges; AWS CloudFormation User
//! Guide, Template formats), so an unquoted `No`, `off` or `Yes` is a
//! boolean, `0x1F` and `017` (octal) are integers, `1_000` is 1000 and `~` is
//! null, while the quoted `"No"` stays a string. The resolution rules here are those of the
//! YAML 1.1 type repository (yaml.org/type/bool.html, int.html, float.html,
//! null.html) as PyYAML's resolver implements them, which is how cfn-lint
//! (cfnlint/decode/cfn_yaml.py) and the AWS CLI's template reader
//! (awscli/customizations/cloudformation/yamlhelper.py) read templates: the
//! single letters `y` and `n` stay strings there, and here. Timestamps stay
//! strings (CloudFormation does not support the timestamp type, per the same
//! guide page), which is how `AWSTemplateFormatVersion: 2010-09-09` reads.
//!
//! The short-form tags (`!Ref`, `!Sub`, `!GetAtt`, ...) become their long
//! forms (`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": ...}`); a
//! scalar under one of them is a string.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

/// Parses YAML `text`; `source` names the file in errors.
pub fn parse(text: &str, source: &str) -> Result<Value> {
    let mut reader = Reader {
        depth: 0,
        parser: Parser::new_from_str(text),
        source,
    };
    let mut document = None;
    while let Some((event, span)) = reader.next()? {
        match event {
            Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            event => {
                if document.is_some() {
                    return Err(reader.invalid(&span, "", "a template is one YAML document"));
                }
                document = Some(reader.node(event, span, "")?);
            }
        }
    }
    Ok(document.unwrap_or(Value::Null))
}

/// How deep mappings and sequences may nest: far more than a template needs,
/// few enough that reading never exhausts the stack.
const MAX_DEPTH: usize = 128;

struct Reader<'a> {
    depth: usize,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    source: &'a str,
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Result<Option<(Event<'a>, Span)>> {
        match self.parser.next() {
            None => Ok(None),
            Some(Ok(found)) => Ok(Some(found)),
            Some(Err(e)) => Err(Error::InvalidTemplate {
                location: self.source.to_owned(),
                problem: format!(
                    "not valid YAML: {} at line {} column {}",
                    e.info(),
                    e.marker().line(),
                    e.marker().col() + 1
                ),
            }),
        }
    }

    fn next_required(&mut self, path: &str) -> Result<(Event<'a>, Span)> {
        self.next()?.ok_or_else(|| Error::InvalidTemplate {
            location: location(path),
            problem: "the YAML ends in the middle of a value".into(),
        })
    }

    fn invalid(&self, span: &Span, path: &str, problem: &str) -> Error {
        let at = if path.is_empty() {
            self.source.to_owned()
        } else {
            location(path)
        };
        Error::InvalidTemplate {
            location: at,
            problem: format!("{problem} (line {})", span.start.line()),
        }
    }

    /// The value that starts with `event`, read to its end.
    fn node(&mut self, event: Event<'a>, span: Span, path: &str) -> Result<Value> {
        let nests = matches!(event, Event::SequenceStart(..) | Event::MappingStart(..));
        if nests && self.depth >= MAX_DEPTH {
            return Err(self.invalid(
                &span,
                path,
                &format!("mappings and sequences nest more than {MAX_DEPTH} deep"),
            ));
        }
        self.depth += usize::from(nests);
        let value = self.read(event, span, path);
        self.depth -= usize::from(nests);
        value
    }

    fn read(&mut self, event: Event<'a>, span: Span, path: &str) -> Result<Value> {
        match event {
            // CloudFormation refuses YAML aliases (see above); refusing them
            // also keeps a template of nested aliases from growing without
            // bound here.
            Event::Alias(_) => Err(self.invalid(
                &span,
                path,
                "YAML aliases (*name) are not supported by CloudFormation; repeat the value instead",
            )),
            Event::Scalar(text, style, _, tag) => match tag {
                Some(tag) => self.tagged_scalar(&tag, text, &span, path),
                None => resolve(&text, style, |problem| self.invalid(&span, path, problem)),
            },
            Event::SequenceStart(_, tag) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next_required(path)?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    let item_path = format!("{path}/{}", items.len());
                    items.push(self.node(event, span, &item_path)?);
                }
                self.tagged(tag, Value::Array(items), &span, path)
            }
            Event::MappingStart(_, tag) => {
                let mut map = Map::new();
                loop {
                    let (event, key_span) = self.next_required(path)?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let key = match self.node(event, key_span, path)? {
                        Value::String(s) => s,
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        Value::Null => "null".to_owned(),
                        _ => {
                            return Err(self.invalid(
                                &key_span,
                                path,
                                "mapping keys must be strings",
                            ));
                        }
                    };
                    if key == "<<" {
                        return Err(self.invalid(
                            &key_span,
                            path,
                            "hash merges (<<) are not supported by CloudFormation; write the keys out",
                        ));
                    }
                    let (event, value_span) = self.next_required(path)?;
                    let value = self.node(event, value_span, &join(path, &key))?;
                    if map.insert(key.clone(), value).is_some() {
                        return Err(self.invalid(
                            &key_span,
                            &join(path, &key),
                            "this key appears twice in its mapping; keep one",
                        ));
                    }
                }
                self.tagged(tag, Value::Object(map), &span, path)
            }
            _ => Err(self.invalid(&span, path, "unexpected YAML structure")),
        }
    }

    /// A scalar with a tag: a short-form function (`!Ref Name`) holds its
    /// text as a string; `!!str` keeps the text, other core tags resolve it.
    fn tagged_scalar(
        &self,
        tag: &Tag,
        text: Cow<'a, str>,
        span: &Span,
        path: &str,
    ) -> Result<Value> {
        if tag.is_yaml_core_schema() {
            return match tag.suffix.as_str() {
                "str" => Ok(Value::String(text.into_owned())),
                "bool" | "int" | "float" | "null" => {
                    resolve(&text, ScalarStyle::Plain, |p| self.invalid(span, path, p))
                }
                other => Err(self.invalid(
                    span,
                    path,
                    &format!("the YAML type !!{other} is not supported by CloudFormation"),
                )),
            };
        }
        self.tagged(
            Some(Cow::Borrowed(tag)),
            Value::String(text.into_owned()),
            span,
            path,
        )
    }

    /// `value` under `tag`: `!Ref x` is `{"Ref": x}`, `!Sub x` is `{"Fn::Sub": x}`.
    fn tagged(
        &self,
        tag: Option<Cow<'_, Tag>>,
        value: Value,
        span: &Span,
        path: &str,
    ) -> Result<Value> {
        let Some(tag) = tag else {
            return Ok(value);
        };
        if tag.is_yaml_core_schema() && matches!(tag.suffix.as_str(), "seq" | "map") {
            return Ok(value);
        }
        if tag.handle != "!" || tag.suffix.is_empty() {
            return Err(self.invalid(
                span,
                path,
                &format!(
                    "the tag {}{} is not a CloudFormation function",
                    tag.handle, tag.suffix
                ),
            ));
        }
        let function = match tag.suffix.as_str() {
            "Ref" | "Condition" => tag.suffix.clone(),
            name => format!("Fn::{name}"),
        };
        let mut map = Map::new();
        map.insert(function, value);
        Ok(Value::Object(map))
    }
}

/// The value of an untagged scalar: quoted and block scalars are strings;
/// plain ones resolve by the YAML 1.1 rules.
fn resolve(text: &str, style: ScalarStyle, invalid: impl Fn(&str) -> Error) -> Result<Value> {
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_owned()));
    }
    if let Some(b) = yaml11_bool(text) {
        return Ok(Value::Bool(b));
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(n) = yaml11_int(text) {
        return Ok(n);
    }
    if let Some(f) = yaml11_float(text) {
        return Number::from_f64(f).map(Value::Number).ok_or_else(|| {
            invalid(&format!(
                "{text} is not a number JSON can hold; quote it to keep it as text"
            ))
        });
    }
    Ok(Value::String(text.to_owned()))
}

/// yaml.org/type/bool.html as PyYAML resolves it (without `y` and `n`).
fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// The sign and the rest of `text`.
fn signed(text: &str) -> (i128, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    }
}

/// yaml.org/type/int.html: binary `0b`, octal `0`, decimal, hex `0x`, and
/// base 60 `1:30`, with `_` as a separator. Too large for JSON: a string.
fn yaml11_int(text: &str) -> Option<Value> {
    let (sign, digits) = signed(text);
    let parse = |body: &str, radix: u32| -> Option<i128> {
        let body: String = body.chars().filter(|c| *c != '_').collect();
        if body.is_empty() {
            return None;
        }
        i128::from_str_radix(&body, radix).ok()
    };
    let magnitude = if let Some(bin) = digits.strip_prefix("0b") {
        bin.chars()
            .all(|c| matches!(c, '0' | '1' | '_'))
            .then(|| parse(bin, 2))??
    } else if let Some(hex) = digits.strip_prefix("0x") {
        hex.chars()
            .all(|c| c.is_ascii_hexdigit() || c == '_')
            .then(|| parse(hex, 16))??
    } else if digits == "0" {
        0
    } else if let Some(octal) = digits.strip_prefix('0') {
        octal
            .chars()
            .all(|c| matches!(c, '0'..='7' | '_'))
            .then(|| parse(octal, 8))??
    } else if digits.contains(':') {
        sexagesimal(digits, false)? as i128
    } else {
        let first_ok = digits.as_bytes().first().is_some_and(u8::is_ascii_digit);
        (first_ok && digits.chars().all(|c| c.is_ascii_digit() || c == '_'))
            .then(|| parse(digits, 10))??
    };
    let value = sign * magnitude;
    Some(match (i64::try_from(value), u64::try_from(value)) {
        (Ok(i), _) => Value::Number(i.into()),
        (_, Ok(u)) => Value::Number(u.into()),
        _ => Value::String(text.to_owned()),
    })
}

/// Base 60 (`190:20:30`): the first part has no leading zero, the others are 0 to 59.
fn sexagesimal(text: &str, fraction: bool) -> Option<f64> {
    let mut parts = text.split(':');
    let first = parts.next()?;
    let first_ok = first.starts_with(|c: char| c.is_ascii_digit() && c != '0')
        && first.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !first_ok {
        return None;
    }
    let mut total: f64 = first.replace('_', "").parse().ok()?;
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() {
        return None;
    }
    for (i, part) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let (whole, frac) = match part.split_once('.') {
            Some((w, f)) if last && fraction => (w, Some(f)),
            _ => (*part, None),
        };
        let whole_ok = (1..=2).contains(&whole.len()) && whole.chars().all(|c| c.is_ascii_digit());
        let n: f64 = whole.parse().ok().filter(|n| whole_ok && *n < 60.0)?;
        let frac: f64 = match frac {
            Some(f) if f.chars().all(|c| c.is_ascii_digit() || c == '_') => {
                format!("0.{}", f.replace('_', "")).parse().unwrap_or(0.0)
            }
            Some(_) => return None,
            None => 0.0,
        };
        total = total * 60.0 + n + frac;
    }
    if fraction != text.contains('.') {
        return None;
    }
    Some(total)
}

/// yaml.org/type/float.html: `1.5`, `6.8523015e+5`, `685_230.15`, base 60
/// `190:20:30.15`, `.inf` and `.nan`.
fn yaml11_float(text: &str) -> Option<f64> {
    let (sign, body) = signed(text);
    let sign = sign as f64;
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(sign * f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" if body.len() == text.len() => return Some(f64::NAN),
        _ => {}
    }
    if body.contains(':') {
        return sexagesimal(body, true).map(|v| sign * v);
    }
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let (whole, frac) = mantissa.split_once('.')?;
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == '_');
    let whole_ok = digits(whole) && !whole.starts_with('_');
    let frac_ok = digits(frac) && (!whole.is_empty() || !frac.is_empty() && !frac.starts_with('_'));
    let exponent_ok = exponent.is_none_or(|e| {
        e.len() > 1
            && matches!(e.as_bytes()[0], b'+' | b'-')
            && e[1..].chars().all(|c| c.is_ascii_digit())
    });
    if !(whole_ok && frac_ok && exponent_ok) || (whole.is_empty() && frac.is_empty()) {
        return None;
    }
    let plain = format!(
        "{}.{}{}",
        if whole.is_empty() { "0" } else { whole },
        frac,
        exponent.map(|e| format!("e{e}")).unwrap_or_default()
    )
    .replace('_', "");
    plain.parse::<f64>().ok().map(|v| sign * v)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}/{key}")
    }
}

fn location(path: &str) -> String {
    if path.is_empty() {
        "the template".to_owned()
    } else {
        path.trim_start_matches('/').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_form_tags_become_long_forms() {
        let yaml = r#"
Resources:
  A:
    Properties:
      Name: !Sub "chatops-${AWS::AccountId}"
      Role: !GetAtt Role.Arn
      Topic: !Ref Topic
      Pick: !If [IsProd, !Ref A, !Ref "AWS::NoValue"]
      Both: !And [!Condition C1, !Not [!Equals [!Ref P, ""]]]
      Number: 7
      Flag: false
"#;
        let value = parse(yaml, "t.yaml").unwrap();
        let props = &value["Resources"]["A"]["Properties"];
        assert_eq!(
            props["Name"],
            json!({"Fn::Sub": "chatops-${AWS::AccountId}"})
        );
        assert_eq!(props["Role"], json!({"Fn::GetAtt": "Role.Arn"}));
        assert_eq!(props["Topic"], json!({"Ref": "Topic"}));
        assert_eq!(
            props["Pick"],
            json!({"Fn::If": ["IsProd", {"Ref": "A"}, {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            props["Both"],
            json!({"Fn::And": [{"Condition": "C1"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]}]})
        );
        assert_eq!(props["Number"], json!(7));
        assert_eq!(props["Flag"], json!(false));
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let err = parse("Resources:\n  A: [unclosed\n", "bad.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("bad.yaml: not valid YAML"), "{err}");
        assert!(err.contains("line"), "{err}");
    }
    #[test]
    fn yaml_1_1_scalars_read_as_cloudformation_reads_them() {
        let yaml = r#"
Flags: [yes, No, OFF, on, True, FALSE, "No", 'yes', y, n, !!str off]
Numbers: [0x1F, 017, 0b101, 1_000, "017", 012345678901, 190:20:30, 1.5e+3, 685_230.15, .5]
Nulls: [~, null, NULL]
Empty:
Dates: 2010-09-09
Ref: !Ref No
"#;
        let value = parse(yaml, "t.yaml").unwrap();
        assert_eq!(
            value["Flags"],
            json!([
                true, false, false, true, true, false, "No", "yes", "y", "n", "off"
            ])
        );
        assert_eq!(
            value["Numbers"],
            json!([
                31,
                15,
                5,
                1000,
                "017",
                "012345678901",
                685230,
                1500.0,
                685230.15,
                0.5
            ])
        );
        assert_eq!(value["Nulls"], json!([null, null, null]));
        assert_eq!(value["Empty"], json!(null));
        assert_eq!(value["Dates"], json!("2010-09-09"));
        assert_eq!(value["Ref"], json!({"Ref": "No"}));
    }

    #[test]
    fn duplicate_keys_and_unknown_tags_are_refused_with_their_line() {
        let err = parse("A: 1\nA: 2\n", "t.yaml").unwrap_err().to_string();
        assert!(
            err.contains("appears twice") && err.contains("line 2"),
            "{err}"
        );
        let err = parse("A: &a [1]\nB: *a\n", "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("aliases") && err.contains("line 2"), "{err}");
        let deep = format!("A: {}{}\n", "[".repeat(200), "]".repeat(200));
        let err = parse(&deep, "t.yaml").unwrap_err().to_string();
        assert!(err.contains("nest more than 128 deep"), "{err}");
        let err = parse("A: {<<: {B: 1}}\n", "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("hash merges"), "{err}");
        let err = parse("A: !!binary aGVsbG8=\n", "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("!!binary"), "{err}");
    }
}
