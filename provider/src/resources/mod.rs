//! The resource types, one module each, listed once in [`for_each_type!`].
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
use crate::properties::{CommonProperties, Owner};

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

/// Calls `$apply!(Type)` for every resource type: the one list of types.
#[macro_export]
macro_rules! for_each_type {
    ($apply:ident) => {
        $apply!($crate::resources::chatbot_slack_channel::SlackChannel);
        $apply!($crate::resources::chatbot_chime_webhook::ChimeWebhook);
        $apply!($crate::resources::chatbot_teams_channel::TeamsChannel);
        $apply!($crate::resources::supportapp_slack_workspace::SlackWorkspace);
        $apply!($crate::resources::supportapp_slack_channel::SupportSlackChannel);
        $apply!($crate::resources::supportapp_account_alias::AccountAlias);
    };
}

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

/// Every resource type name, in the order of [`for_each_type!`].
pub fn type_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    macro_rules! push_name {
        ($ty:path) => {
            names.push(<$ty as Resource>::TYPE_NAME)
        };
    }
    for_each_type!(push_name);
    names
}

/// The JSON Schema of `type_name`, or `None` for an unknown type.
pub fn schema_of(type_name: &str) -> Option<serde_json::Value> {
    macro_rules! schema_if_named {
        ($ty:path) => {
            if type_name == <$ty as Resource>::TYPE_NAME {
                return Some($crate::schema::schema_for::<$ty>());
            }
        };
    }
    for_each_type!(schema_if_named);
    None
}

/// The write-only (secret) properties of `type_name`.
pub fn write_only_of(type_name: &str) -> &'static [&'static str] {
    macro_rules! write_only_if_named {
        ($ty:path) => {
            if type_name == <$ty as Resource>::TYPE_NAME {
                return <$ty as Resource>::WRITE_ONLY;
            }
        };
    }
    for_each_type!(write_only_if_named);
    &[]
}

/// The `Fn::GetAtt` attributes of `type_name`, or `None` for an unknown type.
pub fn attributes_of(type_name: &str) -> Option<&'static [&'static str]> {
    macro_rules! attributes_if_named {
        ($ty:path) => {
            if type_name == <$ty as Resource>::TYPE_NAME {
                return Some(<$ty as Resource>::ATTRIBUTES);
            }
        };
    }
    for_each_type!(attributes_if_named);
    None
}

/// What is wrong with `Fn::GetAtt` of `attribute` on a resource of
/// `type_name`, when it is one of ours and has no such attribute.
pub fn attribute_problem(type_name: &str, attribute: &str) -> Option<String> {
    let attributes = attributes_of(type_name)?;
    (!attributes.contains(&attribute)).then(|| {
        format!(
            "{type_name} has no attribute {attribute:?}; Fn::GetAtt can read {}",
            attributes.join(", ")
        )
    })
}

/// Checks `properties` (as CloudFormation sends them, strings for booleans
/// and numbers) against the schema of `type_name`, offline.
pub fn validate_properties(type_name: &str, properties: &serde_json::Value) -> Result<()> {
    macro_rules! validate_if_named {
        ($ty:path) => {
            if type_name == <$ty as Resource>::TYPE_NAME {
                return $crate::lifecycle::parse_valid::<$ty>(properties).map(drop);
            }
        };
    }
    for_each_type!(validate_if_named);
    Err(crate::error::Error::InvalidRequest(format!(
        "unknown resource type {type_name:?}; this provider handles {}",
        type_names().join(", ")
    )))
}

