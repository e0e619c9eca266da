//! Custom::ChatbotChimeWebhook through the real binary, what only this type
//! does: the channel-role guardrail, the WebhookUrl secret, which must not
//! reach anything the provider writes or answers, and its defaults. The
//! lifecycle every type shares is in lifecycle.rs.

use std::process::Command;
use std::sync::{Arc, Mutex};

use aws_sdk_chatbot::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_chatbot::config::{ConfigBag, Intercept, RuntimeComponents};
use serde_json::{Value, json};

use crate::support::*;

const TYPE: &str = "Custom::ChatbotChimeWebhook";

/// A webhook URL of the form Chime gives, with `token` as its secret part.
fn webhook_url(token: &str) -> String {
    format!(
        "https://hooks.chime.aws/incomingwebhooks/{}?token={token}",
        unique("hook")
    )
}

fn properties(account: &str, name: &str, url: &str) -> Value {
    let seeded = cloud().account(account);
    json!({
        "ConfigurationName": name,
        "WebhookDescription": "on-call room",
        "WebhookUrl": url,
        "IamRoleArn": seeded["chatbot_role_arn"],
        "SnsTopicArns": [seeded["topics"]["us-east-1"]],
        "LoggingLevel": "ERROR",
        "Tags": [{"Key": "team", "Value": "platform"}],
    })
}

/// Every raw answer the local cloud gives a client built with it.
#[derive(Debug, Clone, Default)]
struct Answers(Arc<Mutex<Vec<String>>>);

impl Intercept for Answers {
    fn name(&self) -> &'static str {
        "Answers"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_chatbot::error::BoxError> {
        let body = context.response().body().bytes().unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(body).into_owned());
        Ok(())
    }
}

async fn chatbot_recording(account: &str, answers: &Answers) -> aws_sdk_chatbot::Client {
    let config = cloud().sdk_config_for(account).await;
    aws_sdk_chatbot::Client::from_conf(
        aws_sdk_chatbot::config::Builder::from(&config)
            .region(aws_config::Region::new("us-east-2"))
            .interceptor(answers.clone())
            .build(),
    )
}

async fn chatbot(account: &str) -> aws_sdk_chatbot::Client {
    cloud().chatbot(account).await
}

async fn describe(
    client: &aws_sdk_chatbot::Client,
    arn: &str,
) -> Option<aws_sdk_chatbot::types::ChimeWebhookConfiguration> {
    match client
        .describe_chime_webhook_configurations()
        .chat_configuration_arn(arn)
        .send()
        .await
    {
        Ok(output) => output.webhook_configurations().first().cloned(),
        Err(e) if format!("{e:?}").contains("ResourceNotFound") => None,
        Err(e) => panic!("describe failed: {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_role_needs_allow_elevated_permissions() {
    let account = &cloud().members()[4];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let mut props = properties(account, &unique("chime-admin"), &webhook_url("t0ken-c"));
    props["IamRoleArn"] = cloud().account(account)["admin_role_arn"].clone();

    let failed = send(&mut lambda, stack.create("Hook", &props), direct).await;
    let reason = assert_failed(&failed);
    assert!(
        reason.starts_with("invalid property IamRoleArn:")
            && reason.contains("AdministratorAccess")
            && reason.contains("takes no guardrail policies")
            && reason.contains("AllowElevatedPermissions: true"),
        "{reason}"
    );
    let chatbot = chatbot(account).await;
    let all = chatbot
        .describe_chime_webhook_configurations()
        .send()
        .await
        .unwrap();
    assert!(
        !all.webhook_configurations()
            .iter()
            .any(|c| c.configuration_name() == props["ConfigurationName"].as_str()),
        "nothing was made"
    );

    // The template's opt-in alone is not enough: the role's owner must tag the role.
    props["AllowElevatedPermissions"] = json!("true");
    let reason = assert_failed(&send(&mut lambda, stack.create("Hook", &props), direct).await);
    assert!(reason.contains("chatops:allow-elevated=true"), "{reason}");
    let admin = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}
    ]});
    props["IamRoleArn"] = json!(channel_role(account, &admin, true).await);
    let arn = assert_success(&send(&mut lambda, stack.create("Hook", &props), direct).await);
    assert_success(&send(&mut lambda, stack.delete("Hook", &arn, &props), direct).await);
}

