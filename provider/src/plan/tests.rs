//! Plans of representative stacks against live resources given up front:
//! golden files of the text and JSON output (`UPDATE_GOLDEN=1` rewrites
//! them), and the properties a plan must keep (a deploy then a plan is no
//! change; secrets never shown; drift seen).

use std::collections::BTreeMap;
use std::path::PathBuf;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use serde_json::{Value, json};

use super::live::FixedLive;
use super::run::{self, Inputs, StackTarget};
use super::*;
use crate::accounts::Accounts;
use crate::config::ProviderConfig;
use crate::ownership::{Owner, user_tags};
use crate::properties::Tag;
use crate::resources::LiveResource;
use crate::resources::chatbot_slack_channel::SlackChannel;
use crate::template::{self, Template};

const STACK: &str = "chatops";
const SECRET_CHANNEL: &str = "C0ONCALL7";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn load(name: &str) -> Template {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    Template::parse(&text, &format!("tests/golden/{name}")).unwrap()
}

fn accounts() -> Accounts {
    let sdk = SdkConfig::builder()
        .region(Region::new("us-east-1"))
        .behavior_version(BehaviorVersion::latest())
        .build();
    Accounts::new(ProviderConfig::from_lookup(|_| None), sdk)
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn target(account: &str, parameters: &[(&str, &str)]) -> StackTarget {
    StackTarget {
        account_id: account.to_owned(),
        region: "us-east-1".to_owned(),
        stack_name: Some(STACK.to_owned()),
        stack_id: Some(stack_id(account)),
        parameters: params(parameters),
        deployed_parameters: params(parameters),
    }
}

fn stack_id(account: &str) -> String {
    format!("arn:aws:cloudformation:us-east-1:{account}:stack/{STACK}/0a1b2c3d")
}

/// What the provider leaves in `account` after deploying `template` with
/// `parameters`: each Slack channel as the service then describes it.
fn deploy(template: &Template, account: &str, parameters: &[(&str, &str)]) -> Vec<LiveResource> {
    let inputs = Inputs::new(template.clone(), None);
    let resolved = run::resolve_stack(&inputs, &target(account, parameters)).unwrap();
    let role = Value::String(format!("arn:aws:iam::{account}:role/chatops-oncall"));
    resolved
        .desired
        .get("Custom::ChatbotSlackChannel")
        .into_iter()
        .flatten()
        .map(|desired| {
            let properties = template::replace_unknowns(&desired.properties, &role);
            let parsed: SlackChannel =
                crate::reading::read(&properties, crate::reading::Reading::Strict).unwrap();
            let owner = Owner {
                stack_id: stack_id(account),
                logical_id: desired.logical_id.clone(),
            };
            live_resource(account, &parsed, Some(&owner))
        })
        .collect()
}

fn live_resource(account: &str, channel: &SlackChannel, owner: Option<&Owner>) -> LiveResource {
    let mut tags: Vec<Tag> = channel.tags.clone();
    if let Some(owner) = owner {
        tags.extend(owner.managed_tags());
    }
    let mut properties = serde_json::to_value(channel).unwrap();
    // What AWS Chatbot sets for what a configuration leaves out.
    for (name, default) in [
        ("LoggingLevel", json!("NONE")),
        (
            "GuardrailPolicies",
            json!(["arn:aws:iam::aws:policy/AdministratorAccess"]),
        ),
        ("UserRoleRequired", json!(false)),
    ] {
        if properties.get(name).is_none() {
            properties[name] = default;
        }
    }
    properties["AccountId"] = json!(account);
    properties["Region"] = json!("us-east-2");
    properties["Tags"] = serde_json::to_value(user_tags(&tags)).unwrap();
    if user_tags(&tags).is_empty() {
        properties.as_object_mut().unwrap().remove("Tags");
    }
    LiveResource {
        physical_id: format!(
            "arn:aws:chatbot::{account}:chat-configuration/slack-channel/{}",
            channel.configuration_name
        ),
        natural_key: channel.configuration_name.clone(),
        properties,
        tags,
    }
}

fn edit(resource: &mut LiveResource, edit: impl FnOnce(&mut Value)) {
    edit(&mut resource.properties);
}

fn named<'a>(resources: &'a mut [LiveResource], key: &str) -> &'a mut LiveResource {
    resources
        .iter_mut()
        .find(|r| r.natural_key.starts_with(key))
        .unwrap()
}

