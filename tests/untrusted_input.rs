//! Requests written by someone other than CloudFormation, through the real
//! binary: any principal of the organization may publish to the ServiceToken
//! topic, so every field is a claim. A ResponseURL that is not
//! CloudFormation's is never contacted and the request is not acted on (the
//! invocation fails, so Lambda retries it and it lands in the dead-letter
//! queue); a redirect is not followed; a Region that is a host is refused on
//! every request type; a message serde cannot read is answered FAILED where
//! it says, or fails the invocation.
//!
//! Each attack asserts that nothing changed in the account (no configuration
//! made or deleted, no role session of the request's stack) and that the
//! loopback listener standing for the attacker's URL saw no connection.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const SLACK: &str = "Custom::ChatbotSlackChannel";

fn slack(account: &str, name: &str) -> Value {
    json!({
        "ConfigurationName": name,
        "SlackWorkspaceId": cloud().seed["slack_team_id"],
        "SlackChannelId": unique_channel(),
        "IamRoleArn": cloud().account(account)["chatbot_role_arn"],
        "LoggingLevel": "ERROR",
    })
}

/// An SNS envelope around `message`, whatever text it is.
fn sns_text(message: &str) -> Value {
    json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "Sns": {"Type": "Notification", "Message": message}
    }]})
}

/// Invokes the function with `event` and returns the invocation's error.
fn invocation_error(lambda: &mut LocalLambda, event: Value) -> String {
    match tokio::task::block_in_place(|| lambda.invoke(event, Duration::from_secs(60))) {
        Outcome::Error(error) => error,
        Outcome::Response(body) => panic!(
            "the invocation passed as handled: {body}\n{}",
            lambda.logs()
        ),
    }
}

