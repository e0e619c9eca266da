//! Planning stacks: each target account's template resolved with its
//! parameters, its live resources read type by type, compared; accounts
//! planned concurrently with a bound, throttled accounts retried, and one
//! account's failure reported in its place without stopping the others.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use serde_json::Value;

use super::compare::{self, Desired, LiveAt, Scope};
use super::live::LiveSource;
use super::{AccountPlan, Plan, ResourcePlan};
use crate::accounts::{Accounts, Target};
use crate::error::{Error, Result};
use crate::ownership::Ownership;
use crate::registry::{self, TYPES};
use crate::resources::Resource;
use crate::template::{Pseudo, ResolveOptions, Resolver, Template};

/// Accounts planned at once, and the most calls in flight to each service,
/// unless told otherwise: enough accounts to keep the services busy; the
/// calls to each service start lower and adapt to its rate
/// ([`crate::adaptive`]).
pub const DEFAULT_CONCURRENCY: usize = crate::adaptive::DEFAULT_CEILING;
/// How often an account whose reads stay throttled (after the SDK's own
/// retries) is tried again.
pub const DEFAULT_THROTTLE_RETRIES: u32 = 3;

/// One stack to plan: an account and region, its parameters, and how its
/// resources are recognised.
#[derive(Debug, Clone, PartialEq)]
pub struct StackTarget {
    /// The account the stack is in.
    pub account_id: String,
    /// The stack's region.
    pub region: String,
    /// The stack's name (`AWS::StackName`), when known.
    pub stack_name: Option<String>,
    /// The stack's StackId, when it exists: it tells which live resources
    /// are the stack's (see [`StackTarget::ownership`]).
    pub stack_id: Option<String>,
    /// Parameter values of the new template; names it does not declare are ignored.
    pub parameters: BTreeMap<String, String>,
    /// Parameter values of the deployed template; names it does not declare are ignored.
    pub deployed_parameters: BTreeMap<String, String>,
}

impl StackTarget {
    /// Which live resources the stack owns: those tagged with its StackId;
    /// none when it is named but does not exist yet; unknown when unnamed.
    pub fn ownership(&self) -> Ownership {
        match (&self.stack_id, &self.stack_name) {
            (Some(stack_id), _) => Ownership::Stack(Some(stack_id.clone())),
            (None, Some(_)) => Ownership::Stack(None),
            (None, None) => Ownership::Unknown,
        }
    }

    fn pseudo(&self) -> Pseudo {
        let mut pseudo = Pseudo::unnamed(&self.account_id, &self.region);
        pseudo.stack_name = self.stack_name.clone();
        pseudo.stack_id = self.stack_id.clone();
        pseudo
    }
}

/// The templates of a plan and how it runs.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The template to plan.
    pub template: Template,
    /// The template deployed now, when known: drift is measured against it,
    /// and resources it has that the new one lacks are deleted.
    pub deployed: Option<Template>,
    /// Accounts planned at once, and the ceiling of each service's calls in flight.
    pub concurrency: usize,
    /// Retries of an account whose reads stay throttled.
    pub throttle_retries: u32,
    /// The first delay before such a retry (doubled each time).
    pub retry_delay: Duration,
    /// A parameter with neither a value nor a default is known only after
    /// apply instead of an error (`chatops diff`: it is the same in both templates).
    pub missing_parameters_unknown: bool,
    /// Parameters whose value CloudFormation does not show (NoEcho values of
    /// a change set or a stack): known only after apply.
    pub unknown_parameters: BTreeSet<String>,
}

impl Inputs {
    /// Inputs with the default concurrency and retries.
    pub fn new(template: Template, deployed: Option<Template>) -> Self {
        Inputs {
            template,
            deployed,
            concurrency: DEFAULT_CONCURRENCY,
            throttle_retries: DEFAULT_THROTTLE_RETRIES,
            retry_delay: Duration::from_millis(500),
            missing_parameters_unknown: false,
            unknown_parameters: BTreeSet::new(),
        }
    }
}

/// The custom resources of one stack, resolved, by type.
#[derive(Debug, Default)]
pub struct ResolvedStack {
    /// The new template's resources of this provider's types.
    pub desired: BTreeMap<String, Vec<Desired>>,
    /// The deployed template's, when there is one.
    pub deployed: Option<BTreeMap<String, Vec<Desired>>>,
    /// Values never to show.
    pub secrets: Vec<String>,
    /// Every logical id of the new template.
    pub logical_ids: BTreeSet<String>,
}

