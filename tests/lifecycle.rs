//! The custom resource lifecycle, written once and run for every type: a
//! table of types (each a [`Fixture`]) × scenarios (create, update in place
//! and delete; replacement; a replacement that keeps the name; a retried
//! Create and another stack's; a failed Create's placeholder). A type that
//! cannot meet a scenario says why, in its fixture; what only one type does
//! stays in that type's file.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::supportapp::SupportCloud;
use crate::support::*;

/// Where a type's requests go: the shared cloud, with a function of the
/// test's own, or, for the Support App (per-account workspaces, quotas), a
/// cloud of the test's own.
enum Env {
    Shared(LocalLambda),
    Private(SupportCloud),
}

impl Env {
    fn shared() -> Env {
        Env::Shared(provider_lambda(&[]))
    }

    fn private() -> Env {
        Env::Private(SupportCloud::start())
    }

    fn cloud(&self) -> &LocalCloud {
        match self {
            Env::Shared(_) => cloud(),
            Env::Private(support) => &support.cloud,
        }
    }

    fn member(&self, n: usize) -> String {
        self.cloud().members()[n].clone()
    }

    fn management(&self) -> String {
        self.cloud().seed["management_account"]
            .as_str()
            .expect("management_account")
            .to_owned()
    }

    /// Sends `request` as CloudFormation would (staged in its CloudFormation
    /// first), wrapped by `wrap`; the response CloudFormation gets.
    async fn send_wrapped(&mut self, mut request: Value, wrap: fn(&Value) -> Value) -> Value {
        let timeout = Duration::from_secs(60);
        match self {
            Env::Shared(lambda) => send_via(cloud(), lambda, &mut request, wrap, timeout).await,
            Env::Private(support) => {
                send_via(
                    &support.cloud,
                    &mut support.lambda,
                    &mut request,
                    wrap,
                    timeout,
                )
                .await
            }
        }
    }

    async fn send(&mut self, request: Value) -> Value {
        self.send_wrapped(request, direct).await
    }

    async fn chatbot(&self, account: &str) -> aws_sdk_chatbot::Client {
        self.cloud().chatbot(account).await
    }

    async fn supportapp(&self, account: &str) -> aws_sdk_supportapp::Client {
        aws_sdk_supportapp::Client::new(&self.cloud().sdk_config_for(account).await)
    }
}

/// The properties of a request, with what its Reason must name.
type Expected = (Value, Vec<String>);

/// Why a type does not meet a scenario.
type OptOut = &'static str;

/// What the scenarios need of one resource type.
trait Fixture {
    /// The `Custom::` type.
    const TYPE: &'static str;

    /// A new place to run a scenario in.
    fn env() -> Env;

    /// The member account (its index) a scenario runs in: each type keeps to
    /// the accounts its tests always used, where no injected fault of another
    /// test waits.
    fn member(scenario: Scenario) -> usize;

    /// Makes what the type needs in `account` before a Create (a workspace, a
    /// console authorization).
    async fn prepare(_env: &mut Env, _account: &str) {}

    /// The properties of a Create in `account`, with a name no other test uses.
    fn create(env: &Env, account: &str) -> Value;

    /// A change of `props` that updates the resource in place.
    fn in_place(env: &Env, account: &str, props: &Value) -> Value;

    /// Why the type does not meet `scenario`, when it does not.
    fn opts_out(_scenario: Scenario) -> Option<OptOut> {
        None
    }

    /// A change of `props` that replaces the resource (a new name too), after
    /// any set-up it needs.
    async fn replacing(_env: &mut Env, _account: &str, _props: &Value) -> Value {
        unreachable!("{} opts out of replacements", Self::TYPE)
    }

    /// A change of a create-only property that keeps the name, which the
    /// provider refuses, with what the Reason names.
    fn replacing_same_name(_props: &Value) -> Expected {
        unreachable!("{} opts out of replacements that keep the name", Self::TYPE)
    }

    /// Another stack's Create that meets the resource `props` made, which
    /// conflicts, with what the Reason names.
    fn foreign_create(_props: &Value) -> Expected {
        unreachable!("{} opts out of another stack's Create", Self::TYPE)
    }

    /// A Create in `account` that fails, with what the Reason names.
    fn failing_create(env: &Env, account: &str) -> Expected;

    /// The PhysicalResourceId a Create of `props` in `account` answers.
    fn physical_id(account: &str, props: &Value) -> String;

    /// The Data (GetAtt attributes) a Create of `props` answers.
    fn data(account: &str, props: &Value, physical_id: &str) -> Value;

    /// The live resource `physical_id` read back through the service's API,
    /// as template properties; `None` once it is gone.
    async fn live(env: &Env, account: &str, physical_id: &str) -> Option<Value>;

