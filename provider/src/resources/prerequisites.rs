//! What must exist before a configuration can be made: a channel role that
//! the chat service may assume, and the SNS topics it listens to. Checking
//! first turns the services' vague refusals into errors that say what to fix.

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

/// Checks that every topic of `property` exists. Topics of the target account
/// are read with its credentials; a topic of another account is left to the
/// service, which is refused there if the topic's policy does not allow it.
pub async fn check_topics(
    ctx: &AccountContext,
    property: &str,
    topic_arns: &[String],
) -> Result<()> {
    for (index, arn) in topic_arns.iter().enumerate() {
        let Some((region, account)) = topic_region_and_account(arn) else {
            return Err(Error::invalid_property(
                format!("{property}/{index}"),
                format!("{arn:?} is not an SNS topic ARN"),
            ));
        };
        if account != ctx.account_id() {
            continue;
        }
        ctx.sns(region)
            .get_topic_attributes()
            .topic_arn(arn)
            .send()
            .await
            .map_err(|e| {
                let err = Error::from_sdk("sns", "GetTopicAttributes", arn, e);
                if err.is_not_found() {
                    Error::invalid_property(
                        format!("{property}/{index}"),
                        format!("topic {arn} does not exist; create it first or fix the ARN"),
                    )
                } else {
                    err
                }
            })?;
    }
    Ok(())
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
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

/// True when the trust policy `document` (JSON, or URL-encoded JSON as IAM
/// returns it) allows `service` to assume the role.
fn trusts_service(document: &str, service: &str) -> bool {
    let decoded;
    let text = if document.trim_start().starts_with('{') {
        document
    } else {
        decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
        &decoded
    };
    let Ok(policy) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let statements = match &policy["Statement"] {
        Value::Array(items) => items.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|statement| {
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
