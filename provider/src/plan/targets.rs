//! Which stacks a plan covers: an explicit list of accounts, every ACTIVE
//! account of the organization (optionally under an organizational unit), or
//! the instances of a StackSet with their parameter overrides.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::CallAs;
use aws_sdk_organizations::types::AccountStatus;

use crate::error::{Error, Result};
use crate::template::Template;

/// Parses a comma-separated list of 12-digit account ids.
pub fn parse_account_ids(list: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for id in list.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidRequest(format!(
                "{id:?} is not an account id (12 digits)"
            )));
        }
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    if ids.is_empty() {
        return Err(Error::InvalidRequest("no account ids given".into()));
    }
    Ok(ids)
}

/// Every ACTIVE account of the organization, or of organizational unit `ou`
/// and the units under it.
pub async fn organization_accounts(
    client: &aws_sdk_organizations::Client,
    ou: Option<&str>,
) -> Result<Vec<String>> {
    let mut accounts = Vec::new();
    match ou {
        None => {
            let mut pages = client.list_accounts().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    Error::from_sdk("organizations", "ListAccounts", "the organization", e)
                })?;
                accounts.extend(active(page.accounts()));
            }
        }
        Some(root) => {
            let mut parents = vec![root.to_owned()];
            while let Some(parent) = parents.pop() {
                let mut pages = client
                    .list_accounts_for_parent()
                    .parent_id(&parent)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| {
                        Error::from_sdk("organizations", "ListAccountsForParent", &parent, e)
                    })?;
                    accounts.extend(active(page.accounts()));
                }
                let mut units = client
                    .list_organizational_units_for_parent()
                    .parent_id(&parent)
                    .into_paginator()
                    .send();
                while let Some(page) = units.next().await {
                    let page = page.map_err(|e| {
                        Error::from_sdk(
                            "organizations",
                            "ListOrganizationalUnitsForParent",
                            &parent,
                            e,
                        )
                    })?;
                    parents.extend(
                        page.organizational_units()
                            .iter()
                            .filter_map(|unit| unit.id().map(str::to_owned)),
                    );
                }
            }
        }
    }
    accounts.sort();
    accounts.dedup();
    Ok(accounts)
}

fn active(accounts: &[aws_sdk_organizations::types::Account]) -> Vec<String> {
    accounts
        .iter()
        .filter(|a| a.status() == Some(&AccountStatus::Active))
        .filter_map(|a| a.id().map(str::to_owned))
        .collect()
}

/// A StackSet as the plan needs it.
#[derive(Debug, Clone)]
pub struct StackSet {
    /// Its name.
    pub name: String,
    /// Its current template.
    pub template: Template,
    /// Its parameter values (before instance overrides).
    pub parameters: BTreeMap<String, String>,
    /// Its stack instances.
    pub instances: Vec<StackInstance>,
}

/// One stack instance of a StackSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInstance {
    /// Its account.
    pub account_id: String,
    /// Its region.
    pub region: String,
    /// Its stack's StackId, once the stack exists.
    pub stack_id: Option<String>,
}

/// Reads StackSet `name` (template, parameters, instances) through CloudFormation.
pub async fn describe_stack_set(
    client: &aws_sdk_cloudformation::Client,
    name: &str,
    call_as: CallAs,
) -> Result<StackSet> {
    let what = format!("StackSet {name}");
    let described = client
        .describe_stack_set()
        .stack_set_name(name)
        .call_as(call_as.clone())
        .send()
        .await
        .map_err(|e| Error::from_sdk("cloudformation", "DescribeStackSet", &what, e))?;
    let stack_set = described
        .stack_set()
        .ok_or_else(|| Error::NotFound(format!("{what} does not exist")))?;
    let body = stack_set
        .template_body()
        .ok_or_else(|| Error::InvalidRequest(format!("{what} has no template body")))?;
    let template = Template::parse(body, &format!("StackSet {name}"))?;
    let parameters = stack_set
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value()?.to_owned(),
            ))
        })
        .collect();
    let mut instances = Vec::new();
    let mut pages = client
        .list_stack_instances()
        .stack_set_name(name)
        .call_as(call_as)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| Error::from_sdk("cloudformation", "ListStackInstances", &what, e))?;
        for summary in page.summaries() {
            let (Some(account_id), Some(region)) = (summary.account(), summary.region()) else {
                continue;
            };
            instances.push(StackInstance {
                account_id: account_id.to_owned(),
                region: region.to_owned(),
                stack_id: summary.stack_id().map(str::to_owned),
            });
        }
    }
    instances.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    Ok(StackSet {
        name: name.to_owned(),
        template,
        parameters,
        instances,
    })
}

/// The StackId of the stack named `name` in the client's account and
/// region, or `None` when there is none (it was never made, or deleted: a
/// stack made again under the name is another stack, with another id).
pub async fn stack_id_of(
    client: &aws_sdk_cloudformation::Client,
    name: &str,
) -> Result<Option<String>> {
    match client.describe_stacks().stack_name(name).send().await {
        Ok(described) => Ok(described
            .stacks()
            .first()
            .and_then(|stack| stack.stack_id())
            .map(str::to_owned)),
        // DescribeStacks answers a name it does not know with a
        // ValidationError "Stack with id NAME does not exist" (API reference).
        Err(e)
            if aws_sdk_cloudformation::error::ProvideErrorMetadata::code(&e)
                == Some("ValidationError")
                && aws_sdk_cloudformation::error::ProvideErrorMetadata::message(&e)
                    .is_some_and(|m| m.contains("does not exist")) =>
        {
            Ok(None)
        }
        Err(e) => Err(Error::from_sdk(
            "cloudformation",
            "DescribeStacks",
            &format!("stack {name}"),
            e,
        )),
    }
}

/// The parameter overrides of one stack instance.
pub async fn instance_overrides(
    client: &aws_sdk_cloudformation::Client,
    stack_set: &str,
    instance: &StackInstance,
    call_as: CallAs,
) -> Result<BTreeMap<String, String>> {
    let what = format!(
        "the instance of StackSet {stack_set} in {} {}",
        instance.account_id, instance.region
    );
    let described = client
        .describe_stack_instance()
        .stack_set_name(stack_set)
        .stack_instance_account(&instance.account_id)
        .stack_instance_region(&instance.region)
        .call_as(call_as)
        .send()
        .await
        .map_err(|e| Error::from_sdk("cloudformation", "DescribeStackInstance", &what, e))?;
    Ok(described
        .stack_instance()
        .map(|i| i.parameter_overrides())
        .unwrap_or_default()
        .iter()
        .filter(|p| p.use_previous_value() != Some(true))
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value()?.to_owned(),
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_lists_are_checked_and_deduplicated() {
        assert_eq!(
            parse_account_ids("100000000001, 100000000002,100000000001").unwrap(),
            ["100000000001", "100000000002"]
        );
        let err = parse_account_ids("100000000001,12345")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"12345\" is not an account id"), "{err}");
        assert!(parse_account_ids(" , ").is_err());
    }
}