async fn plan_of(
    inputs: &Inputs,
    targets: Vec<StackTarget>,
    live: FixedLive,
    stack: Option<&str>,
) -> Plan {
    let accounts = accounts();
    let accounts = run::plan_all(&accounts, inputs, targets, None, || live.clone(), None).await;
    run::assemble(inputs, stack.map(str::to_owned), accounts)
}

/// Compares `actual` with the golden file `name`, or rewrites it when
/// UPDATE_GOLDEN is set.
fn golden(name: &str, actual: &str) {
    let path = fixture(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual)
            .unified_diff()
            .header("golden", "actual")
            .to_string();
        panic!(
            "{} differs from the output (UPDATE_GOLDEN=1 cargo test --lib plan:: rewrites it):\n{diff}",
            path.display()
        );
    }
}

fn assert_no_secret(output: &str) {
    assert!(
        !output.contains(SECRET_CHANNEL),
        "a NoEcho value is shown:\n{output}"
    );
}

/// Five accounts, each a different story: out of date, up to date, refusing,
/// taken by another stack, and due for replacements.
async fn accounts_plan() -> Plan {
    let template = load("stack.yaml");
    let mut live = FixedLive::new();

    // 1: deployed as dev (INFO, no on-call channel), topics listed in another
    // order, and a channel the stack no longer has.
    let mut one = deploy(&template, "100000000001", &[("Environment", "dev")]);
    edit(named(&mut one, "alerts"), |p| {
        p["SnsTopicArns"].as_array_mut().unwrap().reverse();
    });
    let legacy: SlackChannel = serde_json::from_value(json!({
        "ConfigurationName": "legacy-100000000001",
        "SlackWorkspaceId": "T0CHATOPS1",
        "SlackChannelId": "C0LEGACY1",
        "IamRoleArn": "arn:aws:iam::100000000001:role/ChatbotChannelRole",
    }))
    .unwrap();
    let legacy_owner = Owner {
        stack_id: stack_id("100000000001"),
        logical_id: "LegacyChannel".into(),
    };
    one.push(live_resource("100000000001", &legacy, Some(&legacy_owner)));
    // Someone else's channel in the same account is none of the plan's business.
    let other: SlackChannel = serde_json::from_value(json!({
        "ConfigurationName": "someone-else",
        "SlackWorkspaceId": "T0CHATOPS1",
        "SlackChannelId": "C0OTHER1",
        "IamRoleArn": "arn:aws:iam::100000000001:role/ChatbotChannelRole",
    }))
    .unwrap();
    one.push(live_resource("100000000001", &other, None));

    // 2: deployed with exactly this template.
    let two = deploy(&template, "100000000002", &[]);

    // 4: the alerts channel's name is taken by another stack.
    let mut four = deploy(&template, "100000000004", &[("Environment", "dev")]);
    for resource in &mut four {
        resource.tags = Owner {
            stack_id: "arn:aws:cloudformation:us-east-1:100000000004:stack/other/ffff".into(),
            logical_id: "Alerts".into(),
        }
        .managed_tags();
    }

    // 5: the alerts channel was made under an older name, in an older Slack
    // channel (a replacement needs a new channel too: one configuration per
    // channel); the on-call channel in another workspace under the same name.
    let mut five = deploy(&template, "100000000005", &[]);
    let alerts = named(&mut five, "alerts");
    alerts.natural_key = "alerts-old-100000000005".into();
    alerts.physical_id = alerts.physical_id.replace("alerts-", "alerts-old-");
    edit(alerts, |p| {
        p["ConfigurationName"] = json!("alerts-old-100000000005");
        p["SlackChannelId"] = json!("C0OLDALERTS")
    });
    edit(named(&mut five, "oncall"), |p| {
        p["SlackWorkspaceId"] = json!("T0OTHER99")
    });

    for (account, resources) in [
        ("100000000001", one),
        ("100000000002", two),
        ("100000000004", four),
        ("100000000005", five),
    ] {
        for resource in resources {
            live = live.with(account, "Custom::ChatbotSlackChannel", resource);
        }
    }
    live = live.refusing(
        "100000000003",
        "the provider could not assume arn:aws:iam::100000000003:role/ChatOpsExecutionRole in account 100000000003",
    );
    let targets = [
        "100000000001",
        "100000000002",
        "100000000003",
        "100000000004",
        "100000000005",
    ]
    .iter()
    .map(|a| target(a, &[]))
    .collect();
    plan_of(&Inputs::new(template, None), targets, live, Some(STACK)).await
}

