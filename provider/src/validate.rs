//! Offline checks of a template's custom resources against their types'
//! schemas: what `chatops validate` reports, and what the plan reports for
//! a resource whose deploy would be refused.

use serde_json::Value;

use crate::registry;
use crate::template::{ResolveOptions, Resolver, Template};

/// One finding of [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where: `Resources/Alerts/Properties/SlackChannelId`, `Parameters/Env`, ...
    pub location: String,
    /// What is wrong, and what to do.
    pub problem: String,
    /// False for a warning that does not fail validation.
    pub is_error: bool,
}

/// What [`validate`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validation {
    /// The custom resources of this provider's types that were checked.
    pub checked: Vec<(String, String)>,
    /// Problems and warnings, in template order.
    pub findings: Vec<Finding>,
}

impl Validation {
    /// True when nothing is wrong (warnings aside).
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.is_error)
    }
}

/// Checks every custom resource of `template` against its schema, with the
/// parameters `resolver` was made with, whether or not its Condition holds.
pub fn validate(template: &Template, resolver: &Resolver<'_>) -> Validation {
    let ours = registry::names();
    let mut validation = Validation::default();
    for (location, problem) in template.warnings() {
        validation.findings.push(Finding {
            location,
            problem,
            is_error: false,
        });
    }
    for (logical_id, type_name) in template.resource_types() {
        let location = format!("Resources/{logical_id}");
        if let Err(e) = resolver.exists(logical_id) {
            validation.findings.push(error_finding(e));
        }
        if !ours.contains(&type_name) {
            if type_name.starts_with("Custom::") {
                let close = ours
                    .iter()
                    .filter(|known| strsim::levenshtein(known, type_name) <= 3)
                    .min_by_key(|known| strsim::levenshtein(known, type_name));
                validation.findings.push(match close {
                    Some(known) => Finding {
                        location: format!("{location}/Type"),
                        problem: format!(
                            "{type_name} is not a type of this provider; did you mean {known}?"
                        ),
                        is_error: true,
                    },
                    None => Finding {
                        location: format!("{location}/Type"),
                        problem: format!(
                            "{type_name} is not a type of this provider, so it is not checked \
                             (this provider handles {})",
                            ours.join(", ")
                        ),
                        is_error: false,
                    },
                });
            }
            continue;
        }
        validation
            .checked
            .push((logical_id.to_owned(), type_name.to_owned()));
        match resolver.resource_always(logical_id) {
            Err(e) => validation.findings.push(error_finding(e)),
            Ok(resource) => {
                if resource.properties.get("ServiceToken").is_none() {
                    validation.findings.push(Finding {
                        location: format!("{location}/Properties/ServiceToken"),
                        problem: "is required for every custom resource; set it to the provider's \
                                  SNS topic ARN (output ServiceToken of cfn-templates/provider.yaml)"
                            .to_owned(),
                        is_error: true,
                    });
                }
                // ServiceToken steers CloudFormation; it is no property of the resource.
                let mut properties = resource.properties.clone();
                if let Some(map) = properties.as_object_mut() {
                    map.remove("ServiceToken");
                }
                let problems = registry::by_name(type_name)
                    .map(|t| t.problems(&properties))
                    .unwrap_or_default();
                for problem in problems {
                    let (path, message) = problem.split_once(": ").unwrap_or(("", &problem));
                    validation.findings.push(Finding {
                        location: if path.is_empty() {
                            format!("{location}/Properties")
                        } else {
                            format!("{location}/Properties/{path}")
                        },
                        problem: message.to_owned(),
                        is_error: true,
                    });
                }
            }
        }
    }
    for finding in attribute_findings(template) {
        if !validation.findings.contains(&finding) {
            validation.findings.push(finding);
        }
    }
    validation
}