/// The WebhookUrl through a whole life: create, an update of the URL, an
/// update the service refuses, a refused role, a URL of the wrong form, a
/// plan, delete. Its token must appear in nothing captured: the function's
/// log, any response, any answer of the local cloud, the plan, the schema.
#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_url_never_leaks() {
    // An account where no other test updates a Chime webhook: the fault
    // injected below would be spent by their calls.
    let account = &cloud().members()[3];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[("RUST_LOG", "trace")]);
    let answers = Answers::default();
    let client = chatbot_recording(account, &answers).await;
    let first_token = unique("CANARYone");
    let second_token = unique("CANARYtwo");
    let tokens = [first_token.as_str(), second_token.as_str()];
    let mut captured: Vec<(String, String)> = Vec::new();
    let mut keep = |what: &str, text: String| captured.push((what.to_owned(), text));

    let name = unique("chime-secret");
    let props = properties(account, &name, &webhook_url(&first_token));
    let created = send(&mut lambda, stack.create("Hook", &props), direct).await;
    let arn = assert_success(&created);
    keep("create response", created.to_string());
    keep("describe", format!("{:?}", describe(&client, &arn).await));

    // Only the URL changes: the provider must see it in old and new
    // properties and call the service; a refusal injected for every retry of
    // that call proves it is made.
    let mut rotated = props.clone();
    rotated["WebhookUrl"] = json!(webhook_url(&second_token));
    cloud()
        .inject(json!({
            "service": "chatbot", "operation": "UpdateChimeWebhookConfiguration",
            "account": account, "kind": "error", "status": 500,
            "code": "InternalServerException", "count": 5
        }))
        .await;
    let refused = send(
        &mut lambda,
        stack.update("Hook", &arn, &rotated, &props),
        direct,
    )
    .await;
    let reason = assert_failed(&refused);
    assert!(
        reason.contains("UpdateChimeWebhookConfiguration"),
        "{reason}"
    );
    assert_eq!(refused["PhysicalResourceId"], arn.as_str());
    keep("refused update response", refused.to_string());

    let updated = send(
        &mut lambda,
        stack.update("Hook", &arn, &rotated, &props),
        sns_wrapped,
    )
    .await;
    assert_eq!(assert_success(&updated), arn);
    keep("update response", updated.to_string());
    let unchanged = send(
        &mut lambda,
        stack.update("Hook", &arn, &rotated, &rotated),
        direct,
    )
    .await;
    assert_eq!(assert_success(&unchanged), arn);
    keep("no-change response", unchanged.to_string());

    let mut bad_role = rotated.clone();
    bad_role["IamRoleArn"] = json!(format!("arn:aws:iam::{account}:role/chatops-no-such-role"));
    let failed = send(
        &mut lambda,
        stack.update("Hook", &arn, &bad_role, &rotated),
        direct,
    )
    .await;
    let reason = assert_failed(&failed);
    assert!(reason.contains("chatops-no-such-role"), "{reason}");
    keep("bad role response", failed.to_string());

    let mut bad_url = rotated.clone();
    bad_url["WebhookUrl"] = json!(format!(
        "https://hooks.example.com/hook?token={second_token}"
    ));
    let failed = send(&mut lambda, stack.create("Other", &bad_url), direct).await;
    let reason = assert_failed(&failed);
    assert!(
        reason.starts_with("invalid property WebhookUrl:") && reason.contains("(sensitive)"),
        "{reason}"
    );
    keep("bad url response", failed.to_string());

    let live = describe(&client, &arn).await.expect("the webhook");
    assert_eq!(
        live.iam_role_arn(),
        cloud().account(account)["chatbot_role_arn"],
        "the refused update changed nothing"
    );
    keep("describe after updates", format!("{live:?}"));
    let listed = client
        .describe_chime_webhook_configurations()
        .send()
        .await
        .unwrap();
    keep("list", format!("{listed:?}"));

    let (plan_text, plan_json) = plan_with_secret(account, &stack, &name, &rotated);
    assert!(
        plan_text.contains(&name),
        "the plan shows the webhook:\n{plan_text}"
    );
    // WebhookDescription is sensitive in the chatbot API model: never shown.
    for description in ["a new description", "on-call room"] {
        assert!(
            !plan_text.contains(description) && !plan_json.contains(description),
            "the plan shows the description:\n{plan_text}"
        );
    }

    keep("plan", plan_text);
    keep("plan --json", plan_json);
    keep("schema", chatops(&["schema", TYPE]));

    let deleted = send(&mut lambda, stack.delete("Hook", &arn, &rotated), direct).await;
    assert_success(&deleted);
    keep("delete response", deleted.to_string());
    assert!(describe(&client, &arn).await.is_none());

    keep("function log", lambda.logs());
    for (i, answer) in answers.0.lock().unwrap().iter().enumerate() {
        captured.push((format!("local cloud answer {i}"), answer.clone()));
    }
    // The most verbose log there is: a dependency that logs whole events at
    // TRACE must be held back.
    assert!(
        captured
            .iter()
            .any(|(what, text)| what == "function log" && text.contains("\"TRACE\"")),
        "the log was captured at trace level"
    );
    assert!(
        captured
            .iter()
            .any(|(what, text)| what.starts_with("local cloud answer") && text.contains(&name)),
        "the local cloud's answers were captured"
    );
    assert!(captured.len() > 12, "only {} captures", captured.len());
    for (what, text) in &captured {
        for token in tokens {
            let lines: Vec<&str> = text.lines().filter(|l| l.contains(token)).collect();
            assert!(
                lines.is_empty(),
                "the webhook token leaked into the {what}:\n{}",
                lines.join("\n")
            );
        }
    }
    let schema = chatops(&["schema", TYPE]);
    for (at, _) in schema.match_indices("incomingwebhooks/") {
        let next = schema[at + "incomingwebhooks/".len()..].chars().next();
        assert!(
            !next.is_some_and(|c| c.is_ascii_alphanumeric()),
            "the schema shows an example webhook URL:\n{schema}"
        );
    }
}

