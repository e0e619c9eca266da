//! The plan of one resource type in one account: the template's resources
//! (desired), the deployed template's (when known) and the live ones (when
//! read), matched by ownership tags and natural key, each change decided by
//! [`change::decide_for`] exactly as a deploy decides it.
//!
//! - Without live resources (`chatops diff`), the deployed template is the "before".
//! - With live resources and no deployed template, live is the "before".
//! - With both, the action is what CloudFormation will do (deployed → new,
//!   which is what the Lambda sees), the diff shows live → new, and any
//!   difference between deployed and live is drift.
//!
//! [`matching`] finds the live resource each template resource is,
//! [`settle`] puts live values where the template has values known only
//! after apply, and [`redact`] shows each property change without secrets.

mod matching;
mod redact;
mod settle;

use matching::{find_current, owner};
use redact::property_changes;
use settle::{as_live, settle, with_defaults};

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Action, Drift, ResourcePlan};
use crate::accounts::{Accounts, StackArn, Target};
use crate::change::{self, Change};
use crate::ownership::{Owned, Owner, Ownership};
use crate::properties::CommonProperties;
use crate::reading::{self, Reading};
use crate::resources::{LiveResource, Resource};
use crate::template::{self, KNOWN_AFTER_APPLY, contains_changing_unknown};

/// A resource of a template, resolved for one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Its logical id.
    pub logical_id: String,
    /// Its resolved properties.
    pub properties: Value,
}

/// A live resource and the account and region it was read in.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveAt {
    /// Where it lives.
    pub target: Target,
    /// The resource.
    pub resource: LiveResource,
}

/// What the comparison of one account needs besides the resources.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The provider (it chooses the default Region of each service; its admin accounts
    /// decide which AccountId a stack may name).
    pub accounts: &'a Accounts,
    /// The StackId of the planned stack (real, or of the right form).
    pub stack_id: &'a str,
    /// Which live resources are the stack's.
    pub ownership: &'a Ownership,
    /// Values never to show (NoEcho parameters).
    pub secrets: &'a [String],
    /// Every logical id of the new template, whatever its type.
    pub template_logical_ids: &'a BTreeSet<String>,
}

/// The account and region a resource with `properties` is made in, as the
/// deploy works it out.
pub fn target_of<R: Resource>(scope: &Scope<'_>, properties: &Value) -> Result<Target, String> {
    // Only AccountId and Region: a resource whose other properties are
    // invalid is still planned where the deploy would make it.
    let placeholder = Value::String(KNOWN_AFTER_APPLY.to_owned());
    let known = template::replace_unknowns(&reading::coerced::<R>(properties), &placeholder);
    let common: CommonProperties = serde_json::from_value(known).unwrap_or_default();
    let unknown = |v: &Option<String>| v.as_deref() == Some(KNOWN_AFTER_APPLY);
    if unknown(&common.account_id) || unknown(&common.region) {
        return Err(
            "AccountId or Region is known only after apply, so the plan cannot tell where the \
             resource is made; use parameters or pseudo parameters there"
                .to_owned(),
        );
    }
    scope
        .accounts
        .target(scope.stack_id, &common, R::SERVICE)
        .map_err(|e| e.to_string())
}

/// The default target of the stack for `R`: its account, the region its
/// service is called in.
fn stack_target<R: Resource>(scope: &Scope<'_>) -> Option<Target> {
    scope
        .accounts
        .target(scope.stack_id, &CommonProperties::default(), R::SERVICE)
        .ok()
}

/// A resource of the template, read for the comparison.
struct Prepared<R> {
    pub(super) logical_id: String,
    /// Coerced properties, unknowns kept.
    properties: Value,
    owner: Owner,
    key: Option<String>,
    target: Option<Target>,
    parsed: Option<R>,
    problem: Option<String>,
}

