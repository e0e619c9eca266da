//! Property tests of the whole request path: arbitrary Lambda events (direct
//! and SNS-wrapped, several records, missing fields, wrong types, huge and
//! unicode strings, every resource type and near misses, valid properties
//! with random edits) through [`handler::answer_event`], on a provider whose
//! every AWS endpoint is a closed loopback port, so nothing real is called and
//! each call fails at once.
//!
//! Every request with a ResponseURL must be answered, each answer a JSON body
//! of at most 4096 bytes with Status SUCCESS or FAILED, never a crash, and
//! never a write-only (secret) value. `make test` runs proptest's default
//! number of cases; `make fuzz` runs
//! `PROPTEST_CASES=20000 cargo test --lib fuzz::`.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, retry::RetryConfig};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::accounts::Accounts;
use crate::config::ProviderConfig;
use crate::registry;
use crate::request::handler;
use crate::request::lifecycle::PLACEHOLDER_PREFIX;
use crate::request::response::MAX_RESPONSE_BYTES;
use crate::request::response_url::ResponseUrls;

const MEMBER: &str = "100000000001";
const WEBHOOK_SECRET: &str =
    "https://hooks.chime.aws/incomingwebhooks/4f3e2d1c-0b9a?token=c2VjcmV0LXRva2Vu";

/// Valid properties of each type: what the random edits start from, so that
/// most cases get past validation into the lifecycle and its service calls.
fn fixture(type_name: &str) -> Option<Value> {
    let role = format!("arn:aws:iam::{MEMBER}:role/ChannelRole");
    let topic = format!("arn:aws:sns:us-east-1:{MEMBER}:chatops-alerts");
    Some(match type_name {
        "Custom::ChatbotSlackChannel" => json!({
            "ConfigurationName": "alerts", "SlackWorkspaceId": "T0CHATOPS1", "SlackChannelId": "C0ALERTS1",
            "IamRoleArn": role, "SnsTopicArns": [topic], "LoggingLevel": "ERROR", "UserRoleRequired": "true",
            "GuardrailPolicies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "Tags": [{"Key": "team", "Value": "platform"}],
        }),
        "Custom::ChatbotChimeWebhook" => json!({
            "ConfigurationName": "chime-alerts", "WebhookDescription": "on-call room",
            "WebhookUrl": WEBHOOK_SECRET, "IamRoleArn": role, "SnsTopicArns": [topic], "LoggingLevel": "INFO",
        }),
        "Custom::ChatbotTeamsChannel" => json!({
            "ConfigurationName": "teams-alerts", "TeamId": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            "TeamsChannelId": "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2",
            "TeamsTenantId": "9c6b0c3e-7f5a-4b8e-9d1f-2a3b4c5d6e7f", "IamRoleArn": role,
            "UserRoleRequired": "false",
        }),
        "Custom::SupportAppSlackWorkspace" => json!({"TeamId": "T0CHATOPS1"}),
        "Custom::SupportAppSlackChannel" => json!({
            "TeamId": "T0CHATOPS1", "ChannelId": "C0CASES1", "ChannelName": "aws-support",
            "ChannelRoleArn": format!("arn:aws:iam::{MEMBER}:role/SupportAppChannelRole"),
            "NotifyOnCaseSeverity": "high", "NotifyOnCreateOrReopenCase": "true",
        }),
        "Custom::SupportAppAccountAlias" => json!({"AccountAlias": "payments prod"}),
        _ => return None,
    })
}

/// Text of every kind: any Unicode, identifier-like, long runs of characters
/// that grow when escaped, and CloudFormation's string spellings.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        3 => "[A-Za-z0-9:/_.%-]{0,40}",
        1 => ("[\"\\\\\u{0}-\u{1f}é😀a]{1,3}", 100..3000usize).prop_map(|(unit, n)| unit.repeat(n)),
        1 => prop::sample::select(vec!["", "true", "false", "1", "0", "-1", "1e400", "null", "[]", "{}"])
            .prop_map(str::to_owned),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A property name: one of the type's, ServiceToken, or anything.
fn property_name(type_name: &str) -> BoxedStrategy<String> {
    let mut known: Vec<String> = registry::by_name(type_name)
        .map(|t| t.schema())
        .and_then(|s| {
            s.get("properties")?
                .as_object()
                .map(|p| p.keys().cloned().collect())
        })
        .unwrap_or_default();
    known.extend(["ServiceToken".to_owned(), "WebhookUrl".to_owned()]);
    prop_oneof![4 => prop::sample::select(known), 1 => text()].boxed()
}

