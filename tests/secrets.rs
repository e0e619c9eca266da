//! Secret audit over every resource type: each is created, updated in place
//! (its secrets rotated), refused by its service on Update and on Create,
//! given a malformed secret, planned, diffed, validated and deleted, all in
//! one stack with the function logging at TRACE. Then every log line, every
//! response, every output of the command line and every file the function
//! and the command line wrote are searched for each secret:
//!
//! - the write-only properties of each type (a Chime WebhookUrl's token),
//! - the provider's own credentials (secret key and session token, as a
//!   Lambda execution role has them),
//! - the session credentials AssumeRole issued for the member account.
//!
//! A type added to `resources::type_names()` fails this test until it has a
//! fixture here: an audit that skips a type is no audit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const SERVICE_TOKEN: &str = "arn:aws:sns:us-east-1:123456789012:chatops-provider";

/// Valid properties of `type_name` in `account` of `cloud`, its secrets left
/// out, and an in-place change (property, new value).
fn fixture(cloud: &LocalCloud, type_name: &str, account: &str) -> (Value, (&'static str, Value)) {
    let seeded = cloud.account(account);
    match type_name {
        "Custom::ChatbotSlackChannel" => (
            json!({
                "ConfigurationName": unique("audit-slack"),
                "SlackWorkspaceId": cloud.seed["slack_team_id"],
                "SlackChannelId": "C0AUDIT1",
                "IamRoleArn": seeded["chatbot_role_arn"],
                "SnsTopicArns": [seeded["topics"]["us-east-1"]],
                "LoggingLevel": "ERROR",
            }),
            ("SlackChannelId", json!("C0AUDIT2")),
        ),
        "Custom::ChatbotChimeWebhook" => (
            json!({
                "ConfigurationName": unique("audit-chime"),
                "WebhookDescription": "on-call room",
                "IamRoleArn": seeded["chatbot_role_arn"],
                "SnsTopicArns": [seeded["topics"]["us-east-1"]],
            }),
            ("WebhookDescription", json!("the new on-call room")),
        ),
        "Custom::ChatbotTeamsChannel" => (
            json!({
                "ConfigurationName": unique("audit-teams"),
                "TeamId": cloud.seed["teams_team_id"],
                "TeamsChannelId": "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2",
                "TeamsChannelName": "alerts",
                "TeamsTenantId": cloud.seed["teams_tenant_id"],
                "IamRoleArn": seeded["chatbot_role_arn"],
            }),
            ("TeamsChannelName", json!("alerts-renamed")),
        ),
        "Custom::SupportAppSlackWorkspace" => (
            json!({"TeamId": cloud.seed["slack_team_id"], "VersionId": "1"}),
            ("VersionId", json!("2")),
        ),
        "Custom::SupportAppSlackChannel" => (
            json!({
                "TeamId": cloud.seed["slack_team_id"],
                "ChannelId": "C0AUDITCASES",
                "ChannelName": "aws-support",
                "ChannelRoleArn": seeded["supportapp_role_arn"],
                "NotifyOnCaseSeverity": "high",
                "NotifyOnCreateOrReopenCase": "true",
            }),
            ("NotifyOnResolveCase", json!("true")),
        ),
        "Custom::SupportAppAccountAlias" => (
            json!({"AccountAlias": "audited account"}),
            ("AccountAlias", json!("audited account 2")),
        ),
        other => panic!("add a fixture for {other} to tests/secrets.rs: every type is audited"),
    }
}

/// A valid value of secret `property` of `type_name` whose secret part is `canary`.
fn secret_value(type_name: &str, property: &str, canary: &str) -> Value {
    match (type_name, property) {
        ("Custom::ChatbotChimeWebhook", "WebhookUrl") => json!(format!(
            "https://hooks.chime.aws/incomingwebhooks/{}?token={canary}",
            unique("hook")
        )),
        // Sensitive in the chatbot API model (ChimeWebhookDescription).
        ("Custom::ChatbotChimeWebhook", "WebhookDescription") => json!(format!("room {canary}")),
        _ => panic!("add how to make a valid {property} of {type_name} to tests/secrets.rs"),
    }
}

/// A malformed value of secret `property` that still carries `canary`.
fn malformed_secret(property: &str, canary: &str) -> Value {
    match property {
        "WebhookUrl" => json!(format!("https://hooks.example.com/webhook?token={canary}")),
        // Longer than the 255 characters the API allows.
        "WebhookDescription" => json!(format!("{}{canary}", "x".repeat(256))),
        _ => json!(format!("not valid {canary}")),
    }
}

/// The service whose calls a type's Create and Update make.
fn service_of(type_name: &str) -> &'static str {
    if type_name.starts_with("Custom::SupportApp") {
        "supportapp"
    } else {
        "chatbot"
    }
}