fn prepare<R: Resource>(scope: &Scope<'_>, desired: &Desired, check: bool) -> Prepared<R> {
    let properties = reading::coerced::<R>(&desired.properties);
    let mut problems = Vec::new();
    if check {
        let found = reading::problems::<R>(&properties);
        if !found.is_empty() {
            problems.push(format!("invalid property {}", found.join("; ")));
        }
    }
    let parsed: Option<R> = reading::read(&properties, Reading::WithUnknowns).ok();
    let key = parsed
        .as_ref()
        .map(R::natural_key)
        .filter(|key| !key.contains(KNOWN_AFTER_APPLY));
    let target = match target_of::<R>(scope, &properties) {
        Ok(target) => Some(target),
        Err(problem) => {
            problems.push(problem);
            stack_target::<R>(scope)
        }
    };
    Prepared {
        logical_id: desired.logical_id.clone(),
        owner: Owner {
            stack_id: scope.stack_id.to_owned(),
            logical_id: desired.logical_id.clone(),
        },
        properties,
        key,
        target,
        parsed,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    }
}

/// Compares the resources of type `R`: `desired` from the new template,
/// `deployed` from the deployed template (when there is one), `live` as read
/// in the account (`None` for an offline diff of two templates).
pub fn compare<R: Resource>(
    scope: &Scope<'_>,
    desired: &[Desired],
    deployed: Option<&[Desired]>,
    live: Option<&[LiveAt]>,
) -> Vec<ResourcePlan> {
    let new: Vec<Prepared<R>> = desired.iter().map(|d| prepare(scope, d, true)).collect();
    let old: Option<Vec<Prepared<R>>> =
        deployed.map(|list| list.iter().map(|d| prepare(scope, d, false)).collect());
    let old_of = |logical_id: &str| {
        old.as_ref()
            .and_then(|list| list.iter().find(|p| p.logical_id == logical_id))
    };
    let mut plans = Vec::new();
    match live {
        None => {
            for n in &new {
                plans.push(offline(scope, n, old_of(&n.logical_id)));
            }
            for d in old.iter().flatten() {
                if !new.iter().any(|n| n.logical_id == d.logical_id) {
                    plans.push(delete_plan::<R>(
                        scope,
                        &d.logical_id,
                        d.key.clone(),
                        None,
                        &d.properties,
                    ));
                }
            }
        }
        Some(live) => {
            let mut claimed = vec![false; live.len()];
            for n in &new {
                plans.push(online(scope, n, old_of(&n.logical_id), live, &mut claimed));
            }
            for d in old.iter().flatten() {
                if new.iter().any(|n| n.logical_id == d.logical_id) {
                    continue;
                }
                let found = find_current(scope, d, None, live, &claimed);
                if let Some(index) = found {
                    claimed[index] = true;
                }
                let (physical_id, properties) = match found {
                    Some(index) => (
                        Some(live[index].resource.physical_id.clone()),
                        &live[index].resource.properties,
                    ),
                    None => (None, &d.properties),
                };
                let mut plan =
                    delete_plan::<R>(scope, &d.logical_id, d.key.clone(), physical_id, properties);
                if found.is_none() {
                    plan.drift = Some(Drift::Deleted);
                }
                plans.push(plan);
            }
            for (index, item) in live.iter().enumerate() {
                if claimed[index] {
                    continue;
                }
                if let Owned::Ours(logical_id) = owner::<R>(scope, &item.resource.tags) {
                    if !scope.template_logical_ids.contains(&logical_id) {
                        plans.push(delete_plan::<R>(
                            scope,
                            &logical_id,
                            Some(item.resource.natural_key.clone()),
                            Some(item.resource.physical_id.clone()),
                            &item.resource.properties,
                        ));
                    }
                }
            }
        }
    }
    flag_keys_still_held(&mut plans);
    plans
}