/// One edit of a property: removed, set to anything, or a scalar turned into
/// the string CloudFormation would send (or a string into a scalar).
#[derive(Debug, Clone)]
enum Edit {
    Remove(String),
    Set(String, Value),
    Restring(String),
}

fn properties(type_name: &str) -> BoxedStrategy<Value> {
    let base = fixture(type_name).unwrap_or_else(|| json!({}));
    let name = property_name(type_name);
    let edit = prop_oneof![
        name.clone().prop_map(Edit::Remove),
        (name.clone(), json_value()).prop_map(|(n, v)| Edit::Set(n, v)),
        name.prop_map(Edit::Restring),
    ];
    prop_oneof![
        8 => prop::collection::vec(edit, 0..4).prop_map(move |edits| {
            let mut props = base.clone();
            for edit in edits {
                apply(&mut props, edit);
            }
            props
        }),
        1 => json_value(),
    ]
    .boxed()
}

fn apply(props: &mut Value, edit: Edit) {
    let Some(map) = props.as_object_mut() else {
        return;
    };
    match edit {
        Edit::Remove(name) => {
            map.remove(&name);
        }
        Edit::Set(name, value) => {
            map.insert(name, value);
        }
        Edit::Restring(name) => {
            if let Some(value) = map.get_mut(&name) {
                *value = match value.take() {
                    Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
                    other => Value::String(other.to_string()),
                };
            }
        }
    }
}

/// A top-level field: usually well-formed, sometimes missing or of any type.
fn field(valid: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        12 => valid.prop_map(Some),
        1 => Just(None),
        1 => json_value().prop_map(Some),
    ]
    .boxed()
}

fn type_name() -> impl Strategy<Value = String> {
    let names: Vec<String> = registry::names().into_iter().map(str::to_owned).collect();
    prop_oneof![
        8 => prop::sample::select(names.clone()),
        1 => (prop::sample::select(names), any::<prop::sample::Index>()).prop_map(|(name, i)| {
            // A near miss: one character dropped.
            let mut chars: Vec<char> = name.chars().collect();
            chars.remove(i.index(chars.len()));
            chars.into_iter().collect()
        }),
        1 => text(),
    ]
}

fn stack_id() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => prop::sample::select(vec![MEMBER, "100000000002", "123456789012"])
            .prop_map(|account| json!(format!("arn:aws:cloudformation:us-east-1:{account}:stack/app/6c1b5a40"))),
        1 => text().prop_map(Value::from),
    ]
}

fn physical_id() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(format!("{PLACEHOLDER_PREFIX}req-0"))),
        Just(json!(format!(
            "arn:aws:chatbot::{MEMBER}:chat-configuration/slack-channel/alerts"
        ))),
        Just(json!(format!(
            "arn:aws:chatbot::{MEMBER}:chat-configuration/chime-webhook/chime-alerts"
        ))),
        Just(json!(format!(
            "arn:aws:chatbot::{MEMBER}:chat-configuration/microsoft-teams-channel/teams"
        ))),
        Just(json!(format!("{MEMBER}:T0CHATOPS1"))),
        Just(json!(format!("{MEMBER}:T0CHATOPS1:C0CASES1"))),
        Just(json!(MEMBER)),
        text().prop_map(Value::from),
    ]
}

/// A CloudFormation custom resource request, as a JSON object.
fn request() -> impl Strategy<Value = Value> {
    type_name().prop_flat_map(|type_name| {
        let fields: Vec<(&'static str, BoxedStrategy<Option<Value>>)> = vec![
            (
                "RequestType",
                field(
                    prop::sample::select(vec!["Create", "Update", "Delete"]).prop_map(Value::from),
                ),
            ),
            (
                "ResponseURL",
                field(Just(json!("http://127.0.0.1:9/response"))),
            ),
            ("StackId", field(stack_id())),
            ("RequestId", field(text().prop_map(Value::from))),
            ("ResourceType", field(Just(json!(type_name)))),
            (
                "LogicalResourceId",
                field("[A-Za-z0-9]{1,20}".prop_map(Value::from)),
            ),
            ("PhysicalResourceId", field(physical_id())),
            ("ResourceProperties", field(properties(&type_name))),
            ("OldResourceProperties", field(properties(&type_name))),
            (
                "ServiceToken",
                field(Just(json!("arn:aws:sns:us-east-1:123456789012:chatops"))),
            ),
        ];
        let (names, strategies): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
        strategies.prop_map(move |values| {
            let mut request = serde_json::Map::new();
            for (name, value) in names.iter().zip(values) {
                if let Some(value) = value {
                    request.insert((*name).to_owned(), value);
                }
            }
            Value::Object(request)
        })
    })
}

