//! The plan of one resource type in one account: the template's resources
//! (desired), the deployed template's (when known) and the live ones (when
//! read), matched by ownership tags and natural key, each change decided by
//! [`lifecycle::decide`] exactly as a deploy decides it.
//!
//! - Without live resources (`chatops diff`), the deployed template is the "before".
//! - With live resources and no deployed template, live is the "before".
//! - With both, the action is what CloudFormation will do (deployed → new,
//!   which is what the Lambda sees), the diff shows live → new, and any
//!   difference between deployed and live is drift.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Action, Drift, PropertyChange, ResourcePlan, Shown};
use crate::accounts::{Provider, StackArn, Target};
use crate::change::{self, Change};
use crate::lifecycle;
use crate::properties::{CommonProperties, LOGICAL_ID_TAG, Owner, STACK_ID_TAG};
use crate::resources::{LiveResource, Resource};
use crate::schema::TypeSchema;
use crate::template::{
    self, KNOWN_AFTER_APPLY, contains_changing_unknown, contains_unknown, unknown_origin,
};

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

/// Which live resources belong to the planned stack, from their managed tags
/// (`chatops:stack-id` holds the StackId of the stack that made them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ownership {
    /// The stack's name, when known.
    pub stack_name: Option<String>,
    /// What the stack's name starts with, when only that is known (an
    /// instance of a StackSet whose stack does not exist yet).
    pub stack_name_prefix: Option<String>,
}

impl Ownership {
    /// Resources of stack `name`.
    pub fn of_stack(name: &str) -> Self {
        Ownership {
            stack_name: Some(name.to_owned()),
            stack_name_prefix: None,
        }
    }

    /// Resources of an instance of StackSet `name`: those of the instance's
    /// stack (`stack_id`) when it exists, else those of any stack named like
    /// an instance of it (`StackSet-NAME-<id>`).
    pub fn of_stack_set(name: &str, stack_id: Option<String>) -> Self {
        match stack_id.and_then(|id| StackArn::parse(&id).ok()) {
            Some(stack) => Ownership::of_stack(&stack.name),
            None => Ownership {
                stack_name: None,
                stack_name_prefix: Some(format!("StackSet-{name}-")),
            },
        }
    }

    /// Whether the plan knows which stack is its own.
    pub fn is_known(&self) -> bool {
        self.stack_name.is_some() || self.stack_name_prefix.is_some()
    }

    /// Whether the stack of StackId `stack_tag` is the planned one; stacks
    /// are compared by name, which CloudFormation keeps unique in an account
    /// and region (the GUID after it changes when a stack is made again).
    fn is_ours(&self, stack_tag: &str) -> bool {
        let Ok(stack) = StackArn::parse(stack_tag) else {
            return false;
        };
        match (&self.stack_name, &self.stack_name_prefix) {
            (Some(name), _) => stack.name == *name,
            (None, Some(prefix)) => stack.name.starts_with(prefix.as_str()),
            (None, None) => false,
        }
    }

    /// Who owns a live resource with `tags`.
    pub fn owner_of(&self, tags: &[crate::properties::Tag]) -> Owned {
        let tag = |key: &str| tags.iter().find(|t| t.key == key).map(|t| t.value.clone());
        match (tag(STACK_ID_TAG), tag(LOGICAL_ID_TAG)) {
            (Some(stack), Some(logical_id)) => {
                if !self.is_known() {
                    Owned::Unknown
                } else if self.is_ours(&stack) {
                    Owned::Ours(logical_id)
                } else {
                    Owned::Other { stack, logical_id }
                }
            }
            _ if !self.is_known() => Owned::Unknown,
            _ => Owned::Unmanaged,
        }
    }
}

/// Who owns a live resource of type `R`. A type without ownership tags (the
/// Support App) cannot say: the plan compares it with the template, as the
/// deploy, which acts on its natural key, would.
fn owner<R: Resource>(scope: &Scope<'_>, tags: &[crate::properties::Tag]) -> Owned {
    if R::OWNERSHIP_TAGS {
        scope.ownership.owner_of(tags)
    } else {
        Owned::Unknown
    }
}

/// Who owns a live resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    /// The planned stack, as this logical id.
    Ours(String),
    /// Another stack.
    Other {
        /// Its StackId.
        stack: String,
        /// The logical id there.
        logical_id: String,
    },
    /// Nobody: it was not made through this provider.
    Unmanaged,
    /// The plan does not know its own stack, so it cannot tell.
    Unknown,
}

