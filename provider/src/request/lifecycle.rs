//! The custom resource contract for any [`Resource`]: Create, Update (in place
//! or by replacement) and a Delete that never gets a stack stuck.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::accounts::{AccountContext, Accounts, StackArn};
use crate::change::{self, Change};
use crate::error::{Error, Result};
use crate::ownership::Owner;
use crate::reading::{Reading, read};
use crate::request::event::{Request, RequestKind};
use crate::request::provenance;
use crate::resources::{self, Resource};

/// Physical ids that start with this are placeholders answered for a failed
/// Create: nothing was made under that id, so deleting it always succeeds.
pub const PLACEHOLDER_PREFIX: &str = "chatops:create-failed:";

/// What a successful request answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The PhysicalResourceId.
    pub physical_id: String,
    /// The GetAtt attributes.
    pub data: BTreeMap<String, String>,
}

/// The placeholder physical id for a Create that failed.
pub fn placeholder_id(request_id: &str) -> String {
    format!("{PLACEHOLDER_PREFIX}{request_id}")
}

/// Carries out `request` for resource type `R`.
pub async fn run<R: Resource>(accounts: &Accounts, request: &Request) -> Result<Applied> {
    let owner = Owner {
        stack_id: request.reply_to.stack_id.clone(),
        logical_id: request.reply_to.logical_resource_id.clone(),
    };
    let physical_id = request
        .reply_to
        .physical_resource_id
        .clone()
        .unwrap_or_default();
    check_where(&request.properties)?;
    // Each kind judges what it can offline first, so that a bad request is
    // refused without a single call; then CloudFormation must confirm it.
    match request.kind {
        RequestKind::Create => {
            let desired = read::<R>(&request.properties, Reading::Strict)?;
            provenance::verify(accounts, request).await?;
            let ctx = context_for(accounts, &owner, &desired).await?;
            let physical_id =
                crate::request::adoption::create_or_adopt(&desired, &ctx, &owner).await?;
            Ok(applied(&desired, physical_id))
        }
        RequestKind::Update => {
            let desired = read::<R>(&request.properties, Reading::Strict)?;
            let old_raw = request.old_properties.clone().unwrap_or_else(|| json!({}));
            let change = change::decide_for::<R>(accounts, &owner, &old_raw, &request.properties)?;
            provenance::verify(accounts, request).await?;
            match change {
                Change::NoChange => Ok(applied(&desired, physical_id)),
                Change::UpdateInPlace { .. } => {
                    let ctx = context_for(accounts, &owner, &desired).await?;
                    update_in_place(&desired, &old_raw, physical_id, &ctx, &owner).await
                }
                Change::Replacement { reasons, .. } => {
                    let ctx = context_for(accounts, &owner, &desired).await?;
                    if already_has_identity(&ctx, &physical_id, &desired).await? {
                        // An update rollback of a replacement that never happened
                        // (or a retried one): the resource is already the wanted one.
                        tracing::info!(
                            physical_id,
                            ?reasons,
                            "no replacement: the resource already has these properties"
                        );
                        return update_in_place(&desired, &old_raw, physical_id, &ctx, &owner)
                            .await;
                    }
                    if let Ok(old) = read::<R>(&old_raw, Reading::Lenient) {
                        change::refuse_replacement_with_same_key(
                            accounts, &owner, &old, &desired, &reasons,
                        )?;
                    }
                    let new_id = desired.create(&ctx, &owner).await?;
                    tracing::info!(old = %physical_id, new = %new_id, ?reasons, "replaced; CloudFormation deletes the old id next");
                    Ok(applied(&desired, new_id))
                }
            }
        }
        RequestKind::Delete => {
            provenance::verify(accounts, request).await?;
            delete::<R>(accounts, &owner, request, &physical_id).await?;
            Ok(Applied {
                physical_id,
                data: BTreeMap::new(),
            })
        }
    }
}

/// Updates the resource `physical_id`, which `owner` must own, from the
/// request's old properties to `desired`.
async fn update_in_place<R: Resource>(
    desired: &R,
    old_raw: &Value,
    physical_id: String,
    ctx: &AccountContext,
    owner: &Owner,
) -> Result<Applied> {
    let old = read::<R>(old_raw, Reading::Lenient)
        .ok()
        .unwrap_or_else(|| desired.clone());
    R::check_owner(&physical_id, ctx, owner).await?;
    desired.update(&old, &physical_id, ctx, owner).await?;
    Ok(applied(desired, physical_id))
}

