//! The local cloud (moto with chatbot and supportapp) for the end-to-end tests:
//! one server per test binary, started on first use, stopped when the test
//! process exits.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// A running local cloud and what it seeded.
pub struct LocalCloud {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The seed description that `localcloud/serve` printed.
    pub seed: Value,
    _server: Mutex<Child>,
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("provider/ has a parent")
        .to_path_buf()
}

/// The shared local cloud, started on first use.
pub fn cloud() -> &'static LocalCloud {
    static CLOUD: OnceLock<LocalCloud> = OnceLock::new();
    CLOUD.get_or_init(|| LocalCloud::start(None))
}

impl LocalCloud {
    /// Starts `localcloud/serve` on a free port, with `seed` or the default seed.
    ///
    /// The server runs under a small shell that kills it when our end of its
    /// stdin closes, which happens however the test process ends.
    pub fn start(seed: Option<&Path>) -> LocalCloud {
        let serve = repo_root().join("localcloud/serve");
        let mut args = vec!["--port".to_owned(), "0".to_owned()];
        if let Some(seed) = seed {
            args.push("--seed".to_owned());
            args.push(seed.display().to_string());
        }
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(r#""$0" "$@" </dev/null & server=$!; cat >/dev/null; kill $server 2>/dev/null; wait $server"#)
            .arg(&serve)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e} (run `make setup` first)", serve.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the local cloud's ready line");
        let seed: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!("the local cloud did not start ({e}): {line:?}; run `make setup`")
        });
        let endpoint = seed["endpoint"]
            .as_str()
            .expect("endpoint in the ready line")
            .to_owned();
        LocalCloud {
            endpoint,
            seed,
            _server: Mutex::new(child),
        }
    }

    /// The seeded member account ids.
    pub fn members(&self) -> Vec<String> {
        self.seed["member_accounts"]
            .as_array()
            .expect("member_accounts")
            .iter()
            .map(|a| a.as_str().expect("account id").to_owned())
            .collect()
    }

    /// The seeded description of `account`.
    pub fn account(&self, account: &str) -> &Value {
        self.seed["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["id"] == account)
            .unwrap_or_else(|| panic!("account {account} is not seeded"))
    }

    /// The environment that points the provider at this cloud as Lambda runs
    /// it: in the management account, with a session of the provider's role
    /// (cfn-templates/provider.yaml), whose policies the cloud enforces;
    /// responses may go to this cloud's origin (its pre-signed ResponseURLs).
    pub fn provider_env(&self) -> Vec<(String, String)> {
        let credentials = &self.seed["provider_credentials"];
        let field = |name: &str| credentials[name].as_str().unwrap_or_default();
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("CHATOPS_LOCAL_RESPONSE_ORIGIN", self.endpoint.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", field("access_key_id")),
            ("AWS_SECRET_ACCESS_KEY", field("secret_access_key")),
            ("AWS_SESSION_TOKEN", field("session_token")),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            (
                "CHATOPS_EXTERNAL_ID",
                self.seed["external_id"].as_str().unwrap_or_default(),
            ),
            (
                "CHATOPS_EXECUTION_ROLE_NAME",
                self.seed["execution_role_name"]
                    .as_str()
                    .unwrap_or_default(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The environment of a reviewer running `chatops plan`: the seeded
    /// planner role's session (provider.yaml's PlannerPolicy) in the
    /// management account, reaching member accounts through member-role.yaml's
    /// plan role (CHATOPS_PLAN_ROLE_NAME).
    pub fn planner_env(&self) -> Vec<(String, String)> {
        let credentials = &self.seed["planner_credentials"];
        let field = |name: &str| credentials[name].as_str().unwrap_or_default();
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", field("access_key_id")),
            ("AWS_SECRET_ACCESS_KEY", field("secret_access_key")),
            ("AWS_SESSION_TOKEN", field("session_token")),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            (
                "CHATOPS_PLAN_ROLE_NAME",
                self.seed["plan_role_name"].as_str().unwrap_or_default(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// A fresh pre-signed ResponseURL into the cloud's S3, and the key to read it back.
    pub async fn response_url(&self) -> (String, String) {
        let body = http()
            .post(format!("{}/_localcloud/response-url", self.endpoint))
            .send()
            .await
            .expect("response-url")
            .bytes()
            .await
            .expect("response-url body");
        let answer: Value = serde_json::from_slice(&body).expect("response-url JSON");
        (
            answer["url"].as_str().expect("url").to_owned(),
            answer["key"].as_str().expect("key").to_owned(),
        )
    }

    /// The response CloudFormation would have received under `key`, waiting up to 30 s for it.
    pub async fn response(&self, key: &str) -> Value {
        for _ in 0..300 {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("key", key)
                .finish();
            let answer = http()
                .get(format!("{}/_localcloud/response?{query}", self.endpoint))
                .send()
                .await
                .expect("reading a response");
            if answer.status().is_success() {
                let body = answer.bytes().await.expect("response body");
                assert!(body.len() <= 4096, "a response of {} bytes", body.len());
                return serde_json::from_slice(&body).unwrap_or_else(|e| {
                    panic!(
                        "the response is not JSON ({e}): {}",
                        String::from_utf8_lossy(&body)
                    )
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no response arrived under {key}");
    }

    /// Makes CloudFormation's state in the local cloud what it is while
    /// CloudFormation sends `request` (the stack exists, the resource is in
    /// progress), so that the provider's verification confirms a request a
    /// test made by hand. `phase` is `cleanup`, `rollback` or `stack-delete`
    /// for a Delete sent in that phase.
    pub async fn stage(&self, request: &Value, phase: Option<&str>) {
        let mut spec = serde_json::json!({ "request": request });
        if let Some(phase) = phase {
            spec["phase"] = Value::from(phase);
        }
        let answer = http()
            .post(format!(
                "{}/_localcloud/cloudformation/stage",
                self.endpoint
            ))
            .body(spec.to_string())
            .send()
            .await
            .expect("staging a CloudFormation request");
        assert!(
            answer.status().is_success(),
            "stage refused: {}",
            answer.text().await.unwrap_or_default()
        );
    }

    /// Injects a fault (see localcloud's fault API).
    pub async fn inject(&self, fault: Value) {
        let answer = http()
            .post(format!("{}/_localcloud/faults", self.endpoint))
            .body(fault.to_string())
            .send()
            .await
            .expect("injecting a fault");
        assert!(
            answer.status().is_success(),
            "fault refused: {}",
            answer.text().await.unwrap_or_default()
        );
    }

    /// The faults still active, with how often each fired (and per operation).
    pub async fn faults(&self) -> Vec<Value> {
        let body = http()
            .get(format!("{}/_localcloud/faults", self.endpoint))
            .send()
            .await
            .expect("listing faults")
            .bytes()
            .await
            .expect("faults body");
        let answer: Value = serde_json::from_slice(&body).expect("faults JSON");
        answer["faults"].as_array().cloned().unwrap_or_default()
    }

    /// Clears every fault.
    pub async fn clear_faults(&self) {
        let answer = http()
            .delete(format!("{}/_localcloud/faults", self.endpoint))
            .send()
            .await
            .expect("clearing faults");
        assert!(answer.status().is_success(), "faults not cleared");
    }

    /// An SDK configuration acting in `account` as an administrator, through
    /// Organizations' OrganizationAccountAccessRole (the tests' view of an
    /// account, not limited by the provider's policies).
    pub async fn sdk_config_for(&self, account: &str) -> aws_config::SdkConfig {
        let base = self.sdk_config().await;
        let role = format!(
            "arn:aws:iam::{account}:role/{}",
            self.seed["organization_access_role_name"]
                .as_str()
                .unwrap_or_default()
        );
        let assumed = aws_sdk_sts::Client::new(&base)
            .assume_role()
            .role_arn(role)
            .role_session_name("e2e-test")
            .send()
            .await
            .expect("assuming OrganizationAccountAccessRole");
        let c = assumed.credentials().expect("credentials");
        let credentials = aws_sdk_sts::config::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "e2e",
        );
        base.to_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                credentials,
            ))
            .build()
    }

    /// A Chatbot client acting in `account`, in us-east-2: the Chatbot API has
    /// no us-east-1 endpoint, and its configurations are global.
    pub async fn chatbot(&self, account: &str) -> aws_sdk_chatbot::Client {
        let config = self.sdk_config_for(account).await;
        aws_sdk_chatbot::Client::from_conf(
            aws_sdk_chatbot::config::Builder::from(&config)
                .region(aws_config::Region::new("us-east-2"))
                .build(),
        )
    }

    /// An SDK configuration acting as the management account.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let credentials =
            aws_sdk_sts::config::Credentials::new("testing", "testing", None, None, "e2e");
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .load()
            .await
    }

    /// The console step that has no API: authorizes Slack workspace `team_id`
    /// in `account` for `service` (`chatbot` or `supportapp`); for the
    /// Support App, `for_organization` also shares it with the organization.
    pub async fn authorize_slack(
        &self,
        service: &str,
        account: &str,
        team_id: &str,
        for_organization: bool,
    ) {
        let spec = serde_json::json!({
            "service": service,
            "account": account,
            "team_id": team_id,
            "for_organization": for_organization,
        });
        let answer = http()
            .post(format!("{}/_localcloud/slack-authorize", self.endpoint))
            .body(spec.to_string())
            .send()
            .await
            .expect("authorizing a Slack workspace");
        assert!(
            answer.status().is_success(),
            "slack-authorize refused: {}",
            answer.text().await.unwrap_or_default()
        );
    }
}

impl LocalCloud {
    /// POSTs `spec` to control endpoint `route` (such as `teams-configure`,
    /// localcloud/README.md) and expects it accepted.
    pub async fn control(&self, route: &str, spec: &Value) {
        let answer = http()
            .post(format!("{}/_localcloud/{route}", self.endpoint))
            .body(spec.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {route}: {e}"));
        assert!(
            answer.status().is_success(),
            "{route} refused: {}",
            answer.text().await.unwrap_or_default()
        );
    }
}

/// A client per call: each `#[tokio::test]` has its own runtime, and a pooled
/// connection must not outlive the runtime that made it.
fn http() -> reqwest::Client {
    reqwest::Client::new()
}
