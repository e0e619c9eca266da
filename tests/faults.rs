//! The provider under faults, through the real binary: throttling on every
//! call, 5xx bursts and outages, latency past the Lambda deadline on Update
//! and Delete, a slow or failing ResponseURL, credentials that expire in the
//! middle of a request, a replacement whose old resource cannot be deleted,
//! and the same request delivered twice.
//!
//! Faults are global to a local cloud, so every test that injects one runs
//! its own (`LocalCloud::start`), and narrows the fault to one account where
//! the call allows it. The deadline on Create and a ResponseURL that fails
//! twice are in `contract.rs`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const TYPE: &str = "Custom::ChatbotSlackChannel";
/// A deadline long enough for the SDK's retries with backoff.
const PATIENT: Duration = Duration::from_secs(120);

fn properties(cloud: &LocalCloud, account: &str, name: &str) -> Value {
    let seeded = cloud.account(account);
    json!({
        "ConfigurationName": name,
        "SlackWorkspaceId": cloud.seed["slack_team_id"],
        "SlackChannelId": unique_channel(),
        "IamRoleArn": seeded["chatbot_role_arn"],
        "SnsTopicArns": [seeded["topics"]["us-east-1"]],
        "LoggingLevel": "ERROR",
        "Tags": [{"Key": "team", "Value": "platform"}],
    })
}

