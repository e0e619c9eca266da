//! The resource types, in one list ([`TYPES`]) looked up by name: a new type
//! is its module in `resources/` plus one line here.
//!
//! Each entry is a [`ResourceType`], the object-safe face of a
//! [`Resource`]: what the request path, the plan, `chatops validate` and
//! `chatops schema` ask of a type whose name they only know at run time.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::accounts::{AccountContext, Accounts};
use crate::endpoints::Service;
use crate::error::{Error, Result};
use crate::plan::ResourcePlan;
use crate::plan::compare::{self, Desired, Scope};
use crate::plan::live::LiveSource;
use crate::reading::{self, Reading};
use crate::request::event::{Request, RequestKind};
use crate::request::lifecycle::{self, Applied};
use crate::resources::chatbot_chime_webhook::ChimeWebhook;
use crate::resources::chatbot_slack_channel::SlackChannel;
use crate::resources::chatbot_teams_channel::TeamsChannel;
use crate::resources::supportapp_account_alias::AccountAlias;
use crate::resources::supportapp_slack_channel::SupportSlackChannel;
use crate::resources::supportapp_slack_workspace::SlackWorkspace;
use crate::resources::{LiveResource, Resource};

/// Every resource type of the provider, in the order documentation lists them.
pub static TYPES: &[&dyn ResourceType] = &[
    &Type::<SlackChannel>::ENTRY,
    &Type::<ChimeWebhook>::ENTRY,
    &Type::<TeamsChannel>::ENTRY,
    &Type::<SlackWorkspace>::ENTRY,
    &Type::<SupportSlackChannel>::ENTRY,
    &Type::<AccountAlias>::ENTRY,
];

/// The type named `type_name`, if the provider has it.
pub fn by_name(type_name: &str) -> Option<&'static dyn ResourceType> {
    TYPES.iter().copied().find(|t| t.name() == type_name)
}

/// The type named `type_name`, or the error that names the types there are.
pub fn lookup(type_name: &str) -> Result<&'static dyn ResourceType> {
    by_name(type_name).ok_or_else(|| {
        Error::InvalidRequest(format!(
            "unknown resource type {type_name:?}; this provider handles {}",
            names().join(", ")
        ))
    })
}

/// The names of every type, in [`TYPES`] order.
pub fn names() -> Vec<&'static str> {
    TYPES.iter().map(|t| t.name()).collect()
}

/// The write-only (secret) properties of `type_name`; none for an unknown type.
pub fn write_only_of(type_name: &str) -> &'static [&'static str] {
    by_name(type_name).map_or(&[], |t| t.write_only())
}

/// What is wrong with `Fn::GetAtt` of `attribute` on a resource of
/// `type_name`, when it is one of ours and has no such attribute.
pub fn attribute_problem(type_name: &str, attribute: &str) -> Option<String> {
    let attributes = by_name(type_name)?.attributes();
    (!attributes.contains(&attribute)).then(|| {
        format!(
            "{type_name} has no attribute {attribute:?}; Fn::GetAtt can read {}",
            attributes.join(", ")
        )
    })
}

/// Carries out `request` with the type it names.
pub async fn dispatch(accounts: &Accounts, request: &Request) -> Result<Applied> {
    if request.kind == RequestKind::Delete && by_name(&request.resource_type).is_none() {
        // Nothing of an unknown type was ever made: let the stack delete it.
        return Ok(Applied {
            physical_id: request
                .reply_to
                .physical_resource_id
                .clone()
                .unwrap_or_default(),
            data: BTreeMap::new(),
        });
    }
    lookup(&request.resource_type)?.run(accounts, request).await
}

/// A resource type as code that knows only its name uses it.
pub trait ResourceType: Send + Sync {
    /// The CloudFormation type name, such as `Custom::ChatbotSlackChannel`.
    fn name(&self) -> &'static str;
    /// The service whose API it calls.
    fn service(&self) -> Service;
    /// Whether the service keeps the provider's ownership tags on it.
    fn ownership_tags(&self) -> bool;
    /// Its JSON Schema, generated from the properties struct.
    fn schema(&self) -> Value;
    /// Its secret properties: never read back, logged or shown.
    fn write_only(&self) -> &'static [&'static str];
    /// The attributes `Fn::GetAtt` reads.
    fn attributes(&self) -> &'static [&'static str];
    /// Checks a request's properties as a Create would, offline.
    fn validate(&self, properties: &Value) -> Result<()>;
    /// Every problem of a template's properties ([`reading::problems`]).
    fn problems(&self, properties: &Value) -> Vec<String>;
    /// Carries out `request` ([`lifecycle::run`]).
    fn run<'a>(
        &'a self,
        accounts: &'a Accounts,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<Applied>>;
    /// Every resource of the type in the account of `ctx`.
    fn list<'a>(&'a self, ctx: &'a AccountContext) -> BoxFuture<'a, Result<Vec<LiveResource>>>;
    /// The plan of the type's resources of one stack against what `live` reads.
    fn plan<'a>(
        &'static self,
        scope: &'a Scope<'a>,
        desired: &'a [Desired],
        deployed: Option<&'a [Desired]>,
        live: &'a dyn LiveSource,
    ) -> BoxFuture<'a, Result<Vec<ResourcePlan>>>;
    /// The plan of the type's resources from one template to another, offline.
    fn diff(
        &self,
        scope: &Scope<'_>,
        desired: &[Desired],
        deployed: &[Desired],
    ) -> Vec<ResourcePlan>;
}

