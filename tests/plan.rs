//! `chatops plan`, `diff` and `validate` through the real binary: a stack
//! deployed through the Lambda function plans as no change; a change made
//! behind the template's back shows as drift; a new template version shows
//! the update; the exit codes say which.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::*;

const TYPE: &str = "Custom::ChatbotSlackChannel";

/// A stack of one Slack channel whose name holds the stack name, so runs
/// and tests never collide in the shared cloud.
const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ServiceToken:
    Type: String
    Default: arn:aws:sns:us-east-1:123456789012:chatops-provider
  LoggingLevel:
    Type: String
    AllowedValues: [ERROR, INFO, NONE]
    Default: ERROR
Resources:
  AlertsChannel:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: !Sub "${AWS::StackName}-${AWS::AccountId}"
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: C0ALERTS1
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
      SnsTopicArns:
        - !Sub "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:chatops-alerts"
      LoggingLevel: !Ref LoggingLevel
      UserRoleRequired: false
      Tags:
        - Key: team
          Value: platform
"#;

fn write_template(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique("chatops-plan"));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing a template");
    path
}

/// Runs the binary with the local cloud's environment.
fn chatops(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatops"))
        .args(args)
        .envs(cloud().planner_env())
        .env_remove("NO_COLOR")
        .output()
        .expect("running chatops")
}

fn chatops_offline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatops"))
        .args(args)
        .output()
        .expect("running chatops")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn described(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn plan_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", described(output)))
}

/// The resolved properties of AlertsChannel as CloudFormation sends them
/// (scalars as strings), through the same resolver the plan uses.
fn cloudformation_properties(
    template: &Path,
    account: &str,
    stack_name: &str,
    level: &str,
) -> Value {
    use chatops::template::{Pseudo, ResolveOptions, Template};
    let template = Template::load(template).expect("the template loads");
    let overrides = [("LoggingLevel".to_owned(), level.to_owned())].into();
    let resolver = template
        .resolver(
            Pseudo::new(account, "us-east-1", stack_name),
            &overrides,
            ResolveOptions::default(),
        )
        .expect("the template resolves");
    let resource = resolver
        .resource("AlertsChannel")
        .expect("AlertsChannel resolves")
        .expect("AlertsChannel exists");
    stringified(resource.properties)
}

fn stringified(value: Value) -> Value {
    match value {
        Value::Bool(b) => json!(b.to_string()),
        Value::Number(n) => json!(n.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(stringified).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, stringified(v))).collect())
        }
        other => other,
    }
}

fn stack_name_of(stack: &Stack) -> String {
    stack
        .stack_id
        .split('/')
        .nth(1)
        .expect("a stack name in the StackId")
        .to_owned()
}

fn account_plan<'a>(plan: &'a Value, account: &str) -> &'a Value {
    plan["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account_id"] == account)
        .unwrap_or_else(|| panic!("no plan for {account}: {plan:#}"))
}