fn sns_record(message: Value) -> Value {
    json!({
        "EventSource": "aws:sns",
        "Sns": {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:123456789012:chatops", "Message": message},
    })
}

/// A Lambda event: a direct request, SNS records (one or several, some of
/// them not JSON), or SNS envelopes of the wrong shape.
fn event() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => request(),
        4 => prop::collection::vec(
            prop_oneof![
                6 => request().prop_map(|r| sns_record(Value::String(r.to_string()))),
                1 => text().prop_map(|t| sns_record(Value::String(t))),
                1 => json_value().prop_map(sns_record),
            ],
            1..4,
        )
        .prop_map(|records| json!({"Records": records})),
        1 => json_value().prop_map(|v| json!({"Records": v})),
        1 => json_value(),
    ]
}

/// The requests of `event` that carry a ResponseURL: those that must be answered.
fn answerable(event: &Value) -> Vec<Value> {
    let requests: Vec<Value> = match event.get("Records").and_then(Value::as_array) {
        Some(records) => records
            .iter()
            .filter_map(|r| r.pointer("/Sns/Message")?.as_str())
            .filter_map(|m| serde_json::from_str(m).ok())
            .collect(),
        None => vec![event.clone()],
    };
    requests
        .into_iter()
        .filter(|r| r.get("ResponseURL").is_some_and(Value::is_string))
        .collect()
}

/// Every string of at least 8 characters in the write-only properties of `request`.
fn secrets_in(request: &Value) -> Vec<String> {
    fn strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) if s.chars().count() >= 8 => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            Value::Object(map) => map.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let type_name = request
        .get("ResourceType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut out = Vec::new();
    for props in ["ResourceProperties", "OldResourceProperties"].map(|k| request.get(k)) {
        for name in registry::write_only_of(type_name) {
            if let Some(value) = props.and_then(|p| p.get(*name)) {
                strings(value, &mut out);
            }
        }
    }
    out
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
});

/// A provider whose every AWS endpoint refuses connections, with no retries.
static OFFLINE: LazyLock<Arc<Accounts>> = LazyLock::new(|| {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port");
    RUNTIME.block_on(async {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(format!("http://{closed}"))
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "AKIDFUZZ", "fuzz", None, None, "fuzz",
            ))
            .retry_config(RetryConfig::disabled())
            .load()
            .await;
        let config = ProviderConfig {
            admin_accounts: ["123456789012".to_owned()].into(),
            ..ProviderConfig::from_lookup(|_| None)
        };
        Arc::new(Accounts::new(config, base))
    })
});

