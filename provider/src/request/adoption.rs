//! Adoption: a Create with `Adopt: true` takes over what already exists under
//! the resource's natural key (a configuration made in the console) instead
//! of failing because the name is taken.
//!
//! What may be adopted, and by whom:
//! - only a request whose stack is in the account it acts in (provenance has
//!   confirmed the stack by then): an admin stack that names another
//!   AccountId never takes over what that account made itself;
//! - AWS Chatbot: only a configuration that carries no `chatops:` ownership
//!   tags; one that another stack (or another resource of this stack) owns
//!   is refused with its owner named. Adopting applies the template's
//!   settings (the type's Update) and adds the ownership tags, so from then
//!   on it is the stack's as if the stack had made it;
//! - AWS Support App: the service has no tags, so nothing tells which stack
//!   declared a workspace, channel or alias. Adopting applies the template's
//!   settings to what the account has; "owned" then means only that this
//!   stack declares it and deletes it when the resource leaves the stack.

use crate::accounts::{AccountContext, StackArn};
use crate::error::{Error, Result};
use crate::ownership::Owner;
use crate::properties::ADOPT;
use crate::resources::{LiveResource, Resource};

/// Who holds a live resource, as adoption sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The requesting resource itself (a retried Create).
    Requester,
    /// Another stack, or another resource of this one.
    Other(Owner),
    /// Nobody the provider knows of: no ownership tags.
    Nobody,
}

/// Who holds `live`, for a request of `owner`.
pub fn holder_of(live: &LiveResource, owner: &Owner) -> Holder {
    match Owner::of_tags(&live.tags) {
        Some(other) if other == *owner => Holder::Requester,
        Some(other) => Holder::Other(other),
        None => Holder::Nobody,
    }
}

/// Creates `desired`, or, when it asks for adoption and a resource with its
/// natural key exists that no stack owns, takes that one over; returns the
/// physical id.
pub async fn create_or_adopt<R: Resource>(
    desired: &R,
    ctx: &AccountContext,
    owner: &Owner,
) -> Result<String> {
    if desired.common().adopt != Some(true) {
        return desired.create(ctx, owner).await;
    }
    check_same_account(ctx.account_id(), owner)?;
    let key = desired.natural_key();
    let Some(live) = R::list(ctx)
        .await?
        .into_iter()
        .find(|live| live.natural_key == key)
    else {
        // Nothing to adopt: Adopt: true on a template run where nothing
        // exists yet makes it, as it would without Adopt.
        return desired.create(ctx, owner).await;
    };
    match holder_of(&live, owner) {
        // A retried Create: the type's create adopts its own.
        Holder::Requester => desired.create(ctx, owner).await,
        Holder::Other(other) => Err(Error::Conflict(format!(
            "{} {key:?} in account {} is owned by resource {} of stack {}, and Adopt never takes over \
             what another stack owns: choose another name, or remove it from that stack first (with \
             DeletionPolicy: Retain its tags stay: delete them with aws chatbot untag-resource) and deploy \
             again",
            R::TYPE_NAME,
            ctx.account_id(),
            other.logical_id,
            other.stack_id
        ))),
        Holder::Nobody => {
            tracing::info!(physical_id = %live.physical_id, key, "adopting what exists");
            desired
                .update(desired, &live.physical_id, ctx, owner)
                .await?;
            Ok(live.physical_id)
        }
    }
}

/// Adoption is for a stack in the account it adopts in: what an account made
/// itself is not for another account's stack to take over, even an admin's.
pub fn check_same_account(target_account: &str, owner: &Owner) -> Result<()> {
    let stack_account = StackArn::parse(&owner.stack_id)?.account_id;
    if stack_account == target_account {
        return Ok(());
    }
    Err(Error::invalid_property(
        ADOPT,
        format!(
            "only a stack in account {target_account} may adopt what exists there, and this stack is in \
             account {stack_account}: deploy the adopting stack (or StackSet instance) in account \
             {target_account}, or remove Adopt"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::Tag;
    use serde_json::json;

    const STACK: &str = "arn:aws:cloudformation:us-east-1:100000000001:stack/app/1";

    fn owner() -> Owner {
        Owner {
            stack_id: STACK.into(),
            logical_id: "Alerts".into(),
        }
    }

    fn live(tags: Vec<Tag>) -> LiveResource {
        LiveResource {
            physical_id: "arn:aws:chatbot::100000000001:chat-configuration/slack-channel/a".into(),
            natural_key: "a".into(),
            properties: json!({}),
            tags,
        }
    }

    #[test]
    fn the_holder_comes_from_the_ownership_tags() {
        assert_eq!(
            holder_of(&live(owner().managed_tags()), &owner()),
            Holder::Requester
        );
        let other = Owner {
            logical_id: "Other".into(),
            ..owner()
        };
        assert_eq!(
            holder_of(&live(other.managed_tags()), &owner()),
            Holder::Other(other)
        );
        let user = vec![Tag {
            key: "team".into(),
            value: "x".into(),
        }];
        assert_eq!(holder_of(&live(user), &owner()), Holder::Nobody);
    }

    #[test]
    fn only_a_stack_in_the_same_account_adopts() {
        check_same_account("100000000001", &owner()).unwrap();
        match check_same_account("100000000002", &owner()) {
            Err(Error::InvalidProperty { property, problem }) => {
                assert_eq!(property, "Adopt");
                assert!(
                    problem.contains("100000000002") && problem.contains("remove Adopt"),
                    "{problem}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
