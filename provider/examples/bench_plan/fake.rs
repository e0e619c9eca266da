//! An in-process fake of the services a plan calls (Organizations, STS,
//! AWS Chatbot), behind the AWS SDK's HTTP client interface: every call
//! sleeps the given latency, then answers canned JSON or XML for the
//! operation, routed on X-Amz-Target, the query Action or the REST path;
//! reads it has no data for (other resource types) find nothing.
//! The plan code runs against it unchanged.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

/// The fake services: the live configurations of each account, the latency
/// of every call, and a count of calls by operation.
#[derive(Debug, Clone)]
pub struct FakeCloud {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    latency: Duration,
    configurations: HashMap<String, Vec<Value>>,
    calls: AtomicU64,
    by_operation: std::sync::Mutex<HashMap<String, u64>>,
}

impl FakeCloud {
    /// A cloud where every call takes `latency`; `configurations` are each
    /// account's Slack channel configurations as DescribeSlackChannelConfigurations
    /// returns them (with a `Tags` list of {TagKey, TagValue}).
    pub fn new(latency: Duration, configurations: HashMap<String, Vec<Value>>) -> Self {
        FakeCloud {
            inner: Arc::new(Inner {
                latency,
                configurations,
                calls: AtomicU64::new(0),
                by_operation: Default::default(),
            }),
        }
    }

    /// Calls answered so far.
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// Calls answered so far, by operation.
    pub fn calls_by_operation(&self) -> Vec<(String, u64)> {
        let mut counts: Vec<(String, u64)> = self
            .inner
            .by_operation
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        counts.sort();
        counts
    }
}

impl HttpClient for FakeCloud {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for FakeCloud {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            tokio::time::sleep(inner.latency).await;
            let (operation, status, content_type, body) = answer(&inner, &request);
            inner.calls.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut counts) = inner.by_operation.lock() {
                *counts.entry(operation).or_default() += 1;
            }
            let status =
                StatusCode::try_from(status).map_err(|e| ConnectorError::other(e.into(), None))?;
            let mut response = HttpResponse::new(status, SdkBody::from(body));
            response.headers_mut().insert("content-type", content_type);
            Ok(response)
        })
    }
}

/// The account whose assumed-role keys signed `request`: the fake's STS
/// issues `ASIA<account>` access keys.
fn signing_account(request: &HttpRequest) -> Option<String> {
    let authorization = request.headers().get("authorization")?;
    let credential = authorization.split("Credential=").nth(1)?;
    let key = credential.split('/').next()?;
    key.strip_prefix("ASIA").map(str::to_owned)
}

fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn answer(inner: &Inner, request: &HttpRequest) -> (String, u16, &'static str, String) {
    let body = request
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    if let Some(target) = request.headers().get("x-amz-target") {
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        let json_body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let answer = match operation.as_str() {
            "DescribeAccount" => {
                let id = json_body["AccountId"].as_str().unwrap_or_default();
                json!({"Account": {"Id": id, "Arn": format!("arn:aws:organizations::123456789012:account/o-bench/{id}"),
                                    "Name": id, "Email": format!("{id}@example.com"), "Status": "ACTIVE"}})
            }
            // Any other read (the list operations of other types) finds nothing.
            _ => json!({}),
        };
        return (
            operation,
            200,
            "application/x-amz-json-1.1",
            answer.to_string(),
        );
    }
    if let Some(action) = form_value(&body, "Action") {
        if action == "AssumeRole" {
            let role = form_value(&body, "RoleArn").unwrap_or_default();
            let account = role.split(':').nth(4).unwrap_or_default().to_owned();
            let xml = format!(
                "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
                 <Credentials><AccessKeyId>ASIA{account}</AccessKeyId><SecretAccessKey>fake-secret</SecretAccessKey>\
                 <SessionToken>fake-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
                 <AssumedRoleUser><AssumedRoleId>AROAFAKE:bench</AssumedRoleId><Arn>{role}</Arn></AssumedRoleUser>\
                 </AssumeRoleResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></AssumeRoleResponse>"
            );
            return (action, 200, "text/xml", xml);
        }
        return (
            action,
            400,
            "text/xml",
            "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>".into(),
        );
    }
    let account = signing_account(request).unwrap_or_default();
    let configurations = inner
        .configurations
        .get(&account)
        .cloned()
        .unwrap_or_default();
    let path = request.uri().split('?').next().unwrap_or_default();
    let path = path.rsplit('/').next().unwrap_or_default().to_owned();
    match path.as_str() {
        "describe-slack-channel-configurations" => {
            let listed: Vec<Value> = configurations
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    if let Some(map) = c.as_object_mut() {
                        map.remove("Tags");
                    }
                    c
                })
                .collect();
            (
                path,
                200,
                "application/json",
                json!({"SlackChannelConfigurations": listed}).to_string(),
            )
        }
        "list-tags-for-resource" => {
            let json_body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let arn = json_body["ResourceARN"].as_str().unwrap_or_default();
            let tags = configurations
                .iter()
                .find(|c| c["ChatConfigurationArn"] == arn)
                .map(|c| c["Tags"].clone())
                .unwrap_or_else(|| json!([]));
            (
                path,
                200,
                "application/json",
                json!({"Tags": tags}).to_string(),
            )
        }
        // Any other read (the list operations of other types) finds nothing.
        _ => (path, 200, "application/json", json!({}).to_string()),
    }
}