/// Runs `event` through the handler and checks every answer; the number of answers.
fn check_event(event: Value) -> Result<usize, TestCaseError> {
    let expected = answerable(&event);
    let total = match event.get("Records").and_then(Value::as_array) {
        Some(records) => records.len(),
        None => 1,
    };
    let secrets: Vec<String> = expected.iter().flat_map(secrets_in).collect();
    // Nothing is sent here: the ResponseURL check has tests of its own.
    let handled = RUNTIME.block_on(handler::answer_event(
        OFFLINE.clone(),
        event,
        Some(Instant::now() + Duration::from_secs(20)),
        &ResponseUrls::NotSent,
    ));
    let answers = handled.answers;
    prop_assert_eq!(
        answers.len() + handled.unanswered.len(),
        total,
        "every request is answered, or the invocation fails"
    );
    prop_assert!(
        answers.len() >= expected.len(),
        "every request with a ResponseURL is answered"
    );
    let mut pending = expected.iter().peekable();
    for answer in &answers {
        let body = answer.body();
        prop_assert!(
            body.len() <= MAX_RESPONSE_BYTES,
            "a body of {} bytes",
            body.len()
        );
        let parsed: Value = serde_json::from_slice(&body)
            .map_err(|e| TestCaseError::fail(format!("the body is not JSON: {e}")))?;
        let status = parsed["Status"].as_str().unwrap_or_default();
        prop_assert!(
            status == "SUCCESS" || status == "FAILED",
            "Status {:?}",
            parsed["Status"]
        );
        prop_assert!(parsed["PhysicalResourceId"].is_string(), "{}", parsed);
        let reason = parsed["Reason"].as_str().unwrap_or_default();
        prop_assert!(
            !reason.contains("crashed"),
            "the handler panicked: {}",
            reason
        );
        // Answers come in the order of the requests; an answer read leniently
        // from a message serde refuses has no request here, so it is skipped.
        // (A body over 4096 bytes has its longest ids cut: a prefix matches.)
        let same = |r: &&Value, name: &str| {
            let sent = r.get(name).and_then(Value::as_str).unwrap_or_default();
            sent.starts_with(parsed[name].as_str().unwrap_or_default())
        };
        let request = pending.next_if(|r| {
            same(r, "RequestId") && same(r, "StackId") && same(r, "LogicalResourceId")
        });
        let is_create = request.is_some_and(|r| r.get("RequestType") == Some(&json!("Create")));
        if is_create && status == "FAILED" {
            let id = parsed["PhysicalResourceId"].as_str().unwrap_or_default();
            prop_assert!(
                id.starts_with(PLACEHOLDER_PREFIX),
                "a failed Create answers a placeholder, not {}",
                id
            );
        }
        let text = String::from_utf8_lossy(&body);
        for secret in &secrets {
            prop_assert!(
                !text.contains(secret.as_str()),
                "a write-only value is in the response: {}",
                text
            );
        }
    }
    prop_assert!(
        pending.next().is_none(),
        "every request with a ResponseURL is answered, in order"
    );
    Ok(answers.len())
}

fn config() -> Config {
    // PROPTEST_CASES sets the number of cases; failures are shrunk and printed, not saved.
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_event_is_answered_with_a_well_formed_response(event in event()) {
        check_event(event)?;
    }

    #[test]
    fn requests_of_every_type_with_edited_properties_are_answered(
        requests in prop::collection::vec(request(), 1..3)
    ) {
        let records: Vec<Value> =
            requests.iter().map(|r| sns_record(Value::String(r.to_string()))).collect();
        check_event(json!({"Records": records}))?;
        for request in requests {
            check_event(request)?;
        }
    }

    #[test]
    fn validation_never_panics_and_names_a_property(
        (type_name, props) in prop::sample::select(registry::names())
            .prop_flat_map(|t| (Just(t), properties(t)))
    ) {
        if let Err(error) = registry::lookup(type_name).and_then(|t| t.validate(&props)) {
            let message = error.to_string();
            prop_assert!(!message.is_empty());
            for secret in secrets_in(&json!({"ResourceType": type_name, "ResourceProperties": props})) {
                prop_assert!(!message.contains(&secret), "a write-only value in: {}", message);
            }
        }
    }
}

#[test]
fn every_type_has_a_valid_fixture() {
    let mut checked = BTreeMap::new();
    for type_name in registry::names() {
        let fixture = fixture(type_name)
            .unwrap_or_else(|| panic!("add a valid fixture for {type_name} to fuzz.rs"));
        registry::lookup(type_name)
            .and_then(|t| t.validate(&fixture))
            .unwrap_or_else(|e| panic!("the {type_name} fixture is invalid: {e}"));
        checked.insert(type_name, true);
    }
    assert!(checked.len() >= 6);
}

#[test]
fn the_offline_provider_answers_a_valid_create_failed_in_time() {
    let request = json!({
        "RequestType": "Create", "ResponseURL": "http://127.0.0.1:9/r",
        "StackId": format!("arn:aws:cloudformation:us-east-1:{MEMBER}:stack/app/1"),
        "RequestId": "req-1", "ResourceType": "Custom::ChatbotChimeWebhook", "LogicalResourceId": "Hook",
        "ResourceProperties": fixture("Custom::ChatbotChimeWebhook"),
    });
    let started = std::time::Instant::now();
    assert_eq!(check_event(request.clone()).unwrap(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let handled = RUNTIME.block_on(handler::answer_event(
        OFFLINE.clone(),
        request,
        None,
        &ResponseUrls::NotSent,
    ));
    let body: Value = serde_json::from_slice(&handled.answers[0].body()).unwrap();
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.contains("organizations") || reason.contains("dispatch failure"),
        "the case reached the service calls: {reason}"
    );
}
