//! `Custom::SupportAppAccountAlias`: the name under which the AWS Support
//! App shows the account in Slack, with the property name of
//! AWS::SupportApp::AccountAlias. One per account: calls supportapp
//! Put/Get/DeleteAccountAlias.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{LiveResource, Resource};
use crate::accounts::AccountContext;
use crate::endpoints::Service;
use crate::error::{Error, Result};
use crate::ownership::Owner;
use crate::properties::CommonProperties;

/// The natural key of the one alias an account has.
const NATURAL_KEY: &str = "account-alias";

/// The alias under which the AWS Support App shows the account in Slack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AccountAlias {
    /// The account's alias in the AWS Support App: 1 to 30 letters, digits, `_`, `-` or spaces.
    #[schemars(length(min = 1, max = 30), regex(pattern = r"^[\w\- ]+$"))]
    pub account_alias: String,
    /// Which account the alias names.
    #[serde(flatten)]
    pub common: CommonProperties,
}

impl Resource for AccountAlias {
    const TYPE_NAME: &'static str = "Custom::SupportAppAccountAlias";
    const SERVICE: Service = Service::SupportApp;
    const CREATE_ONLY: &'static [&'static str] = &[];
    const ATTRIBUTES: &'static [&'static str] =
        &["AccountAlias", "AccountId", "AccountAliasResourceId"];

    fn common(&self) -> &CommonProperties {
        &self.common
    }

    fn natural_key(&self) -> String {
        NATURAL_KEY.to_owned()
    }

    fn data(&self, physical_id: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("AccountAlias".to_owned(), self.account_alias.clone()),
            ("AccountId".to_owned(), physical_id.to_owned()),
            // As AWS::SupportApp::AccountAlias gives it: `AccountAlias_for_`
            // and the account id (CloudFormation resource reference, Return values).
            (
                "AccountAliasResourceId".to_owned(),
                format!("AccountAlias_for_{physical_id}"),
            ),
        ])
    }

    fn is_physical_id(physical_id: &str) -> bool {
        physical_id.len() == 12 && physical_id.bytes().all(|b| b.is_ascii_digit())
    }

    // An account has one alias and the Support App has no tags: a retried
    // Create finds its own alias and puts it again; another alias is someone
    // else's and is not overwritten.
    async fn create(&self, ctx: &AccountContext, _owner: &Owner) -> Result<String> {
        if let Some(existing) = current_alias(ctx).await? {
            if existing != self.account_alias {
                return Err(Error::Conflict(format!(
                    "account {} already has the AWS Support App alias {existing:?} (set in the Support Center \
                     console or by another stack); an account has one alias: set AccountAlias to {existing:?} \
                     to manage it here, set Adopt: true to replace it with this one (`chatops import` writes \
                     such a template), or delete it first (aws support-app delete-account-alias)",
                    ctx.account_id()
                )));
            }
        }
        self.put(ctx).await?;
        Ok(ctx.account_id().to_owned())
    }

    async fn update(
        &self,
        _old: &Self,
        _physical_id: &str,
        ctx: &AccountContext,
        _owner: &Owner,
    ) -> Result<()> {
        self.put(ctx).await
    }

    async fn delete(_physical_id: &str, ctx: &AccountContext) -> Result<()> {
        ctx.supportapp
            .delete_account_alias()
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk(
                    "supportapp",
                    "DeleteAccountAlias",
                    &format!("account {}", ctx.account_id()),
                    e,
                )
            })?;
        Ok(())
    }

    async fn list(ctx: &AccountContext) -> Result<Vec<LiveResource>> {
        Ok(current_alias(ctx)
            .await?
            .map(|alias| LiveResource {
                physical_id: ctx.account_id().to_owned(),
                natural_key: NATURAL_KEY.to_owned(),
                properties: json!({
                    "AccountAlias": alias,
                    "AccountId": ctx.account_id(),
                    "Region": ctx.target.region,
                }),
                tags: Vec::new(),
            })
            .into_iter()
            .collect())
    }
}

impl AccountAlias {
    async fn put(&self, ctx: &AccountContext) -> Result<()> {
        ctx.supportapp
            .put_account_alias()
            .account_alias(&self.account_alias)
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk(
                    "supportapp",
                    "PutAccountAlias",
                    &format!("account {}", ctx.account_id()),
                    e,
                )
            })?;
        Ok(())
    }
}

/// The account's alias, if it has one.
async fn current_alias(ctx: &AccountContext) -> Result<Option<String>> {
    let output = ctx
        .supportapp
        .get_account_alias()
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "supportapp",
                "GetAccountAlias",
                &format!("account {}", ctx.account_id()),
                e,
            )
        })?;
    Ok(output.account_alias().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TypeSchema;

    #[test]
    fn aliases_follow_the_api_rules() {
        let schema = TypeSchema::of::<AccountAlias>();
        schema
            .validate(&json!({"AccountAlias": "prod payments-1"}))
            .unwrap();
        let err = schema
            .validate(&json!({"AccountAlias": "x".repeat(31)}))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid property AccountAlias:") && err.contains("longer than 30"),
            "{err}"
        );
        let err = schema
            .validate(&json!({"AccountAlias": "prod/payments"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not match"), "{err}");
    }

    #[test]
    fn the_physical_id_is_the_account() {
        assert!(AccountAlias::is_physical_id("100000000001"));
        assert!(!AccountAlias::is_physical_id("chatops:create-failed:x"));
        let alias = AccountAlias {
            account_alias: "prod".into(),
            common: CommonProperties::default(),
        };
        assert_eq!(alias.data("100000000001")["AccountId"], "100000000001");
        assert_eq!(
            alias.data("100000000001")["AccountAliasResourceId"],
            "AccountAlias_for_100000000001"
        );
    }
}
