//! The provider's configuration, read once from the environment.

use std::collections::BTreeSet;

/// How the provider acts across accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The role the provider assumes in each target account (`CHATOPS_EXECUTION_ROLE_NAME`).
    pub execution_role_name: String,
    /// The ExternalId the execution roles require (`CHATOPS_EXTERNAL_ID`).
    pub external_id: Option<String>,
    /// Accounts whose stacks may name another account in `AccountId` (`CHATOPS_ADMIN_ACCOUNTS`).
    pub admin_accounts: BTreeSet<String>,
    /// The organization every target account must belong to (`CHATOPS_ORGANIZATION_ID`), when set.
    pub organization_id: Option<String>,
    /// The region AWS Chatbot is called in when a resource names none
    /// (`CHATOPS_CHATBOT_REGION`); unset: the provider's own region when it
    /// serves Chatbot, else the nearest that does (see [`crate::endpoints`]).
    pub chatbot_region: Option<String>,
    /// The region the AWS Support App is called in when a resource names none
    /// (`CHATOPS_SUPPORTAPP_REGION`), chosen like `chatbot_region`.
    pub supportapp_region: Option<String>,
    /// The one origin besides CloudFormation's response buckets that responses
    /// may go to (`CHATOPS_LOCAL_RESPONSE_ORIGIN`, such as
    /// `http://127.0.0.1:4566`): for runs against a local cloud only; the
    /// deployable templates never set it.
    pub local_response_origin: Option<String>,
}

/// The execution role name when none is configured.
pub const DEFAULT_EXECUTION_ROLE_NAME: &str = "ChatOpsExecutionRole";

impl ProviderConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        ProviderConfig {
            execution_role_name: non_empty("CHATOPS_EXECUTION_ROLE_NAME")
                .unwrap_or_else(|| DEFAULT_EXECUTION_ROLE_NAME.to_owned()),
            external_id: non_empty("CHATOPS_EXTERNAL_ID"),
            admin_accounts: non_empty("CHATOPS_ADMIN_ACCOUNTS")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            organization_id: non_empty("CHATOPS_ORGANIZATION_ID"),
            chatbot_region: non_empty("CHATOPS_CHATBOT_REGION"),
            supportapp_region: non_empty("CHATOPS_SUPPORTAPP_REGION"),
            local_response_origin: non_empty(crate::request::response_url::LOCAL_ORIGIN_SETTING),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_lists() {
        let config = ProviderConfig::from_lookup(|name| match name {
            "CHATOPS_ADMIN_ACCOUNTS" => Some(" 111111111111, ,222222222222 ".into()),
            "CHATOPS_EXTERNAL_ID" => Some("".into()),
            _ => None,
        });
        assert_eq!(config.execution_role_name, DEFAULT_EXECUTION_ROLE_NAME);
        assert_eq!(config.external_id, None);
        assert_eq!(config.local_response_origin, None);
        assert_eq!(config.chatbot_region, None);
        assert_eq!(
            config.admin_accounts.into_iter().collect::<Vec<_>>(),
            ["111111111111", "222222222222"]
        );
    }
}
