//! `chatops doctor` through the real binary, against a local cloud of its own
//! whose accounts are each in another state: ready; Slack workspace not
//! authorized for Chatbot; Support App workspace not added; channel role
//! missing; a topic whose Chatbot subscription has raw message delivery on;
//! the Support App channel quota reached; and, for a workspace the
//! management account has not authorized (or not for the organization), the
//! management account's step. Each is found in its account with its step;
//! the text and Markdown reports have golden files.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::localcloud::repo_root;
use crate::support::*;

const TEAM: &str = "T0CHATOPS1";

fn golden_dir() -> PathBuf {
    repo_root().join("provider/tests/golden")
}

/// Runs `chatops doctor` as the seeded reviewer (the plan role), from the
/// golden folder so that the template's name in the report is stable.
fn doctor(cloud: &LocalCloud, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatops"))
        .arg("doctor")
        .args(args)
        .current_dir(golden_dir())
        .envs(cloud.planner_env())
        .env_remove("CHATOPS_EXECUTION_ROLE_NAME")
        .output()
        .expect("running chatops doctor")
}

fn described(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", described(output)))
}

fn account<'a>(report: &'a Value, account_id: &str) -> &'a Value {
    report["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account_id"] == account_id)
        .unwrap_or_else(|| panic!("no report of {account_id}: {report:#}"))
}

/// The blocked checks of `account_id`: (area, subject, step).
fn blocked<'a>(report: &'a Value, account_id: &str) -> Vec<(&'a str, &'a str, &'a Value)> {
    account(report, account_id)["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "blocked")
        .map(|c| {
            (
                c["area"].as_str().unwrap_or_default(),
                c["subject"].as_str().unwrap_or_default(),
                &c["step"],
            )
        })
        .collect()
}

/// The one blocked check of `account_id`, which must be in `area`.
fn only_blocked<'a>(report: &'a Value, account_id: &str, area: &str) -> (&'a str, &'a Value) {
    let found = blocked(report, account_id);
    assert_eq!(
        found.len(),
        1,
        "one blocked check in {account_id}: {:#}",
        account(report, account_id)
    );
    assert_eq!(found[0].0, area, "{:#}", account(report, account_id));
    (found[0].1, found[0].2)
}

/// Output with what changes from run to run (subscription ids) made stable.
fn stable(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout);
    regex::Regex::new("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        .expect("a regex")
        .replace_all(&text, "<uuid>")
        .into_owned()
}

fn golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("writing a golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual)
            .unified_diff()
            .header("golden", "actual")
            .to_string();
        panic!(
            "{} differs from the output (UPDATE_GOLDEN=1 cargo test --features failpoints --test e2e doctor:: rewrites it):\n{diff}",
            path.display()
        );
    }
}

/// Adds the seeded workspace to the Support App of `account`, as its admin.
async fn add_support_workspace(cloud: &LocalCloud, account: &str) {
    aws_sdk_supportapp::Client::new(&cloud.sdk_config_for(account).await)
        .register_slack_workspace_for_organization()
        .team_id(TEAM)
        .send()
        .await
        .expect("registering the workspace");
}