/// Workspaces before what lives in them.
fn creation_order() -> Vec<&'static str> {
    let mut types = chatops::registry::names();
    types.sort_by_key(|t| !t.ends_with("Workspace"));
    types
}

/// A canary: letters and digits only, so that no escaping hides it.
fn canary(what: &str) -> String {
    unique(what).replace('-', "")
}

/// What was captured, and the secrets that must appear in none of it.
#[derive(Default)]
struct Evidence {
    captured: Vec<(String, String)>,
    secrets: Vec<(String, String)>,
}

impl Evidence {
    fn keep(&mut self, what: impl Into<String>, text: impl Into<String>) {
        self.captured.push((what.into(), text.into()));
    }

    fn secret(&mut self, what: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        assert!(value.len() >= 8, "a secret too short to search for");
        self.secrets.push((what.into(), value));
    }

    /// Keeps the text of every file under `dir`.
    fn keep_files(&mut self, dir: &Path) -> usize {
        let mut count = 0;
        let mut pending = vec![dir.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    self.keep(
                        format!("file {}", path.display()),
                        String::from_utf8_lossy(&bytes),
                    );
                    count += 1;
                }
            }
        }
        count
    }

    fn assert_no_secret_anywhere(&self) {
        let mut leaks = Vec::new();
        for (what, text) in &self.captured {
            for (secret_name, secret) in &self.secrets {
                for line in text.lines().filter(|l| l.contains(secret.as_str())) {
                    let shown: String = line.chars().take(400).collect();
                    leaks.push(format!("{secret_name} in the {what}: {shown}"));
                }
            }
        }
        assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    }
}

struct Audit {
    cloud: LocalCloud,
    lambda: LocalLambda,
    account: String,
    /// The environment of the function and of the command line.
    env: Vec<(String, String)>,
    /// Where the function and the command line may write (TMPDIR, HOME).
    written: PathBuf,
    /// Where the test writes its own inputs (templates, events), not audited.
    inputs: PathBuf,
    evidence: Evidence,
}

impl Audit {
    async fn send(&mut self, what: &str, request: Value, wrap: fn(&Value) -> Value) -> Value {
        let mut request = request;
        let response = send_via(
            &self.cloud,
            &mut self.lambda,
            &mut request,
            wrap,
            Duration::from_secs(60),
        )
        .await;
        self.evidence
            .keep(format!("response to {what}"), response.to_string());
        response
    }

    /// Runs the command line; its stdout and stderr are kept as evidence.
    fn chatops(&mut self, what: &str, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_chatops"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&self.written)
            .output()
            .expect("running chatops");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.code().is_some_and(|c| c <= 2),
            "chatops {what} crashed: {text}"
        );
        self.evidence.keep(format!("chatops {what}"), text.clone());
        text
    }

    fn input(&self, name: &str, content: &Value) -> String {
        let path = self.inputs.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(content).expect("JSON"))
            .expect("writing an input");
        path.display().to_string()
    }
}

/// One resource of the audited stack.
struct Resource {
    type_name: &'static str,
    logical_id: String,
    stack: Stack,
    /// Properties with the first secrets, then with the rotated ones.
    first: Value,
    rotated: Value,
    physical_id: String,
}

