//! The template `chatops import` writes for what no stack owns: one resource
//! per type and natural key, whatever accounts it is found in. A value that
//! holds the account id is written with `${AWS::AccountId}`; one that still
//! differs between accounts becomes a parameter whose default is the most
//! common value, with per-account overrides for the others; a resource found
//! in only some accounts gets a condition on a parameter. Secrets the
//! service never returns become NoEcho parameters the user fills in.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::yaml::{self, Entry, Node, string};
use super::{Found, declared_properties};

/// What [`write`] produces.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The template, as YAML.
    pub template: String,
    /// Per account: the parameter values that differ from the defaults
    /// (secrets with an empty value, to fill in).
    pub overrides: BTreeMap<String, BTreeMap<String, String>>,
    /// The NoEcho parameters to fill in, and the accounts each is for.
    pub secrets: BTreeMap<String, Vec<String>>,
    /// Which logical id declares each (account, type, natural key).
    pub declared: BTreeMap<(String, String, String), String>,
}

impl Written {
    /// The logical id that declares `found`, when the template declares it.
    pub fn logical_id_of(&self, found: &Found) -> Option<&str> {
        self.declared
            .get(&(
                found.account_id.clone(),
                found.type_name.to_owned(),
                found.natural_key.clone(),
            ))
            .map(String::as_str)
    }

    /// The accounts the template is for: those with something to adopt.
    pub fn accounts(&self) -> Vec<&str> {
        self.overrides.keys().map(String::as_str).collect()
    }
}

const ACCOUNT_VARIABLE: &str = "${AWS::AccountId}";

