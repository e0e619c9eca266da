//! Every example template deployed as a user deploys it: a stack made
//! through the local cloud's CloudFormation API, whose custom resources go
//! through SNS to the real binary running as the provider's Lambda function,
//! which verifies each request with that CloudFormation before it acts.
//! Each lifecycle is create, an update, delete; after each, `chatops plan`
//! against the live accounts must agree with the stack (no change while it
//! stands, everything to create once it is gone). And one StackSet.

use std::process::{Command, Output};

use aws_sdk_cloudformation::types::{DeploymentTargets, StackSetOperationStatus};

use crate::support::stacks::*;
use crate::support::*;

/// One example template's lifecycle.
struct Lifecycle {
    /// The file under examples/.
    example: &'static str,
    /// Where its stack is deployed.
    account: String,
    /// Parameters besides ServiceToken.
    parameters: Vec<(&'static str, String)>,
    /// The parameter changed by the update, and its new value.
    update: (&'static str, String),
}

fn example_path(example: &str) -> String {
    crate::support::localcloud::repo_root()
        .join("examples")
        .join(example)
        .display()
        .to_string()
}

fn plan(
    example: &str,
    account: &str,
    stack_name: &str,
    parameters: &[(&'static str, String)],
) -> Output {
    let mut args = vec![
        "plan".to_owned(),
        example_path(example),
        "--accounts".to_owned(),
        account.to_owned(),
        "--stack-name".to_owned(),
        stack_name.to_owned(),
        "--detailed-exitcode".to_owned(),
        "--no-color".to_owned(),
    ];
    for (key, value) in parameters {
        args.push("-p".to_owned());
        args.push(format!("{key}={value}"));
    }
    Command::new(env!("CARGO_BIN_EXE_chatops"))
        .args(&args)
        .envs(cloud().planner_env())
        .output()
        .expect("running chatops plan")
}

fn assert_plan_exit(output: &Output, expected: i32, when: &str) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "plan {when}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Lifecycle {
    async fn run(self) {
        let deployment = deployment().await;
        let client = cloudformation(&self.account).await;
        let template = std::fs::read_to_string(example_path(self.example)).expect("the example");
        let stack_name = unique("example");
        let mut values = vec![("ServiceToken", deployment.topic_arn.clone())];
        values.extend(self.parameters.iter().cloned());
        let as_pairs = |values: &[(&'static str, String)]| {
            parameters(
                &values
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect::<Vec<_>>(),
            )
        };

        let stack_id = client
            .create_stack()
            .stack_name(&stack_name)
            .template_body(&template)
            .set_parameters(Some(as_pairs(&values)))
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
            .send()
            .await
            .expect("CreateStack")
            .stack_id()
            .expect("StackId")
            .to_owned();
        assert_settled_in(&client, &stack_id, "CREATE_COMPLETE").await;
        let planned = plan(self.example, &self.account, &stack_name, &values);
        assert_plan_exit(&planned, 0, &format!("of {} once created", self.example));

        let (key, value) = self.update.clone();
        values.retain(|(k, _)| *k != key);
        values.push((key, value));
        client
            .update_stack()
            .stack_name(&stack_id)
            .use_previous_template(true)
            .set_parameters(Some(as_pairs(&values)))
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
            .send()
            .await
            .expect("UpdateStack");
        assert_settled_in(&client, &stack_id, "UPDATE_COMPLETE").await;
        let planned = plan(self.example, &self.account, &stack_name, &values);
        assert_plan_exit(&planned, 0, &format!("of {} once updated", self.example));

        client
            .delete_stack()
            .stack_name(&stack_id)
            .send()
            .await
            .expect("DeleteStack");
        assert_settled_in(&client, &stack_id, "DELETE_COMPLETE").await;
        let planned = plan(self.example, &self.account, &stack_name, &values);
        assert_plan_exit(&planned, 2, &format!("of {} once deleted", self.example));
        let shown = String::from_utf8_lossy(&planned.stdout);
        assert!(
            shown.contains("will be created")
                && shown.contains(" 0 to update in place, 0 to replace, 0 to delete"),
            "everything is to create again, nothing is left behind:\n{shown}"
        );
    }
}

fn member(index: usize) -> String {
    cloud().members()[index].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_channel_example() {
    Lifecycle {
        example: "chatops-stack.yaml",
        account: member(4),
        parameters: vec![
            ("SlackChannelId", unique_channel()),
            ("ChannelRoleName", "chatops-chatbot-channel".into()),
        ],
        update: ("Environment", "prod".into()),
    }
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chime_webhook_example() {
    Lifecycle {
        example: "chatbot-chime-webhook.yaml",
        // Not member 4: tests/chatbot_chime_webhook.rs injects faults into its Chime calls.
        account: member(2),
        parameters: vec![
            (
                "WebhookUrl",
                "https://hooks.chime.aws/incomingwebhooks/stack-first?token=c3RhY2stZmlyc3Q".into(),
            ),
            ("ChannelRoleName", "chatops-chatbot-channel".into()),
        ],
        update: (
            "WebhookUrl",
            "https://hooks.chime.aws/incomingwebhooks/stack-second?token=c3RhY2stc2Vjb25k".into(),
        ),
    }
    .run()
    .await;
    let log = deployment().await.log_tail();
    assert!(
        !log.contains("c3RhY2stZmlyc3Q") && !log.contains("c3RhY2stc2Vjb25k"),
        "a webhook token reached the function's log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn teams_channel_example() {
    Lifecycle {
        example: "chatbot-teams-channel.yaml",
        account: member(5),
        parameters: vec![],
        update: (
            "ChannelId",
            "19%3aupdatedchannel0000000000000000%40thread.tacv2".into(),
        ),
    }
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn support_app_examples() {
    // One account: the channel needs the workspace, and the quotas are per account.
    let account = member(5);
    Lifecycle {
        example: "supportapp-account-alias.yaml",
        account: account.clone(),
        parameters: vec![],
        update: ("AliasPrefix", "org-".into()),
    }
    .run()
    .await;
    Lifecycle {
        example: "supportapp-slack-workspace.yaml",
        account: account.clone(),
        parameters: vec![],
        update: ("VersionId", "2".into()),
    }
    .run()
    .await;
    Lifecycle {
        example: "supportapp-slack-channel.yaml",
        account,
        parameters: vec![("ChannelId", unique_channel())],
        update: ("NotifyOnCaseSeverity", "all".into()),
    }
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_replacement_rolls_back_to_the_configuration_it_had() {
    let deployment = deployment().await;
    let account = member(3);
    let client = cloudformation(&account).await;
    let template = std::fs::read_to_string(example_path("chatops-stack.yaml")).unwrap();
    let channel = unique_channel();
    let prefix = unique("kept");
    let mut values = vec![
        ("ServiceToken", deployment.topic_arn.as_str()),
        ("SlackChannelId", channel.as_str()),
        ("ChannelRoleName", "chatops-chatbot-channel"),
        ("ConfigurationPrefix", prefix.as_str()),
    ];
    let stack_id = client
        .create_stack()
        .stack_name(unique("rollback"))
        .template_body(&template)
        .set_parameters(Some(parameters(&values)))
        .send()
        .await
        .expect("CreateStack")
        .stack_id()
        .unwrap()
        .to_owned();
    assert_settled_in(&client, &stack_id, "CREATE_COMPLETE").await;

    // A new name on the same Slack channel: the provider refuses the
    // replacement, and CloudFormation rolls the update back with old and new
    // swapped, under the id it had.
    let renamed = unique("renamed");
    values.retain(|(k, _)| *k != "ConfigurationPrefix");
    values.push(("ConfigurationPrefix", renamed.as_str()));
    client
        .update_stack()
        .stack_name(&stack_id)
        .use_previous_template(true)
        .set_parameters(Some(parameters(&values)))
        .send()
        .await
        .expect("UpdateStack");
    assert_settled_in(&client, &stack_id, "UPDATE_ROLLBACK_COMPLETE").await;
    let reasons = events(&client, &stack_id).await;
    assert!(reasons.contains("change SlackChannelId too"), "{reasons}");
    let chatbot = cloud().chatbot(&account).await;
    let names: Vec<String> = chatbot
        .describe_slack_channel_configurations()
        .send()
        .await
        .unwrap()
        .slack_channel_configurations()
        .iter()
        .filter(|c| c.slack_channel_id() == channel)
        .map(|c| c.configuration_name().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, [format!("{prefix}-{account}")]);

    client
        .delete_stack()
        .stack_name(&stack_id)
        .send()
        .await
        .unwrap();
    assert_settled_in(&client, &stack_id, "DELETE_COMPLETE").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_channel_stack_set_in_two_accounts() {
    let deployment = deployment().await;
    let client = cloudformation(cloud().seed["management_account"].as_str().unwrap()).await;
    let template = std::fs::read_to_string(example_path("chatops-stack.yaml")).unwrap();
    let name = unique("chatops-set");
    let accounts = [member(0), member(1)];
    let channel = unique_channel();
    let values = [
        ("ServiceToken", deployment.topic_arn.as_str()),
        ("SlackChannelId", channel.as_str()),
        ("ChannelRoleName", "chatops-chatbot-channel"),
    ];
    client
        .create_stack_set()
        .stack_set_name(&name)
        .template_body(&template)
        .set_parameters(Some(parameters(&values)))
        .permission_model(aws_sdk_cloudformation::types::PermissionModels::ServiceManaged)
        .auto_deployment(
            aws_sdk_cloudformation::types::AutoDeployment::builder()
                .enabled(false)
                .build(),
        )
        .send()
        .await
        .expect("CreateStackSet");
    let root = aws_sdk_organizations::Client::new(&cloud().sdk_config().await)
        .list_roots()
        .send()
        .await
        .expect("ListRoots")
        .roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let targets = DeploymentTargets::builder()
        .organizational_unit_ids(root)
        .set_accounts(Some(accounts.to_vec()))
        .account_filter_type(aws_sdk_cloudformation::types::AccountFilterType::Intersection)
        .build();
    let operation = client
        .create_stack_instances()
        .stack_set_name(&name)
        .regions("us-east-1")
        .deployment_targets(targets.clone())
        .send()
        .await
        .expect("CreateStackInstances")
        .operation_id()
        .unwrap()
        .to_owned();
    assert_operation_succeeded(&client, &name, &operation).await;

    let plan = Command::new(env!("CARGO_BIN_EXE_chatops"))
        .args([
            "plan",
            "--stack-set",
            &name,
            "--detailed-exitcode",
            "--no-color",
        ])
        .envs(cloud().planner_env())
        .output()
        .unwrap();
    assert_plan_exit(&plan, 0, "of the StackSet once deployed");

    let operation = client
        .delete_stack_instances()
        .stack_set_name(&name)
        .regions("us-east-1")
        .deployment_targets(targets)
        .retain_stacks(false)
        .send()
        .await
        .expect("DeleteStackInstances")
        .operation_id()
        .unwrap()
        .to_owned();
    assert_operation_succeeded(&client, &name, &operation).await;
    for account in &accounts {
        let names = slack_configuration_names(account).await;
        assert!(
            !names.contains(&format!("alerts-{account}")),
            "{account} still has {names:?}"
        );
    }
    client
        .delete_stack_set()
        .stack_set_name(&name)
        .send()
        .await
        .expect("DeleteStackSet");
}

async fn assert_operation_succeeded(
    client: &aws_sdk_cloudformation::Client,
    stack_set: &str,
    operation: &str,
) {
    for _ in 0..720 {
        let answer = client
            .describe_stack_set_operation()
            .stack_set_name(stack_set)
            .operation_id(operation)
            .send()
            .await
            .expect("DescribeStackSetOperation");
        let status = answer
            .stack_set_operation()
            .and_then(|o| o.status())
            .cloned();
        match status {
            Some(StackSetOperationStatus::Succeeded) => return,
            Some(StackSetOperationStatus::Running)
            | Some(StackSetOperationStatus::Queued)
            | None => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
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
                    deployment().await.log_tail()
                );
            }
        }
    }
    panic!("operation {operation} did not finish in 3 minutes");
}

/// A stack deleted with its configuration retained, then made again under
/// the same name, does not own what the old one left: the plan says the
/// create will fail (naming the old stack), and the deploy fails the same
/// way, as both read ownership by StackId.
#[tokio::test(flavor = "multi_thread")]
async fn a_stack_made_again_under_its_name_does_not_own_what_the_old_one_retained() {
    let deployment = deployment().await;
    let account = member(4);
    let client = cloudformation(&account).await;
    let stack_name = unique("recreated");
    let configuration = unique("retained");
    let template = format!(
        r#"Parameters:
  ServiceToken:
    Type: String
Resources:
  Alerts:
    Type: Custom::ChatbotSlackChannel
    DeletionPolicy: Retain
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: {configuration}
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: {channel}
      IamRoleArn: !Sub "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/chatops-chatbot-channel"
"#,
        channel = unique_channel()
    );
    let path = std::env::temp_dir().join(format!("{stack_name}.yaml"));
    std::fs::write(&path, &template).expect("writing the template");
    let values = [("ServiceToken", deployment.topic_arn.as_str())];
    let create = || {
        client
            .create_stack()
            .stack_name(&stack_name)
            .template_body(&template)
            .set_parameters(Some(parameters(&values)))
            .send()
    };

    let first = create()
        .await
        .expect("CreateStack")
        .stack_id()
        .expect("StackId")
        .to_owned();
    assert_settled_in(&client, &first, "CREATE_COMPLETE").await;
    client
        .delete_stack()
        .stack_name(&first)
        .send()
        .await
        .expect("DeleteStack");
    assert_settled_in(&client, &first, "DELETE_COMPLETE").await;
    assert!(
        slack_configuration_names(&account)
            .await
            .contains(&configuration),
        "DeletionPolicy Retain keeps the configuration"
    );

    let planned = Command::new(env!("CARGO_BIN_EXE_chatops"))
        .args(["plan", &path.display().to_string(), "--accounts", &account])
        .args([
            "--stack-name",
            &stack_name,
            "--detailed-exitcode",
            "--no-color",
        ])
        .args(["-p", &format!("ServiceToken={}", deployment.topic_arn)])
        .envs(cloud().planner_env())
        .output()
        .expect("running chatops plan");
    let shown = String::from_utf8_lossy(&planned.stdout);
    assert_plan_exit(&planned, 1, "of a stack made again");
    assert!(
        shown.contains("the create will fail") && shown.contains(&first),
        "the plan names the old stack as the owner:\n{shown}"
    );

    let second = create()
        .await
        .expect("CreateStack")
        .stack_id()
        .expect("StackId")
        .to_owned();
    assert_ne!(first, second, "a stack made again has another StackId");
    assert_settled_in(&client, &second, "ROLLBACK_COMPLETE").await;
    let reasons = events(&client, &second).await;
    assert!(
        reasons.contains(&configuration) || reasons.contains("already exists"),
        "the deploy fails on the retained configuration:\n{reasons}"
    );
    client
        .delete_stack()
        .stack_name(&second)
        .send()
        .await
        .expect("DeleteStack");
    let _ = std::fs::remove_file(&path);
}
