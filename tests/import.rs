//! `chatops import` round trip, in a local cloud of its own (import reads
//! everything an account has, so no other test's resources may be there):
//! configurations made in the console (through the APIs, without tags) in
//! three accounts; import writes one StackSet template and its overrides;
//! the plan of it shows only adoptions; a StackSet deploys it through the
//! local CloudFormation and the provider adopts them unchanged; the plan
//! then shows no change. A configuration another stack owns is listed as
//! theirs, left out, and a stack that tries to adopt it fails with a Reason
//! naming the owner.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use aws_sdk_cloudformation::types::{Parameter, StackSetOperationStatus};
use serde_json::{Value, json};

use crate::support::stacks::{Deployment, deploy_provider, events, parameters, settled};
use crate::support::*;

const WEBHOOK_URL: &str =
    "https://hooks.chime.aws/incomingwebhooks/import-e2e?token=never-shown-0123456789";

fn chatops(cloud: &LocalCloud, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatops"))
        .args(args)
        .envs(cloud.planner_env())
        .output()
        .expect("running chatops")
}

fn described(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn plan_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", described(output)))
}

/// Makes what a person makes in the consoles: Slack channel configurations
/// in every account (one with another logging level), a Chime webhook in
/// one, Support App aliases in two. No tags.
async fn console_made(cloud: &LocalCloud, accounts: &[String; 3]) {
    for (index, account) in accounts.iter().enumerate() {
        let seeded = cloud.account(account);
        cloud
            .chatbot(account)
            .await
            .create_slack_channel_configuration()
            .configuration_name(format!("alerts-{account}"))
            .slack_team_id(cloud.seed["slack_team_id"].as_str().unwrap())
            .slack_channel_id("C0ALERTS1")
            .iam_role_arn(seeded["chatbot_role_arn"].as_str().unwrap())
            .sns_topic_arns(seeded["topics"]["us-east-1"].as_str().unwrap())
            .logging_level(if index == 2 { "INFO" } else { "ERROR" })
            .send()
            .await
            .expect("CreateSlackChannelConfiguration in the console");
        if index != 1 {
            aws_sdk_supportapp::Client::new(&cloud.sdk_config_for(account).await)
                .put_account_alias()
                .account_alias(if index == 0 { "payments" } else { "search" })
                .send()
                .await
                .expect("PutAccountAlias in the console");
        }
    }
    let account = &accounts[1];
    let seeded = cloud.account(account);
    cloud
        .chatbot(account)
        .await
        .create_chime_webhook_configuration()
        .configuration_name("oncall")
        .webhook_description("on-call room")
        .webhook_url(WEBHOOK_URL)
        .iam_role_arn(seeded["chatbot_role_arn"].as_str().unwrap())
        .sns_topic_arns(seeded["topics"]["us-east-1"].as_str().unwrap())
        .logging_level("ERROR")
        .send()
        .await
        .expect("CreateChimeWebhookConfiguration in the console");
}

/// A stack of another team in `account` that owns Slack configuration `name`.
const THEIRS: &str = r#"
Parameters:
  ServiceToken: {Type: String}
  Name: {Type: String}
  RoleArn: {Type: String}
Resources:
  TeamChannel:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: !Ref Name
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: C0THEIRS1
      IamRoleArn: !Ref RoleArn
"#;

async fn create_stack(
    client: &aws_sdk_cloudformation::Client,
    name: &str,
    body: &str,
    values: &[(&str, &str)],
) -> (String, aws_sdk_cloudformation::types::Stack) {
    let stack_id = client
        .create_stack()
        .stack_name(name)
        .template_body(body)
        .set_parameters(Some(parameters(values)))
        .send()
        .await
        .expect("CreateStack")
        .stack_id()
        .expect("StackId")
        .to_owned();
    let stack = settled(client, &stack_id).await;
    (stack_id, stack)
}

async fn wait_for_operation(
    client: &aws_sdk_cloudformation::Client,
    stack_set: &str,
    operation: &str,
    deployment: &Deployment,
) {
    for _ in 0..720 {
        let status = client
            .describe_stack_set_operation()
            .stack_set_name(stack_set)
            .operation_id(operation)
            .send()
            .await
            .expect("DescribeStackSetOperation")
            .stack_set_operation()
            .and_then(|o| o.status())
            .cloned();
        match status {
            Some(StackSetOperationStatus::Succeeded) => return,
            Some(StackSetOperationStatus::Running | StackSetOperationStatus::Queued) | None => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            Some(other) => {
                let instances = client
                    .list_stack_instances()
                    .stack_set_name(stack_set)
                    .send()
                    .await
                    .map(|a| format!("{:?}", a.summaries()))
                    .unwrap_or_default();
                panic!(
                    "operation {operation} is {other:?}\n{instances}\n--- function log\n{}",
                    deployment.log_tail()
                );
            }
        }
    }
    panic!("operation {operation} did not finish in 3 minutes");
}

