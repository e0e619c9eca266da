//! What must exist before a configuration can be made: a channel role that
//! the chat service may assume, and the SNS topics it listens to (in any
//! region and any account of the organization, with raw message delivery off
//! on Chatbot's subscription). Checking first turns the services' vague
//! refusals into errors that say what to fix.

use serde_json::Value;

use crate::accounts::AccountContext;
use crate::error::{Error, Result};

/// Checks that `role_arn` (the value of `property`) is a role in the target
/// account that trusts `service` (such as `chatbot.amazonaws.com`).
pub async fn check_channel_role(
    ctx: &AccountContext,
    property: &str,
    role_arn: &str,
    service: &str,
) -> Result<()> {
    let (account, name) = parse_role_arn(role_arn).ok_or_else(|| {
        Error::invalid_property(property, format!("{role_arn:?} is not an IAM role ARN"))
    })?;
    if account != ctx.account_id() {
        return Err(Error::invalid_property(
            property,
            format!(
                "role {role_arn} is in account {account}, but the configuration is made in account {}; \
                 use a channel role of that account",
                ctx.account_id()
            ),
        ));
    }
    let role = ctx.iam.get_role().role_name(name).send().await.map_err(|e| {
        let err = Error::from_sdk("iam", "GetRole", role_arn, e);
        if err.is_not_found() {
            Error::invalid_property(
                property,
                format!(
                    "role {role_arn} does not exist in account {}; create it with a trust policy for {service} \
                     (see examples/channel-roles.yaml) or fix the ARN",
                    ctx.account_id()
                ),
            )
        } else {
            err
        }
    })?;
    let document = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .unwrap_or_default();
    if !trusts_service(document, service) {
        return Err(Error::invalid_property(
            property,
            format!(
                "role {role_arn} does not trust {service}; add a trust policy statement that allows \
                 {service} to call sts:AssumeRole"
            ),
        ));
    }
    Ok(())
}

/// The endpoint through which AWS Chatbot subscribes to a topic (HTTPS).
pub const CHATBOT_SNS_ENDPOINT: &str = "https://global.sns-api.chatbot.amazonaws.com";

/// Checks that every topic of `property` exists and that AWS Chatbot's
/// subscription to it, when there is one, delivers SNS envelopes (raw message
/// delivery off). A topic may be in any region, and in any account of the
/// organization: it is read in its own account, through the execution role
/// there; a topic outside the organization is refused.
pub async fn check_topics(
    ctx: &AccountContext,
    property: &str,
    topic_arns: &[String],
) -> Result<()> {
    for (index, arn) in topic_arns.iter().enumerate() {
        let path = format!("{property}/{index}");
        let Some((region, account)) = topic_region_and_account(arn) else {
            return Err(Error::invalid_property(
                path,
                format!("{arn:?} is not an SNS topic ARN"),
            ));
        };
        let elsewhere;
        let owner = if account == ctx.account_id() {
            ctx
        } else {
            elsewhere = ctx.in_account(account).await.map_err(|e| match e {
                Error::AccessDenied(why) => Error::invalid_property(
                    &path,
                    format!(
                        "topic {arn} is in account {account}, which the provider cannot read ({why}); AWS \
                         Chatbot topics may be in any region, but in an account of the organization: use \
                         a topic of the organization"
                    ),
                ),
                other => other,
            })?;
            &elsewhere
        };
        let sns = owner.sns(region);
        sns.get_topic_attributes()
            .topic_arn(arn)
            .send()
            .await
            .map_err(|e| {
                let err = Error::from_sdk("sns", "GetTopicAttributes", arn, e);
                if err.is_not_found() {
                    Error::invalid_property(
                        &path,
                        format!("topic {arn} does not exist; create it first or fix the ARN"),
                    )
                } else {
                    err
                }
            })?;
        check_raw_message_delivery(&sns, &path, arn).await?;
    }
    Ok(())
}