#[tokio::test]
async fn golden_plan_over_accounts() {
    let plan = accounts_plan().await;
    let text = text::render(&plan, text::TextOptions { color: false });
    let json = format!(
        "{}\n",
        serde_json::to_string_pretty(&json::render(&plan)).unwrap()
    );
    assert_no_secret(&text);
    assert_no_secret(&json);
    golden("accounts.txt", &text);
    golden("accounts.json", &json);
}

#[tokio::test]
async fn plan_over_accounts_says_what_each_account_gets() {
    let plan = accounts_plan().await;
    let by_account: BTreeMap<&str, &AccountPlan> = plan
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a))
        .collect();
    let resources = |account: &str| by_account[account].outcome.as_ref().unwrap();
    let action = |account: &str, logical_id: &str| {
        resources(account)
            .iter()
            .find(|r| r.logical_id == logical_id)
            .map(|r| r.action.clone())
    };
    assert_eq!(
        action("100000000001", "AlertsChannel"),
        Some(Action::Update)
    );
    assert_eq!(
        action("100000000001", "OnCallChannel"),
        Some(Action::Create)
    );
    assert_eq!(
        action("100000000001", "LegacyChannel"),
        Some(Action::Delete)
    );
    assert_eq!(
        resources("100000000001").len(),
        3,
        "someone else's channel is left alone"
    );
    let alerts = resources("100000000001")
        .iter()
        .find(|r| r.logical_id == "AlertsChannel")
        .unwrap();
    let changed: Vec<&str> = alerts.changes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        changed,
        ["LoggingLevel"],
        "topics in another order are no change"
    );

    // A deploy followed by a plan shows no change, even through Fn::GetAtt.
    assert!(
        resources("100000000002")
            .iter()
            .all(|r| r.action == Action::NoChange && r.drift.is_none()),
        "{:?}",
        resources("100000000002")
    );
    assert!(!Summary::of_account(by_account["100000000002"]).has_changes());

    // One account's failure is reported in its place; the others are planned.
    let failed = by_account["100000000003"].outcome.as_ref().unwrap_err();
    assert!(failed.starts_with("access denied:"), "{failed}");

    let taken = resources("100000000004")
        .iter()
        .find(|r| r.logical_id == "AlertsChannel")
        .unwrap();
    assert_eq!(taken.action, Action::Create);
    assert!(
        taken
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("stack/other/ffff"),
        "{taken:?}"
    );

    let replaced = |logical_id: &str| {
        resources("100000000005")
            .iter()
            .find(|r| r.logical_id == logical_id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        replaced("AlertsChannel").action,
        Action::Replace {
            reasons: vec!["ConfigurationName".into()]
        }
    );
    assert!(replaced("AlertsChannel").problem.is_none());
    let oncall = replaced("OnCallChannel");
    assert_eq!(
        oncall.action,
        Action::Replace {
            reasons: vec!["SlackWorkspaceId".into()]
        }
    );
    assert!(
        oncall
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("needs a new name"),
        "the deploy refuses a replacement that keeps its name: {oncall:?}"
    );

    let total = Summary::of_plan(&plan);
    assert_eq!(total.accounts, 5);
    assert_eq!(total.accounts_failed, 1);
    assert_eq!(detailed_exit_code(&total), 1);
}