/// The overrides file as `chatops import` wrote it: account → key → value.
fn read_overrides(path: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("overrides"))
        .expect("overrides JSON");
    value
        .as_object()
        .expect("an object of accounts")
        .iter()
        .map(|(account, list)| {
            let values = list
                .as_array()
                .expect("the create-stack-instances form")
                .iter()
                .map(|p| {
                    (
                        p["ParameterKey"].as_str().unwrap().to_owned(),
                        p["ParameterValue"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (account.clone(), values)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn console_made_configurations_are_imported_adopted_through_a_stack_set_and_stay_unchanged() {
    let cloud = LocalCloud::start(None);
    let deployment = deploy_provider(&cloud).await;
    let members = cloud.members();
    let accounts = [members[0].clone(), members[1].clone(), members[2].clone()];
    console_made(&cloud, &accounts).await;

    // Another team's stack owns a configuration in the third account.
    let theirs_account = &accounts[2];
    let theirs_client =
        aws_sdk_cloudformation::Client::new(&cloud.sdk_config_for(theirs_account).await);
    let role = cloud.account(theirs_account)["chatbot_role_arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let (theirs_stack, stack) = create_stack(
        &theirs_client,
        "team-stack",
        THEIRS,
        &[
            ("ServiceToken", &deployment.topic_arn),
            ("Name", "team-channel"),
            ("RoleArn", &role),
        ],
    )
    .await;
    assert_eq!(
        stack.stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE"),
        "{}",
        events(&theirs_client, &theirs_stack).await
    );

    // Import.
    let dir = std::env::temp_dir().join(unique("chatops-import"));
    std::fs::create_dir_all(&dir).unwrap();
    let template_path = dir.join("import.yaml");
    let overrides_path = dir.join("import.overrides.json");
    let listed = accounts.join(",");
    let imported = chatops(
        &cloud,
        &[
            "import",
            "--accounts",
            &listed,
            "--output",
            template_path.to_str().unwrap(),
        ],
    );
    assert_eq!(imported.status.code(), Some(0), "{}", described(&imported));
    let said = String::from_utf8_lossy(&imported.stdout).into_owned();
    for expected in [
        format!("Account {}", accounts[0]),
        format!("\"alerts-{}\"", accounts[2]),
        "no owner; declared as ChatbotSlackChannelAlerts".to_owned(),
        "unknown owner (the Support App has no tags".to_owned(),
        format!(
            "\"team-channel\" [arn:aws:chatbot::{theirs_account}:chat-configuration/slack-channel/team-channel]: owned by TeamChannel of stack {theirs_stack} (left out)"
        ),
        "FILL IN ChatbotChimeWebhookOncallWebhookUrl for account(s) ".to_owned() + &accounts[1],
    ] {
        assert!(said.contains(&expected), "{expected:?} not in:\n{said}");
    }
    assert!(!said.contains(WEBHOOK_URL) && !said.contains("never-shown"));
    let template = std::fs::read_to_string(&template_path).expect("the template was written");
    assert!(!template.contains("never-shown"), "{template}");
    assert!(
        !template.contains("team-channel"),
        "another stack's is left out:\n{template}"
    );
    assert!(
        template.contains("Adopt: true") && template.contains("NoEcho: true"),
        "{template}"
    );
    // One template per account instead: each with its own values written out.
    let per_account_dir = dir.join("per-account");
    let per_account = chatops(
        &cloud,
        &[
            "import",
            "--accounts",
            &listed,
            "--per-account",
            "--output",
            per_account_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(
        per_account.status.code(),
        Some(0),
        "{}",
        described(&per_account)
    );
    let third = std::fs::read_to_string(per_account_dir.join(format!("{}.yaml", accounts[2])))
        .expect("a template per account");
    assert!(
        third.contains("LoggingLevel: INFO") && third.contains("AccountAlias: search"),
        "{third}"
    );
    assert!(
        !third.contains("Condition:") && !third.contains("oncall"),
        "{third}"
    );
    let second_parameters =
        std::fs::read_to_string(per_account_dir.join(format!("{}.parameters.json", accounts[1])))
            .expect("its parameters");
    assert!(
        second_parameters.contains("ChatbotChimeWebhookOncallWebhookUrl"),
        "{second_parameters}"
    );

    let mut overrides = read_overrides(&overrides_path);
    assert_eq!(
        overrides[&accounts[2]].get("ChatbotSlackChannelAlertsLoggingLevel"),
        Some(&"INFO".to_owned()),
        "{overrides:#?}"
    );
    // What the user does: fill in the secrets the service never returns.
    let chime = overrides.get_mut(&accounts[1]).unwrap();
    assert_eq!(chime["ChatbotChimeWebhookOncallWebhookUrl"], "");
    chime.insert(
        "ChatbotChimeWebhookOncallWebhookUrl".into(),
        WEBHOOK_URL.into(),
    );
    chime.insert(
        "ChatbotChimeWebhookOncallWebhookDescription".into(),
        "on-call room".into(),
    );
    let filled: serde_json::Map<String, Value> = overrides
        .iter()
        .map(|(account, values)| {
            let list: Vec<Value> = values
                .iter()
                .map(|(k, v)| json!({"ParameterKey": k, "ParameterValue": v}))
                .collect();
            (account.clone(), Value::Array(list))
        })
        .collect();
    std::fs::write(&overrides_path, Value::Object(filled).to_string()).unwrap();

    // The plan of the written template: adoptions only.
    let token = format!("ServiceToken={}", deployment.topic_arn);
    let planned = chatops(
        &cloud,
        &[
            "plan",
            template_path.to_str().unwrap(),
            "--accounts",
            &listed,
            "--parameter-overrides",
            overrides_path.to_str().unwrap(),
            "-p",
            &token,
            "--json",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(planned.status.code(), Some(2), "{}", described(&planned));
    let plan = plan_json(&planned);
    assert!(!planned.stdout.windows(11).any(|w| w == b"never-shown"));
    let summary = &plan["summary"];
    assert_eq!(summary["adopt"], 6, "3 Slack, 1 Chime, 2 aliases: {plan:#}");
    for kind in ["create", "update", "replace", "delete", "problems"] {
        assert_eq!(summary[kind], 0, "{kind}: {plan:#}");
    }

    // Deploy: a StackSet with an instance per account and its overrides.
    let management = cloud.seed["management_account"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = aws_sdk_cloudformation::Client::new(&cloud.sdk_config().await);
    let stack_set = unique("imported").replace('-', "x");
    client
        .create_stack_set()
        .stack_set_name(&stack_set)
        .template_body(&template)
        .parameters(
            Parameter::builder()
                .parameter_key("ServiceToken")
                .parameter_value(&deployment.topic_arn)
                .build(),
        )
        .send()
        .await
        .expect("CreateStackSet");
    for account in &accounts {
        let values: Vec<(&str, &str)> = overrides[account]
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let operation = client
            .create_stack_instances()
            .stack_set_name(&stack_set)
            .accounts(account)
            .regions("us-east-1")
            .set_parameter_overrides(Some(parameters(&values)))
            .send()
            .await
            .expect("CreateStackInstances")
            .operation_id()
            .expect("an operation id")
            .to_owned();
        wait_for_operation(&client, &stack_set, &operation, &deployment).await;
    }
    assert_ne!(management, accounts[0]);

    // Adopted unchanged, and now owned by the StackSet's stacks.
    for (index, account) in accounts.iter().enumerate() {
        let chatbot = cloud.chatbot(account).await;
        let configuration = chatbot
            .describe_slack_channel_configurations()
            .send()
            .await
            .unwrap()
            .slack_channel_configurations()
            .iter()
            .find(|c| c.configuration_name() == Some(&format!("alerts-{account}")))
            .cloned()
            .expect("still there");
        assert_eq!(
            configuration.logging_level(),
            Some(if index == 2 { "INFO" } else { "ERROR" }),
            "adopted with its own settings"
        );
        let tags = chatbot
            .list_tags_for_resource()
            .resource_arn(configuration.chat_configuration_arn())
            .send()
            .await
            .unwrap();
        let stack_tag = tags
            .tags()
            .iter()
            .find(|t| t.tag_key() == "chatops:stack-id")
            .map(|t| t.tag_value().to_owned())
            .unwrap_or_default();
        assert!(
            stack_tag.contains(&format!(":{account}:stack/StackSet-{stack_set}-")),
            "owned by its instance's stack now: {stack_tag:?}"
        );
    }

    // The plan of the StackSet as deployed: no change.
    let replanned = chatops(
        &cloud,
        &[
            "plan",
            "--stack-set",
            &stack_set,
            "--json",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(
        replanned.status.code(),
        Some(0),
        "{}",
        described(&replanned)
    );
    assert_eq!(plan_json(&replanned)["summary"]["no_change"], 6);

    // Another stack's configuration is never taken over.
    let adopter = r#"
Parameters:
  ServiceToken: {Type: String}
  RoleArn: {Type: String}
Resources:
  Grab:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      Adopt: true
      ConfigurationName: team-channel
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: C0THEIRS1
      IamRoleArn: !Ref RoleArn
"#;
    let (grab_stack, stack) = create_stack(
        &theirs_client,
        "grabber",
        adopter,
        &[("ServiceToken", &deployment.topic_arn), ("RoleArn", &role)],
    )
    .await;
    let history = events(&theirs_client, &grab_stack).await;
    assert_ne!(
        stack.stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE"),
        "{history}"
    );
    assert!(
        history.contains("owned by resource TeamChannel of stack")
            && history.contains(&theirs_stack)
            && history.contains("never takes over"),
        "the Reason names the owner:\n{history}"
    );
    let chatbot = cloud.chatbot(theirs_account).await;
    let arn =
        format!("arn:aws:chatbot::{theirs_account}:chat-configuration/slack-channel/team-channel");
    let tags = chatbot
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.tag_key() == "chatops:stack-id" && t.tag_value() == theirs_stack),
        "still theirs: {:?}",
        tags.tags()
    );
}

/// A typo in a per-account overrides file is named, not silently ignored.
#[test]
fn parameter_overrides_name_a_parameter_the_template_lacks() {
    let dir = std::env::temp_dir().join(unique("chatops-overrides"));
    std::fs::create_dir_all(&dir).unwrap();
    let template = dir.join("t.yaml");
    std::fs::write(
        &template,
        "Parameters:\n  ServiceToken: {Type: String}\nResources:\n  H: {Type: AWS::CloudFormation::WaitConditionHandle}\n",
    )
    .unwrap();
    let overrides = dir.join("o.json");
    std::fs::write(
        &overrides,
        r#"{"100000000001": [{"ParameterKey": "LogingLevel", "ParameterValue": "INFO"}]}"#,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_chatops"))
        .args([
            "plan",
            template.to_str().unwrap(),
            "--accounts",
            "100000000001",
        ])
        .args(["--parameter-overrides", overrides.to_str().unwrap()])
        .args(["-p", "ServiceToken=arn:aws:sns:us-east-1:123456789012:t"])
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("account 100000000001 gives a value for LogingLevel"),
        "{said}"
    );
}

/// Adoption through the Lambda's requests: an admin stack acting in another
/// account may not adopt there; a stack in the account adopts the
/// configuration itself (same ARN, now tagged as its own); removing Adopt
/// afterwards changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn only_a_stack_in_the_account_adopts_and_dropping_adopt_changes_nothing() {
    const TYPE: &str = "Custom::ChatbotSlackChannel";
    let target = cloud().members()[3].clone();
    let management = cloud().seed["management_account"]
        .as_str()
        .unwrap()
        .to_owned();
    let name = unique("console");
    let channel = unique_channel();
    let role = cloud().account(&target)["chatbot_role_arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let arn = cloud()
        .chatbot(&target)
        .await
        .create_slack_channel_configuration()
        .configuration_name(&name)
        .slack_team_id(cloud().seed["slack_team_id"].as_str().unwrap())
        .slack_channel_id(&channel)
        .iam_role_arn(&role)
        .logging_level("INFO")
        .send()
        .await
        .expect("CreateSlackChannelConfiguration in the console")
        .channel_configuration()
        .unwrap()
        .chat_configuration_arn()
        .to_owned();
    let mut props = json!({
        "ConfigurationName": name,
        "SlackWorkspaceId": cloud().seed["slack_team_id"],
        "SlackChannelId": channel,
        "IamRoleArn": role,
        "LoggingLevel": "ERROR",
        "AccountId": target,
        "Adopt": "true",
    });

    let mut admin = provider_lambda(&[("CHATOPS_ADMIN_ACCOUNTS", &management)]);
    let admin_stack = Stack::new(&management, TYPE);
    let reason = assert_failed(&send(&mut admin, admin_stack.create("Grab", &props), direct).await);
    assert!(
        reason.contains(&format!("only a stack in account {target} may adopt"))
            && reason.contains("Adopt"),
        "{reason}"
    );
    let untouched = slack_configuration(&target, &arn)
        .await
        .expect("still there");
    assert_eq!(untouched.logging_level(), Some("INFO"));

    let mut lambda = provider_lambda(&[]);
    let stack = Stack::new(&target, TYPE);
    let adopted = assert_success(&send(&mut lambda, stack.create("Alerts", &props), direct).await);
    assert_eq!(adopted, arn, "the configuration itself, not a new one");
    let live = slack_configuration(&target, &arn).await.expect("adopted");
    assert_eq!(
        live.logging_level(),
        Some("ERROR"),
        "the template's settings"
    );
    let tags = cloud()
        .chatbot(&target)
        .await
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.tag_key() == "chatops:stack-id" && t.tag_value() == stack.stack_id),
        "{:?}",
        tags.tags()
    );

    let old = props.clone();
    props.as_object_mut().unwrap().remove("Adopt");
    let same = assert_success(
        &send(
            &mut lambda,
            stack.update("Alerts", &arn, &props, &old),
            direct,
        )
        .await,
    );
    assert_eq!(same, arn);
    assert_success(&send(&mut lambda, stack.delete("Alerts", &arn, &props), direct).await);
    assert!(slack_configuration(&target, &arn).await.is_none());
}