/// Checks `AccountId` and `Region` as sent, on every request type and before
/// any call: they choose the account and the endpoint, so a value that is not
/// an account id or a region name (such as `x@127.0.0.1:8080/`, which the SDK
/// would make the endpoint's host) is refused however the rest reads.
fn check_where(properties: &Value) -> Result<()> {
    for (name, check) in [
        (
            "AccountId",
            crate::accounts::check_account_id as fn(&str) -> Result<()>,
        ),
        ("Region", crate::endpoints::check_region_name),
    ] {
        match properties.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(value)) => check(value)?,
            Some(other) => {
                return Err(Error::invalid_property(
                    name,
                    format!("{other} is not a string; give {name} as a string, or leave it out"),
                ));
            }
        }
    }
    Ok(())
}

/// Deletes `physical_id`; a resource that is gone, or an id that was never a
/// resource, is already deleted.
async fn delete<R: Resource>(
    accounts: &Accounts,
    owner: &Owner,
    request: &Request,
    physical_id: &str,
) -> Result<()> {
    let Some(props) = read::<R>(&request.properties, Reading::Lenient).ok() else {
        tracing::info!("delete with unreadable properties: nothing this provider could have made");
        return Ok(());
    };
    if !R::is_physical_id(physical_id) {
        // A failed Create may have made the resource before failing (a timeout
        // after the service call): find it by its key and the owner's tags.
        return match delete_half_made(accounts, owner, &props).await {
            Ok(()) => Ok(()),
            Err(error) => {
                tracing::warn!(%error, "could not look for what a failed create left; nothing under this id");
                Ok(())
            }
        };
    }
    let ctx = context_for(accounts, owner, &props).await?;
    match R::check_owner(physical_id, &ctx, owner).await {
        Err(e) if e.is_not_found() => {
            tracing::info!(physical_id, "already gone");
            return Ok(());
        }
        other => other?,
    }
    match R::delete(physical_id, &ctx).await {
        Err(e) if e.is_not_found() => {
            tracing::info!(physical_id, "already gone");
            Ok(())
        }
        other => other,
    }
}

async fn delete_half_made<R: Resource>(
    accounts: &Accounts,
    owner: &Owner,
    props: &R,
) -> Result<()> {
    let ctx = context_for(accounts, owner, props).await?;
    if let Some(found) = resources::find_owned(props, &ctx, owner).await? {
        tracing::info!(physical_id = %found, "deleting what a failed create left");
        match R::delete(&found, &ctx).await {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Whether the resource under `physical_id` already has the create-only
/// properties of `desired`: an Update that reads as a replacement then
/// changes it in place instead of making another. That is what an update
/// rollback sends after a replacement the provider refused or could not make
/// (old and new swapped, the id unchanged).
async fn already_has_identity<R: Resource>(
    ctx: &AccountContext,
    physical_id: &str,
    desired: &R,
) -> Result<bool> {
    if !R::is_physical_id(physical_id) {
        return Ok(false);
    }
    let wanted = serde_json::to_value(desired)
        .map_err(|e| Error::InvalidRequest(format!("{}: {e}", R::TYPE_NAME)))?;
    let Some(live) = R::list(ctx)
        .await?
        .into_iter()
        .find(|live| live.physical_id == physical_id)
    else {
        return Ok(false);
    };
    Ok(R::CREATE_ONLY
        .iter()
        .filter(|name| !matches!(**name, "AccountId" | "Region"))
        .all(|name| live.properties.get(*name) == wanted.get(*name)))
}

async fn context_for<R: Resource>(
    accounts: &Accounts,
    owner: &Owner,
    props: &R,
) -> Result<AccountContext> {
    let target = accounts.target(&owner.stack_id, props.common(), R::SERVICE)?;
    let stack_name = StackArn::parse(&owner.stack_id)?.name;
    accounts
        .account_context(&target, &format!("{stack_name}-{}", owner.logical_id))
        .await
}

fn applied<R: Resource>(props: &R, physical_id: String) -> Applied {
    Applied {
        data: props.data(&physical_id),
        physical_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_a_request_acts_is_checked_as_sent() {
        check_where(&json!({})).unwrap();
        check_where(&json!({"AccountId": "100000000001", "Region": "eu-west-1"})).unwrap();
        for (properties, named) in [
            (json!({"Region": "x@127.0.0.1:8080/"}), "Region"),
            (json!({"Region": ["us-east-2"]}), "Region"),
            (json!({"AccountId": "1@127.0.0.1"}), "AccountId"),
            (json!({"AccountId": 100000000001u64}), "AccountId"),
        ] {
            match check_where(&properties) {
                Err(Error::InvalidProperty { property, problem }) => {
                    assert_eq!(property, named, "{problem}");
                    assert!(problem.contains("leave"), "says what to do: {problem}");
                }
                other => panic!("{properties}: {other:?}"),
            }
        }
    }
}