/// Deployed as `stack.yaml` (prod); live changed behind the template's back.
async fn drift_plan(new_parameters: &[(&str, &str)]) -> Plan {
    let template = load("stack.yaml");
    let mut live = FixedLive::new();
    let mut one = deploy(&template, "100000000001", &[]);
    edit(named(&mut one, "alerts"), |p| {
        p["UserRoleRequired"] = json!(true);
        p["SnsTopicArns"] = json!(["arn:aws:sns:us-east-1:100000000001:chatops-alerts"]);
    });
    let mut two = deploy(&template, "100000000002", &[]);
    two.retain(|r| !r.natural_key.starts_with("oncall"));
    let three = deploy(&template, "100000000003", &[]);
    for (account, resources) in [
        ("100000000001", one),
        ("100000000002", two),
        ("100000000003", three),
    ] {
        for resource in resources {
            live = live.with(account, "Custom::ChatbotSlackChannel", resource);
        }
    }
    let targets = ["100000000001", "100000000002", "100000000003"]
        .iter()
        .map(|a| StackTarget {
            parameters: params(new_parameters),
            ..target(a, &[])
        })
        .collect();
    let inputs = Inputs::new(template.clone(), Some(template));
    plan_of(&inputs, targets, live, Some(STACK)).await
}

#[tokio::test]
async fn golden_drift_with_an_unchanged_template() {
    let plan = drift_plan(&[]).await;
    let text = text::render(&plan, text::TextOptions { color: false });
    assert_no_secret(&text);
    golden("drift.txt", &text);
    let resources = plan.accounts[0].outcome.as_ref().unwrap();
    let alerts = resources
        .iter()
        .find(|r| r.logical_id == "AlertsChannel")
        .unwrap();
    assert_eq!(
        alerts.action,
        Action::NoChange,
        "an unchanged template changes nothing"
    );
    let Some(Drift::Modified(changes)) = &alerts.drift else {
        panic!("a change behind the template's back is drift: {alerts:?}");
    };
    let drifted: Vec<&str> = changes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(drifted, ["SnsTopicArns", "UserRoleRequired"]);
    assert_eq!(changes[1].before, Shown::Value(json!(false)));
    assert_eq!(changes[1].after, Shown::Value(json!(true)));
    let gone = plan.accounts[1].outcome.as_ref().unwrap();
    assert!(gone.iter().any(|r| r.drift == Some(Drift::Deleted)));
    assert!(!Summary::of_account(&plan.accounts[2]).has_changes());
    assert_eq!(detailed_exit_code(&Summary::of_plan(&plan)), 2);
}

#[tokio::test]
async fn golden_drift_with_an_update() {
    let plan = drift_plan(&[("Environment", "dev")]).await;
    let text = text::render(&plan, text::TextOptions { color: false });
    let json = format!(
        "{}\n",
        serde_json::to_string_pretty(&json::render(&plan)).unwrap()
    );
    assert_no_secret(&text);
    assert_no_secret(&json);
    golden("drift-update.txt", &text);
    golden("drift-update.json", &json);
    let resources = plan.accounts[0].outcome.as_ref().unwrap();
    let alerts = resources
        .iter()
        .find(|r| r.logical_id == "AlertsChannel")
        .unwrap();
    assert_eq!(alerts.action, Action::Update);
    let changed: Vec<&str> = alerts.changes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        changed,
        ["LoggingLevel", "SnsTopicArns", "UserRoleRequired"],
        "an update sets every property, drifted ones too"
    );
    let oncall = resources
        .iter()
        .find(|r| r.logical_id == "OnCallChannel")
        .unwrap();
    assert_eq!(
        oncall.action,
        Action::Delete,
        "its Condition no longer holds"
    );
}

