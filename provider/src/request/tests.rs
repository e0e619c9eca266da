//! Unit tests of the request lifecycle that need no network: the
//! placeholder of a failed Create, the change an Update means once defaults
//! are filled in, the refusal of a replacement that keeps its name, and the
//! order of a request's checks (everything offline first, then
//! CloudFormation, before anything is done).

use std::net::TcpListener;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use serde_json::{Value, json};

use crate::accounts::Accounts;
use crate::change::{self, Change};
use crate::config::ProviderConfig;
use crate::error::Error;
use crate::ownership::Owner;
use crate::reading::{Reading, read};
use crate::request::event::{Request, parse_request};
use crate::request::lifecycle::{self, PLACEHOLDER_PREFIX};
use crate::resources::Resource;
use crate::resources::chatbot_chime_webhook::ChimeWebhook;
use crate::resources::chatbot_slack_channel::SlackChannel;
use crate::resources::chatbot_teams_channel::TeamsChannel;
use crate::resources::supportapp_account_alias::AccountAlias;
use crate::resources::supportapp_slack_channel::SupportSlackChannel;
use crate::resources::supportapp_slack_workspace::SlackWorkspace;

const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:100000000001:stack/app/5b1ac6b0-cc4e-11ef-8e5e-0affd3a1b2c3";

/// Account access whose every call goes to `endpoint` (loopback), with
/// `admin_accounts` allowed to act in other accounts.
fn accounts_at(endpoint: &str, admin_accounts: &[&str]) -> Accounts {
    let sdk = SdkConfig::builder()
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDLOCALTEST",
            "local-test-secret",
            None,
            None,
            "tests",
        )))
        .behavior_version(BehaviorVersion::latest())
        .build();
    let config = ProviderConfig {
        admin_accounts: admin_accounts.iter().map(|a| (*a).to_owned()).collect(),
        ..ProviderConfig::from_lookup(|_| None)
    };
    Accounts::new(config, sdk)
}

/// A loopback port where nothing listens: a call there is refused at once.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    drop(listener);
    format!("http://{address}")
}

fn owner() -> Owner {
    Owner {
        stack_id: STACK_ID.to_owned(),
        logical_id: "Alerts".to_owned(),
    }
}

fn slack(name: &str, channel: &str) -> Value {
    json!({
        "ConfigurationName": name,
        "SlackWorkspaceId": "T0CHATOPS1",
        "SlackChannelId": channel,
        "IamRoleArn": "arn:aws:iam::100000000001:role/chatops-alerts",
        "UserRoleRequired": "false",
    })
}

fn request(kind: &str, properties: Value, old: Option<Value>) -> Request {
    let mut raw = json!({
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/key?X-Amz-Signature=EXAMPLE",
        "StackId": STACK_ID,
        "RequestId": "7a9c3f2e-4b1d-4c8e-9f6a-2d3e4f5a6b7c",
        "LogicalResourceId": "Alerts",
        "ResourceType": "Custom::ChatbotSlackChannel",
        "ResourceProperties": properties,
    });
    if kind != "Create" {
        raw["PhysicalResourceId"] =
            json!("arn:aws:chatbot::100000000001:chat-configuration/slack-channel/alerts");
    }
    if let Some(old) = old {
        raw["OldResourceProperties"] = old;
    }
    parse_request(raw).unwrap_or_else(|e| panic!("a readable request: {:?}", e.error))
}

#[test]
fn a_placeholder_is_recognisable_and_no_type_takes_it_for_its_id() {
    let placeholder = lifecycle::placeholder_id("7a9c3f2e-4b1d-4c8e-9f6a-2d3e4f5a6b7c");
    assert_eq!(
        placeholder,
        format!("{PLACEHOLDER_PREFIX}7a9c3f2e-4b1d-4c8e-9f6a-2d3e4f5a6b7c")
    );
    // Delete then looks for what a half-done Create left instead of
    // deleting a resource under that id.
    for (type_name, is_id) in [
        (
            SlackChannel::TYPE_NAME,
            SlackChannel::is_physical_id as fn(&str) -> bool,
        ),
        (ChimeWebhook::TYPE_NAME, ChimeWebhook::is_physical_id),
        (TeamsChannel::TYPE_NAME, TeamsChannel::is_physical_id),
        (SlackWorkspace::TYPE_NAME, SlackWorkspace::is_physical_id),
        (
            SupportSlackChannel::TYPE_NAME,
            SupportSlackChannel::is_physical_id,
        ),
        (AccountAlias::TYPE_NAME, AccountAlias::is_physical_id),
    ] {
        assert!(
            !is_id(&placeholder),
            "{type_name} takes {placeholder} for an id"
        );
    }
    assert!(SlackChannel::is_physical_id(
        "arn:aws:chatbot::100000000001:chat-configuration/slack-channel/alerts"
    ));
}