/// Carries out `request` with the type it names.
pub async fn dispatch(
    provider: &crate::accounts::Provider,
    request: &crate::event::Request,
) -> Result<crate::lifecycle::Applied> {
    macro_rules! run_if_named {
        ($ty:path) => {
            if request.resource_type == <$ty as Resource>::TYPE_NAME {
                return $crate::lifecycle::run::<$ty>(provider, request).await;
            }
        };
    }
    for_each_type!(run_if_named);
    if request.kind == crate::event::RequestKind::Delete {
        // Nothing of an unknown type was ever made: let the stack delete it.
        return Ok(crate::lifecycle::Applied {
            physical_id: request
                .reply_to
                .physical_resource_id
                .clone()
                .unwrap_or_default(),
            data: BTreeMap::new(),
        });
    }
    Err(crate::error::Error::InvalidRequest(format!(
        "unknown resource type {:?}; this provider handles {}",
        request.resource_type,
        type_names().join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `schemas/` is what users and tools read: it must be what the code validates with.
    #[test]
    fn checked_in_schemas_match_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
        for name in type_names() {
            let path = dir.join(format!("{name}.json"));
            let expected = format!(
                "{}\n",
                serde_json::to_string_pretty(&schema_of(name).unwrap()).unwrap()
            );
            let actual = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                actual == expected,
                "{} is out of date with the {name} type: run `make schemas` and commit the result",
                path.display()
            );
        }
        let files = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(
            files,
            type_names().len(),
            "schemas/ holds a file per type and nothing else"
        );
    }

    /// The example events are real CloudFormation events a user copies: each must read and validate.
    #[test]
    fn example_events_read_and_validate() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/events");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let event: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for request in crate::event::requests_in(event) {
                let request = request.unwrap_or_else(|e| panic!("{}: {}", path.display(), e.error));
                validate_properties(&request.resource_type, &request.properties)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen += 1;
            }
        }
        assert!(seen >= 3, "only {seen} example events");
    }

    /// The example templates are where users start: every custom resource in
    /// them validates (values known only at deploy time aside), with no
    /// warning, and every type has an example.
    #[test]
    fn example_templates_validate_and_cover_every_type() {
        use crate::template::{Pseudo, Template, validate};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let mut covered = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let is_template = path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json");
            if !is_template {
                continue;
            }
            let template =
                Template::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let resolver = template
                .resolver(
                    Pseudo::new("100000000001", "us-east-1", "example"),
                    &BTreeMap::new(),
                    validate::options(),
                )
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let validation = validate::validate(&template, &resolver);
            assert!(
                validation.findings.is_empty(),
                "{}: {:#?}",
                path.display(),
                validation.findings
            );
            covered.extend(
                validation
                    .checked
                    .into_iter()
                    .map(|(_, type_name)| type_name),
            );
        }
        for name in type_names() {
            assert!(
                covered.contains(name),
                "no template in examples/ uses {name}; add one"
            );
        }
    }

    /// What `Fn::GetAtt` is checked against is what a deploy answers in Data.
    #[test]
    fn attributes_are_the_keys_of_data() {
        use serde_json::json;
        let role = "arn:aws:iam::100000000001:role/R";
        let samples = [
            json!({"ConfigurationName": "c", "SlackWorkspaceId": "T1", "SlackChannelId": "C1", "IamRoleArn": role}),
            json!({"ConfigurationName": "c", "WebhookDescription": "d", "WebhookUrl": "u", "IamRoleArn": role, "SnsTopicArns": []}),
            json!({"ConfigurationName": "c", "TeamId": "t", "TeamsChannelId": "c", "TeamsTenantId": "t", "IamRoleArn": role}),
            json!({"TeamId": "T1"}),
            json!({"TeamId": "T1", "ChannelId": "C1", "ChannelRoleArn": role, "NotifyOnCaseSeverity": "none"}),
            json!({"AccountAlias": "a"}),
        ];
        let mut checked = 0;
        macro_rules! check_data {
            ($ty:path) => {
                let sample = samples
                    .iter()
                    .find_map(|s| serde_json::from_value::<$ty>(s.clone()).ok())
                    .expect("a sample of each type");
                let keys: Vec<String> = sample.data("100000000001").into_keys().collect();
                let mut attributes: Vec<&str> = <$ty as Resource>::ATTRIBUTES.to_vec();
                attributes.sort();
                assert_eq!(keys, attributes, "{}", <$ty as Resource>::TYPE_NAME);
                checked += 1;
            };
        }
        for_each_type!(check_data);
        assert_eq!(checked, type_names().len());
    }

    #[test]
    fn every_type_is_listed_once() {
        let mut names = type_names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), type_names().len());
    }
}
