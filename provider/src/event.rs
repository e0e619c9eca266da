//! Incoming events: a CloudFormation custom resource request, sent directly
//! (Lambda ServiceToken) or wrapped in SNS (an SNS topic ServiceToken).

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest;
use serde_json::Value;

use crate::error::Error;

/// The kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Create a resource.
    Create,
    /// Update a resource.
    Update,
    /// Delete a resource.
    Delete,
}

/// Where and how to answer a request: what every response repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyTo {
    /// The pre-signed URL the response is PUT to.
    pub response_url: String,
    /// The stack.
    pub stack_id: String,
    /// The request.
    pub request_id: String,
    /// The resource's logical id.
    pub logical_resource_id: String,
    /// The resource's physical id (Update and Delete).
    pub physical_resource_id: Option<String>,
}

/// One custom resource request, its properties still raw JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Create, Update or Delete.
    pub kind: RequestKind,
    /// Where to answer.
    pub reply_to: ReplyTo,
    /// The `Custom::` type.
    pub resource_type: String,
    /// ResourceProperties, without ServiceToken.
    pub properties: Value,
    /// OldResourceProperties (Update), without ServiceToken.
    pub old_properties: Option<Value>,
}

/// A request that could not be read, with whatever is known of where to answer.
#[derive(Debug)]
pub struct Unreadable {
    /// Where to answer, when the event has at least a ResponseURL.
    pub reply_to: Option<Box<ReplyTo>>,
    /// Why it could not be read.
    pub error: Error,
}

/// The requests in a Lambda event: one for a direct invocation, one per record for SNS.
pub fn requests_in(event: Value) -> Vec<Result<Request, Unreadable>> {
    match event.get("Records").and_then(Value::as_array) {
        Some(records) => records.iter().map(request_in_record).collect(),
        None => vec![parse_request(event)],
    }
}

/// SNS delivers the request as a JSON string in `Sns.Message`; only that is read,
/// so the envelope's other fields do not matter.
fn request_in_record(record: &Value) -> Result<Request, Unreadable> {
    let message = record
        .pointer("/Sns/Message")
        .and_then(Value::as_str)
        .ok_or_else(|| Unreadable {
            reply_to: None,
            error: Error::InvalidRequest("an SNS record without Sns.Message".into()),
        })?;
    let request: Value = serde_json::from_str(message).map_err(|e| Unreadable {
        reply_to: None,
        error: Error::InvalidRequest(format!("the SNS message is not JSON: {e}")),
    })?;
    parse_request(request)
}

/// Reads one request; a malformed one still yields where to answer if it can.
pub fn parse_request(raw: Value) -> Result<Request, Unreadable> {
    let reply_to = lenient_reply_to(&raw);
    let parsed: CloudFormationCustomResourceRequest =
        serde_json::from_value(raw).map_err(|e| Unreadable {
            reply_to: reply_to.clone(),
            error: Error::InvalidRequest(format!(
                "not a CloudFormation custom resource request: {e}"
            )),
        })?;
    let (kind, reply_to, resource_type, properties, old_properties) = match parsed {
        CloudFormationCustomResourceRequest::Create(r) => (
            RequestKind::Create,
            ReplyTo {
                response_url: r.response_url,
                stack_id: r.stack_id,
                request_id: r.request_id,
                logical_resource_id: r.logical_resource_id,
                physical_resource_id: None,
            },
            r.resource_type,
            r.resource_properties,
            None,
        ),
        CloudFormationCustomResourceRequest::Update(r) => (
            RequestKind::Update,
            ReplyTo {
                response_url: r.response_url,
                stack_id: r.stack_id,
                request_id: r.request_id,
                logical_resource_id: r.logical_resource_id,
                physical_resource_id: Some(r.physical_resource_id),
            },
            r.resource_type,
            r.resource_properties,
            Some(r.old_resource_properties),
        ),
        CloudFormationCustomResourceRequest::Delete(r) => (
            RequestKind::Delete,
            ReplyTo {
                response_url: r.response_url,
                stack_id: r.stack_id,
                request_id: r.request_id,
                logical_resource_id: r.logical_resource_id,
                physical_resource_id: Some(r.physical_resource_id),
            },
            r.resource_type,
            r.resource_properties,
            None,
        ),
        _ => {
            return Err(Unreadable {
                reply_to,
                error: Error::InvalidRequest("unknown RequestType".into()),
            });
        }
    };
    Ok(Request {
        kind,
        reply_to,
        resource_type,
        properties: without_service_token(properties),
        old_properties: old_properties.map(without_service_token),
    })
}

fn without_service_token(mut properties: Value) -> Value {
    if properties.is_null() {
        return Value::Object(Default::default());
    }
    if let Some(map) = properties.as_object_mut() {
        map.remove("ServiceToken");
    }
    properties
}

fn lenient_reply_to(raw: &Value) -> Option<Box<ReplyTo>> {
    let text = |name: &str| raw.get(name).and_then(Value::as_str).map(str::to_owned);
    // A Create has no id of its own: answering one it carries would have
    // CloudFormation delete that resource when it cleans up the failed Create.
    let is_create = !matches!(text("RequestType").as_deref(), Some("Update" | "Delete"));
    Some(Box::new(ReplyTo {
        response_url: text("ResponseURL")?,
        stack_id: text("StackId").unwrap_or_default(),
        request_id: text("RequestId").unwrap_or_default(),
        logical_resource_id: text("LogicalResourceId").unwrap_or_default(),
        physical_resource_id: text("PhysicalResourceId").filter(|_| !is_create),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create() -> Value {
        json!({
            "RequestType": "Create",
            "ServiceToken": "arn:aws:sns:us-east-1:123456789012:chatops",
            "ResponseURL": "http://127.0.0.1:1/r",
            "StackId": "arn:aws:cloudformation:us-east-1:100000000001:stack/app/1",
            "RequestId": "req-1",
            "ResourceType": "Custom::ChatbotSlackChannel",
            "LogicalResourceId": "Alerts",
            "ResourceProperties": {"ServiceToken": "arn:aws:sns:us-east-1:123456789012:chatops", "ConfigurationName": "a"}
        })
    }

    #[test]
    fn direct_and_sns_wrapped_events_read_the_same() {
        let direct = requests_in(create()).pop().unwrap().unwrap();
        let wrapped = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": create().to_string()}}]});
        let via_sns = requests_in(wrapped).pop().unwrap().unwrap();
        assert_eq!(direct, via_sns);
        assert_eq!(direct.kind, RequestKind::Create);
        assert_eq!(direct.properties, json!({"ConfigurationName": "a"}));
    }

    #[test]
    fn a_malformed_create_never_answers_an_id_it_carries() {
        let mut event = create();
        event["PhysicalResourceId"] =
            json!("arn:aws:chatbot::100000000001:chat-configuration/slack-channel/theirs");
        event.as_object_mut().unwrap().remove("ResourceProperties");
        let err = requests_in(event.clone()).pop().unwrap().unwrap_err();
        assert_eq!(err.reply_to.unwrap().physical_resource_id, None);
        event["RequestType"] = json!("Delete");
        let err = requests_in(event).pop().unwrap().unwrap_err();
        assert!(err.reply_to.unwrap().physical_resource_id.is_some());
    }

    #[test]
    fn a_malformed_request_still_says_where_to_answer() {
        let mut event = create();
        event.as_object_mut().unwrap().remove("StackId");
        let err = requests_in(event).pop().unwrap().unwrap_err();
        assert_eq!(err.reply_to.unwrap().response_url, "http://127.0.0.1:1/r");
        assert!(err.error.to_string().contains("StackId"), "{}", err.error);
    }
}