/// A create whose natural key a resource being deleted still holds fails:
/// CloudFormation creates the new resource before it deletes the old one.
fn flag_keys_still_held(plans: &mut [ResourcePlan]) {
    let deleted: Vec<(String, String)> = plans
        .iter()
        .filter(|p| p.action == Action::Delete)
        .filter_map(|p| Some((p.natural_key.clone()?, p.logical_id.clone())))
        .collect();
    for plan in plans.iter_mut().filter(|p| p.action == Action::Create) {
        let Some(key) = &plan.natural_key else {
            continue;
        };
        if let Some((_, holder)) = deleted.iter().find(|(k, _)| k == key) {
            plan.problem.get_or_insert_with(|| {
                format!(
                    "the create will fail: {key:?} is still held by {holder} of this stack, which \
                     CloudFormation deletes only after creating {}; keep the old logical id, or \
                     remove {holder} in one deploy and add {} in the next",
                    plan.logical_id, plan.logical_id
                )
            });
        }
    }
}

/// `decide` as the deploy runs it.
fn decide<R: Resource>(scope: &Scope<'_>, owner: &Owner, old: &Value, new: &Value) -> Change {
    change::decide_for::<R>(scope.accounts, owner, old, new)
        .unwrap_or_else(|_| change::decide(old, new, R::CREATE_ONLY, R::UNORDERED))
}

fn offline<R: Resource>(
    scope: &Scope<'_>,
    n: &Prepared<R>,
    d: Option<&Prepared<R>>,
) -> ResourcePlan {
    let Some(d) = d else {
        return create_plan(scope, n);
    };
    let decided = decide::<R>(scope, &n.owner, &d.properties, &n.properties);
    let mut plan = changed_plan(scope, n, &decided, &d.properties, &n.properties, None);
    if plan.problem.is_none() {
        plan.problem = replacement_problem(scope, n, d.parsed.as_ref(), &decided);
    }
    plan
}

