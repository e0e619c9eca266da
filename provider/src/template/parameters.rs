//! The Parameters section: declarations, values from overrides and defaults,
//! and the checks CloudFormation makes on them (AllowedValues,
//! AllowedPattern, lengths, number ranges).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{ResolveOptions, Template, unknown};
use crate::error::{Error, Result};

/// One declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDecl {
    /// Its name.
    pub name: String,
    /// Its type, such as `String`, `Number` or `CommaDelimitedList`.
    pub type_name: String,
    /// The default, as CloudFormation reads it (a string).
    pub default: Option<String>,
    /// The values it may take, when listed.
    pub allowed_values: Vec<String>,
    /// A regular expression the whole value must match.
    pub allowed_pattern: Option<String>,
    /// `allowed_pattern`, anchored and compiled once.
    anchored_pattern: Option<AnchoredPattern>,
    /// The least number of characters.
    pub min_length: Option<u64>,
    /// The greatest number of characters.
    pub max_length: Option<u64>,
    /// The least value of a Number.
    pub min_value: Option<f64>,
    /// The greatest value of a Number.
    pub max_value: Option<f64>,
    /// Whether the value is secret.
    pub no_echo: bool,
}

/// A compiled AllowedPattern that must match the whole value.
#[derive(Debug, Clone)]
struct AnchoredPattern(regex::Regex);

impl PartialEq for AnchoredPattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl ParameterDecl {
    fn is_list(&self) -> bool {
        self.type_name == "CommaDelimitedList" || self.type_name.starts_with("List<")
    }

    fn is_ssm(&self) -> bool {
        self.type_name.starts_with("AWS::SSM::Parameter::Value<")
    }

    fn is_number(&self) -> bool {
        self.type_name == "Number" || self.type_name == "List<Number>"
    }
}

/// Parameter values after overrides, defaults and checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolvedParameters {
    /// Each parameter's value: a string, a list of strings, or a value known only after apply.
    pub values: BTreeMap<String, Value>,
    /// The values of NoEcho parameters, which a plan must never show.
    pub secrets: Vec<String>,
}

/// The declared parameters of `template` (read once, when it is loaded).
pub fn declarations(template: &Template) -> &[ParameterDecl] {
    template.parameters()
}

/// Reads the Parameters section of a template document.
pub(super) fn read_declarations(document: &Map<String, Value>) -> Result<Vec<ParameterDecl>> {
    document
        .get("Parameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, decl)| declaration(name, decl))
        .collect()
}

fn declaration(name: &str, decl: &Value) -> Result<ParameterDecl> {
    let location = format!("Parameters/{name}");
    let invalid = |problem: String| Error::InvalidTemplate {
        location: location.clone(),
        problem,
    };
    let decl = decl
        .as_object()
        .ok_or_else(|| invalid("a parameter is a mapping with a Type".into()))?;
    let type_name = decl
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("Type is missing or not a string".into()))?
        .to_owned();
    let scalar = |key: &str| -> Result<Option<String>> {
        match decl.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => scalar_text(value)
                .map(Some)
                .ok_or_else(|| invalid(format!("{key} must be a string or a number"))),
        }
    };
    let number = |key: &str| -> Result<Option<f64>> {
        scalar(key)?
            .map(|text| {
                text.trim()
                    .parse::<f64>()
                    .map_err(|_| invalid(format!("{key} must be a number, not {text:?}")))
            })
            .transpose()
    };
    let allowed_values = match decl.get("AllowedValues") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                scalar_text(item)
                    .ok_or_else(|| invalid("AllowedValues must list strings or numbers".into()))
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(invalid("AllowedValues must be a list".into())),
    };
    let allowed_pattern = scalar("AllowedPattern")?;
    let anchored_pattern = allowed_pattern
        .as_ref()
        .map(|pattern| {
            regex::Regex::new(&format!("^(?:{pattern})$"))
                .map(AnchoredPattern)
                .map_err(|e| {
                    invalid(format!(
                        "AllowedPattern {pattern:?} is not a regular expression: {e}"
                    ))
                })
        })
        .transpose()?;
    Ok(ParameterDecl {
        name: name.to_owned(),
        default: scalar("Default")?,
        allowed_values,
        allowed_pattern,
        anchored_pattern,
        min_length: number("MinLength")?.map(|n| n as u64),
        max_length: number("MaxLength")?.map(|n| n as u64),
        min_value: number("MinValue")?,
        max_value: number("MaxValue")?,
        no_echo: scalar("NoEcho")?.is_some_and(|v| v.eq_ignore_ascii_case("true")),
        type_name,
    })
}

