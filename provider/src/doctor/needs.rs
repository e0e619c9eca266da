//! What a template needs in one account before it can deploy there: the
//! Slack workspaces and Teams teams its Chatbot channels use, the Support App
//! workspaces and channels it adds, the channel roles it passes and the SNS
//! topics it subscribes, read from its resources resolved for that account.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::Result;
use crate::template::{Pseudo, ResolveOptions, Template, contains_unknown};

/// A channel role a configuration passes to its service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChannelRole {
    /// The resource that names it.
    pub logical_id: String,
    /// `IamRoleArn` or `ChannelRoleArn`.
    pub property: &'static str,
    /// The role's ARN.
    pub arn: String,
    /// The service that assumes it, such as `chatbot.amazonaws.com`.
    pub service: &'static str,
    /// The guardrail policies that cap it (`GuardrailPolicies`); `None` for
    /// a type that takes none.
    pub guardrails: Option<Vec<String>>,
    /// `AllowElevatedPermissions`.
    pub allow_elevated: bool,
}

/// What the template needs in one account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// Slack workspaces of Chatbot channels → the resources in them.
    pub slack_workspaces: BTreeMap<String, Vec<String>>,
    /// (team, tenant) of Chatbot Teams channels → the resources in them.
    pub teams: BTreeMap<(String, String), Vec<String>>,
    /// Support App workspaces the template registers itself
    /// (`Custom::SupportAppSlackWorkspace`) → those resources.
    pub support_workspaces: BTreeMap<String, Vec<String>>,
    /// Support App channels: (team, channel) → the resource.
    pub support_channels: BTreeMap<(String, String), String>,
    /// Channel roles, one entry per resource that passes one.
    pub channel_roles: Vec<ChannelRole>,
    /// SNS topics → the resources that subscribe Chatbot to them.
    pub topics: BTreeMap<String, Vec<String>>,
    /// Values known only after deploy (a `Fn::GetAtt`), which cannot be checked now.
    pub unknown: BTreeSet<String>,
}

impl Needs {
    /// The Support App workspaces the template needs: those it registers
    /// and those its channels are in.
    pub fn support_team_ids(&self) -> BTreeSet<&str> {
        self.support_workspaces
            .keys()
            .map(String::as_str)
            .chain(self.support_channels.keys().map(|(team, _)| team.as_str()))
            .collect()
    }

    /// What `template` with `parameters` needs in `account_id`, its stacks in `region`.
    pub fn of(
        template: &Template,
        parameters: &BTreeMap<String, String>,
        account_id: &str,
        region: &str,
    ) -> Result<Needs> {
        let resolver = template.resolver(
            Pseudo::unnamed(account_id, region),
            parameters,
            ResolveOptions::default(),
        )?;
        let mut needs = Needs::default();
        for (logical_id, type_name) in template.resource_types() {
            if !type_name.starts_with("Custom::") {
                continue;
            }
            let Some(resource) = resolver.resource(logical_id)? else {
                continue;
            };
            needs.add(logical_id, type_name, &resource.properties);
        }
        Ok(needs)
    }