fn online<R: Resource>(
    scope: &Scope<'_>,
    n: &Prepared<R>,
    d: Option<&Prepared<R>>,
    live: &[LiveAt],
    claimed: &mut [bool],
) -> ResourcePlan {
    let Some(index) = find_current(scope, n, d, live, claimed) else {
        return match d {
            None => create_plan(scope, n),
            Some(d) => deleted_outside(scope, n, d),
        };
    };
    let current = &live[index];
    let adopting = adopting(n, d, &current.resource);
    match owner::<R>(scope, &current.resource.tags) {
        Owned::Ours(logical_id) if logical_id != n.logical_id => {
            let mut plan = create_plan(scope, n);
            if scope.template_logical_ids.contains(&logical_id) {
                plan.problem.get_or_insert_with(|| {
                    format!(
                        "the create will fail: {:?} is already used by {logical_id} of this stack; \
                         give each resource its own",
                        current.resource.natural_key
                    )
                });
            }
            return plan;
        }
        Owned::Other { stack, logical_id } => {
            let mut plan = create_plan(scope, n);
            let name_of = |stack_id: &str| StackArn::parse(stack_id).ok().map(|s| s.name);
            let what_to_do = if name_of(&stack) == name_of(scope.stack_id) {
                "a stack of this name made it and was deleted with the resource retained; a stack \
                 made again under the name is another stack and does not own it: choose another \
                 name, or delete the old one"
            } else {
                "choose another name, or delete it there"
            };
            plan.problem.get_or_insert_with(|| {
                format!(
                    "the create will fail: a {} {:?} already exists in account {}, owned by {logical_id} \
                     of stack {stack} (Adopt never takes over what another stack owns); {what_to_do}",
                    R::TYPE_NAME,
                    current.resource.natural_key,
                    current.target.account_id
                )
            });
            return plan;
        }
        Owned::Unmanaged if adopting => {}
        Owned::Unmanaged => {
            let mut plan = create_plan(scope, n);
            plan.problem.get_or_insert_with(|| {
                format!(
                    "the create will fail: a {} {:?} already exists in account {} and was not made \
                     through this provider; set Adopt: true to bring it under this stack (`chatops \
                     import` writes such a template), choose another name, or delete it",
                    R::TYPE_NAME,
                    current.resource.natural_key,
                    current.target.account_id
                )
            });
            return plan;
        }
        Owned::Ours(_) | Owned::Unknown => {}
    }
    claimed[index] = true;
    let live_properties = &current.resource.properties;
    let unchanged_source = |name: &str| match d {
        None => true,
        Some(d) => d.properties.get(name) == n.properties.get(name),
    };
    let partition = current.target.partition.as_str();
    let new_for_live = as_live::<R>(
        &settle::<R>(&n.properties, live_properties, |name| {
            unchanged_source(name)
                && !n
                    .properties
                    .get(name)
                    .is_some_and(contains_changing_unknown)
        }),
        partition,
    );
    let against_live = decide::<R>(scope, &n.owner, live_properties, &new_for_live);
    let (decided, drift) = match d {
        None => (against_live.clone(), None),
        Some(d) => {
            let decided = decide::<R>(scope, &n.owner, &d.properties, &n.properties);
            let deployed_for_live = as_live::<R>(
                &settle::<R>(&d.properties, live_properties, |_| true),
                partition,
            );
            let drift = decide::<R>(scope, &n.owner, &deployed_for_live, live_properties);
            let drift = (drift != Change::NoChange).then(|| {
                Drift::Modified(property_changes::<R>(
                    scope,
                    drift.changed(),
                    &deployed_for_live,
                    live_properties,
                    &[],
                ))
            });
            (decided, drift)
        }
    };
    let after = with_defaults::<R>(&n.properties, partition);
    let mut plan = changed_plan(
        scope,
        n,
        &decided,
        live_properties,
        &after,
        Some(&against_live),
    );
    plan.physical_id = Some(current.resource.physical_id.clone());
    if plan.natural_key.is_none() {
        plan.natural_key = Some(current.resource.natural_key.clone());
    }
    plan.drift = drift;
    if adopting {
        adoption_plan::<R>(&mut plan, n, &current.target, &against_live);
        return plan;
    }
    if plan.problem.is_none() {
        let old_parsed = d
            .and_then(|d| d.parsed.clone())
            .or_else(|| reading::read(live_properties, Reading::Lenient).ok());
        plan.problem = replacement_problem(scope, n, old_parsed.as_ref(), &decided);
    }
    plan
}

/// Whether the deploy adopts `live` for `n`: the template asks for it and no
/// stack owns it. AWS Chatbot: no ownership tags (whatever was deployed, the
/// stack would have tagged what it made). The Support App has no tags: only
/// while the stack has not deployed the resource yet.
fn adopting<R: Resource>(n: &Prepared<R>, d: Option<&Prepared<R>>, live: &LiveResource) -> bool {
    let asks = n.parsed.as_ref().and_then(|p| p.common().adopt) == Some(true);
    let unowned = if R::OWNERSHIP_TAGS {
        Owner::of_tags(&live.tags).is_none()
    } else {
        d.is_none()
    };
    asks && unowned
}

/// `plan` as an adoption: the deploy applies the differences from live
/// (`against_live`) with the type's Update, which cannot change a
/// create-only property, and only a stack in the account may adopt there.
fn adoption_plan<R: Resource>(
    plan: &mut ResourcePlan,
    n: &Prepared<R>,
    target: &Target,
    against_live: &Change,
) {
    plan.action = Action::Adopt;
    // The stack never made it: how it differs from a deployed template is not drift.
    plan.drift = None;
    for change in &mut plan.changes {
        change.forces_replacement = false;
    }
    if plan.problem.is_some() {
        return;
    }
    if let Err(e) = crate::request::adoption::check_same_account(&target.account_id, &n.owner) {
        plan.problem = Some(format!("the adoption will fail: {e}"));
    } else if let Change::Replacement { reasons, .. } = against_live {
        plan.problem = Some(format!(
            "the adoption will fail: it applies the template with an update, which cannot change {} of \
             what exists; set {} to the live value{} (as `chatops import` writes it)",
            reasons.join(", "),
            reasons.join(", "),
            if reasons.len() == 1 { "" } else { "s" }
        ));
    }
}