/// A YAML or JSON scalar as CloudFormation reads it: a string.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The value of each declared parameter: `overrides` first, then the default.
pub fn resolve(
    declarations: &[ParameterDecl],
    overrides: &BTreeMap<String, String>,
    options: &ResolveOptions,
) -> Result<ResolvedParameters> {
    if let Some(stray) = overrides
        .keys()
        .find(|name| !declarations.iter().any(|d| &d.name == *name))
    {
        let declared: Vec<&str> = declarations.iter().map(|d| d.name.as_str()).collect();
        return Err(Error::InvalidTemplate {
            location: "Parameters".into(),
            problem: format!(
                "a value is given for {stray}, which the template does not declare (it declares: {})",
                if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                }
            ),
        });
    }
    let mut resolved = ResolvedParameters::default();
    for decl in declarations {
        let location = format!("Parameters/{}", decl.name);
        if options.unknown_parameters.contains(&decl.name) {
            resolved.values.insert(
                decl.name.clone(),
                unknown(&format!("parameter {} (NoEcho)", decl.name), false),
            );
            continue;
        }
        let text = match overrides.get(&decl.name).or(decl.default.as_ref()) {
            Some(text) => text.clone(),
            None if options.missing_parameters_unknown => {
                resolved.values.insert(
                    decl.name.clone(),
                    unknown(&format!("parameter {}", decl.name), false),
                );
                continue;
            }
            None => {
                return Err(Error::InvalidTemplate {
                    location,
                    problem: format!(
                        "has no Default and no value was given; pass --parameter {}=VALUE",
                        decl.name
                    ),
                });
            }
        };
        check(decl, &text).map_err(|problem| Error::InvalidTemplate {
            location: location.clone(),
            problem,
        })?;
        if decl.no_echo && !text.is_empty() {
            resolved.secrets.push(text.clone());
        }
        let value = if decl.is_ssm() {
            unknown(&format!("SSM parameter {text}"), false)
        } else if decl.is_list() {
            Value::Array(split_list(&text).into_iter().map(Value::String).collect())
        } else {
            Value::String(text)
        };
        resolved.values.insert(decl.name.clone(), value);
    }
    Ok(resolved)
}

fn split_list(text: &str) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split(',').map(str::to_owned).collect()
    }
}