/// `Fn::GetAtt` (and `${Resource.Attribute}` in `Fn::Sub`) of an attribute
/// that a resource of this provider's types does not have, anywhere in the
/// template (other resources and Outputs included).
pub fn attribute_findings(template: &Template) -> Vec<Finding> {
    let types = template.resource_types();
    let mut findings = Vec::new();
    let mut check = |target: &str, path: &str| {
        let Some((logical_id, attribute)) = target.split_once('.') else {
            return;
        };
        let problem = types
            .get(logical_id)
            .and_then(|t| registry::attribute_problem(t, attribute));
        if let Some(problem) = problem {
            findings.push(Finding {
                location: path.to_owned(),
                problem: format!("Fn::GetAtt {logical_id}.{attribute}: {problem}"),
                is_error: true,
            });
        }
    };
    fn walk(value: &Value, path: &str, check: &mut dyn FnMut(&str, &str)) {
        match value {
            Value::Object(map) => {
                if let (1, Some(argument)) = (map.len(), map.get("Fn::GetAtt")) {
                    match argument {
                        Value::String(target) => check(target, path),
                        Value::Array(items) => {
                            if let [Value::String(id), Value::String(attribute)] = items.as_slice()
                            {
                                check(&format!("{id}.{attribute}"), path);
                            }
                        }
                        _ => {}
                    }
                    return;
                }
                if let (1, Some(argument)) = (map.len(), map.get("Fn::Sub")) {
                    let text = match argument {
                        Value::String(text) => Some(text.as_str()),
                        Value::Array(items) => items.first().and_then(Value::as_str),
                        _ => None,
                    };
                    for variable in text.map(sub_variables).unwrap_or_default() {
                        check(&variable, path);
                    }
                }
                for (key, item) in map {
                    let here = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}/{key}")
                    };
                    walk(item, &here, check);
                }
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, item)| walk(item, &format!("{path}/{i}"), check)),
            _ => {}
        }
    }
    for section in ["Resources", "Outputs"] {
        walk(
            &Value::Object(template.section(section).clone()),
            section,
            &mut check,
        );
    }
    findings
}

/// The `${Name}` variables of a `Fn::Sub` text (not the `${!Literal}` ones).
fn sub_variables(text: &str) -> Vec<String> {
    let mut variables = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            variables.push(name.trim().to_owned());
        }
        rest = &after[end + 1..];
    }
    variables
}

fn error_finding(error: crate::Error) -> Finding {
    match error {
        crate::Error::InvalidTemplate { location, problem } => Finding {
            location,
            problem,
            is_error: true,
        },
        other => Finding {
            location: String::new(),
            problem: other.to_string(),
            is_error: true,
        },
    }
}