/// The deployed resource is gone from the account.
fn deleted_outside<R: Resource>(
    scope: &Scope<'_>,
    n: &Prepared<R>,
    d: &Prepared<R>,
) -> ResourcePlan {
    let decided = decide::<R>(scope, &n.owner, &d.properties, &n.properties);
    let mut plan = changed_plan(scope, n, &decided, &d.properties, &n.properties, None);
    plan.drift = Some(Drift::Deleted);
    if plan.action == Action::Update {
        plan.problem.get_or_insert_with(|| {
            "the update will fail: the resource was deleted outside the template; \
             remove it from the template and deploy, then add it back"
                .to_owned()
        });
    }
    plan
}

fn create_plan<R: Resource>(scope: &Scope<'_>, n: &Prepared<R>) -> ResourcePlan {
    let names: Vec<String> = n
        .properties
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    ResourcePlan {
        logical_id: n.logical_id.clone(),
        type_name: R::TYPE_NAME.to_owned(),
        natural_key: n.key.clone(),
        physical_id: None,
        action: Action::Create,
        changes: property_changes::<R>(scope, &names, &Value::Null, &n.properties, &[]),
        drift: None,
        problem: n.problem.clone(),
    }
}

fn delete_plan<R: Resource>(
    scope: &Scope<'_>,
    logical_id: &str,
    natural_key: Option<String>,
    physical_id: Option<String>,
    before: &Value,
) -> ResourcePlan {
    let names: Vec<String> = before
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    ResourcePlan {
        logical_id: logical_id.to_owned(),
        type_name: R::TYPE_NAME.to_owned(),
        natural_key,
        physical_id,
        action: Action::Delete,
        changes: property_changes::<R>(scope, &names, before, &Value::Null, &[]),
        drift: None,
        problem: None,
    }
}

/// The plan of `n` given the decision, showing `before` → `n` for the changed
/// properties (plus those that differ from live, which an update also sets).
fn changed_plan<R: Resource>(
    scope: &Scope<'_>,
    n: &Prepared<R>,
    decided: &Change,
    before: &Value,
    after: &Value,
    against_live: Option<&Change>,
) -> ResourcePlan {
    let (action, reasons) = match decided {
        Change::NoChange => (Action::NoChange, Vec::new()),
        Change::UpdateInPlace { .. } => (Action::Update, Vec::new()),
        Change::Replacement { reasons, .. } => (
            Action::Replace {
                reasons: reasons.clone(),
            },
            reasons.clone(),
        ),
    };
    let changes = if action.is_change() {
        let mut names: Vec<String> = decided.changed().to_vec();
        if let Some(live) = against_live {
            names.extend(live.changed().iter().cloned());
        }
        names.sort();
        names.dedup();
        property_changes::<R>(scope, &names, before, after, &reasons)
    } else {
        Vec::new()
    };
    ResourcePlan {
        logical_id: n.logical_id.clone(),
        type_name: R::TYPE_NAME.to_owned(),
        natural_key: n.key.clone(),
        physical_id: None,
        action,
        changes,
        drift: None,
        problem: n.problem.clone(),
    }
}