    /// The StackId and logical id the live resource is marked with (its ownership tags), or
    /// why the type has no such mark.
    async fn owner(env: &Env, account: &str, physical_id: &str)
    -> Result<(String, String), OptOut>;
}

/// The scenarios (and the parts a type may opt out of).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    CreateUpdateDelete,
    Replacement,
    ReplacementKeepingTheName,
    RetriedCreate,
    /// Another stack's Create, the second part of [`Scenario::RetriedCreate`].
    ForeignCreate,
    FailedCreate,
}

/// Asserts that every property read back from the live resource is the one
/// `desired` asks for (lists in any order).
fn assert_live_is(live: &Value, desired: &Value, what: &str) {
    let read = live.as_object().expect("live properties are an object");
    assert!(!read.is_empty(), "{what}: nothing was read back");
    let sorted = |value: &Value| match value {
        Value::Array(items) => {
            let mut items = items.clone();
            items.sort_by_key(|item| item.to_string());
            Value::Array(items)
        }
        other => other.clone(),
    };
    for (name, value) in read {
        assert_eq!(
            sorted(value),
            sorted(&desired[name]),
            "{what}: {name} is not as asked\nlive: {live:#}\nasked: {desired:#}"
        );
    }
}

/// Whether `F` meets `scenario`; says why not when it does not.
fn applies<F: Fixture>(scenario: Scenario) -> bool {
    match F::opts_out(scenario) {
        Some(reason) => {
            eprintln!("{}: {scenario:?} does not apply: {reason}", F::TYPE);
            false
        }
        None => true,
    }
}

/// Create, update in place, delete, and a delete of what is already gone.
async fn create_update_in_place_and_delete<F: Fixture>() {
    let mut env = F::env();
    let account = env.member(F::member(Scenario::CreateUpdateDelete));
    F::prepare(&mut env, &account).await;
    let stack = Stack::new(&account, F::TYPE);
    let props = F::create(&env, &account);

    let created = env.send(stack.create("Resource", &props)).await;
    let id = assert_success(&created);
    assert_eq!(id, F::physical_id(&account, &props));
    assert_eq!(created["Data"], F::data(&account, &props, &id));
    let live = F::live(&env, &account, &id).await.expect("created");
    assert_live_is(&live, &props, "after the create");
    match F::owner(&env, &account, &id).await {
        Ok(owner) => assert_eq!(
            owner,
            (stack.stack_id.clone(), "Resource".to_owned()),
            "the resource names its stack and logical id"
        ),
        Err(reason) => eprintln!("{}: no ownership mark: {reason}", F::TYPE),
    }

    let changed = F::in_place(&env, &account, &props);
    assert_ne!(changed, props, "the fixture changes something");
    let updated = env
        .send_wrapped(stack.update("Resource", &id, &changed, &props), sns_wrapped)
        .await;
    assert_eq!(
        assert_success(&updated),
        id,
        "an update in place keeps the id"
    );
    let live = F::live(&env, &account, &id).await.expect("updated");
    assert_live_is(&live, &changed, "after the update in place");

    let deleted = env.send(stack.delete("Resource", &id, &changed)).await;
    assert_eq!(assert_success(&deleted), id);
    assert!(F::live(&env, &account, &id).await.is_none(), "{id} is gone");
    // CloudFormation may send Delete again: what is gone is deleted.
    let again = env.send(stack.delete("Resource", &id, &changed)).await;
    assert_eq!(assert_success(&again), id);
}

/// A replacement makes the new resource and answers its id; the old one
/// stays until CloudFormation deletes it.
async fn replacement_creates_new_then_old_is_deleted<F: Fixture>() {
    if !applies::<F>(Scenario::Replacement) {
        return;
    }
    let mut env = F::env();
    let account = env.member(F::member(Scenario::Replacement));
    F::prepare(&mut env, &account).await;
    let stack = Stack::new(&account, F::TYPE);
    let old_props = F::create(&env, &account);
    let new_props = F::replacing(&mut env, &account, &old_props).await;
    let old_id = assert_success(
        &env.send_wrapped(stack.create("Resource", &old_props), sns_wrapped)
            .await,
    );

    let replaced = env
        .send_wrapped(
            stack.update("Resource", &old_id, &new_props, &old_props),
            sns_wrapped,
        )
        .await;
    let new_id = assert_success(&replaced);
    assert_ne!(new_id, old_id, "a replacement answers a new physical id");
    assert_eq!(new_id, F::physical_id(&account, &new_props));
    assert_eq!(replaced["Data"], F::data(&account, &new_props, &new_id));
    let old = F::live(&env, &account, &old_id).await;
    assert_live_is(
        &old.expect("the old one stays until CloudFormation deletes it"),
        &old_props,
        "the old resource",
    );
    let new = F::live(&env, &account, &new_id).await.expect("the new one");
    assert_live_is(&new, &new_props, "the replacement");

    // CloudFormation then deletes the old id, with the old properties.
    assert_success(
        &env.send_wrapped(stack.delete("Resource", &old_id, &old_props), sns_wrapped)
            .await,
    );
    assert!(F::live(&env, &account, &old_id).await.is_none());
    assert!(F::live(&env, &account, &new_id).await.is_some());
    assert_success(
        &env.send(stack.delete("Resource", &new_id, &new_props))
            .await,
    );
    assert!(F::live(&env, &account, &new_id).await.is_none());
}