/// The template declaring `found` (what no stack owns), with `Adopt: true`
/// on each resource. Fails, naming the property, when a value differs
/// between accounts in a way no parameter can carry (run per account then).
pub fn write(found: &[&Found]) -> Result<Written, String> {
    let accounts: BTreeSet<&str> = found.iter().map(|f| f.account_id.as_str()).collect();
    let mut groups: BTreeMap<(&str, String), BTreeMap<&str, &Found>> = BTreeMap::new();
    for item in found {
        let key = item.natural_key.replace(&item.account_id, ACCOUNT_VARIABLE);
        groups
            .entry((item.type_name, key))
            .or_default()
            .insert(item.account_id.as_str(), item);
    }
    let mut written = Written {
        template: String::new(),
        overrides: accounts
            .iter()
            .map(|a| (a.to_string(), BTreeMap::new()))
            .collect(),
        secrets: BTreeMap::new(),
        declared: BTreeMap::new(),
    };
    let mut parameters = vec![Entry::new(
        "ServiceToken",
        Node::Map(vec![
            Entry::new("Type", string("String")),
            Entry::new(
                "Description",
                string(
                    "The ChatOps provider's SNS topic ARN (output ServiceToken of cfn-templates/provider.yaml).",
                ),
            ),
            Entry::new("AllowedPattern", string("^arn:aws[a-z-]*:(sns|lambda):.+$")),
        ]),
    )];
    let mut conditions = Vec::new();
    let mut resources = Vec::new();
    let mut used_ids = BTreeSet::new();
    for ((type_name, key), present) in &groups {
        let logical_id = logical_id(type_name, key, &mut used_ids);
        for item in present.values() {
            written.declared.insert(
                (
                    item.account_id.clone(),
                    item.type_name.to_owned(),
                    item.natural_key.clone(),
                ),
                logical_id.clone(),
            );
        }
        let mut resource = vec![Entry::new("Type", string(type_name))];
        if present.len() < accounts.len() {
            let parameter = format!("{logical_id}Exists");
            let condition = format!("{logical_id}InAccount");
            let per_account: BTreeMap<&str, String> = accounts
                .iter()
                .map(|a| (*a, present.contains_key(a).to_string()))
                .collect();
            let default = add_overrides(&mut written, &parameter, &per_account);
            parameters.push(Entry::new(
                &parameter,
                Node::Map(vec![
                    Entry::new("Type", string("String")),
                    Entry::new(
                        "Description",
                        string(&format!(
                            "Whether {logical_id} exists in the account (true in {}).",
                            present.keys().copied().collect::<Vec<_>>().join(", ")
                        )),
                    ),
                    Entry::new(
                        "AllowedValues",
                        Node::List(vec![string("true"), string("false")]),
                    ),
                    Entry::new("Default", string(&default)),
                ]),
            ));
            conditions.push(Entry::new(
                &condition,
                Node::EqualsRef(parameter, "true".to_owned()),
            ));
            resource.push(Entry::new("Condition", string(&condition)));
        }
        let mut properties = vec![
            Entry::new("ServiceToken", Node::Ref("ServiceToken".to_owned())),
            Entry::new(crate::properties::ADOPT, Node::Scalar(Value::Bool(true))),
        ];
        let declared: BTreeMap<&str, BTreeMap<String, Value>> = present
            .iter()
            .map(|(account, item)| (*account, declared_properties(item)))
            .collect();
        let names: BTreeSet<&String> = declared.values().flat_map(|p| p.keys()).collect();
        for name in names {
            if name == crate::properties::ADOPT {
                continue;
            }
            let values: BTreeMap<&str, Option<&Value>> = declared
                .iter()
                .map(|(account, props)| (*account, props.get(name)))
                .collect();
            let nodes: Vec<Option<Node>> = values
                .iter()
                .map(|(account, value)| value.map(|v| generalized(v, account)))
                .collect();
            if nodes.windows(2).all(|w| w[0] == w[1]) {
                if let Some(Some(node)) = nodes.into_iter().next() {
                    properties.push(Entry::new(name, node));
                }
                continue;
            }
            let parameter = format!("{logical_id}{name}");
            let (kind, per_account) = parameter_values(&values).ok_or_else(|| {
                format!(
                    "{logical_id} ({type_name} {key:?}) has a {name} that differs between accounts in a way \
                     a template parameter cannot carry; run chatops import with --per-account to write one \
                     template per account"
                )
            })?;
            let default = add_overrides(&mut written, &parameter, &per_account);
            parameters.push(Entry::new(
                &parameter,
                Node::Map(vec![
                    Entry::new("Type", string(kind)),
                    Entry::new(
                        "Description",
                        string(&format!(
                            "{name} of {logical_id}: it differs between accounts (overridden per account)."
                        )),
                    ),
                    Entry::new("Default", string(&default)),
                ]),
            ));
            properties.push(Entry::new(name, Node::Ref(parameter)));
        }
        let type_secrets = present.values().next().map(|f| f.write_only).unwrap_or(&[]);
        for secret in type_secrets {
            let parameter = format!("{logical_id}{secret}");
            written.secrets.insert(
                parameter.clone(),
                present.keys().map(|a| a.to_string()).collect(),
            );
            for account in present.keys() {
                if let Some(overrides) = written.overrides.get_mut(*account) {
                    overrides.insert(parameter.clone(), String::new());
                }
            }
            parameters.push(Entry {
                comment: vec![format!(
                    "FILL IN: the service never returns {secret}; give it per account (NoEcho, never shown)."
                )],
                ..Entry::new(
                    &parameter,
                    Node::Map(vec![
                        Entry::new("Type", string("String")),
                        Entry::new("NoEcho", Node::Scalar(Value::Bool(true))),
                        Entry::new(
                            "Description",
                            string(&format!(
                                "{secret} of {logical_id}, which the service never returns: fill it in \
                                 for each account ({}).",
                                present.keys().copied().collect::<Vec<_>>().join(", ")
                            )),
                        ),
                        Entry::new("Default", string("")),
                    ]),
                )
            });
            properties.push(Entry {
                comment: vec![format!(
                    "A secret the service never returns: the NoEcho parameter {parameter} must be filled in."
                )],
                ..Entry::new(secret, Node::Ref(parameter))
            });
        }
        resource.push(Entry::new("Properties", Node::Map(properties)));
        resources.push(Entry::new(&logical_id, Node::Map(resource)));
    }
    let accounts_text = accounts.iter().copied().collect::<Vec<_>>().join(", ");
    let mut root = vec![
        Entry::new("AWSTemplateFormatVersion", string("2010-09-09")),
        Entry::new(
            "Description",
            Node::Folded(format!(
                "Chat-ops configurations that existed in account(s) {accounts_text} without a stack, written \
                 by chatops import with their live settings. Each has Adopt: true, so the first deploy \
                 takes it over instead of failing on its taken name; chatops plan shows each as an adoption."
            )),
        ),
        Entry::new("Parameters", Node::Map(parameters)),
    ];
    if !conditions.is_empty() {
        root.push(Entry::new("Conditions", Node::Map(conditions)));
    }
    root.push(Entry::new("Resources", Node::Map(resources)));
    let mut header = vec![
        "Written by chatops import. Deploy it as a StackSet (or a stack per account) with the parameter"
            .to_owned(),
        "overrides written beside it; review with chatops plan first.".to_owned(),
    ];
    if !written.secrets.is_empty() {
        header.push(format!(
            "FILL IN before deploying (NoEcho parameters the service never returns): {}.",
            written
                .secrets
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    written.template = yaml::render(&header, &root);
    Ok(written)
}

/// A logical id from the type and the natural key: letters and digits only,
/// unique in the template.
fn logical_id(type_name: &str, key: &str, used: &mut BTreeSet<String>) -> String {
    let prefix = type_name.trim_start_matches("Custom::");
    let suffix: String = key
        .replace(ACCOUNT_VARIABLE, " ")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    let base = if prefix.to_lowercase().ends_with(&suffix.to_lowercase()) {
        prefix.to_owned()
    } else {
        let mut id = format!("{prefix}{suffix}");
        id.truncate(200);
        id
    };
    let mut id = base.clone();
    let mut n = 2;
    while !used.insert(id.clone()) {
        id = format!("{base}{n}");
        n += 1;
    }
    id
}

/// `value` as the template writes it for `account`: strings holding the
/// account id become `!Sub` with `${AWS::AccountId}` (and the partition),
/// so that one template fits every account.
fn generalized(value: &Value, account: &str) -> Node {
    match value {
        Value::String(text) if text.contains(account) => {
            // `${` is literal in Fn::Sub only when written `${!`.
            let mut sub = text.replace("${", "${!").replace(account, ACCOUNT_VARIABLE);
            if let Some(rest) = sub.strip_prefix("arn:aws:") {
                sub = format!("arn:${{AWS::Partition}}:{rest}");
            }
            Node::Sub(sub)
        }
        Value::Array(items) => Node::List(items.iter().map(|v| generalized(v, account)).collect()),
        Value::Object(map) => Node::Map(
            map.iter()
                .map(|(k, v)| Entry::new(k, generalized(v, account)))
                .collect(),
        ),
        other => Node::Scalar(other.clone()),
    }
}

/// The parameter type and each account's value for a property that differs:
/// scalars as `String`, lists of strings as `CommaDelimitedList`; `None`
/// for what a parameter cannot carry (objects, a value absent in one account,
/// an empty list, a list item with a comma).
fn parameter_values<'a>(
    values: &BTreeMap<&'a str, Option<&Value>>,
) -> Option<(&'static str, BTreeMap<&'a str, String>)> {
    let all_lists = values.values().all(|v| matches!(v, Some(Value::Array(_))));
    let mut texts = BTreeMap::new();
    for (account, value) in values {
        let text = match (*value)? {
            Value::Array(items) if all_lists && !items.is_empty() => {
                let items: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                let items = items?;
                if items.iter().any(|i| i.contains(',')) {
                    return None;
                }
                items.join(",")
            }
            Value::String(text) => text.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        texts.insert(*account, text);
    }
    Some((
        if all_lists {
            "CommaDelimitedList"
        } else {
            "String"
        },
        texts,
    ))
}

/// Records the overrides of `parameter` for the accounts whose value is not
/// the most common one, and returns that one (the default).
fn add_overrides(
    written: &mut Written,
    parameter: &str,
    per_account: &BTreeMap<&str, String>,
) -> String {
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for value in per_account.values() {
        *counts.entry(value).or_default() += 1;
    }
    // The most common value; among equals, the first account's.
    let default = per_account
        .values()
        .max_by_key(|v| (counts[v], std::cmp::Reverse(first_index(per_account, v))))
        .cloned()
        .unwrap_or_default();
    for (account, value) in per_account {
        if *value != default {
            if let Some(overrides) = written.overrides.get_mut(*account) {
                overrides.insert(parameter.to_owned(), value.clone());
            }
        }
    }
    default
}

fn first_index(per_account: &BTreeMap<&str, String>, value: &String) -> usize {
    per_account
        .values()
        .position(|v| v == value)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::Holder;
    use super::*;
    use crate::template::{Pseudo, ResolveOptions, Template};
    use serde_json::json;

    fn slack(account: &str, name: &str, level: &str) -> Found {
        Found {
            account_id: account.into(),
            type_name: "Custom::ChatbotSlackChannel",
            natural_key: name.into(),
            physical_id: format!(
                "arn:aws:chatbot::{account}:chat-configuration/slack-channel/{name}"
            ),
            properties: json!({
                "ConfigurationName": name,
                "SlackWorkspaceId": "T0CHATOPS1",
                "SlackChannelId": "C0ALERTS1",
                "IamRoleArn": format!("arn:aws:iam::{account}:role/chatops-chatbot-channel"),
                "SnsTopicArns": [format!("arn:aws:sns:us-east-1:{account}:chatops-alerts")],
                "LoggingLevel": level,
                "GuardrailPolicies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                "UserRoleRequired": false,
                "AccountId": account,
                "Region": "us-east-2",
            }),
            holder: Holder::Nobody,
            write_only: &[],
        }
    }

    fn chime(account: &str) -> Found {
        Found {
            account_id: account.into(),
            type_name: "Custom::ChatbotChimeWebhook",
            natural_key: "oncall".into(),
            physical_id: format!(
                "arn:aws:chatbot::{account}:chat-configuration/chime-webhook/oncall"
            ),
            properties: json!({
                "ConfigurationName": "oncall",
                "IamRoleArn": format!("arn:aws:iam::{account}:role/chatops-chatbot-notifications"),
                "SnsTopicArns": [format!("arn:aws:sns:us-east-1:{account}:chatops-alerts")],
                "LoggingLevel": "ERROR",
            }),
            holder: Holder::Nobody,
            write_only: &["WebhookUrl", "WebhookDescription"],
        }
    }

    /// The properties of `logical_id` as CloudFormation resolves the template in `account`.
    fn resolved(written: &Written, account: &str, logical_id: &str) -> Option<Value> {
        let template = Template::parse(&written.template, "import.yaml").unwrap();
        let mut values: BTreeMap<String, String> = [(
            "ServiceToken".to_owned(),
            "arn:aws:sns:us-east-1:123456789012:t".to_owned(),
        )]
        .into();
        values.extend(written.overrides[account].clone());
        let resolver = template
            .resolver(
                Pseudo::new(account, "us-east-1", "import"),
                &values,
                ResolveOptions::default(),
            )
            .unwrap();
        resolver.resource(logical_id).unwrap().map(|r| r.properties)
    }

    #[test]
    fn one_template_gives_each_account_its_live_settings() {
        let found = [
            slack("100000000001", "alerts-100000000001", "ERROR"),
            slack("100000000002", "alerts-100000000002", "ERROR"),
            slack("100000000003", "alerts-100000000003", "INFO"),
            chime("100000000002"),
        ];
        let refs: Vec<&Found> = found.iter().collect();
        let written = write(&refs).unwrap();
        assert!(
            written
                .template
                .contains("!Sub \"alerts-${AWS::AccountId}\""),
            "{}",
            written.template
        );
        assert!(
            written.template.contains(
                "!Sub \"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel\""
            ),
            "{}",
            written.template
        );
        assert_eq!(
            written.overrides["100000000003"].get("ChatbotSlackChannelAlertsLoggingLevel"),
            Some(&"INFO".to_owned())
        );
        assert_eq!(
            written.overrides["100000000001"].get("ChatbotSlackChannelAlertsLoggingLevel"),
            None
        );
        for item in &found[..3] {
            let props = resolved(&written, &item.account_id, "ChatbotSlackChannelAlerts").unwrap();
            for name in [
                "ConfigurationName",
                "IamRoleArn",
                "SnsTopicArns",
                "LoggingLevel",
            ] {
                assert_eq!(
                    props[name], item.properties[name],
                    "{name} in {}",
                    item.account_id
                );
            }
            assert_eq!(props["Adopt"], json!(true));
            assert!(props.get("AccountId").is_none() && props.get("Region").is_none());
        }
        // The Chime webhook is only in one account: a condition, and its secrets are parameters to fill in.
        assert_eq!(
            resolved(&written, "100000000001", "ChatbotChimeWebhookOncall"),
            None
        );
        let chime_props = resolved(&written, "100000000002", "ChatbotChimeWebhookOncall").unwrap();
        assert_eq!(chime_props["ConfigurationName"], json!("oncall"));
        assert_eq!(
            written.secrets["ChatbotChimeWebhookOncallWebhookUrl"],
            ["100000000002"]
        );
        assert_eq!(
            written.overrides["100000000002"]["ChatbotChimeWebhookOncallWebhookUrl"],
            ""
        );
        assert!(written.template.contains("NoEcho: true"));
        assert!(written.template.contains("# FILL IN"));
        assert_eq!(
            written.logical_id_of(&found[3]),
            Some("ChatbotChimeWebhookOncall")
        );
    }

    #[test]
    fn what_no_parameter_carries_is_refused_naming_the_property() {
        let mut other = slack("100000000002", "alerts", "ERROR");
        other.properties["Tags"] = json!([{"Key": "team", "Value": "b"}]);
        let mut first = slack("100000000001", "alerts", "ERROR");
        first.properties["Tags"] = json!([{"Key": "team", "Value": "a"}]);
        let error = write(&[&first, &other]).unwrap_err();
        assert!(
            error.contains("Tags") && error.contains("--per-account"),
            "{error}"
        );
    }

    #[test]
    fn logical_ids_are_alphanumeric_and_unique() {
        let mut used = BTreeSet::new();
        assert_eq!(
            logical_id(
                "Custom::ChatbotSlackChannel",
                "alerts-${AWS::AccountId}",
                &mut used
            ),
            "ChatbotSlackChannelAlerts"
        );
        assert_eq!(
            logical_id("Custom::ChatbotSlackChannel", "alerts_", &mut used),
            "ChatbotSlackChannelAlerts2"
        );
        assert_eq!(
            logical_id("Custom::SupportAppAccountAlias", "account-alias", &mut used),
            "SupportAppAccountAlias"
        );
    }
}