fn declared_only(
    template: &Template,
    values: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let declared = template.section("Parameters");
    values
        .iter()
        .filter(|(name, _)| declared.contains_key(*name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The template's resources of this provider's types, resolved: where a
/// template's properties come into the plan, so ServiceToken (which steers
/// CloudFormation and is no property of the resource) is dropped here.
fn custom_resources(resolver: &Resolver<'_>) -> Result<BTreeMap<String, Vec<Desired>>> {
    let ours = registry::names();
    let mut by_type: BTreeMap<String, Vec<Desired>> = BTreeMap::new();
    for (logical_id, type_name) in resolver.template().resource_types() {
        if !ours.contains(&type_name) {
            continue;
        }
        if let Some(mut resource) = resolver.resource(logical_id)? {
            if let Some(map) = resource.properties.as_object_mut() {
                map.remove("ServiceToken");
            }
            by_type
                .entry(type_name.to_owned())
                .or_default()
                .push(Desired {
                    logical_id: resource.logical_id,
                    properties: resource.properties,
                });
        }
    }
    Ok(by_type)
}

/// Resolves the new (and deployed) template for `target`.
pub fn resolve_stack(inputs: &Inputs, target: &StackTarget) -> Result<ResolvedStack> {
    let pseudo = target.pseudo();
    let options = || ResolveOptions {
        missing_parameters_unknown: inputs.missing_parameters_unknown,
        unknown_parameters: inputs.unknown_parameters.clone(),
        ..ResolveOptions::default()
    };
    let parameters = declared_only(&inputs.template, &target.parameters);
    let first = inputs
        .template
        .resolver(pseudo.clone(), &parameters, options())?;
    let mut secrets = first.secrets().to_vec();
    let (new, deployed) = match &inputs.deployed {
        None => (first, None),
        Some(deployed_template) => {
            let deployed_parameters = declared_only(deployed_template, &target.deployed_parameters);
            let deployed =
                deployed_template.resolver(pseudo.clone(), &deployed_parameters, options())?;
            secrets.extend(deployed.secrets().iter().cloned());
            let changing = inputs
                .template
                .changing_resources(&first, deployed_template, &deployed);
            let new = inputs.template.resolver(
                pseudo,
                &parameters,
                ResolveOptions {
                    changing_resources: Some(changing),
                    ..options()
                },
            )?;
            (new, Some(custom_resources(&deployed)?))
        }
    };
    Ok(ResolvedStack {
        desired: custom_resources(&new)?,
        deployed,
        secrets,
        logical_ids: inputs
            .template
            .section("Resources")
            .keys()
            .cloned()
            .collect(),
    })
}

/// Plans one stack against the live resources `live` reads.
pub async fn plan_stack(
    accounts: &Accounts,
    inputs: &Inputs,
    target: &StackTarget,
    live: &dyn LiveSource,
) -> Result<Vec<ResourcePlan>> {
    let resolved = resolve_stack(inputs, target)?;
    let stack_id = target.pseudo().stack_arn();
    let ownership = target.ownership();
    let scope = Scope {
        accounts,
        stack_id: &stack_id,
        ownership: &ownership,
        secrets: &resolved.secrets,
        template_logical_ids: &resolved.logical_ids,
    };
    // Without a deployed template, a type gone from the template may still
    // have resources the stack owns: read every type when ownership is known.
    let read_all = resolved.deployed.is_none() && ownership.is_known();
    let mut plans = Vec::new();
    let empty = Vec::new();
    for resource_type in TYPES {
        let name = resource_type.name();
        let desired = resolved.desired.get(name);
        let deployed = resolved.deployed.as_ref().map(|d| d.get(name));
        let present = desired.is_some() || deployed.flatten().is_some();
        if present || read_all {
            let deployed = deployed.map(|d| d.unwrap_or(&empty).as_slice());
            plans.extend(
                resource_type
                    .plan(&scope, desired.unwrap_or(&empty), deployed, live)
                    .await?,
            );
        }
    }
    plans.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(plans)
}

/// Reads the live resources of `R` wherever the stack's resources of that
/// type are made, and compares.
pub async fn plan_type<R: Resource>(
    resource_type: &'static dyn registry::ResourceType,
    scope: &Scope<'_>,
    desired: &[Desired],
    deployed: Option<&[Desired]>,
    live: &dyn LiveSource,
) -> Result<Vec<ResourcePlan>> {
    let mut targets: Vec<Target> = Vec::new();
    if let Ok(stack_target) = compare::target_of::<R>(scope, &Value::Object(Default::default())) {
        targets.push(stack_target);
    }
    for resource in desired.iter().chain(deployed.unwrap_or_default()) {
        if let Ok(target) = compare::target_of::<R>(scope, &resource.properties) {
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
    }
    let mut found = Vec::new();
    for target in targets {
        for resource in live.list(resource_type, &target).await? {
            found.push(LiveAt {
                target: target.clone(),
                resource,
            });
        }
    }
    Ok(compare::compare::<R>(
        scope,
        desired,
        deployed,
        Some(&found),
    ))
}

/// Compares two templates with no cloud at all: `inputs.deployed` is the old
/// one, `inputs.template` the new, both resolved for `target`.
pub fn diff_stack(
    accounts: &Accounts,
    inputs: &Inputs,
    target: &StackTarget,
) -> Result<Vec<ResourcePlan>> {
    let resolved = resolve_stack(inputs, target)?;
    let stack_id = target.pseudo().stack_arn();
    let ownership = target.ownership();
    let scope = Scope {
        accounts,
        stack_id: &stack_id,
        ownership: &ownership,
        secrets: &resolved.secrets,
        template_logical_ids: &resolved.logical_ids,
    };
    let empty = BTreeMap::new();
    let deployed = resolved.deployed.as_ref().unwrap_or(&empty);
    let mut plans = Vec::new();
    for resource_type in TYPES {
        let name = resource_type.name();
        let desired = resolved
            .desired
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let old = deployed.get(name).map(Vec::as_slice).unwrap_or_default();
        if !desired.is_empty() || !old.is_empty() {
            plans.extend(resource_type.diff(&scope, desired, old));
        }
    }
    plans.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(plans)
}

/// Notes about the template that hold for every account: the resources it
/// has that the plan does not cover.
pub fn template_notes(template: &Template) -> Vec<String> {
    let ours = registry::names();
    let mut others: BTreeMap<&str, usize> = BTreeMap::new();
    let mut foreign_custom = Vec::new();
    for (logical_id, type_name) in template.resource_types() {
        if ours.contains(&type_name) {
            continue;
        }
        if type_name.starts_with("Custom::") || type_name == "AWS::CloudFormation::CustomResource" {
            foreign_custom.push(format!("{logical_id} ({type_name})"));
        } else {
            *others.entry(type_name).or_default() += 1;
        }
    }
    let mut notes = Vec::new();
    if !others.is_empty() {
        let listed: Vec<String> = others
            .iter()
            .map(|(t, n)| {
                if *n == 1 {
                    t.to_string()
                } else {
                    format!("{t} ×{n}")
                }
            })
            .collect();
        notes.push(format!(
            "not planned (CloudFormation's own types; see a change set): {}",
            listed.join(", ")
        ));
    }
    if !foreign_custom.is_empty() {
        notes.push(format!(
            "not planned (custom types this provider does not handle): {}",
            foreign_custom.join(", ")
        ));
    }
    notes
}

/// Completes a target inside its account's task (reads a StackSet instance's
/// parameter overrides, for example).
pub type Complete<'a> =
    &'a (dyn Fn(StackTarget) -> BoxFuture<'a, Result<StackTarget>> + Send + Sync);

/// Plans every target, at most `inputs.concurrency` at once; `live` gives the
/// live source of one account, `progress` is told of each account done.
pub async fn plan_all<'a, S, L>(
    accounts: &'a Accounts,
    inputs: &'a Inputs,
    targets: Vec<StackTarget>,
    complete: Option<Complete<'a>>,
    live: L,
    progress: Option<&'a indicatif::ProgressBar>,
) -> Vec<AccountPlan>
where
    S: LiveSource + 'a,
    L: Fn() -> S + Send + Sync + 'a,
{
    let mut planned = Vec::with_capacity(targets.len());
    plan_each(
        accounts,
        inputs,
        targets,
        complete,
        live,
        progress,
        |account| planned.push(account),
    )
    .await;
    planned.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    planned
}

/// Plans every target as [`plan_all`] does, and hands each account's plan to
/// `each` in the order of `targets` as soon as it and those before it are
/// done, so that a caller that writes them out holds only the few that
/// finished ahead of a slower one, not the whole organization's.
pub async fn plan_each<'a, S, L>(
    accounts: &'a Accounts,
    inputs: &'a Inputs,
    targets: impl IntoIterator<Item = StackTarget>,
    complete: Option<Complete<'a>>,
    live: L,
    progress: Option<&'a indicatif::ProgressBar>,
    mut each: impl FnMut(AccountPlan),
) where
    S: LiveSource + 'a,
    L: Fn() -> S + Send + Sync + 'a,
{
    accounts.pace().set_ceiling(inputs.concurrency);
    let live = &live;
    let mut planned = stream::iter(targets.into_iter().enumerate())
        .map(|(index, target)| async move {
            let (account_id, region) = (target.account_id.clone(), target.region.clone());
            let outcome = plan_with_retries(accounts, inputs, target, complete, live()).await;
            if let Some(bar) = progress {
                bar.inc(1);
            }
            let account = AccountPlan {
                account_id,
                region,
                outcome: outcome.map_err(|e| e.to_string()),
            };
            (index, account)
        })
        .buffer_unordered(inputs.concurrency.max(1));
    let mut ahead = BTreeMap::new();
    let mut next = 0;
    while let Some((index, account)) = planned.next().await {
        ahead.insert(index, account);
        while let Some(account) = ahead.remove(&next) {
            each(account);
            next += 1;
        }
    }
}

async fn plan_with_retries<S: LiveSource>(
    accounts: &Accounts,
    inputs: &Inputs,
    target: StackTarget,
    complete: Option<Complete<'_>>,
    live: S,
) -> Result<Vec<ResourcePlan>> {
    let target = match complete {
        Some(complete) => complete(target).await?,
        None => target,
    };
    let mut attempt = 0;
    loop {
        match plan_stack(accounts, inputs, &target, &live).await {
            Err(Error::Throttled(message)) if attempt < inputs.throttle_retries => {
                tracing::info!(account = %target.account_id, attempt, %message, "throttled; retrying the account");
                tokio::time::sleep(backoff(inputs.retry_delay, attempt, &target.account_id)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Exponential backoff with jitter from the account id, so throttled
/// accounts do not all come back at once.
fn backoff(first: Duration, attempt: u32, account_id: &str) -> Duration {
    let base = first.saturating_mul(1 << attempt.min(10));
    let spread = account_id.bytes().fold(u64::from(attempt), |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 1000;
    base + base.mul_f64(spread as f64 / 2000.0)
}

/// A plan of `accounts` with the metadata of `inputs`.
pub fn assemble(inputs: &Inputs, stack: Option<String>, accounts: Vec<AccountPlan>) -> Plan {
    Plan {
        template: inputs.template.source.clone(),
        deployed: inputs.deployed.as_ref().map(|d| d.source.clone()),
        stack,
        change_set: None,
        notes: template_notes(&inputs.template),
        accounts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::LiveResource;

    /// Finds nothing, later for accounts whose id ends lower: the first
    /// targets finish last.
    struct ReverseDelays;

    impl LiveSource for ReverseDelays {
        fn list<'a>(
            &'a self,
            _: &'static dyn registry::ResourceType,
            target: &'a Target,
        ) -> BoxFuture<'a, Result<Vec<LiveResource>>> {
            let last = target.account_id.bytes().last().unwrap_or(b'0') - b'0';
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(u64::from(9 - last) * 20)).await;
                Ok(Vec::new())
            })
        }
    }

    #[tokio::test]
    async fn each_account_is_handed_on_in_the_order_of_the_targets() {
        let template = Template::parse(
            "Resources:\n  Alerts:\n    Type: Custom::ChatbotSlackChannel\n    Properties:\n      \
             ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops\n      ConfigurationName: alerts\n",
            "stack.yaml",
        )
        .unwrap();
        let mut inputs = Inputs::new(template, None);
        inputs.concurrency = 10;
        let sdk = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("us-east-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let accounts = Accounts::new(crate::config::ProviderConfig::from_lookup(|_| None), sdk);
        let targets: Vec<StackTarget> = (0..10)
            .map(|i| StackTarget {
                account_id: format!("10000000000{i}"),
                region: "us-east-1".into(),
                stack_name: None,
                stack_id: None,
                parameters: BTreeMap::new(),
                deployed_parameters: BTreeMap::new(),
            })
            .collect();
        let mut handed = Vec::new();
        let started = std::time::Instant::now();
        plan_each(
            &accounts,
            &inputs,
            targets,
            None,
            || ReverseDelays,
            None,
            |account| {
                assert!(account.outcome.is_ok(), "{account:?}");
                handed.push(account.account_id)
            },
        )
        .await;
        assert!(
            started.elapsed() >= Duration::from_millis(180),
            "the live reads ran, the first target's the slowest"
        );
        let expected: Vec<String> = (0..10).map(|i| format!("10000000000{i}")).collect();
        assert_eq!(handed, expected);
        assert_eq!(
            accounts
                .pace()
                .limiter(crate::adaptive::Api::Chatbot)
                .stats()
                .limit,
            10,
            "--concurrency is each service's ceiling"
        );
    }

    #[test]
    fn backoff_grows_and_spreads() {
        let first = Duration::from_millis(100);
        let a = backoff(first, 0, "100000000001");
        let b = backoff(first, 2, "100000000001");
        assert!(a >= first && a < first * 2, "{a:?}");
        assert!(b >= first * 4 && b < first * 8, "{b:?}");
        assert_ne!(
            backoff(first, 1, "100000000001"),
            backoff(first, 1, "100000000002")
        );
    }
}
