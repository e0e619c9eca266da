//! The custom resource contract through the real binary, whatever the type:
//! bad input, unknown ids, response delivery, the Lambda deadline.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const TYPE: &str = "Custom::ChatbotSlackChannel";

fn valid(account: &str) -> Value {
    let seeded = cloud().account(account);
    json!({
        "ConfigurationName": unique("contract"),
        "SlackWorkspaceId": cloud().seed["slack_team_id"],
        "SlackChannelId": unique_channel(),
        "IamRoleArn": seeded["chatbot_role_arn"],
    })
}

/// A case name, how to break valid properties, and what the Reason must say.
type BadInput = (
    &'static str,
    Box<dyn Fn(&mut Value)>,
    &'static [&'static str],
);

#[tokio::test(flavor = "multi_thread")]
async fn each_kind_of_bad_input_fails_with_a_reason_naming_the_property() {
    let account = &cloud().members()[3];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let cases: Vec<BadInput> = vec![
        (
            "missing",
            Box::new(|p| {
                p.as_object_mut().unwrap().remove("SlackChannelId");
            }),
            &["SlackChannelId", "is required", "Slack channel ID"],
        ),
        (
            "unknown",
            Box::new(|p| p["LogLevel"] = json!("INFO")),
            &["LogLevel", "not a property", "did you mean LoggingLevel?"],
        ),
        (
            "pattern",
            Box::new(|p| p["SlackWorkspaceId"] = json!("lower-case")),
            &[
                "SlackWorkspaceId",
                "does not match",
                "upper-case letters and digits",
            ],
        ),
        (
            "enum",
            Box::new(|p| p["LoggingLevel"] = json!("DEBUG")),
            &["LoggingLevel", "DEBUG", "ERROR"],
        ),
        (
            "boolean",
            Box::new(|p| p["UserRoleRequired"] = json!("maybe")),
            &["UserRoleRequired", "true or false"],
        ),
        (
            "length",
            Box::new(|p| p["ConfigurationName"] = json!("x".repeat(129))),
            &["ConfigurationName", "longer than 128"],
        ),
        (
            "list",
            Box::new(|p| p["SnsTopicArns"] = json!("arn:aws:sns:us-east-1:100000000004:t")),
            &["SnsTopicArns", "array"],
        ),
    ];
    for (name, break_it, expected) in cases {
        let mut props = valid(account);
        break_it(&mut props);
        let response = send(&mut lambda, stack.create("Bad", &props), direct).await;
        let reason = assert_failed(&response);
        for fragment in expected {
            assert!(
                reason.contains(fragment),
                "{name}: {fragment:?} not in {reason:?}"
            );
        }
        assert!(
            response["PhysicalResourceId"]
                .as_str()
                .unwrap()
                .starts_with("chatops:create-failed:")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_type_fails_on_create_and_deletes_cleanly() {
    let account = &cloud().members()[3];
    let stack = Stack::new(account, "Custom::ChatbotSlackChanel");
    let mut lambda = provider_lambda(&[]);
    let failed = send(&mut lambda, stack.create("Typo", &valid(account)), direct).await;
    let reason = assert_failed(&failed);
    assert!(
        reason.contains("unknown resource type") && reason.contains(TYPE),
        "{reason}"
    );
    let placeholder = failed["PhysicalResourceId"].as_str().unwrap();
    assert_success(
        &send(
            &mut lambda,
            stack.delete("Typo", placeholder, &valid(account)),
            direct,
        )
        .await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_request_is_still_answered() {
    let account = &cloud().members()[3];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let mut request = stack.create("NoStack", &valid(account));
    request.as_object_mut().unwrap().remove("StackId");
    // CloudFormation never sends this: nothing to stage.
    let response = send_forged(
        cloud(),
        &mut lambda,
        &mut request,
        direct,
        Duration::from_secs(60),
    )
    .await;
    let reason = assert_failed(&response);
    assert!(reason.contains("StackId"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_of_an_id_that_does_not_exist_succeeds() {
    let account = &cloud().members()[3];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let never = format!(
        "arn:aws:chatbot::{account}:chat-configuration/slack-channel/{}",
        unique("never")
    );
    let response = send(
        &mut lambda,
        stack.delete("Gone", &never, &valid(account)),
        direct,
    )
    .await;
    assert_eq!(assert_success(&response), never);
    let response = send(
        &mut lambda,
        stack.delete("Gone", "something-else", &json!({})),
        direct,
    )
    .await;
    assert_success(&response);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_response_url_that_fails_twice_is_retried_until_accepted() {
    // A cloud of its own: the fault must not be spent by other tests' responses.
    let private = LocalCloud::start(None);
    let account = &private.members()[0];
    let stack = Stack::new(account, TYPE);
    let mut lambda = LocalLambda::start(&private.provider_env());
    let mut request = stack.delete("Retry", "not-made", &json!({}));
    let (url, key) = private.response_url().await;
    request["ResponseURL"] = json!(url);
    private.stage(&request, None).await;
    private
        .inject(json!({"service": "s3", "operation": "PutObject", "kind": "error", "status": 503, "count": 2}))
        .await;
    let outcome = tokio::task::block_in_place(|| lambda.invoke(request, Duration::from_secs(60)));
    assert!(matches!(outcome, Outcome::Response(_)), "{outcome:?}");
    assert_success(&private.response(&key).await);
    let logs = lambda.logs();
    assert_eq!(
        logs.matches("\"attempt\":").count(),
        2,
        "two failed tries, then success:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_answers_failed_in_time_and_leaves_nothing_untracked() {
    let account = &cloud().members()[5];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let props = valid(account);
    cloud()
        .inject(json!({
            "service": "chatbot", "operation": "CreateSlackChannelConfiguration",
            "account": account, "kind": "latency", "latency_ms": 6000, "count": 1
        }))
        .await;
    let started = Instant::now();
    let mut request = stack.create("Slow", &props);
    let response =
        send_with_timeout(&mut lambda, &mut request, direct, Duration::from_secs(3)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered after the deadline: {:?}",
        started.elapsed()
    );
    let reason = assert_failed(&response);
    assert!(reason.starts_with("timed out"), "{reason}");
    let placeholder = response["PhysicalResourceId"].as_str().unwrap().to_owned();

    // The slow call may still have made the configuration: CloudFormation's
    // Delete of the placeholder must find it by its tags and remove it.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_success(
        &send(
            &mut lambda,
            stack.delete("Slow", &placeholder, &props),
            direct,
        )
        .await,
    );
    let chatbot = cloud().chatbot(account).await;
    let left = chatbot
        .describe_slack_channel_configurations()
        .send()
        .await
        .unwrap();
    let name = props["ConfigurationName"].as_str().unwrap();
    assert!(
        !left
            .slack_channel_configurations()
            .iter()
            .any(|c| c.configuration_name() == Some(name)),
        "a half-made configuration was left behind"
    );
}

/// A panic in the handler cannot be provoked by any input; the `failpoints`
/// build (`make test`) lets the test make one, in the real binary.
#[cfg(feature = "failpoints")]
#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_the_handler_still_answers_failed_and_the_function_lives_on() {
    let account = &cloud().members()[4];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[("FAILPOINTS", "handler::dispatch=panic")]);
    for attempt in 0..2 {
        let response = send(
            &mut lambda,
            stack.create("Crash", &valid(account)),
            sns_wrapped,
        )
        .await;
        let reason = assert_failed(&response);
        assert!(reason.contains("crashed"), "attempt {attempt}: {reason}");
        assert!(
            response["PhysicalResourceId"]
                .as_str()
                .unwrap()
                .starts_with("chatops:create-failed:"),
            "{response}"
        );
    }
    assert!(
        lambda.logs().contains("panicked"),
        "the panic really happened:\n{}",
        lambda.logs()
    );
}