/// `chatops plan` (text, then JSON) of a template holding the webhook with
/// `properties`, against what `stack` deployed.
fn plan_with_secret(
    account: &str,
    stack: &Stack,
    name: &str,
    properties: &Value,
) -> (String, String) {
    let stack_name = stack.stack_id.split('/').nth(1).unwrap().to_owned();
    let template = json!({
        "Parameters": {
            "ServiceToken": {"Type": "String"},
            "WebhookUrl": {"Type": "String", "NoEcho": true},
        },
        "Resources": {
            "Hook": {
                "Type": TYPE,
                "Properties": {
                    "ServiceToken": {"Ref": "ServiceToken"},
                    "ConfigurationName": name,
                    "WebhookDescription": "a new description",
                    "WebhookUrl": {"Ref": "WebhookUrl"},
                    "IamRoleArn": properties["IamRoleArn"],
                    "SnsTopicArns": properties["SnsTopicArns"],
                    "LoggingLevel": "INFO",
                    "Tags": properties["Tags"],
                }
            }
        }
    });
    let path = std::env::temp_dir().join(format!("{}.json", unique("chime-plan")));
    std::fs::write(&path, template.to_string()).unwrap();
    let url = format!("WebhookUrl={}", properties["WebhookUrl"].as_str().unwrap());
    let base = [
        "plan",
        path.to_str().unwrap(),
        "--accounts",
        account,
        "--stack-name",
        &stack_name,
        "-p",
        "ServiceToken=arn:aws:sns:us-east-1:123456789012:chatops-provider",
        "-p",
        &url,
        "--no-color",
    ];
    let text = chatops(&base);
    let mut with_json = base.to_vec();
    with_json.push("--json");
    let json = chatops(&with_json);
    let _ = std::fs::remove_file(&path);
    (text, json)
}

/// Runs the `chatops` command line against the shared cloud; stdout and stderr.
fn chatops(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_chatops"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "debug")
        .envs(cloud().planner_env())
        .output()
        .expect("running chatops");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.code().is_some_and(|c| c == 0 || c == 2),
        "chatops {args:?} failed: {text}"
    );
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_optional_properties_restores_the_defaults_and_topics_are_required() {
    let account = &cloud().members()[4];
    let stack = Stack::new(account, TYPE);
    let mut lambda = provider_lambda(&[]);
    let client = chatbot(account).await;
    let props = properties(account, &unique("chime-defaults"), &webhook_url("t0ken-d"));

    // CreateChimeWebhookConfiguration requires SnsTopicArns: so does the type.
    let mut no_topics = props.clone();
    no_topics.as_object_mut().unwrap().remove("SnsTopicArns");
    let reason = assert_failed(&send(&mut lambda, stack.create("Hook", &no_topics), direct).await);
    assert!(reason.contains("SnsTopicArns: is required"), "{reason}");

    let arn = assert_success(&send(&mut lambda, stack.create("Hook", &props), direct).await);
    let mut minimal = props.clone();
    for name in ["LoggingLevel", "Tags"] {
        minimal.as_object_mut().unwrap().remove(name);
    }
    assert_success(
        &send(
            &mut lambda,
            stack.update("Hook", &arn, &minimal, &props),
            direct,
        )
        .await,
    );
    let live = describe(&client, &arn).await.expect("updated webhook");
    assert_eq!(live.logging_level(), Some("NONE"));
    let tags = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .all(|t| t.tag_key().starts_with("chatops:"))
    );
    assert_success(&send(&mut lambda, stack.delete("Hook", &arn, &minimal), direct).await);
}