/// The accounts of the organization, each in its state (see the module doc).
async fn prepare(cloud: &LocalCloud) -> Vec<String> {
    let m = cloud.members();
    for account in [&m[0], &m[1], &m[3], &m[4], &m[5]] {
        add_support_workspace(cloud, account).await;
    }
    // m[1]: the Slack workspace's Chatbot authorization was deleted.
    cloud
        .chatbot(&m[1])
        .await
        .delete_slack_workspace_authorization()
        .slack_team_id(TEAM)
        .send()
        .await
        .expect("deleting the Chatbot authorization");
    // m[2]: nothing added to the Support App (the seed's state).
    // m[3]: the Chatbot channel role is gone.
    let iam = aws_sdk_iam::Client::new(&cloud.sdk_config_for(&m[3]).await);
    let role = "chatops-chatbot-channel";
    let inline = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .expect("listing inline policies");
    for name in inline.policy_names() {
        iam.delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .expect("deleting an inline policy");
    }
    iam.delete_role()
        .role_name(role)
        .send()
        .await
        .expect("deleting the role");
    // m[4]: Chatbot's subscription to the topic delivers raw messages.
    let topic = cloud.account(&m[4])["topics"]["us-east-1"]
        .as_str()
        .expect("topic")
        .to_owned();
    aws_sdk_sns::Client::new(&cloud.sdk_config_for(&m[4]).await)
        .subscribe()
        .topic_arn(&topic)
        .protocol("https")
        .endpoint("https://global.sns-api.chatbot.amazonaws.com")
        .attributes("RawMessageDelivery", "true")
        .return_subscription_arn(true)
        .send()
        .await
        .expect("subscribing");
    // m[5]: 20 Support App channels already, the quota.
    let support = aws_sdk_supportapp::Client::new(&cloud.sdk_config_for(&m[5]).await);
    let role = cloud.account(&m[5])["supportapp_role_arn"]
        .as_str()
        .expect("role")
        .to_owned();
    for n in 0..20 {
        support
            .create_slack_channel_configuration()
            .team_id(TEAM)
            .channel_id(format!("C0FULL{n:02}"))
            .channel_role_arn(&role)
            .notify_on_case_severity(aws_sdk_supportapp::types::NotificationSeverityLevel::None)
            .send()
            .await
            .expect("creating a Support App channel");
    }
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn each_account_gets_its_finding_and_its_step() {
    let cloud = LocalCloud::start(None);
    let m = prepare(&cloud).await;
    let management = cloud.seed["management_account"]
        .as_str()
        .expect("management")
        .to_owned();

    let output = doctor(&cloud, &["doctor-stack.yaml", "--org", "--json"]);
    assert_eq!(output.status.code(), Some(2), "{}", described(&output));
    assert!(
        output.stderr.is_empty(),
        "no progress bar when stderr is not a terminal: {}",
        described(&output)
    );
    let report = report(&output);
    assert_eq!(report["exit_code"], 2);
    for ready in [&m[0], &management] {
        assert_eq!(account(&report, ready)["status"], "ready", "{report:#}");
    }

    let (subject, step) = only_blocked(&report, &m[1], "chatbot");
    assert_eq!(subject, "Slack workspace T0CHATOPS1");
    assert_eq!(step["who"], "member_account_admin");
    assert_eq!(step["account_id"], m[1].as_str());
    assert_eq!(
        step["console_url"],
        "https://console.aws.amazon.com/chatbot/"
    );
    assert_eq!(step["instructions"][3], "Choose Allow.");

    let (subject, step) = only_blocked(&report, &m[2], "support app");
    assert_eq!(subject, "Slack workspace T0CHATOPS1");
    assert_eq!(step["who"], "platform_team");
    let fix = step["fix"].as_str().unwrap_or_default();
    assert!(
        fix.contains("Custom::SupportAppSlackWorkspace with TeamId T0CHATOPS1")
            && fix.contains(&format!(
                "in account {}: aws support-app register-slack-workspace-for-organization --team-id T0CHATOPS1",
                m[2]
            )),
        "{fix}"
    );

    let (subject, step) = only_blocked(&report, &m[3], "channel role");
    assert!(
        subject.contains("role/chatops-chatbot-channel"),
        "{subject}"
    );
    assert_eq!(step["who"], "member_account_admin");
    assert!(
        step["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("does not exist in account"),
        "{step:#}"
    );

    let (subject, step) = only_blocked(&report, &m[4], "topic");
    assert!(subject.contains(":chatops-alerts"), "{subject}");
    assert_eq!(step["account_id"], m[4].as_str());
    assert!(
        step["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("--attribute-name RawMessageDelivery --attribute-value false"),
        "{step:#}"
    );

    let (subject, step) = only_blocked(&report, &m[5], "support app");
    assert_eq!(subject, "quota: channels");
    assert_eq!(step["who"], "member_account_admin");
    assert!(
        step["title"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Free 1 Support App Slack channels"),
        "{step:#}"
    );

    // Steps are grouped by who does them, each group in account order.
    let groups: Vec<&str> = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|g| g["who"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(groups, ["member_account_admin", "platform_team"]);

    let text = doctor(&cloud, &["doctor-stack.yaml", "--org"]);
    assert_eq!(text.status.code(), Some(2), "{}", described(&text));
    golden("doctor.txt", &stable(&text));
    let markdown = doctor(
        &cloud,
        &["doctor-stack.yaml", "--org", "--format", "markdown"],
    );
    assert_eq!(markdown.status.code(), Some(2), "{}", described(&markdown));
    golden("doctor.md", &stable(&markdown));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workspace_the_management_account_has_not_shared_is_its_step() {
    let cloud = LocalCloud::start(None);
    let member = cloud.members()[0].clone();
    let management = cloud.seed["management_account"]
        .as_str()
        .expect("management")
        .to_owned();
    let partner = [
        "doctor-stack.yaml",
        "--accounts",
        member.as_str(),
        "--json",
        "-p",
        "SupportTeamId=T0PARTNER1",
    ];

    let report_now = || report(&doctor(&cloud, &partner));
    let first = report_now();
    let (subject, step) = only_blocked(&first, &member, "support app");
    assert_eq!(subject, "Slack workspace T0PARTNER1");
    assert_eq!(step["who"], "management_account_admin");
    assert_eq!(step["account_id"], management.as_str());
    assert_eq!(
        step["console_url"],
        "https://console.aws.amazon.com/support/app"
    );
    assert!(
        step["instructions"][0]
            .as_str()
            .unwrap_or_default()
            .contains("choose Slack configuration"),
        "{step:#}"
    );

    // Authorized in the Support Center for the management account only.
    cloud
        .authorize_slack("supportapp", &management, "T0PARTNER1", false)
        .await;
    let second = report_now();
    let (_, step) = only_blocked(&second, &member, "support app");
    assert_eq!(step["who"], "management_account_admin");
    assert!(
        step.get("console_url").is_none(),
        "an API does it: {step:#}"
    );
    assert_eq!(
        step["fix"],
        "aws support-app register-slack-workspace-for-organization --team-id T0PARTNER1 --region us-east-1"
    );

    // Shared with the organization: what is left is the member's own registration.
    cloud
        .authorize_slack("supportapp", &management, "T0PARTNER1", true)
        .await;
    let third = report_now();
    let (_, step) = only_blocked(&third, &member, "support app");
    assert_eq!(step["who"], "platform_team");
    add_support_workspace(&cloud, &member).await;
    let output = doctor(
        &cloud,
        &["doctor-stack.yaml", "--accounts", &member, "--json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", described(&output));

    // The execution role must trust the provider's role, when it is named.
    let provider_role = cloud.seed["provider_role_arn"]
        .as_str()
        .expect("provider role");
    let named = |arn: &str| {
        doctor(
            &cloud,
            &[
                "doctor-stack.yaml",
                "--accounts",
                &member,
                "--json",
                "--provider-role-arn",
                arn,
            ],
        )
    };
    assert_eq!(named(provider_role).status.code(), Some(0));
    let moved = report(&named(
        "arn:aws:iam::123456789012:role/chatops-provider-eu-west-1",
    ));
    let (subject, step) = only_blocked(&moved, &member, "roles");
    assert_eq!(subject, "execution role ChatOpsExecutionRole");
    assert_eq!(step["who"], "platform_team");

    // An account whose plan role is gone cannot be checked: the platform team's step.
    let other = cloud.members()[1].clone();
    let iam = aws_sdk_iam::Client::new(&cloud.sdk_config_for(&other).await);
    let plan_role = cloud.seed["plan_role_name"].as_str().expect("plan role");
    for name in iam
        .list_role_policies()
        .role_name(plan_role)
        .send()
        .await
        .expect("listing inline policies")
        .policy_names()
    {
        iam.delete_role_policy()
            .role_name(plan_role)
            .policy_name(name)
            .send()
            .await
            .expect("deleting an inline policy");
    }
    iam.delete_role()
        .role_name(plan_role)
        .send()
        .await
        .expect("deleting the plan role");
    let gone = report(&doctor(
        &cloud,
        &["doctor-stack.yaml", "--accounts", &other, "--json"],
    ));
    let (subject, step) = only_blocked(&gone, &other, "roles");
    assert_eq!(subject, format!("plan role {plan_role}"));
    assert_eq!(step["who"], "platform_team");
    assert_eq!(
        account(&gone, &other)["checks"].as_array().map(Vec::len),
        Some(1)
    );

    // An account outside the organization is an error: the provider never acts there.
    let outsider = cloud.seed["outside_account"].as_str().expect("outsider");
    let output = doctor(&cloud, &["--accounts", outsider, "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", described(&output));
    let error = account(&report(&output), outsider)["error"].clone();
    assert!(
        error.as_str().unwrap_or_default().contains("not a member"),
        "{error}"
    );

    // Without a template: what the account has, nothing blocked.
    let output = doctor(&cloud, &["--accounts", &member, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", described(&output));
    let checks = account(&report(&output), &member)["checks"].clone();
    assert!(
        checks
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["subject"] == "Slack workspaces" && c["detail"] == TEAM),
        "{checks:#}"
    );
}

/// Slack and Teams channels, no topics: what Chatbot's console steps and an
/// organization's Chatbot policy decide.
const CHAT_CLIENTS: &str = r#"
Resources:
  Alerts:
    Type: Custom::ChatbotSlackChannel
    Properties:
      ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops-provider
      ConfigurationName: alerts
      SlackWorkspaceId: T0CHATOPS1
      SlackChannelId: C0ALERTS1
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
  TeamsAlerts:
    Type: Custom::ChatbotTeamsChannel
    Properties:
      ServiceToken: arn:aws:sns:us-east-1:123456789012:chatops-provider
      ConfigurationName: teams-alerts
      TeamId: 3f2504e0-4f89-41d3-9a0c-0305e82c3301
      TeamsTenantId: 9c6b0c3e-7f5a-4b8e-9d1f-2a3b4c5d6e7f
      TeamsChannelId: "19%3aalerts%40thread.tacv2"
      IamRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/chatops-chatbot-channel"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn chat_clients_not_configured_or_denied_by_policy_are_found() {
    let cloud = LocalCloud::start(None);
    let m = cloud.members();
    let management = cloud.seed["management_account"]
        .as_str()
        .expect("management")
        .to_owned();
    let team = cloud.seed["teams_team_id"]
        .as_str()
        .expect("team")
        .to_owned();
    let tenant = cloud.seed["teams_tenant_id"]
        .as_str()
        .expect("tenant")
        .to_owned();
    let reason = "denied by the organization's Chatbot policy";
    // m[0]: the Slack workspace is authorized, but the organization's policy denies it.
    cloud
        .control(
            "slack-authorize",
            &serde_json::json!({"service": "chatbot", "account": m[0], "team_id": TEAM, "disabled_reason": reason}),
        )
        .await;
    // m[1]: the Teams team was never configured (its configuration deleted).
    cloud
        .chatbot(&m[1])
        .await
        .delete_microsoft_teams_configured_team()
        .team_id(&team)
        .send()
        .await
        .expect("deleting the Teams team");
    // m[2]: the Teams team is configured, and denied by policy.
    cloud
        .control(
            "teams-configure",
            &serde_json::json!({"account": m[2], "team_id": team, "tenant_id": tenant, "disabled_reason": reason}),
        )
        .await;

    let dir = std::env::temp_dir().join(unique("chatops-doctor"));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let template = dir.join("chat-clients.yaml");
    std::fs::write(&template, CHAT_CLIENTS).expect("writing the template");
    let accounts = format!("{},{},{},{}", m[0], m[1], m[2], m[3]);
    let output = doctor(
        &cloud,
        &[
            template.to_str().expect("a path"),
            "--accounts",
            &accounts,
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", described(&output));
    let report = report(&output);

    let (subject, step) = only_blocked(&report, &m[0], "chatbot");
    assert_eq!(subject, "Slack workspace T0CHATOPS1");
    assert_eq!(step["who"], "management_account_admin");
    assert_eq!(step["account_id"], management.as_str());
    assert!(
        step["title"].as_str().unwrap_or_default().contains(reason),
        "{step:#}"
    );

    let (subject, step) = only_blocked(&report, &m[1], "chatbot");
    assert_eq!(subject, format!("Teams team {team}"));
    assert_eq!(step["who"], "member_account_admin");
    assert_eq!(step["account_id"], m[1].as_str());
    assert_eq!(
        step["console_url"],
        "https://console.aws.amazon.com/chatbot/"
    );
    assert!(
        step["instructions"][1]
            .as_str()
            .unwrap_or_default()
            .contains("choose Microsoft Teams"),
        "{step:#}"
    );

    let (_, step) = only_blocked(&report, &m[2], "chatbot");
    assert_eq!(step["who"], "management_account_admin");
    assert_eq!(account(&report, &m[3])["status"], "ready", "{report:#}");
}