/// The Slack channel of `properties`.
fn channel_of(properties: &Value) -> String {
    properties["SlackChannelId"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The configurations named `name` in `account`, with their ARNs and channels.
async fn configurations(cloud: &LocalCloud, account: &str, name: &str) -> Vec<(String, String)> {
    cloud
        .chatbot(account)
        .await
        .describe_slack_channel_configurations()
        .send()
        .await
        .expect("listing configurations")
        .slack_channel_configurations()
        .iter()
        .filter(|c| c.configuration_name() == Some(name))
        .map(|c| {
            (
                c.chat_configuration_arn().to_owned(),
                c.slack_channel_id().to_owned(),
            )
        })
        .collect()
}

async fn send_in(
    cloud: &LocalCloud,
    lambda: &mut LocalLambda,
    mut request: Value,
    timeout: Duration,
) -> Value {
    send_via(cloud, lambda, &mut request, direct, timeout).await
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_on_every_call_is_retried_until_it_succeeds() {
    let private = LocalCloud::start(None);
    let account = private.members()[0].clone();
    let stack = Stack::new(&account, TYPE);
    let mut lambda = LocalLambda::start(&private.provider_env());
    // Every operation in the member account (chatbot, IAM, SNS), and the
    // provider's own calls (Organizations, STS) and the ResponseURL, are
    // throttled twice before they are let through.
    for fault in [
        json!({"account": account, "kind": "throttle", "count": 2, "each_operation": true}),
        json!({"service": "organizations", "kind": "throttle", "count": 2, "each_operation": true}),
        json!({"service": "sts", "kind": "throttle", "count": 2, "each_operation": true}),
        json!({"service": "s3", "operation": "PutObject", "kind": "throttle", "count": 1}),
    ] {
        private.inject(fault).await;
    }
    let name = unique("throttled");
    let props = properties(&private, &account, &name);
    let arn = assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.create("Alerts", &props),
            PATIENT,
        )
        .await,
    );
    let mut changed = props.clone();
    changed["SlackChannelId"] = json!("C0FAULTS2");
    changed["Tags"] = json!([{"Key": "owner", "Value": "sre"}]);
    let updated = send_in(
        &private,
        &mut lambda,
        stack.update("Alerts", &arn, &changed, &props),
        PATIENT,
    )
    .await;
    assert_eq!(assert_success(&updated), arn);
    assert_eq!(
        configurations(&private, &account, &name).await,
        [(arn.clone(), "C0FAULTS2".to_owned())]
    );
    assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.delete("Alerts", &arn, &changed),
            PATIENT,
        )
        .await,
    );
    assert!(configurations(&private, &account, &name).await.is_empty());

    let mut throttled: BTreeMap<String, u64> = BTreeMap::new();
    for fault in private.faults().await {
        for (operation, fired) in fault["fired_by_operation"].as_object().unwrap() {
            throttled.insert(operation.clone(), fired.as_u64().unwrap());
        }
    }
    for operation in [
        "DescribeAccount",
        "AssumeRole",
        "DescribeSlackWorkspaces",
        "GetRole",
        "GetTopicAttributes",
        "CreateSlackChannelConfiguration",
        "UpdateSlackChannelConfiguration",
        "ListTagsForResource",
        "TagResource",
        "UntagResource",
        "DeleteSlackChannelConfiguration",
    ] {
        assert_eq!(
            throttled.get(operation),
            Some(&2),
            "{operation} was not throttled twice: {throttled:?}"
        );
    }
    assert!(
        throttled.values().all(|&n| n == 2),
        "each call is throttled exactly twice, then let through: {throttled:?}"
    );
    assert_eq!(
        lambda.logs().matches("response PUT failed").count(),
        1,
        "the throttled ResponseURL was tried again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn server_error_bursts_are_retried_and_an_outage_fails_cleanly() {
    let private = LocalCloud::start(None);
    let account = private.members()[1].clone();
    let stack = Stack::new(&account, TYPE);
    let mut lambda = LocalLambda::start(&private.provider_env());
    for fault in [
        json!({"service": "chatbot", "account": account, "kind": "error", "status": 503, "count": 3}),
        json!({"service": "iam", "account": account, "kind": "error", "status": 500, "count": 2}),
        json!({"service": "organizations", "kind": "error", "status": 502, "count": 2}),
        json!({"service": "sts", "kind": "error", "status": 504, "count": 1}),
    ] {
        private.inject(fault).await;
    }
    let burst = unique("burst");
    let props = properties(&private, &account, &burst);
    let arn = assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.create("Burst", &props),
            PATIENT,
        )
        .await,
    );
    assert!(
        private.faults().await.is_empty(),
        "every burst was spent on retries"
    );

    // An outage longer than the retries: FAILED with the operation and what
    // the service said, a placeholder id, and nothing made under it.
    private
        .inject(json!({
            "service": "chatbot", "operation": "CreateSlackChannelConfiguration",
            "account": account, "kind": "error", "status": 500
        }))
        .await;
    let outage = unique("outage");
    let outage_props = properties(&private, &account, &outage);
    let failed = send_in(
        &private,
        &mut lambda,
        stack.create("Outage", &outage_props),
        PATIENT,
    )
    .await;
    let reason = assert_failed(&failed);
    assert!(
        reason.contains("CreateSlackChannelConfiguration") && reason.contains("internal error"),
        "{reason}"
    );
    let placeholder = failed["PhysicalResourceId"].as_str().unwrap().to_owned();
    assert!(
        placeholder.starts_with("chatops:create-failed:"),
        "{placeholder}"
    );
    assert!(configurations(&private, &account, &outage).await.is_empty());
    private.clear_faults().await;

    // CloudFormation rolls back: the placeholder deletes cleanly; the stack
    // is deployed again once the service is back.
    assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.delete("Outage", &placeholder, &outage_props),
            PATIENT,
        )
        .await,
    );
    let retried = assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.create("Outage", &outage_props),
            PATIENT,
        )
        .await,
    );
    assert_eq!(configurations(&private, &account, &outage).await.len(), 1);
    for (logical, id, props) in [("Outage", &retried, &outage_props), ("Burst", &arn, &props)] {
        assert_success(
            &send_in(
                &private,
                &mut lambda,
                stack.delete(logical, id, props),
                PATIENT,
            )
            .await,
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_past_the_deadline_on_update_and_delete_keeps_the_resource_tracked() {
    let private = LocalCloud::start(None);
    let account = private.members()[2].clone();
    let stack = Stack::new(&account, TYPE);
    let mut lambda = LocalLambda::start(&private.provider_env());
    let name = unique("slow");
    let props = properties(&private, &account, &name);
    let arn = assert_success(
        &send_in(&private, &mut lambda, stack.create("Slow", &props), PATIENT).await,
    );

    for (operation, request) in [
        ("UpdateSlackChannelConfiguration", {
            let mut changed = props.clone();
            changed["SlackChannelId"] = json!("C0LATE1");
            stack.update("Slow", &arn, &changed, &props)
        }),
        (
            "DeleteSlackChannelConfiguration",
            stack.delete("Slow", &arn, &props),
        ),
    ] {
        private
            .inject(json!({
                "service": "chatbot", "operation": operation, "account": account,
                "kind": "latency", "latency_ms": 6000, "count": 1
            }))
            .await;
        let started = Instant::now();
        let response = send_in(&private, &mut lambda, request, Duration::from_secs(3)).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{operation}: answered after the deadline ({:?})",
            started.elapsed()
        );
        assert!(
            assert_failed(&response).starts_with("timed out"),
            "{response}"
        );
        assert_eq!(
            response["PhysicalResourceId"], arn,
            "{operation}: a failed request keeps the resource's id, so CloudFormation still tracks it"
        );
        // The call in flight still completes on the service side.
        tokio::time::sleep(Duration::from_secs(5)).await;
        if operation.starts_with("Update") {
            // CloudFormation rolls the failed Update back: old and new swapped.
            let mut changed = props.clone();
            changed["SlackChannelId"] = json!("C0LATE1");
            let rollback = stack.update("Slow", &arn, &props, &changed);
            assert_eq!(
                assert_success(&send_in(&private, &mut lambda, rollback, PATIENT).await),
                arn
            );
            assert_eq!(
                configurations(&private, &account, &name).await,
                [(arn.clone(), channel_of(&props))]
            );
        }
    }

    // The Delete that timed out went through late: CloudFormation's retry
    // of it finds nothing and succeeds, and nothing is left.
    assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.delete("Slow", &arn, &props),
            PATIENT,
        )
        .await,
    );
    assert!(configurations(&private, &account, &name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_response_url_is_waited_for_and_one_that_never_accepts_is_redelivered() {
    let private = LocalCloud::start(None);
    let account = private.members()[3].clone();
    let stack = Stack::new(&account, TYPE);
    let mut lambda = LocalLambda::start(&private.provider_env());
    let name = unique("respond");
    let props = properties(&private, &account, &name);

    // Slower than one try's timeout (10 s): the PUT is tried again.
    private
        .inject(json!({"service": "s3", "operation": "PutObject", "kind": "latency", "latency_ms": 11000, "count": 1}))
        .await;
    let arn = assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.create("Respond", &props),
            PATIENT,
        )
        .await,
    );

    // A ResponseURL that refuses every try: the invocation fails, so SNS (or
    // Lambda's async retry) delivers the request again; the redelivery finds
    // the resource the first delivery made and answers the same id.
    private
        .inject(json!({"service": "s3", "operation": "PutObject", "kind": "error", "status": 503}))
        .await;
    let unanswered = unique("respond");
    let unanswered_props = properties(&private, &account, &unanswered);
    let mut create = stack.create("Unanswered", &unanswered_props);
    let (url, key) = private.response_url().await;
    create["ResponseURL"] = json!(url);
    private.stage(&create, None).await;
    let outcome = tokio::task::block_in_place(|| lambda.invoke(sns_wrapped(&create), PATIENT));
    assert!(
        matches!(&outcome, Outcome::Error(e) if e.contains("could not be sent")),
        "the invocation must fail when no response got through: {outcome:?}"
    );
    private.clear_faults().await;
    let outcome = tokio::task::block_in_place(|| lambda.invoke(sns_wrapped(&create), PATIENT));
    assert!(matches!(outcome, Outcome::Response(_)), "{outcome:?}");
    let redelivered = assert_success(&private.response(&key).await);
    assert_eq!(
        configurations(&private, &account, &unanswered).await,
        [(redelivered.clone(), channel_of(&unanswered_props))],
        "one resource for the two deliveries"
    );
    for (logical, id, props) in [
        ("Respond", &arn, &props),
        ("Unanswered", &redelivered, &unanswered_props),
    ] {
        assert_success(
            &send_in(
                &private,
                &mut lambda,
                stack.delete(logical, id, props),
                PATIENT,
            )
            .await,
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_that_expire_mid_request_are_assumed_again() {
    let private = LocalCloud::start(None);
    let account = private.members()[4].clone();
    let stack = Stack::new(&account, TYPE);
    let mut lambda = LocalLambda::start(&private.provider_env());
    let name = unique("expiry");
    let props = properties(&private, &account, &name);
    let arn = assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.create("Expiry", &props),
            PATIENT,
        )
        .await,
    );

    // The warm function holds credentials for the account. They expire after
    // the Update's checks passed with them and before its Update call.
    private
        .inject(json!({
            "service": "chatbot", "operation": "UpdateSlackChannelConfiguration",
            "account": account, "kind": "expired"
        }))
        .await;
    let mut changed = props.clone();
    changed["SlackChannelId"] = json!("C0RENEWED");
    let updated = send_in(
        &private,
        &mut lambda,
        stack.update("Expiry", &arn, &changed, &props),
        PATIENT,
    )
    .await;
    assert_eq!(assert_success(&updated), arn);
    assert_eq!(
        configurations(&private, &account, &name).await,
        [(arn.clone(), "C0RENEWED".to_owned())]
    );
    let faults = private.faults().await;
    assert_eq!(
        faults[0]["fired"], 1,
        "only the first try saw expired credentials: {faults:?}"
    );

    // Every session issued so far expires: the next request renews once and
    // keeps the new credentials for the ones after it.
    private.clear_faults().await;
    private
        .inject(json!({"account": account, "kind": "expired"}))
        .await;
    let deleted = send_in(
        &private,
        &mut lambda,
        stack.delete("Expiry", &arn, &changed),
        PATIENT,
    )
    .await;
    assert_success(&deleted);
    assert!(configurations(&private, &account, &name).await.is_empty());
    let again = unique("expiry");
    let again_props = properties(&private, &account, &again);
    let again_arn = assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.create("Again", &again_props),
            PATIENT,
        )
        .await,
    );
    assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.delete("Again", &again_arn, &again_props),
            PATIENT,
        )
        .await,
    );
    let logs = lambda.logs();
    assert_eq!(
        logs.matches("assuming the role again").count(),
        2,
        "one renewal per expiry, none after:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replacement_whose_old_resource_cannot_be_deleted() {
    let private = LocalCloud::start(None);
    let account = private.members()[5].clone();
    let stack = Stack::new(&account, TYPE);
    let mut lambda = LocalLambda::start(&private.provider_env());
    let old_name = unique("old");
    let old_props = properties(&private, &account, &old_name);
    let old_arn = assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.create("Channel", &old_props),
            PATIENT,
        )
        .await,
    );

    let new_name = unique("new");
    let mut new_props = properties(&private, &account, &new_name);
    // Chatbot allows one configuration per Slack channel: the replacement moves.
    new_props["SlackChannelId"] = json!("C0FAULTS2");
    let replaced = send_in(
        &private,
        &mut lambda,
        stack.update("Channel", &old_arn, &new_props, &old_props),
        PATIENT,
    )
    .await;
    let new_arn = assert_success(&replaced);
    assert_ne!(new_arn, old_arn, "a new ConfigurationName replaces");

    // CloudFormation deletes the old id in its cleanup phase; the service
    // refuses for longer than the retries last.
    private
        .inject(json!({
            "service": "chatbot", "operation": "DeleteSlackChannelConfiguration",
            "account": account, "kind": "error", "status": 500
        }))
        .await;
    let failed = send_in(
        &private,
        &mut lambda,
        stack.delete("Channel", &old_arn, &old_props),
        PATIENT,
    )
    .await;
    let reason = assert_failed(&failed);
    assert!(
        reason.contains("DeleteSlackChannelConfiguration") && reason.contains(&old_arn),
        "the reason names the call and the resource: {reason}"
    );
    assert_eq!(failed["PhysicalResourceId"], old_arn.as_str());
    assert_eq!(configurations(&private, &account, &old_name).await.len(), 1);
    assert_eq!(
        configurations(&private, &account, &new_name).await,
        [(new_arn.clone(), channel_of(&new_props))],
        "the replacement stays, and stays tracked"
    );

    // The retried cleanup succeeds once the service does.
    private.clear_faults().await;
    assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.delete("Channel", &old_arn, &old_props),
            PATIENT,
        )
        .await,
    );
    assert!(
        configurations(&private, &account, &old_name)
            .await
            .is_empty()
    );
    assert_eq!(configurations(&private, &account, &new_name).await.len(), 1);
    assert_success(
        &send_in(
            &private,
            &mut lambda,
            stack.delete("Channel", &new_arn, &new_props),
            PATIENT,
        )
        .await,
    );
}

