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
        // Not JSON that serde reads (nested too deep, a lone surrogate, cut
        // short...): where to answer may still be there to read.
        reply_to: lenient_reply_to(&Value::Object(top_level_strings(message))),
        error: Error::InvalidRequest(format!(
            "the SNS message is not a JSON request the provider can read: {e}"
        )),
    })?;
    parse_request(request)
}

/// The string members at the top level of the JSON object in `text`, read
/// without building the document: it never recurses (any depth of nesting is
/// skipped over, not parsed) and decodes a lone surrogate escape as U+FFFD,
/// so a message serde refuses still yields where to answer. Reading stops at
/// the first thing that is not JSON; what was read so far is kept.
pub fn top_level_strings(text: &str) -> serde_json::Map<String, Value> {
    let mut members = serde_json::Map::new();
    let mut scan = Scan {
        bytes: text.as_bytes(),
        at: 0,
    };
    if scan.next_token() != Some(b'{') {
        return members;
    }
    scan.at += 1;
    loop {
        match scan.next_token() {
            Some(b',') => scan.at += 1,
            Some(b'"') => {
                let Some(name) = scan.string() else { break };
                if scan.next_token() != Some(b':') {
                    break;
                }
                scan.at += 1;
                if scan.next_token() == Some(b'"') {
                    let Some(value) = scan.string() else { break };
                    members.insert(name, Value::String(value));
                } else if !scan.skip_value() {
                    break;
                }
            }
            _ => break,
        }
    }
    members
}