/// ServiceToken steers CloudFormation to the provider: moving the provider
/// to another topic changes no resource, and the plan shows no property of it.
#[tokio::test]
async fn a_new_service_token_is_no_change() {
    let stack = load("stack.yaml");
    let mut inputs = Inputs::new(stack.clone(), Some(stack));
    inputs.missing_parameters_unknown = true;
    let target = StackTarget {
        parameters: params(&[("ServiceToken", "arn:aws:sns:us-east-2:123456789012:moved")]),
        stack_name: None,
        stack_id: None,
        ..target("123456789012", &[])
    };
    let outcome = run::diff_stack(&accounts(), &inputs, &target).unwrap();
    assert!(!outcome.is_empty());
    for resource in &outcome {
        assert_eq!(resource.action, Action::NoChange, "{resource:?}");
    }
    inputs.deployed = None;
    let created = run::plan_stack(&accounts(), &inputs, &target, &FixedLive::new())
        .await
        .unwrap();
    assert!(
        created.iter().all(|r| r.action == Action::Create),
        "{created:?}"
    );
    assert!(
        created
            .iter()
            .flat_map(|r| &r.changes)
            .all(|c| c.name != "ServiceToken"),
        "{created:?}"
    );
}

#[test]
fn golden_diff_of_two_templates() {
    let accounts = accounts();
    let mut inputs = Inputs::new(load("stack-v2.yaml"), Some(load("stack.yaml")));
    inputs.missing_parameters_unknown = true;
    let target = StackTarget {
        stack_name: None,
        stack_id: None,
        ..target("123456789012", &[])
    };
    let outcome = run::diff_stack(&accounts, &inputs, &target).unwrap();
    let plan = run::assemble(
        &inputs,
        Some(STACK.into()),
        vec![AccountPlan {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            outcome: Ok(outcome),
        }],
    );
    let text = text::render(&plan, text::TextOptions { color: false });
    assert_no_secret(&text);
    assert!(!text.contains("C0ONCALL8"), "{text}");
    golden("diff.txt", &text);
    let resources = plan.accounts[0].outcome.as_ref().unwrap();
    let action = |id: &str| {
        resources
            .iter()
            .find(|r| r.logical_id == id)
            .map(|r| (r.action.clone(), r.problem.is_some()))
    };
    assert_eq!(
        action("AlertsChannel"),
        Some((
            Action::Replace {
                reasons: vec!["SlackWorkspaceId".into()]
            },
            true
        ))
    );
    assert_eq!(action("OnCallChannel"), Some((Action::Delete, false)));
    assert_eq!(
        action("PagerChannel"),
        Some((Action::Create, true)),
        "the name is held until the old resource is deleted"
    );
}

#[tokio::test]
async fn colours_only_when_asked() {
    let plan = accounts_plan().await;
    let plain = text::render(&plan, text::TextOptions { color: false });
    let coloured = text::render(&plan, text::TextOptions { color: true });
    assert!(!plain.contains('\x1b'));
    assert!(
        coloured.contains("\x1b[32m  +\x1b[0m OnCallChannel"),
        "{coloured}"
    );
    assert!(
        coloured.contains("\x1b[31m-/+\x1b[0m AlertsChannel"),
        "{coloured}"
    );
}

/// Live resources that stay throttled for the first `throttled` reads.
#[derive(Clone)]
struct ThrottledLive {
    throttled: std::sync::Arc<std::sync::atomic::AtomicU32>,
    inner: FixedLive,
}

impl super::live::LiveSource for ThrottledLive {
    fn list<'a>(
        &'a self,
        resource_type: &'static dyn crate::registry::ResourceType,
        target: &'a crate::accounts::Target,
    ) -> futures::future::BoxFuture<'a, crate::Result<Vec<LiveResource>>> {
        use std::sync::atomic::Ordering;
        let throttled = self
            .throttled
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if throttled {
            return Box::pin(std::future::ready(Err(crate::Error::Throttled(
                "chatbot DescribeSlackChannelConfigurations: Rate exceeded".into(),
            ))));
        }
        self.inner.list(resource_type, target)
    }
}