/// A template of `resources` with properties `props`; write-only values as
/// NoEcho parameters (and their values), or written in.
fn template(
    resources: &[Resource],
    props: &[Value],
    secrets_as_parameters: bool,
) -> (Value, Vec<(String, String)>) {
    let mut template = json!({"Parameters": {"ServiceToken": {"Type": "String"}}, "Resources": {}});
    let mut parameters = vec![("ServiceToken".to_owned(), SERVICE_TOKEN.to_owned())];
    for (r, props) in resources.iter().zip(props) {
        let mut props = props.clone();
        if secrets_as_parameters {
            for secret in chatops::registry::write_only_of(r.type_name) {
                let parameter = format!("{}{secret}", r.logical_id);
                template["Parameters"][&parameter] = json!({"Type": "String", "NoEcho": true});
                let value = props[*secret].as_str().expect("a string secret").to_owned();
                parameters.push((parameter.clone(), value));
                props[*secret] = json!({"Ref": parameter});
            }
        }
        props["ServiceToken"] = json!({"Ref": "ServiceToken"});
        template["Resources"][&r.logical_id] = json!({"Type": r.type_name, "Properties": props});
    }
    (template, parameters)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_a_log_a_response_a_plan_or_a_file() {
    let cloud = LocalCloud::start(None);
    let account = cloud.members()[0].clone();
    let root = std::env::temp_dir().join(unique("chatops-audit"));
    let (written, inputs) = (root.join("written"), root.join("inputs"));
    std::fs::create_dir_all(&written).unwrap();
    std::fs::create_dir_all(&inputs).unwrap();
    let mut evidence = Evidence::default();

    // The provider's own credentials, as a Lambda execution role has them.
    let base_secret = canary("BaseSecretKey");
    let base_token = canary("BaseSessionToken");
    evidence.secret("the provider's secret access key", &base_secret);
    evidence.secret("the provider's session token", &base_token);
    let mut env = cloud.provider_env();
    env.retain(|(k, _)| k != "AWS_SECRET_ACCESS_KEY");
    env.extend(
        [
            ("AWS_SECRET_ACCESS_KEY", base_secret.as_str()),
            ("AWS_SESSION_TOKEN", base_token.as_str()),
            ("RUST_LOG", "trace"),
            ("TMPDIR", written.to_str().unwrap()),
            ("HOME", written.to_str().unwrap()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let lambda = LocalLambda::start(&env);
    let mut audit = Audit {
        cloud,
        lambda,
        account,
        env,
        written,
        inputs,
        evidence,
    };
    let account = audit.account.clone();
    let base = Stack::new(&account, "");

    // Create every type with its first secrets, half of them through SNS.
    let mut resources = Vec::new();
    for (i, type_name) in creation_order().into_iter().enumerate() {
        let (mut first, (property, changed)) = fixture(&audit.cloud, type_name, &account);
        let mut rotated = first.clone();
        rotated[property] = changed;
        for secret in chatops::registry::write_only_of(type_name) {
            let (one, two) = (canary("FirstSecret"), canary("RotatedSecret"));
            first[*secret] = secret_value(type_name, secret, &one);
            rotated[*secret] = secret_value(type_name, secret, &two);
            audit.evidence.secret(format!("{type_name} {secret}"), one);
            audit
                .evidence
                .secret(format!("{type_name} rotated {secret}"), two);
        }
        let stack = Stack {
            resource_type: type_name.to_owned(),
            ..base.clone()
        };
        let logical_id = format!("Audited{i}");
        let wrap = if i % 2 == 0 { sns_wrapped } else { direct };
        let created = audit
            .send(
                &format!("create {type_name}"),
                stack.create(&logical_id, &first),
                wrap,
            )
            .await;
        let physical_id = assert_success(&created);
        resources.push(Resource {
            type_name,
            logical_id,
            stack,
            first,
            rotated,
            physical_id,
        });
    }
    assert_eq!(resources.len(), chatops::registry::names().len());

    for r in &resources {
        // The service refuses the Update (every try): FAILED, the old id kept.
        audit
            .cloud
            .inject(json!({
                "service": service_of(r.type_name), "account": account,
                "kind": "error", "status": 501
            }))
            .await;
        let update = r
            .stack
            .update(&r.logical_id, &r.physical_id, &r.rotated, &r.first);
        let refused = audit
            .send(
                &format!("refused update of {}", r.type_name),
                update.clone(),
                direct,
            )
            .await;
        assert_failed(&refused);
        assert_eq!(refused["PhysicalResourceId"], r.physical_id.as_str());

        // A Create the service refuses: FAILED with a placeholder, deleted cleanly.
        let other = format!("{}Refused", r.logical_id);
        let failed = audit
            .send(
                &format!("refused create of {}", r.type_name),
                r.stack.create(&other, &r.rotated),
                sns_wrapped,
            )
            .await;
        assert_failed(&failed);
        let placeholder = failed["PhysicalResourceId"].as_str().unwrap().to_owned();
        audit.cloud.clear_faults().await;
        let deleted = audit
            .send(
                &format!("delete of the refused {}", r.type_name),
                r.stack.delete(&other, &placeholder, &r.rotated),
                direct,
            )
            .await;
        assert_success(&deleted);

        // The Update again, once the service takes it: the secrets rotate.
        let updated = audit
            .send(&format!("update of {}", r.type_name), update, sns_wrapped)
            .await;
        assert_eq!(assert_success(&updated), r.physical_id);

        // A secret of the wrong form is refused before any call, without echoing it.
        for secret in chatops::registry::write_only_of(r.type_name) {
            let token = canary("MalformedSecret");
            audit
                .evidence
                .secret(format!("malformed {} {secret}", r.type_name), &token);
            let mut bad = r.rotated.clone();
            bad[*secret] = malformed_secret(secret, &token);
            let refused = audit
                .send(
                    &format!("malformed {secret}"),
                    r.stack.create(&format!("{}Bad", r.logical_id), &bad),
                    direct,
                )
                .await;
            let reason = assert_failed(&refused);
            assert!(reason.contains(secret), "{reason}");
        }
    }

    // The command line: a plan against what is live (secrets rotated once
    // more, through NoEcho parameters), a diff of two templates, a validation
    // with a malformed secret, and an invoke.
    let mut planned = Vec::new();
    for r in &resources {
        let mut props = r.rotated.clone();
        for secret in chatops::registry::write_only_of(r.type_name) {
            let token = canary("PlannedSecret");
            audit
                .evidence
                .secret(format!("planned {} {secret}", r.type_name), &token);
            props[*secret] = secret_value(r.type_name, secret, &token);
        }
        planned.push(props);
    }
    let (next, parameters) = template(&resources, &planned, true);
    let next_path = audit.input("next.json", &next);
    let stack_name = base.stack_id.split('/').nth(1).unwrap().to_owned();
    let parameter_args: Vec<String> = parameters
        .iter()
        .flat_map(|(k, v)| ["-p".to_owned(), format!("{k}={v}")])
        .collect();
    let mut plan_args = vec![
        "plan",
        next_path.as_str(),
        "--accounts",
        account.as_str(),
        "--stack-name",
        stack_name.as_str(),
        "--no-color",
    ];
    plan_args.extend(parameter_args.iter().map(String::as_str));
    let plan = audit.chatops("plan", &plan_args);
    assert!(plan.contains("Total over 1 account"), "{plan}");
    plan_args.push("--json");
    let plan = audit.chatops("plan --json", &plan_args);
    for r in &resources {
        assert!(
            plan.contains(&format!("\"{}\"", r.logical_id)),
            "the plan covers {}:\n{plan}",
            r.logical_id
        );
    }

    // Secrets written into the templates themselves, as a careless user would.
    let rotated: Vec<Value> = resources.iter().map(|r| r.rotated.clone()).collect();
    let old_path = audit.input("old-literal.json", &template(&resources, &rotated, false).0);
    let new_path = audit.input("new-literal.json", &template(&resources, &planned, false).0);
    let service_token = format!("ServiceToken={SERVICE_TOKEN}");
    let mut diff_args = vec![
        "diff",
        old_path.as_str(),
        new_path.as_str(),
        "--no-color",
        "-p",
        service_token.as_str(),
    ];
    let diff = audit.chatops("diff", &diff_args);
    for r in &resources {
        if !chatops::registry::write_only_of(r.type_name).is_empty() {
            assert!(
                diff.contains(&r.logical_id),
                "the diff shows the new secret of {}:\n{diff}",
                r.logical_id
            );
        }
    }
    diff_args.push("--json");
    audit.chatops("diff --json", &diff_args);
    let mut validate_args = vec!["validate", next_path.as_str()];
    validate_args.extend(parameter_args.iter().map(String::as_str));
    audit.chatops("validate", &validate_args);
    let mut malformed = planned.clone();
    for (r, props) in resources.iter().zip(malformed.iter_mut()) {
        for secret in chatops::registry::write_only_of(r.type_name) {
            let token = canary("ValidatedSecret");
            audit
                .evidence
                .secret(format!("validated {} {secret}", r.type_name), &token);
            props[*secret] = malformed_secret(secret, &token);
        }
    }
    let (bad_template, bad_parameters) = template(&resources, &malformed, true);
    let bad_path = audit.input("malformed.json", &bad_template);
    let mut validate_args = vec!["validate".to_owned(), bad_path];
    validate_args.extend(
        bad_parameters
            .iter()
            .flat_map(|(k, v)| ["-p".to_owned(), format!("{k}={v}")]),
    );
    let validate_args: Vec<&str> = validate_args.iter().map(String::as_str).collect();
    let validated = audit.chatops("validate (malformed secrets)", &validate_args);
    assert!(validated.contains("WebhookUrl"), "{validated}");

    for r in &resources {
        let mut bad = r.rotated.clone();
        bad["NotAProperty"] = json!("x");
        let mut event = r.stack.create("Invoked", &bad);
        event["ResponseURL"] = json!("http://127.0.0.1:9/never");
        audit.cloud.stage(&event, None).await;
        let path = audit.input(&format!("{}-event.json", r.logical_id), &event);
        let out = audit.chatops(
            &format!("invoke {}", r.type_name),
            &["invoke", "--event", &path, "--no-send"],
        );
        assert!(out.contains("NotAProperty"), "{out}");
    }

    // Delete everything, what lives in a workspace first.
    for r in resources.iter().rev() {
        let deleted = audit
            .send(
                &format!("delete of {}", r.type_name),
                r.stack.delete(&r.logical_id, &r.physical_id, &r.rotated),
                sns_wrapped,
            )
            .await;
        assert_success(&deleted);
    }

    // The member account's session credentials, now that all were issued.
    let sessions: Value = serde_json::from_slice(
        &reqwest::get(format!(
            "{}/_localcloud/sessions?account={account}",
            audit.cloud.endpoint
        ))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap(),
    )
    .unwrap();
    let sessions = sessions["sessions"].as_array().cloned().unwrap_or_default();
    assert!(
        !sessions.is_empty(),
        "the provider assumed the execution role"
    );
    for session in &sessions {
        audit.evidence.secret(
            "a session's secret access key",
            session["secret_access_key"].as_str().unwrap(),
        );
        audit.evidence.secret(
            "a session token",
            session["session_token"].as_str().unwrap(),
        );
    }

    let logs = audit.lambda.logs();
    assert!(logs.contains("\"TRACE\""), "the function logged at TRACE");
    assert!(
        logs.contains("\"request_type\""),
        "the function's request logs were captured"
    );
    audit.evidence.keep("function log", logs);
    let files = audit.evidence.keep_files(&audit.written);
    let evidence = &audit.evidence;
    let responses = evidence
        .captured
        .iter()
        .filter(|(w, _)| w.starts_with("response"))
        .count();
    assert!(
        responses >= 5 * resources.len(),
        "only {responses} responses"
    );
    println!(
        "secret audit: {} types, {} secrets searched in {} captures ({responses} responses, {files} files written)",
        resources.len(),
        evidence.secrets.len(),
        evidence.captured.len()
    );
    // A positive control: the same search finds the secrets in the test's own inputs.
    let mut control = Evidence::default();
    control.keep_files(&audit.inputs);
    control.secrets = evidence.secrets.clone();
    let found = control
        .secrets
        .iter()
        .filter(|(_, s)| {
            control
                .captured
                .iter()
                .any(|(_, text)| text.contains(s.as_str()))
        })
        .count();
    assert!(
        found >= 2,
        "the search finds secrets where they are ({found})"
    );
    evidence.assert_no_secret_anywhere();
    let _ = std::fs::remove_dir_all(&root);
}