/// Delivers `request` (SNS-wrapped) to both functions at the same time; the two responses.
async fn at_once(first: &mut LocalLambda, second: &mut LocalLambda, request: &Value) -> [Value; 2] {
    cloud().stage(request, None).await;
    let mut events = Vec::new();
    let mut keys = Vec::new();
    for _ in 0..2 {
        let (url, key) = cloud().response_url().await;
        let mut request = request.clone();
        request["ResponseURL"] = json!(url);
        events.push(sns_wrapped(&request));
        keys.push(key);
    }
    let outcomes = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let [a, b] = [first, second]
                .into_iter()
                .zip(events)
                .map(|(lambda, event)| scope.spawn(move || lambda.invoke(event, PATIENT)))
                .collect::<Vec<_>>()
                .try_into()
                .unwrap_or_else(|_| unreachable!());
            [a.join().unwrap(), b.join().unwrap()]
        })
    });
    for outcome in &outcomes {
        assert!(matches!(outcome, Outcome::Response(_)), "{outcome:?}");
    }
    [
        cloud().response(&keys[0]).await,
        cloud().response(&keys[1]).await,
    ]
}

/// SNS delivers at least once: the same request may arrive twice, one after
/// the other or at the same time in two function instances.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_request_delivered_twice_makes_one_resource() {
    let account = cloud().members()[4].clone();
    let stack = Stack::new(&account, TYPE);
    let name = unique("twice");
    let props = properties(cloud(), &account, &name);
    let create = stack.create("Twice", &props);

    let mut first = provider_lambda(&[]);
    let arn = assert_success(&send(&mut first, create.clone(), sns_wrapped).await);
    assert_eq!(
        assert_success(&send(&mut first, create.clone(), sns_wrapped).await),
        arn
    );

    // The same Create in two warm instances at once, each answering its own ResponseURL.
    let mut second = provider_lambda(&[]);
    assert_success(
        &send(
            &mut second,
            stack.delete("Warm", "not-made", &props),
            direct,
        )
        .await,
    );
    let other = unique("twice");
    let other_props = properties(cloud(), &account, &other);
    let [a, b] = at_once(
        &mut first,
        &mut second,
        &stack.create("Together", &other_props),
    )
    .await;
    let together = assert_success(&a);
    assert_eq!(assert_success(&b), together);
    assert_eq!(configurations(cloud(), &account, &name).await.len(), 1);
    assert_eq!(configurations(cloud(), &account, &other).await.len(), 1);

    for (logical, id, props) in [
        ("Twice", &arn, &props),
        ("Together", &together, &other_props),
    ] {
        for response in at_once(&mut first, &mut second, &stack.delete(logical, id, props)).await {
            assert_eq!(assert_success(&response), *id);
        }
    }
    assert!(configurations(cloud(), &account, &name).await.is_empty());
    assert!(configurations(cloud(), &account, &other).await.is_empty());
}
