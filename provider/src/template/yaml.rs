//! Reads a YAML template into the JSON form of the same template: the
//! short-form tags (`!Ref`, `!Sub`, `!GetAtt`, ...) become their long forms
//! (`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": ...}`).

use serde_json::{Map, Number, Value};
use serde_norway::Value as Yaml;

use crate::error::{Error, Result};

/// Parses YAML `text`; `source` names the file in errors.
pub fn parse(text: &str, source: &str) -> Result<Value> {
    let yaml: Yaml = serde_norway::from_str(text).map_err(|e| Error::InvalidTemplate {
        location: source.to_owned(),
        problem: format!("not valid YAML: {e}"),
    })?;
    to_json(yaml, "")
}

fn to_json(yaml: Yaml, path: &str) -> Result<Value> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => number(&n, path)?,
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| to_json(item, &format!("{path}/{index}")))
                .collect::<Result<_>>()?,
        ),
        Yaml::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                let key = scalar_key(key, path)?;
                let value = to_json(value, &join(path, &key))?;
                map.insert(key, value);
            }
            Value::Object(map)
        }
        Yaml::Tagged(tagged) => {
            let name = tagged.tag.to_string();
            let name = name.trim_start_matches('!');
            let function = match name {
                "Ref" | "Condition" => name.to_owned(),
                _ => format!("Fn::{name}"),
            };
            let inner = to_json(tagged.value, path)?;
            let mut map = Map::new();
            map.insert(function, inner);
            Value::Object(map)
        }
    })
}

fn number(n: &serde_norway::Number, path: &str) -> Result<Value> {
    if let Some(i) = n.as_i64() {
        return Ok(Value::Number(i.into()));
    }
    if let Some(u) = n.as_u64() {
        return Ok(Value::Number(u.into()));
    }
    n.as_f64()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| Error::InvalidTemplate {
            location: location(path),
            problem: format!("{n} is not a number JSON can hold"),
        })
}

fn scalar_key(key: Yaml, path: &str) -> Result<String> {
    match key {
        Yaml::String(s) => Ok(s),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Number(n) => Ok(n.to_string()),
        other => Err(Error::InvalidTemplate {
            location: location(path),
            problem: format!("mapping keys must be strings, not {other:?}"),
        }),
    }
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
}