/// How many role sessions the provider opened in `account` for requests of
/// `stack` (each session is named after the stack and the logical id). A
/// warm function reuses an account's credentials, so only a function that
/// never acted there shows a request reaching the account this way.
async fn sessions_of(account: &str, stack: &Stack) -> usize {
    let name = stack.stack_id.split('/').nth(1).unwrap_or_default();
    sessions_in(account)
        .await
        .iter()
        .filter(|session| session.starts_with(&format!("{name}-")))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_response_urls_are_never_contacted_and_nothing_is_done() {
    let account = &cloud().members()[3];
    let trap = Trap::start();
    let port = trap.address.rsplit(':').next().unwrap().to_owned();
    let mut lambda = provider_lambda(&[]);

    // A channel made the legitimate way, that forged Updates and Deletes aim at.
    let stack = Stack::new(account, SLACK);
    let name = unique("untrusted-kept");
    let props = slack(account, &name);
    let arn = assert_success(&send(&mut lambda, stack.create("Kept", &props), sns_wrapped).await);
    assert_eq!(sessions_of(account, &stack).await, 1);
    // The forged requests go to a function that has no credentials yet.
    let mut legitimate = std::mem::replace(&mut lambda, provider_lambda(&[]));

    let forged = [
        // The Lambda Runtime API (or anything else) on loopback.
        format!(
            "http://{}/2018-06-01/runtime/invocation/x/response",
            trap.address
        ),
        // A look-alike: the bucket host is userinfo, the host is loopback.
        format!(
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com@{}/",
            trap.address
        ),
        "https://user:password@cloudformation-custom-resource-response-useast1.s3.amazonaws.com/k"
            .to_owned(),
        // The right host on another port, and a host that only starts right.
        format!(
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:{port}/k"
        ),
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.invalid/k"
            .to_owned(),
        // An IP address, and plain http to the right host.
        format!(
            "https://{}/cloudformation-custom-resource-response-useast1/k",
            trap.address
        ),
        "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/k".to_owned(),
        // The local cloud's host on another port than its own.
        format!("http://127.0.0.1:{port}/bucket/key"),
        String::new(),
    ];
    let new_name = unique("untrusted-new");
    for url in &forged {
        let mut moved = props.clone();
        moved["SlackChannelId"] = json!("C0ATTACKER1");
        let requests = [
            ("Create", stack.create("New", &slack(account, &new_name))),
            ("Update", stack.update("Kept", &arn, &moved, &props)),
            ("Delete", stack.delete("Kept", &arn, &props)),
        ];
        for (kind, mut request) in requests {
            request["ResponseURL"] = json!(url);
            let error = invocation_error(&mut lambda, sns_wrapped(&request));
            assert!(error.contains("not acted on"), "{kind} to {url:?}: {error}");
            // Never the pre-signed URL itself in an error or log line.
            assert!(!error.contains("/k"), "{error}");
        }
    }

    assert_eq!(trap.contacts(), 0, "a forged ResponseURL was contacted");
    let names = slack_configuration_names(account).await;
    assert!(names.contains(&name), "a forged Delete deleted {name}");
    assert!(
        !names.contains(&new_name),
        "a forged Create made {new_name}"
    );
    let live = cloud()
        .chatbot(account)
        .await
        .describe_slack_channel_configurations()
        .chat_configuration_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.slack_channel_configurations()[0].slack_channel_id(),
        props["SlackChannelId"],
        "a forged Update moved the channel"
    );
    assert_eq!(
        sessions_of(account, &stack).await,
        1,
        "a forged request reached the account"
    );
    assert!(
        !lambda.logs().contains("X-Amz-Signature"),
        "a pre-signed URL was logged"
    );

    assert_success(
        &send(
            &mut legitimate,
            stack.delete("Kept", &arn, &props),
            sns_wrapped,
        )
        .await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_from_the_response_url_is_not_followed() {
    let account = &cloud().members()[3];
    let stolen = Trap::start();
    let redirector = Trap::answering(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{}/stolen\r\ncontent-length: 0\r\n\r\n",
        stolen.address
    ));
    // The redirector stands for the one origin responses may go to.
    let origin = format!("http://{}", redirector.address);
    let mut lambda = provider_lambda(&[("CHATOPS_LOCAL_RESPONSE_ORIGIN", origin.as_str())]);
    let stack = Stack::new(account, SLACK);
    let mut props = slack(account, &unique("untrusted-redirect"));
    props["LoggingLevel"] = json!("LOUD");
    let mut request = stack.create("Redirected", &props);
    request["ResponseURL"] = json!(format!("{origin}/bucket/key?X-Amz-Signature=s"));
    let error = invocation_error(&mut lambda, sns_wrapped(&request));
    assert!(error.contains("307"), "{error}");
    assert!(redirector.contacts() >= 1, "the response was never tried");
    assert_eq!(stolen.contacts(), 0, "the redirect was followed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_that_is_a_host_is_refused_on_every_request_type() {
    let account = &cloud().members()[3];
    let trap = Trap::start();
    let mut lambda = provider_lambda(&[]);
    let stack = Stack::new(account, SLACK);
    let name = unique("untrusted-region");
    let props = slack(account, &name);
    let arn = assert_success(&send(&mut lambda, stack.create("Chan", &props), direct).await);
    assert_eq!(sessions_of(account, &stack).await, 1);
    // The hostile requests go to a function that has no credentials yet.
    let mut legitimate = std::mem::replace(&mut lambda, provider_lambda(&[]));

    let mut hostile = props.clone();
    hostile["Region"] = json!(format!("x@{}/", trap.address));
    let created = send(&mut lambda, stack.create("Other", &hostile), direct).await;
    let updated = send(
        &mut lambda,
        stack.update("Chan", &arn, &hostile, &props),
        direct,
    )
    .await;
    let deleted = send(
        &mut lambda,
        stack.delete("Chan", &arn, &hostile),
        sns_wrapped,
    )
    .await;
    for (kind, response) in [
        ("Create", created),
        ("Update", updated),
        ("Delete", deleted),
    ] {
        let reason = assert_failed(&response);
        assert!(
            reason.starts_with("invalid property Region:"),
            "{kind}: {reason}"
        );
    }
    let mut other_account = props.clone();
    other_account["AccountId"] = json!(format!("1@{}", trap.address));
    let reason = assert_failed(
        &send(
            &mut lambda,
            stack.delete("Chan", &arn, &other_account),
            direct,
        )
        .await,
    );
    assert!(
        reason.starts_with("invalid property AccountId:"),
        "{reason}"
    );

    // A region name where Chatbot has no endpoint, on Create: the served ones are listed.
    let mut unserved = props.clone();
    unserved["Region"] = json!("us-east-1");
    let reason = assert_failed(&send(&mut lambda, stack.create("Other", &unserved), direct).await);
    assert!(
        reason.contains("Region")
            && reason.contains("us-east-2, us-west-2, eu-west-1, ap-southeast-1"),
        "{reason}"
    );

    assert_eq!(
        trap.contacts(),
        0,
        "a Region steered a call to the listener"
    );
    assert_eq!(
        sessions_of(account, &stack).await,
        1,
        "a refused request reached the account"
    );
    assert!(slack_configuration_names(account).await.contains(&name));
    assert_success(&send(&mut legitimate, stack.delete("Chan", &arn, &props), direct).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn undecodable_messages_are_answered_failed_or_fail_the_invocation() {
    let account = &cloud().members()[3];
    let mut lambda = provider_lambda(&[]);
    let stack = Stack::new(account, SLACK);
    let props = slack(account, &unique("untrusted-undecodable"));

    // Nested deeper than serde's recursion limit, and a lone surrogate escape:
    // both are answered FAILED on their ResponseURL.
    let nested = {
        let mut request = stack.create("Deep", &props);
        request["ResourceProperties"]["Deep"] = json!("NESTED");
        request
    };
    let lone = stack.create("Lone", &props);
    let cases = [
        (
            nested,
            Box::new(|text: String| {
                text.replace(
                    "\"NESTED\"",
                    &format!("{}{}", "[".repeat(200), "]".repeat(200)),
                )
            }) as Box<dyn Fn(String) -> String>,
        ),
        (
            lone,
            Box::new(|text: String| text.replace("\"Lone\"", "\"Lone\\ud800\"")),
        ),
    ];
    for (mut request, spoil) in cases {
        let (url, key) = cloud().response_url().await;
        request["ResponseURL"] = json!(url);
        let text = spoil(request.to_string());
        assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "serde reads {text}"
        );
        let outcome =
            tokio::task::block_in_place(|| lambda.invoke(sns_text(&text), Duration::from_secs(60)));
        assert!(matches!(outcome, Outcome::Response(_)), "{outcome:?}");
        let response = cloud().response(&key).await;
        let reason = assert_failed(&response);
        assert!(reason.contains("not a JSON request"), "{reason}");
        assert_eq!(response["RequestId"], request["RequestId"]);
        assert_eq!(response["StackId"], request["StackId"]);
        assert!(
            response["PhysicalResourceId"]
                .as_str()
                .unwrap()
                .starts_with("chatops:create-failed:"),
            "{response}"
        );
    }

    // No ResponseURL to read, or a forged one: no answer, so the invocation fails.
    let trap = Trap::start();
    let mut forged = stack.create("Forged", &props);
    forged["ResponseURL"] = json!(format!("http://{}/r", trap.address));
    let forged = forged
        .to_string()
        .replace("\"Forged\"", "\"Forged\\udfff\"");
    for text in ["not json at all".to_owned(), "[[[[".repeat(100), forged] {
        let error = invocation_error(&mut lambda, sns_text(&text));
        assert!(error.contains("could not be read"), "{error}");
    }
    assert_eq!(trap.contacts(), 0);
    assert_eq!(
        sessions_of(account, &stack).await,
        0,
        "an undecodable request reached the account"
    );
}

/// `chatops invoke` sends a response only where the Lambda would; with
/// `--no-send` it sends nothing, so any ResponseURL is fine.
#[tokio::test(flavor = "multi_thread")]
async fn chatops_invoke_sends_only_where_the_lambda_would() {
    let account = &cloud().members()[3];
    let trap = Trap::start();
    let stack = Stack::new(account, SLACK);
    let mut props = slack(account, &unique("untrusted-invoke"));
    props["LoggingLevel"] = json!("LOUD");
    let mut event = stack.create("Invoked", &props);
    event["ResponseURL"] = json!(format!("http://{}/r", trap.address));
    let path = std::env::temp_dir().join(format!("{}.json", unique("invoke-event")));
    std::fs::write(&path, event.to_string()).unwrap();
    let invoke = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chatops"))
            .args(["invoke", "--event", path.to_str().unwrap()])
            .args(extra)
            .envs(cloud().provider_env())
            .output()
            .expect("running chatops invoke")
    };
    let sent = invoke(&[]);
    let stderr = String::from_utf8_lossy(&sent.stderr);
    assert!(!sent.status.success(), "{stderr}");
    assert!(stderr.contains("not acted on"), "{stderr}");
    assert!(sent.stdout.is_empty(), "nothing was answered");
    let printed = invoke(&["--no-send"]);
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert!(printed.status.success(), "{stdout}");
    assert!(stdout.contains("LoggingLevel"), "{stdout}");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(trap.contacts(), 0);
}