#[tokio::test]
async fn throttled_accounts_are_tried_again_then_reported() {
    let template = load("stack.yaml");
    let live = FixedLive::new();
    let run_with = |throttled: u32, retries: u32| {
        let template = template.clone();
        let live = ThrottledLive {
            throttled: std::sync::Arc::new(throttled.into()),
            inner: live.clone(),
        };
        async move {
            let mut inputs = Inputs::new(template, None);
            inputs.throttle_retries = retries;
            inputs.retry_delay = std::time::Duration::from_millis(1);
            let accounts = accounts();
            run::plan_all(
                &accounts,
                &inputs,
                vec![target("100000000001", &[])],
                None,
                || live.clone(),
                None,
            )
            .await
        }
    };
    let recovered = run_with(2, 3).await;
    assert!(recovered[0].outcome.is_ok(), "{recovered:?}");
    let failed = run_with(5, 2).await;
    let error = failed[0].outcome.as_ref().unwrap_err();
    assert!(error.starts_with("throttled:"), "{error}");
}

const TYPE_SLACK: &str = "Custom::ChatbotSlackChannel";

/// `Adopt: true` over what exists: an unowned configuration is an adoption
/// showing what the deploy changes, one owned by another stack is a create
/// that will fail, and nothing live is a create.
#[tokio::test]
async fn adoption_is_its_own_action_and_never_takes_from_another_stack() {
    let text = r#"
Resources:
  Alerts:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops
      Adopt: true
      ConfigurationName: console-alerts
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: C0ALERTS1
      IamRoleArn: !Sub "arn:aws:iam::${AWS::AccountId}:role/chatops-oncall"
      LoggingLevel: ERROR
"#;
    let template = Template::parse(text, "adopt.yaml").unwrap();
    let console_made = |account: &str, level: &str| {
        let channel: SlackChannel = serde_json::from_value(json!({
            "ConfigurationName": "console-alerts",
            "SlackWorkspaceId": "T0CHATOPS1",
            "SlackChannelId": "C0ALERTS1",
            "IamRoleArn": format!("arn:aws:iam::{account}:role/chatops-oncall"),
            "LoggingLevel": level,
        }))
        .unwrap();
        channel
    };
    let other = Owner {
        stack_id: "arn:aws:cloudformation:us-east-1:100000000002:stack/other/1".into(),
        logical_id: "Theirs".into(),
    };
    let live = FixedLive::new()
        .with(
            "100000000001",
            TYPE_SLACK,
            live_resource("100000000001", &console_made("100000000001", "INFO"), None),
        )
        .with(
            "100000000002",
            TYPE_SLACK,
            live_resource(
                "100000000002",
                &console_made("100000000002", "ERROR"),
                Some(&other),
            ),
        );
    let targets = ["100000000001", "100000000002", "100000000003"]
        .iter()
        .map(|a| target(a, &[]))
        .collect();
    let plan = plan_of(
        &Inputs::new(template.clone(), None),
        targets,
        live.clone(),
        Some(STACK),
    )
    .await;
    // A StackSet instance that exists but never made it (its deployed
    // template has it): an untagged configuration is still an adoption.
    let deployed = plan_of(
        &Inputs::new(template.clone(), Some(template)),
        vec![target("100000000001", &[])],
        live,
        Some(STACK),
    )
    .await;
    let resources = deployed.accounts[0].outcome.as_ref().unwrap();
    assert_eq!(resources[0].action, Action::Adopt, "{resources:#?}");
    assert_eq!(resources[0].drift, None);
    let only = |account: &str| -> ResourcePlan {
        let account = plan.accounts.iter().find(|a| a.account_id == account);
        account.unwrap().outcome.as_ref().unwrap()[0].clone()
    };
    let adopted = only("100000000001");
    assert_eq!(adopted.action, Action::Adopt, "{adopted:#?}");
    assert_eq!(adopted.problem, None);
    let names: Vec<&str> = adopted.changes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["LoggingLevel"], "only what differs from live");
    let theirs = only("100000000002");
    assert_eq!(theirs.action, Action::Create);
    let problem = theirs.problem.unwrap_or_default();
    assert!(
        problem.contains("Theirs") && problem.contains("never takes over"),
        "{problem}"
    );
    assert_eq!(only("100000000003").action, Action::Create);
    let shown = text::render(&plan, text::TextOptions { color: false });
    assert!(
        shown.contains("<= Alerts") && shown.contains("1 to adopt"),
        "{shown}"
    );
    let rendered = json::render(&plan);
    assert_eq!(rendered["summary"]["adopt"], 1, "{rendered:#}");
}