    fn add(&mut self, logical_id: &str, type_name: &str, properties: &Value) {
        let text = |name: &str| -> Option<String> {
            let value = properties.get(name)?;
            if contains_unknown(value) {
                return None;
            }
            value.as_str().map(str::to_owned)
        };
        let list = |name: &str| -> Vec<String> {
            match properties.get(name) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter(|v| !contains_unknown(v))
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            }
        };
        for (name, value) in properties.as_object().into_iter().flatten() {
            if contains_unknown(value) {
                self.unknown.insert(format!("{logical_id}.{name}"));
            }
        }
        let owner = logical_id.to_owned();
        let chatbot_role = |guardrails: bool| {
            text("IamRoleArn").map(|arn| ChannelRole {
                logical_id: owner.clone(),
                property: "IamRoleArn",
                arn,
                service: "chatbot.amazonaws.com",
                guardrails: guardrails.then(|| list("GuardrailPolicies")),
                allow_elevated: matches!(
                    properties.get("AllowElevatedPermissions"),
                    Some(Value::Bool(true))
                ) || properties
                    .get("AllowElevatedPermissions")
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            })
        };
        let mut topics = false;
        match type_name {
            "Custom::ChatbotSlackChannel" => {
                if let Some(team) = text("SlackWorkspaceId") {
                    self.slack_workspaces
                        .entry(team)
                        .or_default()
                        .push(owner.clone());
                }
                self.channel_roles.extend(chatbot_role(true));
                topics = true;
            }
            "Custom::ChatbotTeamsChannel" => {
                if let (Some(team), Some(tenant)) = (text("TeamId"), text("TeamsTenantId")) {
                    self.teams
                        .entry((team, tenant))
                        .or_default()
                        .push(owner.clone());
                }
                self.channel_roles.extend(chatbot_role(true));
                topics = true;
            }
            "Custom::ChatbotChimeWebhook" => {
                self.channel_roles.extend(chatbot_role(false));
                topics = true;
            }
            "Custom::SupportAppSlackWorkspace" => {
                if let Some(team) = text("TeamId") {
                    self.support_workspaces
                        .entry(team)
                        .or_default()
                        .push(owner.clone());
                }
            }
            "Custom::SupportAppSlackChannel" => {
                if let (Some(team), Some(channel)) = (text("TeamId"), text("ChannelId")) {
                    self.support_channels.insert((team, channel), owner.clone());
                }
                if let Some(arn) = text("ChannelRoleArn") {
                    self.channel_roles.push(ChannelRole {
                        logical_id: owner.clone(),
                        property: "ChannelRoleArn",
                        arn,
                        service: "supportapp.amazonaws.com",
                        guardrails: None,
                        allow_elevated: false,
                    });
                }
            }
            _ => {}
        }
        if topics {
            for topic in list("SnsTopicArns") {
                self.topics.entry(topic).or_default().push(owner.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  Team: {Type: String, Default: T0CHATOPS1}
Resources:
  Alerts:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops-provider
      ConfigurationName: alerts
      SlackWorkspaceId: !Ref Team
      SlackChannelId: C0ALERTS1
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
      SnsTopicArns: [!Sub "arn:aws:sns:${AWS::Region}:${AWS::AccountId}:chatops-alerts", !GetAtt Topic.TopicArn]
      GuardrailPolicies: [arn:aws:iam::aws:policy/ReadOnlyAccess]
  Support:
    Type: Custom::SupportAppSlackChannel
    Properties:
      ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops-provider
      TeamId: !Ref Team
      ChannelId: C0SUPPORT1
      ChannelRoleArn: !Sub "arn:aws:iam::${AWS::AccountId}:role/chatops-supportapp-channel"
      NotifyOnCaseSeverity: none
  Topic:
    Type: AWS::SNS::Topic
"#;

    #[test]
    fn needs_are_read_per_account_and_unknowns_are_set_aside() {
        let template = Template::parse(TEMPLATE, "t.yaml").unwrap();
        let needs = Needs::of(&template, &BTreeMap::new(), "100000000002", "eu-west-1").unwrap();
        assert_eq!(needs.slack_workspaces["T0CHATOPS1"], ["Alerts"]);
        assert_eq!(
            needs.support_channels[&("T0CHATOPS1".to_owned(), "C0SUPPORT1".to_owned())],
            "Support"
        );
        assert_eq!(needs.support_team_ids(), BTreeSet::from(["T0CHATOPS1"]));
        assert_eq!(
            needs.topics.keys().collect::<Vec<_>>(),
            ["arn:aws:sns:eu-west-1:100000000002:chatops-alerts"],
            "the topic known after deploy is not checked"
        );
        assert!(needs.unknown.contains("Alerts.SnsTopicArns"));
        let roles: Vec<(&str, &str)> = needs
            .channel_roles
            .iter()
            .map(|r| (r.arn.as_str(), r.service))
            .collect();
        assert_eq!(
            roles,
            [
                (
                    "arn:aws:iam::100000000002:role/chatops-chatbot-channel",
                    "chatbot.amazonaws.com"
                ),
                (
                    "arn:aws:iam::100000000002:role/chatops-supportapp-channel",
                    "supportapp.amazonaws.com"
                )
            ]
        );
        assert_eq!(
            needs.channel_roles[0].guardrails.as_deref(),
            Some(&["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()][..])
        );
    }
}