/// The replacement is made before the old one is deleted: one that keeps the
/// name cannot be made, so it is refused and nothing changes.
async fn replacement_that_keeps_the_name_is_refused_and_nothing_changes<F: Fixture>() {
    if !applies::<F>(Scenario::ReplacementKeepingTheName) {
        return;
    }
    let mut env = F::env();
    let account = env.member(F::member(Scenario::ReplacementKeepingTheName));
    F::prepare(&mut env, &account).await;
    let stack = Stack::new(&account, F::TYPE);
    let props = F::create(&env, &account);
    let (moved, named) = F::replacing_same_name(&props);
    let id = assert_success(&env.send(stack.create("Resource", &props)).await);

    let refused = env
        .send(stack.update("Resource", &id, &moved, &props))
        .await;
    let reason = assert_failed(&refused);
    for word in &named {
        assert!(reason.contains(word.as_str()), "{word:?} in: {reason}");
    }
    assert_eq!(refused["PhysicalResourceId"], id.as_str());
    let live = F::live(&env, &account, &id).await.expect("still there");
    assert_live_is(&live, &props, "after the refused replacement");
    assert_success(&env.send(stack.delete("Resource", &id, &props)).await);
}

/// A retried Create adopts what the first made; another stack's Create of
/// the same resource conflicts and leaves it as it was.
async fn retried_create_adopts_and_a_foreign_one_conflicts<F: Fixture>() {
    let mut env = F::env();
    let account = env.member(F::member(Scenario::RetriedCreate));
    F::prepare(&mut env, &account).await;
    let stack = Stack::new(&account, F::TYPE);
    let props = F::create(&env, &account);
    let first = assert_success(&env.send(stack.create("Resource", &props)).await);
    let second = assert_success(&env.send(stack.create("Resource", &props)).await);
    assert_eq!(first, second, "a retried Create adopts what the first made");

    if applies::<F>(Scenario::ForeignCreate) {
        let (other, named) = F::foreign_create(&props);
        let reason = assert_failed(
            &env.send(Stack::new(&account, F::TYPE).create("Resource", &other))
                .await,
        );
        for word in &named {
            assert!(reason.contains(word.as_str()), "{word:?} in: {reason}");
        }
    }
    let live = F::live(&env, &account, &first).await.expect("kept");
    assert_live_is(&live, &props, "the first stack's resource");
    assert_success(&env.send(stack.delete("Resource", &first, &props)).await);
}

/// A failed Create answers a placeholder id, and CloudFormation's Delete of
/// that id succeeds without touching anything.
async fn failed_create_answers_a_placeholder_that_deletes_cleanly<F: Fixture>() {
    let mut env = F::env();
    let account = env.member(F::member(Scenario::FailedCreate));
    F::prepare(&mut env, &account).await;
    let stack = Stack::new(&account, F::TYPE);
    let (props, named) = F::failing_create(&env, &account);
    let failed = env.send(stack.create("Resource", &props)).await;
    let reason = assert_failed(&failed);
    for word in &named {
        assert!(reason.contains(word.as_str()), "{word:?} in: {reason}");
    }
    let placeholder = failed["PhysicalResourceId"]
        .as_str()
        .expect("a PhysicalResourceId")
        .to_owned();
    assert!(
        placeholder.starts_with("chatops:create-failed:"),
        "{placeholder}"
    );
    let deleted = env
        .send(stack.delete("Resource", &placeholder, &props))
        .await;
    assert_eq!(assert_success(&deleted), placeholder);
}