/// A StackSet's new version (stack-v2.yaml) over its three instances, each
/// with its own overrides and drift.
async fn stack_set_plan() -> Plan {
    let deployed = load("stack.yaml");
    let mut live = FixedLive::new();
    let mut one = deploy(&deployed, "100000000001", &[("Environment", "dev")]);
    edit(named(&mut one, "alerts"), |p| {
        p["UserRoleRequired"] = json!(true)
    });
    let two = deploy(&deployed, "100000000002", &[]);
    let mut three = deploy(&deployed, "100000000003", &[]);
    edit(named(&mut three, "alerts"), |p| {
        p["LoggingLevel"] = json!("INFO")
    });
    let overrides = [
        ("100000000001", vec![("Environment", "dev")]),
        ("100000000002", vec![]),
        ("100000000003", vec![]),
    ];
    for (account, resources) in [
        ("100000000001", one),
        ("100000000002", two),
        ("100000000003", three),
    ] {
        for resource in resources {
            live = live.with(account, "Custom::ChatbotSlackChannel", resource);
        }
    }
    let targets = overrides
        .iter()
        .map(|(account, values)| StackTarget {
            ..target(account, values)
        })
        .collect();
    let inputs = Inputs::new(load("stack-v2.yaml"), Some(deployed));
    plan_of(&inputs, targets, live, Some("StackSet chatops-org")).await
}

#[tokio::test]
async fn golden_markdown_of_a_stack_set_over_three_accounts() {
    let plan = stack_set_plan().await;
    let markdown = markdown::render(&plan, Default::default());
    assert_no_secret(&markdown);
    assert!(!markdown.contains("C0ONCALL8"), "{markdown}");
    golden("stack-set.md", &markdown);
    // The summary table comes first, one row per account, before any section.
    let table = markdown.find("| Account |").unwrap();
    let first_section = markdown.find("<details>").unwrap();
    assert!(table < first_section);
    for account in ["100000000001", "100000000002", "100000000003"] {
        assert!(markdown[table..first_section].contains(&format!("| `{account}` |")));
        assert!(markdown.contains(&format!("<summary>{account} us-east-1:")));
    }
    assert_eq!(markdown.matches("<details>").count(), 3);
    assert_eq!(markdown.matches("</details>").count(), 3);
    assert!(markdown.contains("must be **replaced** (because of `SlackWorkspaceId`)"));
    assert!(markdown.contains("! UserRoleRequired"), "{markdown}");
    assert!(!markdown.contains("Cut to fit"));
}

#[tokio::test]
async fn markdown_is_cut_to_its_budget_with_a_note_of_what_was_cut() {
    let plan = stack_set_plan().await;
    let whole = markdown::render(&plan, Default::default());
    let section = whole.find("<details>").unwrap();
    let budget = section + 3_000;
    let cut = markdown::render(&plan, markdown::MarkdownOptions { budget });
    assert!(cut.len() <= budget, "{} > {budget}", cut.len());
    assert!(cut.len() < whole.len());
    assert!(
        cut.contains("**Cut to fit a GitHub comment** (at most 65,536 characters)"),
        "{cut}"
    );
    let shown = cut.matches("<details>").count();
    assert!(shown < 3, "{cut}");
    assert!(
        cut.contains(&format!("the details of {} account", 3 - shown)),
        "{cut}"
    );
    // The table is never cut when it fits: every account is still counted.
    assert!(cut.contains("| **Total: 3 accounts** |"), "{cut}");
}