/// AWS Chatbot reads SNS envelopes: a Chatbot subscription with raw message
/// delivery on drops every notification without an error anywhere.
async fn check_raw_message_delivery(
    sns: &aws_sdk_sns::Client,
    path: &str,
    topic_arn: &str,
) -> Result<()> {
    let mut pages = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic_arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| Error::from_sdk("sns", "ListSubscriptionsByTopic", topic_arn, e))?;
        let chatbot = page.subscriptions().iter().filter_map(|s| {
            let arn = s.subscription_arn()?;
            // A pending subscription has no ARN yet, and no attributes to read.
            (s.endpoint() == Some(CHATBOT_SNS_ENDPOINT) && arn.starts_with("arn:")).then_some(arn)
        });
        for subscription in chatbot {
            let attributes = match sns
                .get_subscription_attributes()
                .subscription_arn(subscription)
                .send()
                .await
                .map_err(|e| Error::from_sdk("sns", "GetSubscriptionAttributes", subscription, e))
            {
                Ok(attributes) => attributes,
                // Unsubscribed since the listing (the last configuration using
                // the topic went): nothing left to check on it.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            let raw = attributes
                .attributes()
                .and_then(|a| a.get("RawMessageDelivery"))
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            if raw {
                return Err(Error::invalid_property(
                    path,
                    format!(
                        "AWS Chatbot's subscription {subscription} to topic {topic_arn} has raw message \
                         delivery enabled, so Chatbot cannot read the notifications and drops them; turn \
                         it off (aws sns set-subscription-attributes --subscription-arn {subscription} \
                         --attribute-name RawMessageDelivery --attribute-value false), then retry"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME` → (account, name).
pub fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "iam" {
        return None;
    }
    let name = parts[5].strip_prefix("role/")?.rsplit('/').next()?;
    (!name.is_empty()).then_some((parts[4], name))
}

/// `arn:aws:sns:REGION:ACCOUNT:NAME` → (region, account).
pub fn topic_region_and_account(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    (parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns").then(|| (parts[3], parts[4]))
}

/// A policy document as IAM returns it (JSON, or URL-encoded JSON), parsed.
pub fn policy_document(document: &str) -> Option<Value> {
    let decoded;
    let text = if document.trim_start().starts_with('{') {
        document
    } else {
        decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
        &decoded
    };
    serde_json::from_str(text).ok()
}

/// The statements of a policy document (IAM allows a single object).
pub fn statements(policy: &Value) -> Vec<Value> {
    match &policy["Statement"] {
        Value::Array(items) => items.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    }
}

/// True when the trust policy `document` (JSON, or URL-encoded JSON as IAM
/// returns it) allows `service` to assume the role.
fn trusts_service(document: &str, service: &str) -> bool {
    let Some(policy) = policy_document(document) else {
        return false;
    };
    statements(&policy).iter().any(|statement| {
        statement["Effect"] == "Allow"
            && match &statement["Principal"]["Service"] {
                Value::String(s) => s == service,
                Value::Array(items) => items.iter().any(|s| s == service),
                _ => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["chatbot.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;

    #[test]
    fn trust_is_read_from_plain_and_encoded_documents() {
        assert!(trusts_service(TRUST, "chatbot.amazonaws.com"));
        let encoded =
            percent_encoding::utf8_percent_encode(TRUST, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        assert!(trusts_service(&encoded, "chatbot.amazonaws.com"));
        assert!(!trusts_service(TRUST, "supportapp.amazonaws.com"));
        assert!(!trusts_service(
            &TRUST.replace("Allow", "Deny"),
            "chatbot.amazonaws.com"
        ));
    }

    #[test]
    fn role_arns_with_paths_parse() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::100000000001:role/chat/ChatbotChannelRole"),
            Some(("100000000001", "ChatbotChannelRole"))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::100000000001:user/x"), None);
    }
}
