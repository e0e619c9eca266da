//! `chatops import`: what already exists in each account (AWS Chatbot
//! configurations, AWS Support App workspaces, channels and aliases), who
//! owns each, and a template that declares the unowned ones with their live
//! settings and `Adopt: true`, so that deploying it brings them under
//! CloudFormation with no change to what they do.
//!
//! [`inventory`] reads the accounts; [`write`] turns what it found into one
//! template for a StackSet (values that differ between accounts become
//! parameters with per-account overrides, resources found in only some
//! accounts get a condition) or one template per account; [`yaml`] prints it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::accounts::{Accounts, Target};
use crate::error::Result;
use crate::ownership::Owner;
use crate::plan::live::{AccountsLive, LiveSource};
use crate::properties::ADOPT;
use crate::registry::{ResourceType, TYPES};

mod template;
pub mod yaml;

pub use template::{Written, write};

/// Who owns a live resource, as far as the account can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A stack of this provider (its `chatops:` ownership tags say which).
    Stack(Owner),
    /// Nobody: an AWS Chatbot configuration without ownership tags.
    Nobody,
    /// The AWS Support App has no tags: nothing says whether a stack declares it.
    Unknown,
}

/// One live resource found in an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The account it is in.
    pub account_id: String,
    /// Its `Custom::` type.
    pub type_name: &'static str,
    /// Its natural key (such as the ConfigurationName).
    pub natural_key: String,
    /// Its physical id.
    pub physical_id: String,
    /// Its live properties in the type's schema (secrets are never returned).
    pub properties: Value,
    /// Who owns it.
    pub holder: Holder,
    /// The type's secret properties, which the template takes as NoEcho parameters.
    pub write_only: &'static [&'static str],
}

impl Found {
    /// Whether the template declares it: nobody owns it, or nobody can tell.
    pub fn is_declared(&self) -> bool {
        !matches!(self.holder, Holder::Stack(_))
    }
}

/// What was found in one account, or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountInventory {
    /// The account.
    pub account_id: String,
    /// Its resources, by type and natural key; or the error.
    pub outcome: std::result::Result<Vec<Found>, String>,
}

/// Reads every resource of every type in `account_id` through `accounts`,
/// in the region each service is called in.
pub async fn inventory(accounts: &Accounts, account_id: &str) -> AccountInventory {
    let live = AccountsLive::new(accounts, "chatops-import");
    AccountInventory {
        account_id: account_id.to_owned(),
        outcome: read_all(accounts, &live, account_id)
            .await
            .map_err(|e| e.to_string()),
    }
}

async fn read_all(
    accounts: &Accounts,
    live: &dyn LiveSource,
    account_id: &str,
) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for resource_type in TYPES {
        found.extend(read(*resource_type, accounts, live, account_id).await?);
    }
    Ok(found)
}

async fn read(
    resource_type: &'static dyn ResourceType,
    accounts: &Accounts,
    live: &dyn LiveSource,
    account_id: &str,
) -> Result<Vec<Found>> {
    let region = accounts.service_region(resource_type.service())?;
    let target = Target {
        account_id: account_id.to_owned(),
        partition: crate::template::partition_of(&region).to_owned(),
        region,
    };
    Ok(live
        .list(resource_type, &target)
        .await?
        .into_iter()
        .map(|resource| Found {
            account_id: account_id.to_owned(),
            type_name: resource_type.name(),
            holder: match Owner::of_tags(&resource.tags) {
                Some(owner) => Holder::Stack(owner),
                None if resource_type.ownership_tags() => Holder::Nobody,
                None => Holder::Unknown,
            },
            natural_key: resource.natural_key,
            physical_id: resource.physical_id,
            properties: resource.properties,
            write_only: resource_type.write_only(),
        })
        .collect())
}

/// The properties a template declares for `found`: the live ones without
/// where it is (the stack's account and the provider's region are the
/// defaults) and with `Adopt: true`.
pub fn declared_properties(found: &Found) -> BTreeMap<String, Value> {
    let mut properties: BTreeMap<String, Value> = found
        .properties
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, value)| {
            !matches!(name.as_str(), "AccountId" | "Region") && !value.is_null()
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    properties.insert(ADOPT.to_owned(), Value::Bool(true));
    properties
}

/// The inventory as people read it: per account, each resource and who owns it.
pub fn render_inventory(accounts: &[AccountInventory], logical_ids: &Written) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for account in accounts {
        let _ = writeln!(out, "Account {}", account.account_id);
        match &account.outcome {
            Err(error) => {
                let _ = writeln!(out, "  error: {error}");
            }
            Ok(found) if found.is_empty() => {
                let _ = writeln!(out, "  nothing found");
            }
            Ok(found) => {
                for item in found {
                    let owner = match &item.holder {
                        Holder::Stack(owner) => format!(
                            "owned by {} of stack {} (left out)",
                            owner.logical_id, owner.stack_id
                        ),
                        Holder::Nobody => "no owner".to_owned(),
                        Holder::Unknown => {
                            "unknown owner (the Support App has no tags: if a stack declares it, \
                             remove it from the written template)"
                                .to_owned()
                        }
                    };
                    let declared = logical_ids
                        .logical_id_of(item)
                        .map(|id| format!("; declared as {id}"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "  {} {:?} [{}]: {owner}{declared}",
                        item.type_name, item.natural_key, item.physical_id
                    );
                }
            }
        }
    }
    out
}