/// The options `validate` resolves with: a parameter without a value is
/// known only at deploy time, not an error.
pub fn options() -> ResolveOptions {
    ResolveOptions {
        missing_parameters_unknown: true,
        ..ResolveOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Pseudo;
    use std::collections::BTreeMap;

    fn validate_text(text: &str) -> Validation {
        let template = Template::parse(text, "t.yaml").unwrap();
        let resolver = template
            .resolver(
                Pseudo::unnamed("100000000001", "us-east-1"),
                &BTreeMap::new(),
                options(),
            )
            .unwrap();
        validate(&template, &resolver)
    }

    const GOOD: &str = r#"
Parameters:
  Channel: {Type: String}
Resources:
  Role: {Type: AWS::IAM::Role}
  Alerts:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops
      ConfigurationName: alerts
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: !Ref Channel
      IamRoleArn: !GetAtt Role.Arn
      UserRoleRequired: "false"
"#;

    #[test]
    fn values_known_later_are_not_judged() {
        let validation = validate_text(GOOD);
        assert!(validation.is_valid(), "{:?}", validation.findings);
        assert_eq!(
            validation.checked,
            [(
                "Alerts".to_owned(),
                "Custom::ChatbotSlackChannel".to_owned()
            )]
        );
    }

    #[test]
    fn a_region_must_serve_the_types_api() {
        let with_region = |region: &str| {
            GOOD.replace(
                "      UserRoleRequired",
                &format!("      Region: {region}\n      UserRoleRequired"),
            )
        };
        assert!(validate_text(&with_region("us-west-2")).is_valid());
        let validation = validate_text(&with_region("us-east-1"));
        let finding = validation
            .findings
            .iter()
            .find(|f| f.location == "Resources/Alerts/Properties/Region")
            .unwrap_or_else(|| panic!("{:?}", validation.findings));
        assert!(
            finding.is_error
                && finding
                    .problem
                    .contains("us-east-2, us-west-2, eu-west-1, ap-southeast-1"),
            "{finding:?}"
        );
        // A Region known only at deploy time is not judged.
        assert!(
            validate_text(&with_region("!Ref AWS::NoValue"))
                .findings
                .len()
                <= 1
        );
    }

    #[test]
    fn bad_properties_and_types_are_located() {
        let text = GOOD
            .replace(
                "ConfigurationName: alerts",
                "ConfigurationName: \"has spaces\"",
            )
            .replace("UserRoleRequired", "UserRoleRequird")
            + "  Typo:\n    Type: Custom::ChatbotSlackChanel\n  Other:\n    Type: Custom::SomethingElse\n";
        let validation = validate_text(&text);
        assert!(!validation.is_valid());
        let located: Vec<&str> = validation
            .findings
            .iter()
            .map(|f| f.location.as_str())
            .collect();
        assert!(
            located.contains(&"Resources/Alerts/Properties/ConfigurationName"),
            "{located:?}"
        );
        assert!(
            located.contains(&"Resources/Alerts/Properties/UserRoleRequird"),
            "{located:?}"
        );
        let typo = validation
            .findings
            .iter()
            .find(|f| f.location == "Resources/Typo/Type")
            .unwrap();
        assert!(
            typo.is_error
                && typo
                    .problem
                    .contains("did you mean Custom::ChatbotSlackChannel?")
        );
        let other = validation
            .findings
            .iter()
            .find(|f| f.location == "Resources/Other/Type")
            .unwrap();
        assert!(!other.is_error);
    }

    #[test]
    fn rules_between_properties_apply_once_everything_is_known() {
        let channel = |flag: &str| {
            format!(
                "Resources:\n  Cases:\n    Type: Custom::SupportAppSlackChannel\n    Properties:\n      \
                 ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops\n      TeamId: T0CHATOPS1\n      \
                 ChannelId: C0CASES1\n      ChannelRoleArn: arn:aws:iam::100000000001:role/SupportAppChannelRole\n      \
                 NotifyOnCaseSeverity: high\n      NotifyOnResolveCase: {flag}\n"
            )
        };
        let validation = validate_text(&channel("false"));
        assert_eq!(validation.findings.len(), 1, "{:?}", validation.findings);
        assert_eq!(
            validation.findings[0].location,
            "Resources/Cases/Properties/NotifyOnCaseSeverity"
        );
        assert!(
            validation.findings[0]
                .problem
                .contains("NotifyOnResolveCase")
        );
        assert!(validate_text(&channel("true")).is_valid());
        // A flag known only at deploy time is not judged; a role known only
        // then does not keep the rule from being checked.
        let unknown = channel("!Ref Flag").replace(
            "Resources:",
            "Parameters:\n  Flag: {Type: String}\nResources:",
        );
        assert!(validate_text(&unknown).is_valid());
        let role_later = channel("false").replace(
            "arn:aws:iam::100000000001:role/SupportAppChannelRole",
            "!GetAtt Role.Arn",
        ) + "  Role:\n    Type: AWS::IAM::Role\n";
        let validation = validate_text(&role_later);
        assert_eq!(validation.findings.len(), 1, "{:?}", validation.findings);
    }

    #[test]
    fn get_att_names_are_checked_per_type_everywhere() {
        let text = GOOD.to_owned()
            + "  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Sub \"${Alerts.Bogus}\"\n\
               Outputs:\n  A:\n    Value: !GetAtt Alerts.Arn\n  B:\n    Value: !GetAtt [Alerts, Nope]\n  \
               C:\n    Value: !GetAtt Role.Anything\n";
        let validation = validate_text(&text);
        let errors: Vec<(&str, &str)> = validation
            .findings
            .iter()
            .filter(|f| f.is_error)
            .map(|f| (f.location.as_str(), f.problem.as_str()))
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].0, "Resources/Topic/Properties/DisplayName");
        assert_eq!(errors[1].0, "Outputs/B/Value");
        assert!(
            errors[1].1.contains("has no attribute \"Nope\"")
                && errors[1].1.contains("can read Arn, ConfigurationName"),
            "{errors:?}"
        );
    }

    #[test]
    fn unquoted_yaml_1_1_booleans_validate() {
        let validation =
            validate_text(&GOOD.replace("UserRoleRequired: \"false\"", "UserRoleRequired: No"));
        assert!(validation.is_valid(), "{:?}", validation.findings);
        let validation =
            validate_text(&GOOD.replace("UserRoleRequired: \"false\"", "UserRoleRequired: \"No\""));
        assert!(
            !validation.is_valid(),
            "a quoted No is text, as CloudFormation reads it"
        );
    }

    #[test]
    fn service_token_is_required_but_not_a_schema_property() {
        let validation = validate_text(&GOOD.replace(
            "      ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops\n",
            "",
        ));
        assert_eq!(validation.findings.len(), 1, "{:?}", validation.findings);
        assert_eq!(
            validation.findings[0].location,
            "Resources/Alerts/Properties/ServiceToken"
        );
    }

    #[test]
    fn unsupported_intrinsics_are_findings_with_their_location() {
        let text = GOOD.replace("SlackChannelId: !Ref Channel", "SlackChannelId: !Base64 x");
        let validation = validate_text(&text);
        let finding = &validation.findings[0];
        assert_eq!(
            finding.location,
            "Resources/Alerts/Properties/SlackChannelId"
        );
        assert!(
            finding.problem.starts_with("Fn::Base64 is not supported"),
            "{}",
            finding.problem
        );
    }
}