/// Checks `text` against what `decl` allows; the problem names the value
/// unless the parameter is NoEcho.
fn check(decl: &ParameterDecl, text: &str) -> std::result::Result<(), String> {
    let shown = if decl.no_echo {
        "the value (NoEcho)".to_owned()
    } else {
        format!("{text:?}")
    };
    let items = if decl.is_list() {
        split_list(text)
    } else {
        vec![text.to_owned()]
    };
    if !decl.allowed_values.is_empty() && !decl.allowed_values.iter().any(|a| a == text) {
        return Err(format!(
            "{shown} is not one of the AllowedValues: {}",
            decl.allowed_values.join(", ")
        ));
    }
    if let (Some(pattern), Some(anchored)) = (&decl.allowed_pattern, &decl.anchored_pattern) {
        if let Some(bad) = items.iter().find(|item| !anchored.0.is_match(item)) {
            let bad = if decl.no_echo {
                shown.clone()
            } else {
                format!("{bad:?}")
            };
            return Err(format!("{bad} does not match the AllowedPattern {pattern}"));
        }
    }
    let length = text.chars().count() as u64;
    if let Some(min) = decl.min_length.filter(|min| length < *min) {
        return Err(format!("{shown} is shorter than MinLength {min}"));
    }
    if let Some(max) = decl.max_length.filter(|max| length > *max) {
        return Err(format!("{shown} is longer than MaxLength {max}"));
    }
    if decl.is_number() {
        for item in &items {
            let number: f64 = item
                .trim()
                .parse()
                .map_err(|_| format!("{shown} is not a number (the type is {})", decl.type_name))?;
            if decl.min_value.is_some_and(|min| number < min) {
                return Err(format!(
                    "{shown} is less than MinValue {}",
                    decl.min_value.unwrap_or_default()
                ));
            }
            if decl.max_value.is_some_and(|max| number > max) {
                return Err(format!(
                    "{shown} is more than MaxValue {}",
                    decl.max_value.unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(parameters: &str) -> Template {
        Template::parse(
            &format!("Parameters:\n{parameters}\nResources: {{}}\n"),
            "t.yaml",
        )
        .unwrap()
    }

    fn resolve_with(t: &Template, pairs: &[(&str, &str)]) -> Result<ResolvedParameters> {
        let overrides = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve(declarations(t), &overrides, &ResolveOptions::default())
    }

    #[test]
    fn overrides_win_over_defaults_and_lists_split() {
        let t = template(
            "  Level: {Type: String, Default: ERROR, AllowedValues: [ERROR, INFO]}\n  Topics: {Type: CommaDelimitedList, Default: 'a,b'}\n  Count: {Type: Number, Default: 3}",
        );
        let values = resolve_with(&t, &[("Level", "INFO")]).unwrap().values;
        assert_eq!(values["Level"], json!("INFO"));
        assert_eq!(values["Topics"], json!(["a", "b"]));
        assert_eq!(values["Count"], json!("3"));
    }

    #[test]
    fn bad_values_are_refused_with_the_parameter_named() {
        let t = template(
            "  Level: {Type: String, AllowedValues: [ERROR, INFO]}\n  Id: {Type: String, AllowedPattern: '[A-Z0-9]+', Default: T1}\n  Count: {Type: Number, MaxValue: 5, Default: 1}",
        );
        let err = resolve_with(&t, &[("Level", "DEBUG")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "Parameters/Level: \"DEBUG\" is not one of the AllowedValues: ERROR, INFO"
        );
        let err = resolve_with(&t, &[("Level", "INFO"), ("Id", "t1x")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Parameters/Id: \"t1x\" does not match"),
            "{err}"
        );
        let err = resolve_with(&t, &[("Level", "INFO"), ("Count", "9")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than MaxValue 5"), "{err}");
        let err = resolve_with(&t, &[]).unwrap_err().to_string();
        assert_eq!(
            err,
            "Parameters/Level: has no Default and no value was given; pass --parameter Level=VALUE"
        );
        let err = resolve_with(&t, &[("Level", "INFO"), ("Nope", "x")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Nope, which the template does not declare"),
            "{err}"
        );
    }

    #[test]
    fn no_echo_values_are_secrets_and_never_in_messages() {
        let t = template("  Hook: {Type: String, NoEcho: true, AllowedPattern: 'https://.*'}");
        let resolved = resolve_with(&t, &[("Hook", "https://hooks.example/secret")]).unwrap();
        assert_eq!(resolved.secrets, ["https://hooks.example/secret"]);
        let err = resolve_with(&t, &[("Hook", "hunter2")])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn missing_values_may_be_unknown_for_validation() {
        let t = template("  Channel: {Type: String}");
        let options = ResolveOptions {
            missing_parameters_unknown: true,
            ..Default::default()
        };
        let values = resolve(declarations(&t), &BTreeMap::new(), &options)
            .unwrap()
            .values;
        assert!(super::super::unknown_origin(&values["Channel"]).is_some());
    }

    #[test]
    fn a_value_cloudformation_hides_is_unknown_not_its_default() {
        let t = template(
            "  Hook: {Type: String, NoEcho: true, Default: 'https://hooks.chime.aws/incomingwebhooks/a?token=b'}",
        );
        let options = ResolveOptions {
            unknown_parameters: ["Hook".to_owned()].into(),
            ..Default::default()
        };
        let resolved = resolve(declarations(&t), &BTreeMap::new(), &options).unwrap();
        assert!(super::super::unknown_origin(&resolved.values["Hook"]).is_some());
        assert!(resolved.secrets.is_empty(), "{:?}", resolved.secrets);
    }
}
