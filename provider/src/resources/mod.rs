//! The resource types, one module each, listed once in [`crate::registry::TYPES`].
//!
//! Each type is its properties struct (the single source of truth for the
//! schema) implementing [`Resource`]: create, update and delete against the
//! services of one account.

use std::collections::BTreeMap;
use std::future::Future;

use schemars::JsonSchema;
use serde::{Serialize, de::DeserializeOwned};

use crate::accounts::AccountContext;
use crate::error::Result;
use crate::ownership::Owner;
use crate::properties::CommonProperties;

pub(crate) mod chatbot;
pub mod chatbot_chime_webhook;
pub mod chatbot_slack_channel;
pub mod chatbot_teams_channel;
pub(crate) mod guardrails;
pub(crate) mod prerequisites;
pub(crate) mod supportapp;
pub mod supportapp_account_alias;
pub mod supportapp_slack_channel;
pub mod supportapp_slack_workspace;

/// A `Custom::` resource type.
pub trait Resource:
    Clone + Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static
{
    /// The CloudFormation type name, such as `Custom::ChatbotSlackChannel`.
    const TYPE_NAME: &'static str;
    /// The service whose API the type calls: it decides the regions its
    /// `Region` may name and where it is called by default.
    const SERVICE: crate::endpoints::Service;
    /// Properties whose change replaces the resource (AccountId and Region always do).
    const CREATE_ONLY: &'static [&'static str];
    /// Secret properties: never read back, never logged or shown.
    const WRITE_ONLY: &'static [&'static str] = &[];
    /// Whether the service keeps the provider's ownership tags on the
    /// resource (AWS Chatbot does, the Support App has no tags): only then
    /// can a plan tell which stack a live resource belongs to.
    const OWNERSHIP_TAGS: bool = false;
    /// List properties whose order does not matter.
    const UNORDERED: &'static [&'static str] = &[];
    /// Properties that steer the provider and are not part of the live
    /// resource (such as `AllowElevatedPermissions`): never read back, so a
    /// comparison with what is live leaves them out.
    const PROVIDER_ONLY: &'static [&'static str] = &[];
    /// The attributes `Fn::GetAtt` reads: the keys of [`Resource::data`].
    const ATTRIBUTES: &'static [&'static str];

    /// What the service sets for properties a template leaves out (such as
    /// AWS Chatbot's AdministratorAccess guardrail), as an object of property
    /// values in `partition`: a plan fills them in before it compares a
    /// template with what is live, so leaving a property out is no change.
    fn service_defaults(_partition: &str) -> serde_json::Value {
        serde_json::Value::Object(serde_json::Map::new())
    }

    /// The properties every type shares.
    fn common(&self) -> &CommonProperties;

    /// Checks the rules between properties that the schema cannot express
    /// (such as "a severity needs a notify flag"); runs on valid properties
    /// before any call, and offline (`chatops validate`), where a string
    /// known only at deploy time reads `(known after apply)`.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// What identifies the resource within its account (such as its
    /// ConfigurationName): two resources with the same key are the same one.
    fn natural_key(&self) -> String;

    /// What the service allows only once per account besides the natural key,
    /// and the property to change to get another one, so that a replacement
    /// (made before the old one is deleted) can be refused before any call.
    fn exclusive_key(&self) -> Option<(String, &'static str)> {
        None
    }

    /// The GetAtt attributes of the resource with `physical_id`.
    fn data(&self, physical_id: &str) -> BTreeMap<String, String>;

    /// True when `physical_id` has the form of this type's ids, so it may exist.
    fn is_physical_id(physical_id: &str) -> bool;

    /// Creates the resource, or adopts the one `owner` made before (a retried
    /// Create), and returns its physical id.
    fn create(
        &self,
        ctx: &AccountContext,
        owner: &Owner,
    ) -> impl Future<Output = Result<String>> + Send;

    /// Updates the resource in place from `old` to `self`.
    fn update(
        &self,
        old: &Self,
        physical_id: &str,
        ctx: &AccountContext,
        owner: &Owner,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Refuses to change or delete `physical_id` unless `owner` made it (its
    /// managed tags say so): a request acts only on what its own stack made.
    /// The Support App has no tags; what guards its types is in the README.
    fn check_owner(
        _physical_id: &str,
        _ctx: &AccountContext,
        _owner: &Owner,
    ) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }

    /// Deletes the resource; a resource that does not exist gives `Error::NotFound`.
    fn delete(physical_id: &str, ctx: &AccountContext) -> impl Future<Output = Result<()>> + Send;

    /// Every resource of this type in the account as it is live: what the plan
    /// compares a template with, and how a half-made resource is found again.
    fn list(ctx: &AccountContext) -> impl Future<Output = Result<Vec<LiveResource>>> + Send;
}

/// A resource as the service describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveResource {
    /// Its physical id.
    pub physical_id: String,
    /// Its natural key, as [`Resource::natural_key`] gives it for properties.
    pub natural_key: String,
    /// Its properties in the type's schema; write-only properties are absent,
    /// since the service never returns them.
    pub properties: serde_json::Value,
    /// All its tags, managed ones included (they tell who owns it).
    pub tags: Vec<crate::properties::Tag>,
}

/// The live resource of type `R` with the natural key of `props` that carries
/// `owner`'s managed tags: a retried Create's, or what a failed Create left.
pub async fn find_owned<R: Resource>(
    props: &R,
    ctx: &AccountContext,
    owner: &Owner,
) -> Result<Option<String>> {
    let key = props.natural_key();
    Ok(R::list(ctx)
        .await?
        .into_iter()
        .find(|live| live.natural_key == key && owner.owns(&live.tags))
        .map(|live| live.physical_id))
}