/// A replacement is made before the old resource is deleted: with the same
/// natural key in the same account the deploy refuses it.
fn replacement_problem<R: Resource>(
    scope: &Scope<'_>,
    n: &Prepared<R>,
    old: Option<&R>,
    decided: &Change,
) -> Option<String> {
    let Change::Replacement { reasons, .. } = decided else {
        return None;
    };
    let (Some(old), Some(new)) = (old, n.parsed.as_ref()) else {
        return None;
    };
    change::refuse_replacement_with_same_key(scope.accounts, &n.owner, old, new, reasons)
        .err()
        .map(|e| format!("the replacement will fail: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AccountContext;
    use crate::config::ProviderConfig;
    use crate::error::{Error, Result};
    use crate::plan::{PropertyChange, Shown};
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};
    use serde_json::json;
    use std::collections::BTreeMap;

    /// A webhook type with a secret URL, like Custom::ChatbotChimeWebhook.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "PascalCase")]
    struct Webhook {
        /// Its name.
        name: String,
        /// The secret URL.
        webhook_url: String,
        /// Its topics.
        #[serde(default)]
        sns_topic_arns: Vec<String>,
        #[serde(flatten)]
        common: CommonProperties,
    }

    impl Resource for Webhook {
        const TYPE_NAME: &'static str = "Custom::TestWebhook";
        const SERVICE: crate::endpoints::Service = crate::endpoints::Service::Chatbot;
        const CREATE_ONLY: &'static [&'static str] = &["Name"];
        const WRITE_ONLY: &'static [&'static str] = &["WebhookUrl"];
        const ATTRIBUTES: &'static [&'static str] = &[];
        const UNORDERED: &'static [&'static str] = &["SnsTopicArns"];

        fn common(&self) -> &CommonProperties {
            &self.common
        }
        fn natural_key(&self) -> String {
            self.name.clone()
        }
        fn data(&self, _physical_id: &str) -> BTreeMap<String, String> {
            BTreeMap::new()
        }
        fn is_physical_id(physical_id: &str) -> bool {
            physical_id.starts_with("webhook/")
        }
        async fn create(&self, _: &AccountContext, _: &Owner) -> Result<String> {
            Err(Error::InvalidRequest("a test type makes nothing".into()))
        }
        async fn update(&self, _: &Self, _: &str, _: &AccountContext, _: &Owner) -> Result<()> {
            Err(Error::InvalidRequest("a test type makes nothing".into()))
        }
        async fn delete(_: &str, _: &AccountContext) -> Result<()> {
            Err(Error::InvalidRequest("a test type makes nothing".into()))
        }
        async fn list(_: &AccountContext) -> Result<Vec<LiveResource>> {
            Ok(Vec::new())
        }
    }

    const SECRET: &str = "https://hooks.example.com/T0/B0/very-secret";
    const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:100000000001:stack/app/1";

    fn accounts() -> Accounts {
        let sdk = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .behavior_version(BehaviorVersion::latest())
            .build();
        Accounts::new(ProviderConfig::from_lookup(|_| None), sdk)
    }

    fn desired(url: &str, topics: Value) -> Desired {
        Desired {
            logical_id: "Hook".into(),
            properties: json!({"Name": "hook", "WebhookUrl": url, "SnsTopicArns": topics}),
        }
    }

    fn live(topics: Value, tags: Vec<crate::properties::Tag>) -> LiveAt {
        LiveAt {
            target: Target {
                account_id: "100000000001".into(),
                region: "us-east-2".into(),
                partition: "aws".into(),
            },
            resource: LiveResource {
                physical_id: "webhook/hook".into(),
                natural_key: "hook".into(),
                properties: json!({
                    "Name": "hook", "SnsTopicArns": topics,
                    "AccountId": "100000000001", "Region": "us-east-2"
                }),
                tags,
            },
        }
    }

    fn run(
        desired: &[Desired],
        deployed: Option<&[Desired]>,
        live: Option<&[LiveAt]>,
        ownership: &Ownership,
    ) -> Vec<ResourcePlan> {
        let accounts = accounts();
        let ids: BTreeSet<String> = desired.iter().map(|d| d.logical_id.clone()).collect();
        let scope = Scope {
            accounts: &accounts,
            stack_id: STACK_ID,
            ownership,
            secrets: &[],
            template_logical_ids: &ids,
        };
        compare::<Webhook>(&scope, desired, deployed, live)
    }

    fn owned_tags() -> Vec<crate::properties::Tag> {
        Owner {
            stack_id: STACK_ID.into(),
            logical_id: "Hook".into(),
        }
        .managed_tags()
    }

    #[test]
    fn write_only_values_are_never_read_back_nor_shown() {
        let topics = json!([
            "arn:aws:sns:us-east-1:100000000001:b",
            "arn:aws:sns:us-east-1:100000000001:a"
        ]);
        // Live never returns the URL: without a deployed template that is no change.
        let plans = run(
            &[desired(SECRET, topics.clone())],
            None,
            Some(&[live(
                json!([
                    "arn:aws:sns:us-east-1:100000000001:a",
                    "arn:aws:sns:us-east-1:100000000001:b"
                ]),
                owned_tags(),
            )]),
            &Ownership::Stack(Some(STACK_ID.into())),
        );
        assert_eq!(plans[0].action, Action::NoChange, "{plans:?}");
        // A new URL in the template is an update, shown as sensitive only.
        let old = [desired(
            "https://hooks.example.com/old-secret",
            topics.clone(),
        )];
        let plans = run(
            &[desired(SECRET, topics.clone())],
            Some(&old),
            None,
            &Ownership::default(),
        );
        assert_eq!(plans[0].action, Action::Update);
        assert_eq!(
            plans[0].changes,
            [PropertyChange {
                name: "WebhookUrl".into(),
                before: Shown::Sensitive,
                after: Shown::Sensitive,
                forces_replacement: false,
            }]
        );
        // Created or deleted, it is sensitive too; and no output holds it.
        let created = run(
            &[desired(SECRET, topics)],
            None,
            Some(&[]),
            &Ownership::default(),
        );
        let url = created[0]
            .changes
            .iter()
            .find(|c| c.name == "WebhookUrl")
            .unwrap();
        assert_eq!(url.after, Shown::Sensitive);
        let plan = super::super::Plan {
            template: "t".into(),
            deployed: None,
            stack: None,
            change_set: None,
            notes: Vec::new(),
            accounts: vec![super::super::AccountPlan {
                account_id: "100000000001".into(),
                region: "us-east-1".into(),
                outcome: Ok([created, plans].concat()),
            }],
        };
        let text = super::super::text::render(&plan, Default::default());
        let json = super::super::json::render(&plan).to_string();
        let markdown = super::super::markdown::render(&plan, Default::default());
        assert!(
            !text.contains("very-secret")
                && !json.contains("very-secret")
                && !markdown.contains("very-secret"),
            "{text}\n{json}\n{markdown}"
        );
        assert!(
            markdown.contains("+ WebhookUrl = (sensitive)")
                && markdown.contains("~ WebhookUrl = (sensitive value changed)"),
            "{markdown}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains("+ WebhookUrl") && l.ends_with("= (sensitive)")),
            "{text}"
        );
    }

    #[test]
    fn a_source_that_changes_makes_the_value_change() {
        let role = |changes| {
            vec![Desired {
                logical_id: "Hook".into(),
                properties: json!({"Name": "hook", "WebhookUrl": "u", "SnsTopicArns": [template::unknown("Topic", changes)]}),
            }]
        };
        let live = [live(
            json!(["arn:aws:sns:us-east-1:100000000001:t"]),
            owned_tags(),
        )];
        let stable = run(
            &role(false),
            Some(&role(false)),
            Some(&live),
            &Ownership::Stack(Some(STACK_ID.into())),
        );
        assert_eq!(stable[0].action, Action::NoChange, "{stable:?}");
        let changing = run(
            &role(true),
            Some(&role(false)),
            Some(&live),
            &Ownership::Stack(Some(STACK_ID.into())),
        );
        assert_eq!(changing[0].action, Action::Update, "{changing:?}");
        assert_eq!(
            changing[0].changes[0].after,
            Shown::Value(json!(["(known after apply)"]))
        );
    }
}