/// A cursor over JSON text, for [`top_level_strings`].
struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    /// The next byte that is not whitespace, without taking it.
    fn next_token(&mut self) -> Option<u8> {
        while let Some(b) = self.bytes.get(self.at) {
            if !b.is_ascii_whitespace() {
                return Some(*b);
            }
            self.at += 1;
        }
        None
    }

    fn hex4(&self, at: usize) -> Option<u16> {
        let digits = std::str::from_utf8(self.bytes.get(at..at + 4)?).ok()?;
        u16::from_str_radix(digits, 16).ok()
    }

    /// Reads the string that starts at the cursor (a `"`), decoding escapes.
    fn string(&mut self) -> Option<String> {
        let mut out: Vec<u8> = Vec::new();
        self.at += 1;
        loop {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            match b {
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    let escape = *self.bytes.get(self.at)?;
                    self.at += 1;
                    let decoded = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let unit = self.hex4(self.at)?;
                            self.at += 4;
                            let low = (self.bytes.get(self.at..self.at + 2) == Some(&b"\\u"[..]))
                                .then(|| self.hex4(self.at + 2))
                                .flatten()
                                .filter(|low| (0xDC00..0xE000).contains(low));
                            match (unit, low) {
                                (0xD800..0xDC00, Some(low)) => {
                                    self.at += 6;
                                    let code = 0x10000
                                        + ((u32::from(unit) - 0xD800) << 10)
                                        + (u32::from(low) - 0xDC00);
                                    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                                }
                                _ => char::from_u32(u32::from(unit))
                                    .unwrap_or(char::REPLACEMENT_CHARACTER),
                            }
                        }
                        _ => return None,
                    };
                    out.extend_from_slice(decoded.encode_utf8(&mut [0; 4]).as_bytes());
                }
                _ => out.push(b),
            }
        }
    }

    /// Skips the value at the cursor, however deeply nested, with a counter
    /// instead of recursion; false when the text ends first.
    fn skip_value(&mut self) -> bool {
        let mut depth = 0usize;
        loop {
            let Some(b) = self.next_token() else {
                return false;
            };
            match b {
                b'"' => {
                    if self.string().is_none() {
                        return false;
                    }
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    self.at += 1;
                    if depth == 0 {
                        return true;
                    }
                }
                b',' | b'}' | b']' if depth == 0 => return true,
                _ => self.at += 1,
            }
        }
    }
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

    fn sns(message: String) -> Value {
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": message}}]})
    }

    #[test]
    fn a_message_nested_too_deep_for_serde_still_says_where_to_answer() {
        let mut event = create();
        event.as_object_mut().unwrap().remove("ResourceProperties");
        let text = event.to_string();
        let nested = format!(
            "{},\"ResourceProperties\":{}{}}}",
            &text[..text.len() - 1],
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(
            serde_json::from_str::<Value>(&nested).is_err(),
            "serde reads it"
        );
        let err = requests_in(sns(nested)).pop().unwrap().unwrap_err();
        let reply_to = err.reply_to.expect("where to answer");
        assert_eq!(reply_to.response_url, "http://127.0.0.1:1/r");
        assert_eq!(reply_to.request_id, "req-1");
        assert_eq!(reply_to.logical_resource_id, "Alerts");
        assert!(reply_to.stack_id.ends_with(":stack/app/1"));
        // Any depth: the scan keeps no stack.
        let deep = format!(
            "{{\"Deep\":{}{},\"ResponseURL\":\"u\"}}",
            "{\"a\":[".repeat(100_000),
            "]}".repeat(100_000)
        );
        assert_eq!(top_level_strings(&deep)["ResponseURL"], "u");
    }

    #[test]
    fn a_message_with_a_lone_surrogate_still_says_where_to_answer() {
        let text = create()
            .to_string()
            .replace("\"Alerts\"", "\"Alerts\\ud800\"")
            .replace("\"req-1\"", "\"req-\\ud83d\\ude00\"");
        assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "serde reads it"
        );
        let err = requests_in(sns(text)).pop().unwrap().unwrap_err();
        let reply_to = err.reply_to.expect("where to answer");
        assert_eq!(reply_to.response_url, "http://127.0.0.1:1/r");
        assert_eq!(reply_to.logical_resource_id, "Alerts\u{fffd}");
        assert_eq!(reply_to.request_id, "req-\u{1f600}");
        assert_eq!(
            reply_to.physical_resource_id, None,
            "a Create never answers an id it carries"
        );
    }

    proptest::proptest! {
        /// On JSON serde writes, the scan reads exactly the top-level strings serde reads.
        #[test]
        fn the_scan_agrees_with_serde_on_valid_json(
            strings in proptest::collection::btree_map(".*", ".*", 0..6),
            others in proptest::collection::btree_map("[a-z]{1,3}", proptest::prelude::any::<i64>(), 0..3),
        ) {
            let mut object = serde_json::Map::new();
            for (name, value) in &strings {
                object.insert(name.clone(), json!(value));
            }
            for (name, number) in &others {
                object.entry(name.clone()).or_insert(json!([{"n": number}, [number], null]));
            }
            let text = Value::Object(object.clone()).to_string();
            let expected: serde_json::Map<String, Value> =
                object.into_iter().filter(|(_, v)| v.is_string()).collect();
            proptest::prop_assert_eq!(top_level_strings(&text), expected);
        }

        /// Any text at all: never a panic.
        #[test]
        fn the_scan_never_panics(text in ".*") {
            let _ = top_level_strings(&text);
            let _ = top_level_strings(&format!("{{\"a\":{text}"));
        }
    }

    #[test]
    fn the_scan_reads_what_it_can_and_stops_at_garbage() {
        let members = top_level_strings(
            r#" { "A" : "x\"y\n" , "N": -1.5e3, "T": true, "O": {"B": "no"}, "C": "z", oops "D": "never" "#,
        );
        assert_eq!(members["A"], "x\"y\n");
        assert_eq!(members["C"], "z");
        assert!(!members.contains_key("B") && !members.contains_key("D"));
        assert!(top_level_strings("[\"ResponseURL\"]").is_empty());
        assert!(top_level_strings("").is_empty());
        assert!(top_level_strings("{\"ResponseURL\": \"cut").is_empty());
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