#[test]
fn spelling_out_the_defaults_or_coercing_values_is_no_change() {
    let accounts = accounts_at(&closed_port(), &[]);
    let old = slack("alerts", "C0ALERTS1");
    let default = accounts
        .default_target(STACK_ID, SlackChannel::SERVICE)
        .expect("a default target");
    assert_eq!(default.account_id, "100000000001", "the stack's account");
    let mut explicit = old.clone();
    explicit["AccountId"] = json!(default.account_id);
    explicit["Region"] = json!(default.region);
    // CloudFormation sends booleans as strings; a template may hold either.
    explicit["UserRoleRequired"] = json!(false);
    for (from, to) in [(&old, &explicit), (&explicit, &old)] {
        assert_eq!(
            change::decide_for::<SlackChannel>(&accounts, &owner(), from, to).unwrap(),
            Change::NoChange,
            "{from} → {to}"
        );
    }
}

#[test]
fn another_account_or_name_replaces_and_other_properties_update_in_place() {
    let accounts = accounts_at(&closed_port(), &["100000000001"]);
    let old = slack("alerts", "C0ALERTS1");
    let decide = |new: &Value| change::decide_for::<SlackChannel>(&accounts, &owner(), &old, new);

    let mut elsewhere = old.clone();
    elsewhere["AccountId"] = json!("100000000002");
    match decide(&elsewhere).unwrap() {
        Change::Replacement { reasons, .. } => assert_eq!(reasons, ["AccountId"]),
        other => panic!("{other:?}"),
    }
    match decide(&slack("alerts-2", "C0ALERTS1")).unwrap() {
        Change::Replacement { reasons, .. } => assert_eq!(reasons, ["ConfigurationName"]),
        other => panic!("{other:?}"),
    }
    match decide(&slack("alerts", "C0OTHER1")).unwrap() {
        Change::UpdateInPlace { changed } => assert_eq!(changed, ["SlackChannelId"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_replacement_must_not_keep_the_name_nor_the_channel_in_the_same_account() {
    let accounts = accounts_at(&closed_port(), &["100000000001"]);
    let parse = |v: &Value| read::<SlackChannel>(v, Reading::Strict).expect("valid properties");
    let old = parse(&slack("alerts", "C0ALERTS1"));
    let reasons = ["SlackWorkspaceId".to_owned()];
    let refuse = |new: &SlackChannel| {
        change::refuse_replacement_with_same_key(&accounts, &owner(), &old, new, &reasons)
    };

    let mut moved = slack("alerts", "C0ALERTS1");
    moved["SlackWorkspaceId"] = json!("T0OTHER9");
    match refuse(&parse(&moved)) {
        Err(Error::InvalidProperty { property, problem }) => {
            assert_eq!(property, "SlackWorkspaceId");
            assert!(problem.contains("needs a new name"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    match refuse(&parse(&slack("alerts-2", "C0ALERTS1"))) {
        Err(Error::InvalidProperty { problem, .. }) => {
            assert!(problem.contains("only one per SlackChannelId"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    refuse(&parse(&slack("alerts-2", "C0OTHER1"))).expect("a new name and channel");
    // In another account both may be kept: the new one does not meet the old.
    moved["AccountId"] = json!("100000000002");
    refuse(&parse(&moved)).expect("another account");
}

#[tokio::test]
async fn a_bad_request_is_refused_before_any_call() {
    // A listener that is never answered: any call would connect to it.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.set_nonblocking(true).expect("non-blocking");
    let accounts = accounts_at(
        &format!("http://{}", listener.local_addr().expect("address")),
        &[],
    );
    let mut bad_level = slack("alerts", "C0ALERTS1");
    bad_level["LoggingLevel"] = json!("LOUD");
    let mut bad_account = slack("alerts", "C0ALERTS1");
    bad_account["AccountId"] = json!("1@127.0.0.1");
    for (request, property) in [
        (request("Create", bad_level.clone(), None), "LoggingLevel"),
        (
            request("Update", bad_level, Some(slack("alerts", "C0ALERTS1"))),
            "LoggingLevel",
        ),
        (request("Delete", bad_account, None), "AccountId"),
    ] {
        match lifecycle::run::<SlackChannel>(&accounts, &request).await {
            Err(Error::InvalidProperty {
                property: named, ..
            }) => assert_eq!(named, property),
            other => panic!("{:?}: {other:?}", request.kind),
        }
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "no request reached a service"
    );
}

#[tokio::test]
async fn nothing_is_done_before_cloudformation_confirms_the_request() {
    let accounts = accounts_at(&closed_port(), &[]);
    let create = request("Create", slack("alerts", "C0ALERTS1"), None);
    match lifecycle::run::<SlackChannel>(&accounts, &create).await {
        Err(Error::Unverified(message)) => {
            assert!(message.contains("nothing was changed"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