/// The [`ResourceType`] of `R`.
struct Type<R>(PhantomData<fn() -> R>);

impl<R> Type<R> {
    const ENTRY: Self = Type(PhantomData);
}

impl<R: Resource> ResourceType for Type<R> {
    fn name(&self) -> &'static str {
        R::TYPE_NAME
    }

    fn service(&self) -> Service {
        R::SERVICE
    }

    fn ownership_tags(&self) -> bool {
        R::OWNERSHIP_TAGS
    }

    fn schema(&self) -> Value {
        crate::schema::schema_for::<R>()
    }

    fn write_only(&self) -> &'static [&'static str] {
        R::WRITE_ONLY
    }

    fn attributes(&self) -> &'static [&'static str] {
        R::ATTRIBUTES
    }

    fn validate(&self, properties: &Value) -> Result<()> {
        reading::read::<R>(properties, Reading::Strict).map(drop)
    }

    fn problems(&self, properties: &Value) -> Vec<String> {
        reading::problems::<R>(properties)
    }

    fn run<'a>(
        &'a self,
        accounts: &'a Accounts,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<Applied>> {
        Box::pin(lifecycle::run::<R>(accounts, request))
    }

    fn list<'a>(&'a self, ctx: &'a AccountContext) -> BoxFuture<'a, Result<Vec<LiveResource>>> {
        Box::pin(R::list(ctx))
    }

    fn plan<'a>(
        &'static self,
        scope: &'a Scope<'a>,
        desired: &'a [Desired],
        deployed: Option<&'a [Desired]>,
        live: &'a dyn LiveSource,
    ) -> BoxFuture<'a, Result<Vec<ResourcePlan>>> {
        Box::pin(crate::plan::run::plan_type::<R>(
            self, scope, desired, deployed, live,
        ))
    }

    fn diff(
        &self,
        scope: &Scope<'_>,
        desired: &[Desired],
        deployed: &[Desired],
    ) -> Vec<ResourcePlan> {
        compare::compare::<R>(scope, desired, Some(deployed), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Resource;

    /// `schemas/` is what users and tools read: it must be what the code validates with.
    #[test]
    fn checked_in_schemas_match_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
        for name in names() {
            let path = dir.join(format!("{name}.json"));
            let expected = format!(
                "{}\n",
                serde_json::to_string_pretty(&by_name(name).unwrap().schema()).unwrap()
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
            TYPES.len(),
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
            for request in crate::request::event::requests_in(event) {
                let request = request.unwrap_or_else(|e| panic!("{}: {}", path.display(), e.error));
                lookup(&request.resource_type)
                    .and_then(|t| t.validate(&request.properties))
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
        use crate::template::{Pseudo, Template};
        use crate::validate;
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
        for name in names() {
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
        /// Checks one type with a sample of its properties; gives its name.
        fn check<R: Resource>(sample: Value) -> &'static str {
            let parsed: R = serde_json::from_value(sample).expect("a valid sample");
            let keys: Vec<String> = parsed.data("100000000001").into_keys().collect();
            let mut attributes: Vec<&str> = R::ATTRIBUTES.to_vec();
            attributes.sort();
            assert_eq!(keys, attributes, "{}", R::TYPE_NAME);
            R::TYPE_NAME
        }
        let role = "arn:aws:iam::100000000001:role/R";
        let checked = [
            check::<SlackChannel>(
                json!({"ConfigurationName": "c", "SlackWorkspaceId": "T1", "SlackChannelId": "C1", "IamRoleArn": role}),
            ),
            check::<ChimeWebhook>(
                json!({"ConfigurationName": "c", "WebhookDescription": "d", "WebhookUrl": "u", "IamRoleArn": role, "SnsTopicArns": []}),
            ),
            check::<TeamsChannel>(
                json!({"ConfigurationName": "c", "TeamId": "t", "TeamsChannelId": "c", "TeamsTenantId": "t", "IamRoleArn": role}),
            ),
            check::<SlackWorkspace>(json!({"TeamId": "T1"})),
            check::<SupportSlackChannel>(
                json!({"TeamId": "T1", "ChannelId": "C1", "ChannelRoleArn": role, "NotifyOnCaseSeverity": "none"}),
            ),
            check::<AccountAlias>(json!({"AccountAlias": "a"})),
        ];
        assert_eq!(checked.to_vec(), names(), "every type, in registry order");
    }

    #[test]
    fn every_type_is_listed_once() {
        let mut listed = names();
        listed.sort();
        listed.dedup();
        assert_eq!(listed.len(), TYPES.len());
    }
}