/// What the comparison of one account needs besides the resources.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The provider (it chooses the default Region of each service; its admin accounts
    /// decide which AccountId a stack may name).
    pub provider: &'a Provider,
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
    let placeholder = Value::String(KNOWN_AFTER_APPLY.to_owned());
    let mut value = template::replace_unknowns(properties, &placeholder);
    TypeSchema::cached::<R>().coerce(&mut value);
    let common: CommonProperties = serde_json::from_value(value).unwrap_or_default();
    let unknown = |v: &Option<String>| v.as_deref() == Some(KNOWN_AFTER_APPLY);
    if unknown(&common.account_id) || unknown(&common.region) {
        return Err(
            "AccountId or Region is known only after apply, so the plan cannot tell where the \
             resource is made; use parameters or pseudo parameters there"
                .to_owned(),
        );
    }
    scope
        .provider
        .target(scope.stack_id, &common, R::SERVICE)
        .map_err(|e| e.to_string())
}

/// The default target of the stack for `R`: its account, the region its
/// service is called in.
fn stack_target<R: Resource>(scope: &Scope<'_>) -> Option<Target> {
    scope
        .provider
        .target(scope.stack_id, &CommonProperties::default(), R::SERVICE)
        .ok()
}

/// A resource of the template, read for the comparison.
struct Prepared<R> {
    logical_id: String,
    /// Coerced properties, unknowns kept.
    properties: Value,
    owner: Owner,
    key: Option<String>,
    target: Option<Target>,
    parsed: Option<R>,
    problem: Option<String>,
}