/// One module of tests per type, one test per scenario.
macro_rules! every_scenario_for {
    ($($module:ident: $fixture:ty,)*) => {$(
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread")]
            async fn create_update_in_place_and_delete() {
                super::create_update_in_place_and_delete::<$fixture>().await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn replacement_creates_new_then_old_is_deleted() {
                super::replacement_creates_new_then_old_is_deleted::<$fixture>().await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn replacement_that_keeps_the_name_is_refused_and_nothing_changes() {
                super::replacement_that_keeps_the_name_is_refused_and_nothing_changes::<$fixture>()
                    .await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn retried_create_adopts_and_a_foreign_one_conflicts() {
                super::retried_create_adopts_and_a_foreign_one_conflicts::<$fixture>().await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn failed_create_answers_a_placeholder_that_deletes_cleanly() {
                super::failed_create_answers_a_placeholder_that_deletes_cleanly::<$fixture>()
                    .await;
            }
        }
    )*};
}

every_scenario_for! {
    chatbot_slack_channel: SlackChannel,
    chatbot_chime_webhook: ChimeWebhook,
    chatbot_teams_channel: TeamsChannel,
    supportapp_slack_workspace: SupportWorkspace,
    supportapp_slack_channel: SupportChannel,
    supportapp_account_alias: AccountAlias,
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn flag(value: Option<bool>) -> Value {
    json!(value.map(|v| v.to_string()))
}

/// A Chatbot configuration's tags: those of the template, and the StackId
/// and logical id of its ownership tags.
async fn chatbot_tags(env: &Env, account: &str, arn: &str) -> (Value, Option<(String, String)>) {
    let listed = env
        .chatbot(account)
        .await
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("listing tags");
    let template: Vec<Value> = listed
        .tags()
        .iter()
        .filter(|t| !t.tag_key().starts_with("chatops:"))
        .map(|t| json!({"Key": t.tag_key(), "Value": t.tag_value()}))
        .collect();
    let tag = |key: &str| {
        listed
            .tags()
            .iter()
            .find(|t| t.tag_key() == key)
            .map(|t| t.tag_value().to_owned())
    };
    let owner = tag("chatops:stack-id").zip(tag("chatops:logical-id"));
    (json!(template), owner)
}

fn chatbot_data(props: &Value, physical_id: &str) -> Value {
    json!({"Arn": physical_id, "ConfigurationName": props["ConfigurationName"]})
}

fn chatbot_arn(account: &str, kind: &str, props: &Value) -> String {
    format!(
        "arn:aws:chatbot::{account}:chat-configuration/{kind}/{}",
        props["ConfigurationName"]
            .as_str()
            .expect("ConfigurationName")
    )
}

/// What another stack's Create of a configuration with a taken name is told.
fn chatbot_name_taken() -> Vec<String> {
    strings(&["already exists", "choose another ConfigurationName"])
}

struct SlackChannel;

impl Fixture for SlackChannel {
    const TYPE: &'static str = "Custom::ChatbotSlackChannel";

    fn env() -> Env {
        Env::shared()
    }

    fn member(scenario: Scenario) -> usize {
        match scenario {
            Scenario::CreateUpdateDelete | Scenario::FailedCreate => 0,
            Scenario::Replacement | Scenario::ReplacementKeepingTheName => 1,
            Scenario::RetriedCreate | Scenario::ForeignCreate => 2,
        }
    }

    fn create(env: &Env, account: &str) -> Value {
        let seeded = env.cloud().account(account);
        json!({
            "ConfigurationName": unique("alerts"),
            "SlackWorkspaceId": env.cloud().seed["slack_team_id"],
            "SlackChannelId": unique_channel(),
            "IamRoleArn": seeded["chatbot_role_arn"],
            "SnsTopicArns": [seeded["topics"]["us-east-1"], seeded["topics"]["eu-west-1"]],
            "LoggingLevel": "ERROR",
            "UserRoleRequired": "false",
            "Tags": [{"Key": "team", "Value": "platform"}],
        })
    }

    fn in_place(env: &Env, account: &str, props: &Value) -> Value {
        let mut changed = props.clone();
        changed["SlackChannelId"] = json!(unique_channel());
        changed["LoggingLevel"] = json!("INFO");
        changed["UserRoleRequired"] = json!("true");
        changed["SnsTopicArns"] = json!([env.cloud().account(account)["topics"]["us-east-1"]]);
        changed["Tags"] = json!([{"Key": "team", "Value": "sre"}]);
        changed
    }

    async fn replacing(_env: &mut Env, _account: &str, props: &Value) -> Value {
        // One configuration per Slack channel: the replacement needs its own.
        let mut renamed = props.clone();
        renamed["ConfigurationName"] = json!(unique("alerts-new"));
        renamed["SlackChannelId"] = json!(unique_channel());
        renamed
    }

    fn replacing_same_name(props: &Value) -> Expected {
        let mut moved = props.clone();
        moved["SlackWorkspaceId"] = json!("T0OTHER9");
        (moved, strings(&["SlackWorkspaceId", "new name"]))
    }

    fn foreign_create(props: &Value) -> Expected {
        let mut same_name = props.clone();
        same_name["SlackChannelId"] = json!(unique_channel());
        (same_name, chatbot_name_taken())
    }

    fn failing_create(env: &Env, account: &str) -> Expected {
        let mut props = Self::create(env, account);
        props["SlackWorkspaceId"] = env.cloud().seed["unauthorized_slack_team_id"].clone();
        (
            props,
            strings(&["not authorized for AWS Chatbot", "console"]),
        )
    }

    fn physical_id(account: &str, props: &Value) -> String {
        chatbot_arn(account, "slack-channel", props)
    }

    fn data(_account: &str, props: &Value, physical_id: &str) -> Value {
        chatbot_data(props, physical_id)
    }

    async fn live(env: &Env, account: &str, physical_id: &str) -> Option<Value> {
        let live = slack_configuration(account, physical_id).await?;
        let (tags, _) = chatbot_tags(env, account, physical_id).await;
        Some(json!({
            "ConfigurationName": live.configuration_name(),
            "SlackWorkspaceId": live.slack_team_id(),
            "SlackChannelId": live.slack_channel_id(),
            "IamRoleArn": live.iam_role_arn(),
            "SnsTopicArns": live.sns_topic_arns(),
            "LoggingLevel": live.logging_level(),
            "UserRoleRequired": flag(live.user_authorization_required()),
            "Tags": tags,
        }))
    }

    async fn owner(
        env: &Env,
        account: &str,
        physical_id: &str,
    ) -> Result<(String, String), OptOut> {
        Ok(chatbot_tags(env, account, physical_id)
            .await
            .1
            .expect("ownership tags"))
    }
}

struct ChimeWebhook;

impl ChimeWebhook {
    /// A webhook URL of the form Chime gives.
    fn url() -> String {
        format!(
            "https://hooks.chime.aws/incomingwebhooks/{}?token={}",
            unique("hook"),
            unique("t0ken")
        )
    }
}

impl Fixture for ChimeWebhook {
    const TYPE: &'static str = "Custom::ChatbotChimeWebhook";

    fn env() -> Env {
        Env::shared()
    }

    fn member(_: Scenario) -> usize {
        // Not members[3]: the_webhook_url_never_leaks injects a fault there.
        4
    }

    fn create(env: &Env, account: &str) -> Value {
        let seeded = env.cloud().account(account);
        json!({
            "ConfigurationName": unique("chime"),
            "WebhookDescription": "on-call room",
            "WebhookUrl": Self::url(),
            "IamRoleArn": seeded["chatbot_role_arn"],
            "SnsTopicArns": [seeded["topics"]["us-east-1"]],
            "LoggingLevel": "ERROR",
            "Tags": [{"Key": "team", "Value": "platform"}],
        })
    }

    fn in_place(env: &Env, account: &str, props: &Value) -> Value {
        let mut changed = props.clone();
        changed["WebhookDescription"] = json!("incident room");
        changed["LoggingLevel"] = json!("INFO");
        changed["SnsTopicArns"] = json!([env.cloud().account(account)["topics"]["eu-west-1"]]);
        changed["Tags"] = json!([{"Key": "team", "Value": "sre"}]);
        changed
    }

    async fn replacing(_env: &mut Env, _account: &str, props: &Value) -> Value {
        let mut renamed = props.clone();
        renamed["ConfigurationName"] = json!(unique("chime-new"));
        renamed
    }

    fn opts_out(scenario: Scenario) -> Option<OptOut> {
        (scenario == Scenario::ReplacementKeepingTheName).then_some(
            "its create-only properties are ConfigurationName and AccountId: a replacement \
             has a new name or is in another account",
        )
    }

    fn foreign_create(props: &Value) -> Expected {
        (props.clone(), chatbot_name_taken())
    }

    fn failing_create(env: &Env, account: &str) -> Expected {
        let mut props = Self::create(env, account);
        props["IamRoleArn"] = json!(format!("arn:aws:iam::{account}:role/chatops-no-such-role"));
        (
            props,
            strings(&["invalid property IamRoleArn:", "does not exist"]),
        )
    }

    fn physical_id(account: &str, props: &Value) -> String {
        chatbot_arn(account, "chime-webhook", props)
    }

    fn data(_account: &str, props: &Value, physical_id: &str) -> Value {
        chatbot_data(props, physical_id)
    }

    async fn live(env: &Env, account: &str, physical_id: &str) -> Option<Value> {
        let found = env
            .chatbot(account)
            .await
            .describe_chime_webhook_configurations()
            .chat_configuration_arn(physical_id)
            .send()
            .await;
        let live = match found {
            Ok(output) => output.webhook_configurations().first().cloned()?,
            Err(e) if format!("{e:?}").contains("ResourceNotFound") => return None,
            Err(e) => panic!("describe failed: {e:?}"),
        };
        // The WebhookUrl is write-only: the service never returns it.
        let (tags, _) = chatbot_tags(env, account, physical_id).await;
        Some(json!({
            "ConfigurationName": live.configuration_name(),
            "WebhookDescription": live.webhook_description(),
            "IamRoleArn": live.iam_role_arn(),
            "SnsTopicArns": live.sns_topic_arns(),
            "LoggingLevel": live.logging_level(),
            "Tags": tags,
        }))
    }

    async fn owner(
        env: &Env,
        account: &str,
        physical_id: &str,
    ) -> Result<(String, String), OptOut> {
        Ok(chatbot_tags(env, account, physical_id)
            .await
            .1
            .expect("ownership tags"))
    }
}

struct TeamsChannel;

const TEAMS_CHANNEL: &str = "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2";
const OTHER_TEAMS_CHANNEL: &str = "19%3a0f9e8d7c6b5a49384756abcdef012345%40thread.tacv2";

impl Fixture for TeamsChannel {
    const TYPE: &'static str = "Custom::ChatbotTeamsChannel";

    fn env() -> Env {
        Env::shared()
    }

    fn member(_: Scenario) -> usize {
        5
    }

    fn create(env: &Env, account: &str) -> Value {
        let seeded = env.cloud().account(account);
        json!({
            "ConfigurationName": unique("teams"),
            "TeamId": env.cloud().seed["teams_team_id"],
            "TeamsChannelId": TEAMS_CHANNEL,
            "TeamsChannelName": "alerts",
            "TeamsTenantId": env.cloud().seed["teams_tenant_id"],
            "IamRoleArn": seeded["chatbot_role_arn"],
            "SnsTopicArns": [seeded["topics"]["us-east-1"]],
            "LoggingLevel": "ERROR",
            "GuardrailPolicies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "UserRoleRequired": "true",
            "Tags": [{"Key": "team", "Value": "platform"}],
        })
    }

    fn in_place(_env: &Env, _account: &str, props: &Value) -> Value {
        let mut changed = props.clone();
        changed["TeamsChannelId"] = json!(OTHER_TEAMS_CHANNEL);
        changed["TeamsChannelName"] = json!("incidents");
        changed["LoggingLevel"] = json!("INFO");
        changed["GuardrailPolicies"] = json!([
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"
        ]);
        changed["UserRoleRequired"] = json!("false");
        changed["Tags"] = json!([{"Key": "team", "Value": "sre"}]);
        changed
    }

    async fn replacing(_env: &mut Env, _account: &str, props: &Value) -> Value {
        let mut renamed = props.clone();
        renamed["ConfigurationName"] = json!(unique("teams-new"));
        renamed
    }

    fn replacing_same_name(props: &Value) -> Expected {
        let mut moved = props.clone();
        moved["TeamsTenantId"] = json!("00000000-0000-4000-8000-000000000000");
        (moved, strings(&["TeamsTenantId", "new name"]))
    }

    fn foreign_create(props: &Value) -> Expected {
        (props.clone(), chatbot_name_taken())
    }

    fn failing_create(env: &Env, account: &str) -> Expected {
        let mut props = Self::create(env, account);
        props["TeamId"] = json!("0badc0de-0000-4000-8000-000000000000");
        (
            props,
            strings(&[
                "not authorized:",
                "0badc0de-0000-4000-8000-000000000000",
                "AWS Chatbot console",
                "Microsoft Teams",
            ]),
        )
    }

    fn physical_id(account: &str, props: &Value) -> String {
        chatbot_arn(account, "microsoft-teams-channel", props)
    }

    fn data(_account: &str, props: &Value, physical_id: &str) -> Value {
        chatbot_data(props, physical_id)
    }

    async fn live(env: &Env, account: &str, physical_id: &str) -> Option<Value> {
        let found = env
            .chatbot(account)
            .await
            .get_microsoft_teams_channel_configuration()
            .chat_configuration_arn(physical_id)
            .send()
            .await;
        let live = match found {
            Ok(output) => output.channel_configuration().cloned()?,
            Err(e) if format!("{e:?}").contains("ResourceNotFound") => return None,
            Err(e) => panic!("get failed: {e:?}"),
        };
        let (tags, _) = chatbot_tags(env, account, physical_id).await;
        Some(json!({
            "ConfigurationName": live.configuration_name(),
            "TeamId": live.team_id(),
            "TeamsChannelId": live.channel_id(),
            "TeamsChannelName": live.channel_name(),
            "TeamsTenantId": live.tenant_id(),
            "IamRoleArn": live.iam_role_arn(),
            "SnsTopicArns": live.sns_topic_arns(),
            "LoggingLevel": live.logging_level(),
            "GuardrailPolicies": live.guardrail_policy_arns(),
            "UserRoleRequired": flag(live.user_authorization_required()),
            "Tags": tags,
        }))
    }

    async fn owner(
        env: &Env,
        account: &str,
        physical_id: &str,
    ) -> Result<(String, String), OptOut> {
        Ok(chatbot_tags(env, account, physical_id)
            .await
            .1
            .expect("ownership tags"))
    }
}

/// The Support App keeps no tags: its types cannot name the stack that made them.
const NO_SUPPORT_APP_TAGS: OptOut =
    "the Support App has no tags, so nothing marks which stack made it";

struct SupportWorkspace;

impl SupportWorkspace {
    /// The team of a workspace id, `TEAM` or `ACCOUNT:TEAM`.
    fn team(physical_id: &str) -> &str {
        physical_id.rsplit(':').next().unwrap_or(physical_id)
    }
}

impl Fixture for SupportWorkspace {
    const TYPE: &'static str = "Custom::SupportAppSlackWorkspace";

    fn env() -> Env {
        Env::private()
    }

    fn member(_: Scenario) -> usize {
        0
    }

    fn create(_env: &Env, _account: &str) -> Value {
        // Authorized in the management account and registered for the
        // organization by the seed.
        json!({"TeamId": "T0CHATOPS1"})
    }

    fn in_place(_env: &Env, _account: &str, props: &Value) -> Value {
        // A new VersionId registers the workspace again.
        let mut bumped = props.clone();
        bumped["VersionId"] = json!("2");
        bumped
    }

    async fn replacing(env: &mut Env, _account: &str, props: &Value) -> Value {
        // The console step: the management account authorizes another
        // workspace for the organization.
        let management = env.management();
        env.cloud()
            .authorize_slack("supportapp", &management, "T0LIFECYCLE2", true)
            .await;
        let mut moved = props.clone();
        moved["TeamId"] = json!("T0LIFECYCLE2");
        moved
    }

    fn opts_out(scenario: Scenario) -> Option<OptOut> {
        match scenario {
            Scenario::ReplacementKeepingTheName => {
                Some("TeamId, its only create-only property but AccountId, is its name")
            }
            Scenario::ForeignCreate => Some(
                "registering a workspace is idempotent and the Support App has no tags to tell \
                 who added it: another stack's Create registers it again, harmlessly",
            ),
            _ => None,
        }
    }

    fn failing_create(env: &Env, _account: &str) -> Expected {
        // Never authorized in the management account.
        (
            json!({"TeamId": "T0NEVERAUTH"}),
            strings(&[
                "not authorized:",
                "T0NEVERAUTH",
                &format!("management account {}", env.management()),
            ]),
        )
    }

    fn physical_id(_account: &str, props: &Value) -> String {
        // The TeamId, what Ref gives for AWS::SupportApp::SlackWorkspaceConfiguration.
        props["TeamId"].as_str().expect("TeamId").to_owned()
    }

    fn data(_account: &str, props: &Value, _physical_id: &str) -> Value {
        json!({"TeamId": props["TeamId"]})
    }

    async fn live(env: &Env, account: &str, physical_id: &str) -> Option<Value> {
        let team = Self::team(physical_id);
        let Env::Private(support) = env else {
            unreachable!("Support App types run in a cloud of their own")
        };
        support
            .workspaces(account)
            .await
            .iter()
            .find(|t| *t == team)
            .map(|t| json!({"TeamId": t}))
    }

    async fn owner(
        _env: &Env,
        _account: &str,
        _physical_id: &str,
    ) -> Result<(String, String), OptOut> {
        Err(NO_SUPPORT_APP_TAGS)
    }
}

struct SupportChannel;

impl Fixture for SupportChannel {
    const TYPE: &'static str = "Custom::SupportAppSlackChannel";

    fn env() -> Env {
        Env::private()
    }

    fn member(scenario: Scenario) -> usize {
        match scenario {
            Scenario::CreateUpdateDelete => 0,
            _ => 1,
        }
    }

    /// The seeded workspace, added to the account through the provider.
    async fn prepare(env: &mut Env, account: &str) {
        let stack = Stack::new(account, "Custom::SupportAppSlackWorkspace");
        assert_success(
            &env.send(stack.create("Workspace", &json!({"TeamId": "T0CHATOPS1"})))
                .await,
        );
    }

    fn create(env: &Env, account: &str) -> Value {
        json!({
            "TeamId": "T0CHATOPS1",
            "ChannelId": "C0CASES1",
            "ChannelName": "aws-support",
            "ChannelRoleArn": env.cloud().account(account)["supportapp_role_arn"],
            "NotifyOnCaseSeverity": "high",
            "NotifyOnCreateOrReopenCase": "true",
            "NotifyOnAddCorrespondenceToCase": "false",
            "NotifyOnResolveCase": "true",
        })
    }

    fn in_place(_env: &Env, _account: &str, props: &Value) -> Value {
        let mut changed = props.clone();
        changed["ChannelName"] = json!("support-cases");
        changed["NotifyOnCaseSeverity"] = json!("all");
        changed["NotifyOnAddCorrespondenceToCase"] = json!("true");
        changed["NotifyOnResolveCase"] = json!("false");
        changed
    }

    async fn replacing(_env: &mut Env, _account: &str, props: &Value) -> Value {
        let mut moved = props.clone();
        moved["ChannelId"] = json!("C0CASES2");
        moved
    }

    fn opts_out(scenario: Scenario) -> Option<OptOut> {
        (scenario == Scenario::ReplacementKeepingTheName).then_some(
            "TeamId and ChannelId, its only create-only properties but AccountId, are its \
             name: a replacement always has a new one",
        )
    }

    fn foreign_create(props: &Value) -> Expected {
        // With the same settings another stack's Create is a retry; other settings conflict.
        let mut other = props.clone();
        other["NotifyOnCaseSeverity"] = json!("all");
        (
            other,
            strings(&[
                "conflict:",
                "C0CASES1",
                "already configured",
                "other settings",
            ]),
        )
    }

    fn failing_create(env: &Env, account: &str) -> Expected {
        let mut props = Self::create(env, account);
        props["TeamId"] = json!("T0NOTADDED1");
        (
            props,
            strings(&[
                "not authorized:",
                "T0NOTADDED1",
                "Custom::SupportAppSlackWorkspace",
                "DependsOn",
            ]),
        )
    }

    fn physical_id(account: &str, props: &Value) -> String {
        format!(
            "{account}:{}:{}",
            props["TeamId"].as_str().expect("TeamId"),
            props["ChannelId"].as_str().expect("ChannelId")
        )
    }

    fn data(_account: &str, props: &Value, _physical_id: &str) -> Value {
        json!({"TeamId": props["TeamId"], "ChannelId": props["ChannelId"]})
    }

    async fn live(env: &Env, account: &str, physical_id: &str) -> Option<Value> {
        let Env::Private(support) = env else {
            unreachable!("Support App types run in a cloud of their own")
        };
        let channel = support
            .channels(account)
            .await
            .into_iter()
            .find(|c| physical_id == format!("{account}:{}:{}", c.team_id(), c.channel_id()))?;
        Some(json!({
            "TeamId": channel.team_id(),
            "ChannelId": channel.channel_id(),
            "ChannelName": channel.channel_name(),
            "ChannelRoleArn": channel.channel_role_arn(),
            "NotifyOnCaseSeverity": channel.notify_on_case_severity().map(|s| s.as_str()),
            "NotifyOnCreateOrReopenCase": flag(channel.notify_on_create_or_reopen_case()),
            "NotifyOnAddCorrespondenceToCase": flag(channel.notify_on_add_correspondence_to_case()),
            "NotifyOnResolveCase": flag(channel.notify_on_resolve_case()),
        }))
    }

    async fn owner(
        _env: &Env,
        _account: &str,
        _physical_id: &str,
    ) -> Result<(String, String), OptOut> {
        Err(NO_SUPPORT_APP_TAGS)
    }
}

struct AccountAlias;

impl Fixture for AccountAlias {
    const TYPE: &'static str = "Custom::SupportAppAccountAlias";

    fn env() -> Env {
        Env::private()
    }

    fn member(_: Scenario) -> usize {
        4
    }

    fn create(_env: &Env, _account: &str) -> Value {
        json!({"AccountAlias": "payments prod"})
    }

    fn in_place(_env: &Env, _account: &str, _props: &Value) -> Value {
        json!({"AccountAlias": "payments-prod-1"})
    }

    fn opts_out(scenario: Scenario) -> Option<OptOut> {
        match scenario {
            Scenario::Replacement | Scenario::ReplacementKeepingTheName => Some(
                "AccountId is its only create-only property: a replacement is the alias of \
                 another account",
            ),
            _ => None,
        }
    }

    fn foreign_create(props: &Value) -> Expected {
        let current = props["AccountAlias"].as_str().expect("AccountAlias");
        (
            json!({"AccountAlias": "other"}),
            vec![
                "conflict:".to_owned(),
                format!("{current:?}"),
                "one alias".to_owned(),
            ],
        )
    }

    fn failing_create(_env: &Env, _account: &str) -> Expected {
        (
            json!({"AccountAlias": "x".repeat(31)}),
            strings(&["invalid property AccountAlias:", "longer than 30"]),
        )
    }

    fn physical_id(account: &str, _props: &Value) -> String {
        account.to_owned()
    }

    fn data(account: &str, props: &Value, _physical_id: &str) -> Value {
        json!({
            "AccountAlias": props["AccountAlias"],
            "AccountId": account,
            // As AWS::SupportApp::AccountAlias gives it.
            "AccountAliasResourceId": format!("AccountAlias_for_{account}"),
        })
    }

    async fn live(env: &Env, account: &str, physical_id: &str) -> Option<Value> {
        assert_eq!(physical_id, account, "the alias's id is its account");
        let alias = env
            .supportapp(account)
            .await
            .get_account_alias()
            .send()
            .await
            .expect("reading the alias")
            .account_alias()
            .map(str::to_owned)?;
        Some(json!({"AccountAlias": alias}))
    }

    async fn owner(
        _env: &Env,
        _account: &str,
        _physical_id: &str,
    ) -> Result<(String, String), OptOut> {
        Err(NO_SUPPORT_APP_TAGS)
    }
}