fn resource<'a>(plan: &'a Value, account: &str, logical_id: &str) -> &'a Value {
    account_plan(plan, account)["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["logical_id"] == logical_id)
        .unwrap_or_else(|| panic!("no {logical_id} in {account}: {plan:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_then_a_plan_is_no_change_and_changes_behind_its_back_are_drift() {
    let members = cloud().members();
    let (first, second) = (members[3].clone(), members[4].clone());
    let template = write_template("stack.yaml", TEMPLATE);
    let template_arg = template.display().to_string();
    // One stack name in both accounts, as a StackSet or a scripted deploy gives.
    let stack_one = Stack::new(&first, TYPE);
    let name = stack_name_of(&stack_one);
    let stack_two = Stack {
        account: second.clone(),
        stack_id: stack_one.stack_id.replace(&first, &second),
        resource_type: TYPE.to_owned(),
    };

    // Before the deploy: a create in each account.
    let accounts = format!("{first},{second}");
    let plan_args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "plan",
            template_arg.as_str(),
            "--accounts",
            accounts.as_str(),
            "--stack-name",
            name.as_str(),
            "--detailed-exitcode",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let run = |extra: &[&str]| {
        let args = plan_args(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        chatops(&args)
    };
    let before = run(&["--json"]);
    assert_eq!(before.status.code(), Some(2), "{}", described(&before));
    let plan = plan_json(&before);
    assert_eq!(resource(&plan, &first, "AlertsChannel")["action"], "create");
    assert_eq!(
        resource(&plan, &second, "AlertsChannel")["action"],
        "create"
    );

    // Deploy through the Lambda function, as CloudFormation would.
    let mut lambda = provider_lambda(&[]);
    let mut arns = Vec::new();
    for stack in [&stack_one, &stack_two] {
        let props = cloudformation_properties(&template, &stack.account, &name, "ERROR");
        let created = send(&mut lambda, stack.create("AlertsChannel", &props), direct).await;
        arns.push(assert_success(&created));
    }

    // A deploy followed by a plan shows no change, with or without the deployed template.
    for extra in [
        vec!["--json"],
        vec!["--json", "--deployed", template_arg.as_str()],
    ] {
        let after = run(&extra);
        assert_eq!(after.status.code(), Some(0), "{}", described(&after));
        let plan = plan_json(&after);
        for account in [&first, &second] {
            let alerts = resource(&plan, account, "AlertsChannel");
            assert_eq!(alerts["action"], "no-change", "{alerts:#}");
            assert_eq!(alerts["drift"], Value::Null, "{alerts:#}");
        }
    }

    // A change behind the template's back, in the first account only.
    let chatbot = cloud().chatbot(&first).await;
    chatbot
        .update_slack_channel_configuration()
        .chat_configuration_arn(&arns[0])
        .slack_channel_id("C0ALERTS1")
        .iam_role_arn(format!("arn:aws:iam::{first}:role/chatops-chatbot-channel"))
        .logging_level("INFO")
        .send()
        .await
        .expect("changing the configuration outside CloudFormation");

    let drifted = run(&["--json", "--deployed", template_arg.as_str()]);
    assert_eq!(drifted.status.code(), Some(2), "{}", described(&drifted));
    let plan = plan_json(&drifted);
    let alerts = resource(&plan, &first, "AlertsChannel");
    assert_eq!(
        alerts["action"], "no-change",
        "the template did not change: {alerts:#}"
    );
    assert_eq!(alerts["drift"]["kind"], "modified", "{alerts:#}");
    let drift = &alerts["drift"]["changes"];
    assert!(
        drift
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["property"] == "LoggingLevel"
                && c["before"] == "ERROR"
                && c["after"] == "INFO"),
        "{alerts:#}"
    );
    assert_eq!(
        resource(&plan, &second, "AlertsChannel")["drift"],
        Value::Null
    );
    assert_eq!(plan["summary"]["drifted"], 1);

    // The text says it too, with no colour when not on a terminal.
    let text = run(&["--deployed", template_arg.as_str()]);
    let shown = stdout(&text);
    assert!(
        shown.contains("has drifted from the deployed template"),
        "{shown}"
    );
    assert!(shown.contains("! LoggingLevel"), "{shown}");
    assert!(!shown.contains('\x1b'), "{shown}");

    // A new version of the template: the update, and the drift it sets back.
    let updated = run(&[
        "--json",
        "--deployed",
        template_arg.as_str(),
        "--parameter",
        "LoggingLevel=NONE",
        "--deployed-parameter",
        "LoggingLevel=ERROR",
    ]);
    assert_eq!(updated.status.code(), Some(2), "{}", described(&updated));
    let plan = plan_json(&updated);
    for account in [&first, &second] {
        let alerts = resource(&plan, account, "AlertsChannel");
        assert_eq!(alerts["action"], "update", "{alerts:#}");
        assert_eq!(alerts["changes"][0]["property"], "LoggingLevel");
        assert_eq!(alerts["changes"][0]["after"], "NONE");
    }
    assert_eq!(
        resource(&plan, &first, "AlertsChannel")["changes"][0]["before"],
        "INFO"
    );
    assert_eq!(
        resource(&plan, &second, "AlertsChannel")["changes"][0]["before"],
        "ERROR"
    );

    // Gone from the template, still owned by the stack: a delete.
    let empty = write_template(
        "empty.yaml",
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
    );
    let deleting = chatops(&[
        "plan",
        &empty.display().to_string(),
        "--accounts",
        &first,
        "--stack-name",
        &name,
        "--json",
    ]);
    assert_eq!(deleting.status.code(), Some(0), "{}", described(&deleting));
    let plan = plan_json(&deleting);
    let gone = resource(&plan, &first, "AlertsChannel");
    assert_eq!(gone["action"], "delete", "{gone:#}");
    assert_eq!(gone["physical_id"], arns[0].as_str());

    for (stack, arn) in [(&stack_one, &arns[0]), (&stack_two, &arns[1])] {
        let props = cloudformation_properties(&template, &stack.account, &name, "ERROR");
        let deleted = send(
            &mut lambda,
            stack.delete("AlertsChannel", arn, &props),
            direct,
        )
        .await;
        assert_success(&deleted);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_account_failing_does_not_stop_the_others() {
    let member = cloud().members()[2].clone();
    let outsider = cloud().seed["outside_account"]
        .as_str()
        .expect("outside account")
        .to_owned();
    let template = write_template("stack.yaml", TEMPLATE);
    let output = chatops(&[
        "plan",
        &template.display().to_string(),
        "--accounts",
        &format!("{member},{outsider}"),
        "--stack-name",
        &unique("stack"),
        "--json",
        "--detailed-exitcode",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", described(&output));
    let plan = plan_json(&output);
    let refused = account_plan(&plan, &outsider);
    assert_eq!(refused["status"], "error");
    assert!(
        refused["error"]
            .as_str()
            .unwrap_or_default()
            .contains("not a member of the provider's organization"),
        "{refused:#}"
    );
    assert_eq!(
        resource(&plan, &member, "AlertsChannel")["action"],
        "create"
    );
    assert_eq!(plan["summary"]["accounts_failed"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_organization_plans_every_active_account() {
    let template = write_template("stack.yaml", TEMPLATE);
    let output = chatops(&[
        "plan",
        &template.display().to_string(),
        "--org",
        "--json",
        "--concurrency",
        "4",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", described(&output));
    let plan = plan_json(&output);
    let planned: Vec<&str> = plan["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["account_id"].as_str())
        .collect();
    for member in cloud().members() {
        assert!(
            planned.contains(&member.as_str()),
            "{member} not in {planned:?}"
        );
    }
    assert!(
        planned.contains(&"123456789012"),
        "the management account is ACTIVE too"
    );
    assert!(
        !planned.contains(&"999999999999"),
        "the outsider is not in the organization"
    );
    assert_eq!(plan["summary"]["accounts_failed"], 0, "{plan:#}");

    // Under the root, at any depth: the same accounts.
    let organizations = aws_sdk_organizations::Client::new(&cloud().sdk_config().await);
    let roots = organizations
        .list_roots()
        .send()
        .await
        .expect("listing roots");
    let root = roots.roots()[0].id().expect("the root's id").to_owned();
    let under_root = chatops(&[
        "plan",
        &template.display().to_string(),
        "--org",
        "--ou",
        &root,
        "--json",
    ]);
    assert_eq!(
        under_root.status.code(),
        Some(0),
        "{}",
        described(&under_root)
    );
    let plan = plan_json(&under_root);
    let mut again: Vec<&str> = plan["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["account_id"].as_str())
        .collect();
    let mut planned = planned;
    planned.sort();
    again.sort();
    assert_eq!(again, planned);
}

#[test]
fn diff_needs_no_cloud_and_says_what_changes_in_its_exit_code() {
    let old = write_template("old.yaml", TEMPLATE);
    let same = chatops_offline(&[
        "diff",
        &old.display().to_string(),
        &old.display().to_string(),
        "--detailed-exitcode",
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", described(&same));
    assert!(stdout(&same).contains("No changes"), "{}", described(&same));

    let new = write_template(
        "new.yaml",
        &TEMPLATE.replace("SlackChannelId: C0ALERTS1", "SlackChannelId: C0OTHER1"),
    );
    let changed = chatops_offline(&[
        "diff",
        &old.display().to_string(),
        &new.display().to_string(),
        "--detailed-exitcode",
        "--stack-name",
        "app",
    ]);
    assert_eq!(changed.status.code(), Some(2), "{}", described(&changed));
    let shown = stdout(&changed);
    assert!(shown.contains("~ AlertsChannel"), "{shown}");
    assert!(
        shown.contains("-\"C0ALERTS1\"") && shown.contains("+\"C0OTHER1\""),
        "{shown}"
    );

    let broken = write_template(
        "broken.yaml",
        &TEMPLATE.replace("!Ref LoggingLevel", "!Base64 x"),
    );
    let failed = chatops_offline(&[
        "diff",
        &old.display().to_string(),
        &broken.display().to_string(),
        "--detailed-exitcode",
    ]);
    assert_eq!(failed.status.code(), Some(1), "{}", described(&failed));
    let message = String::from_utf8_lossy(&failed.stderr);
    assert!(
        message.contains(
            "Resources/AlertsChannel/Properties/LoggingLevel: Fn::Base64 is not supported"
        ),
        "{message}"
    );
}

#[test]
fn validate_checks_the_example_stack_and_names_bad_properties() {
    let example = crate::support::localcloud::repo_root().join("examples/chatops-stack.yaml");
    let good = chatops_offline(&["validate", &example.display().to_string()]);
    assert_eq!(good.status.code(), Some(0), "{}", described(&good));
    let bad = write_template(
        "bad.yaml",
        &TEMPLATE.replace(
            "SlackChannelId: C0ALERTS1",
            "SlackChannelId: \"not a channel\"",
        ),
    );
    let output = chatops_offline(&["validate", &bad.display().to_string()]);
    assert_eq!(output.status.code(), Some(1), "{}", described(&output));
    assert!(
        stdout(&output).contains("Resources/AlertsChannel/Properties/SlackChannelId"),
        "{}",
        described(&output)
    );
}

/// Templates as CloudFormation reads them: YAML 1.1 booleans, SAM's
/// transform (which leaves Custom:: resources alone) and other transforms
/// reported with what they may change; GetAtt names checked per type.
#[test]
fn validate_and_plan_read_templates_as_cloudformation_does() {
    let account = &cloud().members()[0];
    let sam = write_template(
        "sam.yaml",
        &TEMPLATE
            .replace("UserRoleRequired: false", "UserRoleRequired: No")
            .replace(
                "AWSTemplateFormatVersion: \"2010-09-09\"",
                "AWSTemplateFormatVersion: 2010-09-09\nTransform: AWS::Serverless-2016-10-31",
            ),
    );
    let output = chatops_offline(&["validate", &sam.display().to_string()]);
    assert_eq!(output.status.code(), Some(0), "{}", described(&output));
    assert!(
        !stdout(&output).contains("warning"),
        "{}",
        described(&output)
    );
    let output = chatops(&[
        "plan",
        &sam.display().to_string(),
        "--accounts",
        account,
        "--stack-name",
        &unique("sam"),
        "--json",
        "--detailed-exitcode",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", described(&output));
    let plan = plan_json(&output);
    let channel = resource(&plan, account, "AlertsChannel");
    assert_eq!(channel["action"], "create", "{}", described(&output));
    assert_eq!(channel["problem"], Value::Null, "{}", described(&output));
    let flag = channel["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["property"] == "UserRoleRequired")
        .unwrap_or_else(|| panic!("{}", described(&output)));
    assert_eq!(flag["after"], json!(false), "{}", described(&output));

    let include = write_template(
        "include.yaml",
        &TEMPLATE.replace(
            "AWSTemplateFormatVersion: \"2010-09-09\"",
            "AWSTemplateFormatVersion: \"2010-09-09\"\nTransform:\n  - Name: AWS::Include\n    Parameters: {Location: s3://bucket/snippet.yaml}",
        ),
    );
    let output = chatops_offline(&["validate", &include.display().to_string()]);
    assert_eq!(output.status.code(), Some(0), "{}", described(&output));
    assert!(
        stdout(&output).contains("warning: Transform: AWS::Include: AWS::Include inserts"),
        "{}",
        described(&output)
    );

    let bogus = write_template(
        "bogus.yaml",
        &(TEMPLATE.to_owned() + "Outputs:\n  Channel:\n    Value: !GetAtt AlertsChannel.Bogus\n"),
    );
    let output = chatops_offline(&["validate", &bogus.display().to_string()]);
    assert_eq!(output.status.code(), Some(1), "{}", described(&output));
    let planned = chatops(&["plan", &bogus.display().to_string(), "--accounts", account]);
    assert_eq!(planned.status.code(), Some(1), "{}", described(&planned));
    assert!(
        described(&planned).contains("Outputs/Channel/Value: Fn::GetAtt AlertsChannel.Bogus"),
        "{}",
        described(&planned)
    );
    assert!(
        stdout(&output).contains(
            "Outputs/Channel/Value: Fn::GetAtt AlertsChannel.Bogus: Custom::ChatbotSlackChannel has no \
             attribute \"Bogus\"; Fn::GetAtt can read Arn, ConfigurationName"
        ),
        "{}",
        described(&output)
    );
    let in_properties = write_template(
        "bogus-ref.yaml",
        &(TEMPLATE.to_owned()
            + "  Other:\n    Type: Custom::ChatbotSlackChannel\n    Properties:\n      \
               ServiceToken: !Ref ServiceToken\n      ConfigurationName: !GetAtt AlertsChannel.Name\n      \
               SlackWorkspaceId: T0CHATOPS1\n      SlackChannelId: C0OTHER1\n      \
               IamRoleArn: !GetAtt AlertsChannel.Arn\n"),
    );
    let output = chatops(&[
        "plan",
        &in_properties.display().to_string(),
        "--accounts",
        account,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", described(&output));
    assert!(
        described(&output).contains("has no attribute \"Name\""),
        "{}",
        described(&output)
    );
}

/// A StackSet whose current template has no custom resource yet, with
/// instances in two accounts whose overrides differ: planning the next
/// template reads the StackSet, its instances and their overrides, and
/// recognises what an instance stack already owns.
#[tokio::test(flavor = "multi_thread")]
async fn a_stack_set_is_planned_per_instance_with_its_overrides() {
    use aws_sdk_cloudformation::types::Parameter;

    let members = cloud().members();
    let (prod, dev) = (members[1].clone(), members[2].clone());
    let name = unique("chatops-set").replace('-', "x");
    let current = r#"
Parameters:
  ServiceToken: {Type: String}
  Environment: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Resources:
  Handle: {Type: AWS::CloudFormation::WaitConditionHandle}
"#;
    let parameter = |key: &str, value: &str| {
        Parameter::builder()
            .parameter_key(key)
            .parameter_value(value)
            .build()
    };
    let token = "arn:aws:sns:us-east-1:123456789012:chatops-provider";
    let cloudformation = aws_sdk_cloudformation::Client::new(&cloud().sdk_config().await);
    cloudformation
        .create_stack_set()
        .stack_set_name(&name)
        .template_body(current)
        .parameters(parameter("ServiceToken", token))
        .send()
        .await
        .expect("creating the StackSet");
    for (account, environment) in [(&prod, "prod"), (&dev, "dev")] {
        let operation = cloudformation
            .create_stack_instances()
            .stack_set_name(&name)
            .accounts(account)
            .regions("us-east-1")
            .parameter_overrides(parameter("Environment", environment))
            .send()
            .await
            .expect("creating a stack instance");
        // One operation at a time per StackSet (OperationInProgressException otherwise).
        let operation_id = operation.operation_id().expect("an operation id");
        let status = loop {
            let described = cloudformation
                .describe_stack_set_operation()
                .stack_set_name(&name)
                .operation_id(operation_id)
                .send()
                .await
                .expect("describing the operation");
            let status = described
                .stack_set_operation()
                .and_then(|op| op.status())
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            if status != "RUNNING" && status != "QUEUED" {
                break status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(status, "SUCCEEDED", "the instance in {account}");
    }
    let next = format!(
        r#"
Parameters:
  ServiceToken: {{Type: String}}
  Environment: {{Type: String, Default: dev, AllowedValues: [dev, prod]}}
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
Resources:
  Handle: {{Type: AWS::CloudFormation::WaitConditionHandle}}
  AlertsChannel:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: !Ref ServiceToken
      ConfigurationName: !Sub "{name}-${{AWS::AccountId}}"
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: C0ALERTS1
      IamRoleArn: !Sub "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/chatops-chatbot-channel"
      LoggingLevel: !If [IsProd, ERROR, INFO]
"#
    );
    let template = write_template("next.yaml", &next);
    let template_arg = template.display().to_string();

    // What the prod instance's stack made already (through the function, as
    // CloudFormation would): the plan must recognise it as the instance's own.
    let instances = cloudformation
        .list_stack_instances()
        .stack_set_name(&name)
        .send()
        .await
        .expect("listing the instances");
    let prod_stack_id = instances
        .summaries()
        .iter()
        .find(|s| s.account() == Some(prod.as_str()))
        .and_then(|s| s.stack_id())
        .expect("the prod instance's StackId")
        .to_owned();
    let stack = Stack {
        account: prod.clone(),
        stack_id: prod_stack_id,
        resource_type: TYPE.to_owned(),
    };
    let props = json!({
        "ConfigurationName": format!("{name}-{prod}"),
        "SlackWorkspaceId": "T0CHATOPS1",
        "SlackChannelId": "C0ALERTS1",
        "IamRoleArn": format!("arn:aws:iam::{prod}:role/chatops-chatbot-channel"),
        "LoggingLevel": "ERROR",
    });
    let mut lambda = provider_lambda(&[]);
    let arn =
        assert_success(&send(&mut lambda, stack.create("AlertsChannel", &props), direct).await);

    let output = chatops(&[
        "plan",
        &template_arg,
        "--stack-set",
        &name,
        "--json",
        "--detailed-exitcode",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", described(&output));
    let plan = plan_json(&output);
    assert_eq!(
        plan["accounts"].as_array().map(Vec::len),
        Some(2),
        "{plan:#}"
    );
    let made = resource(&plan, &prod, "AlertsChannel");
    assert_eq!(
        made["action"], "no-change",
        "the instance's own resource: {made:#}"
    );
    assert_eq!(made["physical_id"], arn.as_str());
    let new = resource(&plan, &dev, "AlertsChannel");
    assert_eq!(new["action"], "create", "{new:#}");
    let level = new["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["property"] == "LoggingLevel")
        .expect("LoggingLevel");
    assert_eq!(
        level["after"], "INFO",
        "the dev instance's override: {new:#}"
    );

    // The same plan as a pull request comment: a row per instance that
    // changes, the one that does not counted apart, one section per change.
    let comment = chatops(&[
        "plan",
        &template_arg,
        "--stack-set",
        &name,
        "--format",
        "markdown",
    ]);
    assert_eq!(comment.status.code(), Some(0), "{}", described(&comment));
    let markdown = stdout(&comment);
    assert!(
        markdown.starts_with(&format!(
            "### chatops plan of `{template_arg}` for stack `StackSet {name}`"
        )),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!("| `{dev}` | us-east-1 | 1 | 0 | 0 | 0 | 0 |")),
        "{markdown}"
    );
    assert!(
        markdown.contains("| 1 other account | | 0 | 0 | 0 | 0 | 0 |"),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!("<details><summary>{dev} us-east-1: 1 to create")),
        "{markdown}"
    );
    assert!(
        !markdown.contains(&format!("<summary>{prod} ")),
        "{markdown}"
    );
    assert!(markdown.contains("+ LoggingLevel = \"INFO\""), "{markdown}");

    // The StackSet's own template: nothing of this provider's in it.
    let unchanged = chatops(&["plan", "--stack-set", &name, "--detailed-exitcode"]);
    assert_eq!(
        unchanged.status.code(),
        Some(0),
        "{}",
        described(&unchanged)
    );

    let deleted = send(
        &mut lambda,
        stack.delete("AlertsChannel", &arn, &props),
        direct,
    )
    .await;
    assert_success(&deleted);
}