fn prepare<R: Resource>(scope: &Scope<'_>, desired: &Desired, check: bool) -> Prepared<R> {
    let schema = TypeSchema::cached::<R>();
    let mut properties = desired.properties.clone();
    schema.coerce(&mut properties);
    let mut problems = Vec::new();
    if check {
        let found = template::validate::problems_of::<R>(&properties);
        if !found.is_empty() {
            problems.push(format!("invalid property {}", found.join("; ")));
        }
    }
    let placeholder = Value::String(KNOWN_AFTER_APPLY.to_owned());
    let parsed: Option<R> =
        serde_json::from_value(template::replace_unknowns(&properties, &placeholder)).ok();
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
    lifecycle::decide::<R>(scope.provider, owner, old, new)
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
            plan.problem.get_or_insert_with(|| {
                format!(
                    "the create will fail: a {} {:?} already exists in account {}, owned by {logical_id} \
                     of stack {stack}; choose another name, or delete it there",
                    R::TYPE_NAME,
                    current.resource.natural_key,
                    current.target.account_id
                )
            });
            return plan;
        }
        Owned::Unmanaged => {
            let mut plan = create_plan(scope, n);
            plan.problem.get_or_insert_with(|| {
                format!(
                    "the create will fail: a {} {:?} already exists in account {} and was not made \
                     through this provider; choose another name, or delete it",
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
    if plan.problem.is_none() {
        let old_parsed = d.and_then(|d| d.parsed.clone()).or_else(|| {
            let mut value = live_properties.clone();
            TypeSchema::cached::<R>().coerce(&mut value);
            serde_json::from_value(value).ok()
        });
        plan.problem = replacement_problem(scope, n, old_parsed.as_ref(), &decided);
    }
    plan
}

/// The live resource that is `n` now: the one its stack tagged with its
/// logical id, else the one with its natural key (or the deployed one's).
fn find_current<R: Resource>(
    scope: &Scope<'_>,
    n: &Prepared<R>,
    d: Option<&Prepared<R>>,
    live: &[LiveAt],
    claimed: &[bool],
) -> Option<usize> {
    let free = |index: &usize| !claimed[*index];
    let indices = || (0..live.len()).filter(free);
    let ours = |index: &usize| {
        owner::<R>(scope, &live[*index].resource.tags) == Owned::Ours(n.logical_id.clone())
    };
    let keyed = |key: &Option<String>, target: &Option<Target>, index: &usize| {
        let item = &live[*index];
        key.as_deref() == Some(item.resource.natural_key.as_str())
            && target.as_ref() == Some(&item.target)
    };
    indices()
        .find(|i| ours(i) && keyed(&n.key, &n.target, i))
        .or_else(|| indices().find(ours))
        .or_else(|| indices().find(|i| keyed(&n.key, &n.target, i)))
        .or_else(|| d.and_then(|d| indices().find(|i| keyed(&d.key, &d.target, i))))
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
        .map(|m| m.keys().filter(|k| *k != "ServiceToken").cloned().collect())
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
        .map(|m| m.keys().filter(|k| *k != "ServiceToken").cloned().collect())
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
    lifecycle::refuse_replacement_with_same_key(scope.provider, &n.owner, old, new, reasons)
        .err()
        .map(|e| format!("the replacement will fail: {e}"))
}

/// `properties` where each top-level value holding a value known only after
/// apply is replaced by the live one, when `stable` says its source does not
/// change and the live value fits around the unknown parts.
fn settle<R: Resource>(properties: &Value, live: &Value, stable: impl Fn(&str) -> bool) -> Value {
    let Value::Object(map) = properties else {
        return properties.clone();
    };
    let settled: Map<String, Value> = map
        .iter()
        .map(|(name, value)| {
            let is_set = R::UNORDERED.contains(&name.as_str());
            let live_value = live.get(name);
            if contains_unknown(value) && stable(name) && fits(value, live_value, is_set) {
                (name.clone(), live_value.cloned().unwrap_or(Value::Null))
            } else {
                (name.clone(), value.clone())
            }
        })
        .collect();
    Value::Object(settled)
}

/// Whether `live` can be what `pattern` (with unknown parts) resolves to.
fn fits(pattern: &Value, live: Option<&Value>, is_set: bool) -> bool {
    if unknown_origin(pattern).is_some() {
        return live.is_some_and(|l| !l.is_null());
    }
    let Some(live) = live else {
        return false;
    };
    match (pattern, live) {
        (Value::Object(p), Value::Object(l)) => {
            p.len() == l.len() && p.iter().all(|(k, v)| fits(v, l.get(k), false))
        }
        (Value::Array(p), Value::Array(l)) if p.len() == l.len() => {
            if !is_set {
                return p.iter().zip(l).all(|(a, b)| fits(a, Some(b), false));
            }
            let mut remaining: Vec<&Value> = l.iter().collect();
            for known in p.iter().filter(|v| !contains_unknown(v)) {
                match remaining.iter().position(|r| fits(known, Some(r), false)) {
                    Some(at) => {
                        remaining.remove(at);
                    }
                    None => return false,
                }
            }
            true
        }
        (p, l) => scalar_text(p).is_some() && scalar_text(p) == scalar_text(l),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    template::parameters::scalar_text(value)
}

/// `properties` as the service holds them: without what it never returns
/// (write-only and provider-only properties), with its defaults for what a
/// template leaves out.
fn as_live<R: Resource>(properties: &Value, partition: &str) -> Value {
    let mut properties = with_defaults::<R>(properties, partition);
    if let Some(map) = properties.as_object_mut() {
        for name in R::WRITE_ONLY.iter().chain(R::PROVIDER_ONLY) {
            map.remove(*name);
        }
    }
    properties
}

/// `properties` with the service's default for each property left out.
fn with_defaults<R: Resource>(properties: &Value, partition: &str) -> Value {
    let mut properties = properties.clone();
    if let (Some(map), Value::Object(defaults)) =
        (properties.as_object_mut(), R::service_defaults(partition))
    {
        for (name, default) in defaults {
            let is_set = R::UNORDERED.contains(&name.as_str());
            if change::normalized(map.get(&name), is_set).is_none() {
                map.insert(name, default);
            }
        }
    }
    properties
}

/// The changes of `names` from `before` to `after`, leaving out those that
/// only look different (a set in another order), never showing secrets.
fn property_changes<R: Resource>(
    scope: &Scope<'_>,
    names: &[String],
    before: &Value,
    after: &Value,
    reasons: &[String],
) -> Vec<PropertyChange> {
    names
        .iter()
        .filter(|name| name.as_str() != "ServiceToken")
        .filter_map(|name| {
            let is_set = R::UNORDERED.contains(&name.as_str());
            let old = before.get(name);
            let new = after.get(name);
            let write_only = R::WRITE_ONLY.contains(&name.as_str());
            if !write_only && change::normalized(old, is_set) == change::normalized(new, is_set) {
                return None;
            }
            Some(PropertyChange {
                name: name.clone(),
                before: shown::<R>(scope, name, old),
                after: shown::<R>(scope, name, new),
                forces_replacement: reasons.contains(name),
            })
        })
        .collect()
}

/// How a value may be shown: secrets never are.
fn shown<R: Resource>(scope: &Scope<'_>, name: &str, value: Option<&Value>) -> Shown {
    let is_set = R::UNORDERED.contains(&name);
    let Some(value) = change::normalized(value, is_set) else {
        return Shown::Absent;
    };
    if R::WRITE_ONLY.contains(&name) || holds_secret(&value, scope.secrets) {
        return Shown::Sensitive;
    }
    if unknown_origin(&value).is_some() {
        return Shown::KnownAfterApply;
    }
    if contains_unknown(&value) {
        let placeholder = Value::String(KNOWN_AFTER_APPLY.to_owned());
        return Shown::Value(template::replace_unknowns(&value, &placeholder));
    }
    Shown::Value(value)
}

fn holds_secret(value: &Value, secrets: &[String]) -> bool {
    match value {
        Value::String(text) => secrets
            .iter()
            .any(|s| !s.is_empty() && text.contains(s.as_str())),
        Value::Array(items) => items.iter().any(|v| holds_secret(v, secrets)),
        Value::Object(map) => map.values().any(|v| holds_secret(v, secrets)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AccountContext;
    use crate::config::ProviderConfig;
    use crate::error::{Error, Result};
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

    fn provider() -> Provider {
        let sdk = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .behavior_version(BehaviorVersion::latest())
            .build();
        Provider::new(ProviderConfig::from_lookup(|_| None), sdk)
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
        let provider = provider();
        let ids: BTreeSet<String> = desired.iter().map(|d| d.logical_id.clone()).collect();
        let scope = Scope {
            provider: &provider,
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
            &Ownership::of_stack("app"),
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
    fn ownership_reads_the_managed_tags() {
        let ours = Ownership::of_stack("app");
        assert_eq!(ours.owner_of(&owned_tags()), Owned::Ours("Hook".into()));
        assert_eq!(ours.owner_of(&[]), Owned::Unmanaged);
        let other = Ownership::of_stack("other");
        assert!(matches!(other.owner_of(&owned_tags()), Owned::Other { .. }));
        assert_eq!(Ownership::default().owner_of(&owned_tags()), Owned::Unknown);
        let instance_tags = |stack_id: &str| {
            Owner {
                stack_id: stack_id.into(),
                logical_id: "Hook".into(),
            }
            .managed_tags()
        };
        let org = "arn:aws:cloudformation:us-east-1:100000000001:stack/StackSet-org-0c9d/guid-1";
        let org_extra =
            "arn:aws:cloudformation:us-east-1:100000000001:stack/StackSet-org-extra-77aa/guid-2";
        // The instance's own stack, whatever its GUID says.
        let instance = Ownership::of_stack_set("org", Some(org.replace("guid-1", "guid-9")));
        assert_eq!(
            instance.owner_of(&instance_tags(org)),
            Owned::Ours("Hook".into())
        );
        assert!(matches!(
            instance.owner_of(&instance_tags(org_extra)),
            Owned::Other { .. }
        ));
        // Without the instance's stack, any stack named like an instance.
        let any_instance = Ownership::of_stack_set("org", None);
        assert_eq!(
            any_instance.owner_of(&instance_tags(org)),
            Owned::Ours("Hook".into())
        );
    }

    #[test]
    fn unknown_values_fit_live_ones_around_their_known_parts() {
        let unknown = template::unknown("Topic", false);
        let live = json!(["arn:x", "arn:y"]);
        assert!(fits(&json!(["arn:y", unknown.clone()]), Some(&live), true));
        assert!(!fits(&json!(["arn:z", unknown.clone()]), Some(&live), true));
        assert!(!fits(
            &json!(["arn:y", unknown.clone()]),
            Some(&live),
            false
        ));
        assert!(fits(&json!([unknown.clone(), "arn:y"]), Some(&live), false));
        assert!(!fits(&unknown, None, false));
        assert!(fits(&json!("false"), Some(&json!(false)), false));
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
            &Ownership::of_stack("app"),
        );
        assert_eq!(stable[0].action, Action::NoChange, "{stable:?}");
        let changing = run(
            &role(true),
            Some(&role(false)),
            Some(&live),
            &Ownership::of_stack("app"),
        );
        assert_eq!(changing[0].action, Action::Update, "{changing:?}");
        assert_eq!(
            changing[0].changes[0].after,
            Shown::Value(json!(["(known after apply)"]))
        );
    }
}
