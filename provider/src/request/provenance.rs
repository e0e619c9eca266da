//! Provenance: the provider acts only on requests that CloudFormation itself
//! is sending.
//!
//! Every principal of the organization may publish to the provider's topic,
//! and an SNS message is whatever its publisher wrote, so each field of a
//! request is a claim. Before anything changes, the provider asks
//! CloudFormation in the StackId's account and region (through the execution
//! role) whether that stack is, right now, doing what the request says:
//!
//! | request | what CloudFormation must show (DescribeStackResource) |
//! |---|---|
//! | Create | the logical resource, of the request's type, `CREATE_IN_PROGRESS` |
//! | Update | `UPDATE_IN_PROGRESS` with the request's PhysicalResourceId (also an update rollback) |
//! | Delete | `DELETE_IN_PROGRESS` with the request's PhysicalResourceId (stack deletion, create rollback) |
//! | Delete in a cleanup | the stack `…_CLEANUP_IN_PROGRESS` and, among the current operation's events, `DELETE_IN_PROGRESS` of that logical id with the request's PhysicalResourceId |
//!
//! Sources: "Custom resources" and "Stack status codes" / "Resource status
//! codes" in the CloudFormation User Guide; in a cleanup phase CloudFormation
//! deletes the replaced physical resource while the logical resource already
//! names the new one (docs/provenance.md).

use std::time::Duration;

use aws_sdk_cloudformation::types::StackEvent;
use tokio::time::Instant;

use crate::accounts::{Accounts, StackArn, Target};
use crate::error::{Error, Result};
use crate::request::event::{Request, RequestKind};

/// How long a state that does not match yet is asked again: CloudFormation's
/// view may lag its own request by a moment.
const SETTLE_TIME: Duration = Duration::from_secs(6);
const SETTLE_INTERVAL: Duration = Duration::from_secs(1);
/// Event pages read at most to find the current operation's delete event.
const MAX_EVENT_PAGES: usize = 5;

/// What CloudFormation shows of the request's logical resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceView {
    /// The StackId CloudFormation answered for.
    pub stack_id: String,
    /// The resource type.
    pub resource_type: String,
    /// The resource status, such as `CREATE_IN_PROGRESS`.
    pub status: String,
    /// The physical id, none while a custom resource is being created.
    pub physical_id: Option<String>,
}

/// What CloudFormation shows of the whole stack, read only for a Delete that
/// the resource's own status does not explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupView {
    /// The stack status, such as `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`.
    pub stack_status: String,
    /// The current operation has a `DELETE_IN_PROGRESS` event for the
    /// request's logical and physical id.
    pub deleting_this_id: bool,
}

/// Asks CloudFormation whether `request` is real; `Err(Error::Unverified)`
/// when it is not, after giving a lagging view a few seconds to catch up.
pub async fn verify(accounts: &Accounts, request: &Request) -> Result<()> {
    let stack = StackArn::parse(&request.reply_to.stack_id)?;
    let target = Target {
        account_id: stack.account_id.clone(),
        region: stack.region.clone(),
        partition: stack.partition.clone(),
    };
    let cloudformation = accounts
        .cloudformation_in(&target, &format!("{}-verify", stack.name))
        .await
        .map_err(|e| unverified(format!("the stack's account {}: {e}", stack.account_id)))?;
    let started = Instant::now();
    loop {
        let mismatch = match observe(&cloudformation, request).await? {
            Observed::Resource(view) => {
                let cleanup = if needs_cleanup_view(request, &view) {
                    Some(cleanup_view(&cloudformation, request).await?)
                } else {
                    None
                };
                match judge(request, &view, cleanup.as_ref()) {
                    Ok(()) => return Ok(()),
                    Err(mismatch) => mismatch,
                }
            }
            Observed::Missing(why) => why,
        };
        if started.elapsed() + SETTLE_INTERVAL > SETTLE_TIME {
            tracing::warn!(%mismatch, "request not confirmed by CloudFormation");
            return Err(unverified(mismatch));
        }
        tokio::time::sleep(SETTLE_INTERVAL).await;
    }
}

fn unverified(reason: String) -> Error {
    Error::Unverified(format!(
        "{reason}; nothing was changed (the provider acts only on requests CloudFormation is sending)"
    ))
}

/// A CloudFormation read that failed (after the SDK's retries): the request
/// stays unverified, with what the service said.
fn failed_read<E>(
    operation: &'static str,
    stack_id: &str,
    error: aws_sdk_sts::error::SdkError<E>,
) -> Error
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    unverified(Error::from_sdk("cloudformation", operation, stack_id, error).to_string())
}

enum Observed {
    Resource(ResourceView),
    /// The stack or the logical resource does not exist (CloudFormation's words).
    Missing(String),
}

async fn observe(
    cloudformation: &aws_sdk_cloudformation::Client,
    request: &Request,
) -> Result<Observed> {
    let reply_to = &request.reply_to;
    let answer = cloudformation
        .describe_stack_resource()
        .stack_name(&reply_to.stack_id)
        .logical_resource_id(&reply_to.logical_resource_id)
        .send()
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        // CloudFormation answers an unknown stack or logical id with ValidationError.
        Err(e) if aws_sdk_sts::error::ProvideErrorMetadata::code(&e) == Some("ValidationError") => {
            let message = aws_sdk_sts::error::ProvideErrorMetadata::message(&e)
                .unwrap_or("no such stack or resource")
                .to_owned();
            return Ok(Observed::Missing(format!(
                "CloudFormation does not know resource {} of stack {}: {message}",
                reply_to.logical_resource_id, reply_to.stack_id
            )));
        }
        Err(e) => return Err(failed_read("DescribeStackResource", &reply_to.stack_id, e)),
    };
    let Some(detail) = answer.stack_resource_detail() else {
        return Ok(Observed::Missing(
            "CloudFormation answered DescribeStackResource without the resource".into(),
        ));
    };
    Ok(Observed::Resource(ResourceView {
        stack_id: detail.stack_id().unwrap_or_default().to_owned(),
        resource_type: detail.resource_type().unwrap_or_default().to_owned(),
        status: detail
            .resource_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        physical_id: detail
            .physical_resource_id()
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
    }))
}

/// A Delete whose logical resource is not itself being deleted may be the
/// cleanup of a replaced (or rolled back) physical id.
fn needs_cleanup_view(request: &Request, view: &ResourceView) -> bool {
    request.kind == RequestKind::Delete
        && !(view.status == "DELETE_IN_PROGRESS"
            && view.physical_id == request.reply_to.physical_resource_id)
}

async fn cleanup_view(
    cloudformation: &aws_sdk_cloudformation::Client,
    request: &Request,
) -> Result<CleanupView> {
    let reply_to = &request.reply_to;
    let stacks = cloudformation
        .describe_stacks()
        .stack_name(&reply_to.stack_id)
        .send()
        .await
        .map_err(|e| failed_read("DescribeStacks", &reply_to.stack_id, e))?;
    let Some(stack) = stacks.stacks().first() else {
        return Ok(CleanupView {
            stack_status: "(no such stack)".into(),
            deleting_this_id: false,
        });
    };
    let stack_status = stack
        .stack_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if !stack_status.ends_with("_CLEANUP_IN_PROGRESS") {
        return Ok(CleanupView {
            stack_status,
            deleting_this_id: false,
        });
    }
    // Only the current operation's events count: an old cleanup's event must
    // not vouch for a Delete of an id that was made again since.
    let operation_started = stack.last_updated_time().or(stack.creation_time()).cloned();
    let mut next_token = None;
    for _ in 0..MAX_EVENT_PAGES {
        let page = cloudformation
            .describe_stack_events()
            .stack_name(&reply_to.stack_id)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| failed_read("DescribeStackEvents", &reply_to.stack_id, e))?;
        let events = page.stack_events();
        if events.iter().any(|event| is_delete_of(event, request)) {
            return Ok(CleanupView {
                stack_status,
                deleting_this_id: true,
            });
        }
        // Events come newest first: past the operation's start, stop.
        let older_than_operation = events.last().is_some_and(|event| {
            matches!((event.timestamp(), &operation_started), (Some(at), Some(start)) if at < start)
        });
        match page.next_token() {
            Some(token) if !older_than_operation => next_token = Some(token.to_owned()),
            _ => break,
        }
    }
    Ok(CleanupView {
        stack_status,
        deleting_this_id: false,
    })
}

fn is_delete_of(event: &StackEvent, request: &Request) -> bool {
    event.logical_resource_id() == Some(request.reply_to.logical_resource_id.as_str())
        && event.physical_resource_id() == request.reply_to.physical_resource_id.as_deref()
        && event.resource_type() == Some(request.resource_type.as_str())
        && event
            .resource_status()
            .is_some_and(|s| s.as_str() == "DELETE_IN_PROGRESS")
}

/// Whether CloudFormation's view confirms `request`; the mismatch otherwise.
pub fn judge(
    request: &Request,
    view: &ResourceView,
    cleanup: Option<&CleanupView>,
) -> std::result::Result<(), String> {
    let reply_to = &request.reply_to;
    if view.stack_id != reply_to.stack_id {
        return Err(format!(
            "CloudFormation answered for stack {}, not {}",
            view.stack_id, reply_to.stack_id
        ));
    }
    if view.resource_type != request.resource_type {
        return Err(format!(
            "resource {} of stack {} is a {}, not a {}",
            reply_to.logical_resource_id,
            reply_to.stack_id,
            view.resource_type,
            request.resource_type
        ));
    }
    let same_id = view.physical_id == reply_to.physical_resource_id;
    let confirmed = match request.kind {
        RequestKind::Create => view.status == "CREATE_IN_PROGRESS",
        RequestKind::Update => view.status == "UPDATE_IN_PROGRESS" && same_id,
        RequestKind::Delete => {
            (view.status == "DELETE_IN_PROGRESS" && same_id)
                || cleanup.is_some_and(|c| c.deleting_this_id)
        }
    };
    if confirmed {
        return Ok(());
    }
    let expected = match request.kind {
        RequestKind::Create => "CREATE_IN_PROGRESS".to_owned(),
        RequestKind::Update => format!(
            "UPDATE_IN_PROGRESS with physical id {}",
            reply_to.physical_resource_id.as_deref().unwrap_or("(none)")
        ),
        RequestKind::Delete => format!(
            "DELETE_IN_PROGRESS with physical id {}, or a cleanup deleting that id",
            reply_to.physical_resource_id.as_deref().unwrap_or("(none)")
        ),
    };
    let stack_note = cleanup
        .map(|c| format!(" (stack {})", c.stack_status))
        .unwrap_or_default();
    Err(format!(
        "CloudFormation shows resource {} of stack {} as {} with physical id {}{stack_note}, not {expected}",
        reply_to.logical_resource_id,
        reply_to.stack_id,
        view.status,
        view.physical_id.as_deref().unwrap_or("(none)"),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::request::event::ReplyTo;

    const STACK: &str = "arn:aws:cloudformation:us-east-1:100000000001:stack/app/guid-1";
    const TYPE: &str = "Custom::ChatbotSlackChannel";

    fn request(kind: RequestKind, physical_id: Option<&str>) -> Request {
        Request {
            kind,
            reply_to: ReplyTo {
                response_url: String::new(),
                stack_id: STACK.into(),
                request_id: "r".into(),
                logical_resource_id: "Alerts".into(),
                physical_resource_id: physical_id.map(str::to_owned),
            },
            resource_type: TYPE.into(),
            properties: json!({}),
            old_properties: None,
        }
    }

    fn view(status: &str, physical_id: Option<&str>) -> ResourceView {
        ResourceView {
            stack_id: STACK.into(),
            resource_type: TYPE.into(),
            status: status.into(),
            physical_id: physical_id.map(str::to_owned),
        }
    }

    fn cleanup(stack_status: &str, deleting_this_id: bool) -> CleanupView {
        CleanupView {
            stack_status: stack_status.into(),
            deleting_this_id,
        }
    }

    #[test]
    fn a_create_needs_the_resource_being_created() {
        let create = request(RequestKind::Create, None);
        assert_eq!(
            judge(&create, &view("CREATE_IN_PROGRESS", None), None),
            Ok(())
        );
        for status in [
            "CREATE_COMPLETE",
            "UPDATE_IN_PROGRESS",
            "DELETE_IN_PROGRESS",
        ] {
            let refused = judge(&create, &view(status, Some("arn:old")), None).unwrap_err();
            assert!(
                refused.contains(status) && refused.contains("not CREATE_IN_PROGRESS"),
                "{refused}"
            );
        }
    }

    #[test]
    fn an_update_needs_the_same_physical_id_being_updated() {
        let update = request(RequestKind::Update, Some("arn:a"));
        assert_eq!(
            judge(&update, &view("UPDATE_IN_PROGRESS", Some("arn:a")), None),
            Ok(())
        );
        let other_id =
            judge(&update, &view("UPDATE_IN_PROGRESS", Some("arn:b")), None).unwrap_err();
        assert!(
            other_id.contains("arn:b") && other_id.contains("arn:a"),
            "{other_id}"
        );
        assert!(judge(&update, &view("UPDATE_COMPLETE", Some("arn:a")), None).is_err());
    }

    #[test]
    fn a_delete_needs_the_id_being_deleted_or_a_cleanup_deleting_it() {
        let delete = request(RequestKind::Delete, Some("arn:old"));
        assert_eq!(
            judge(&delete, &view("DELETE_IN_PROGRESS", Some("arn:old")), None),
            Ok(())
        );
        let replaced = view("UPDATE_COMPLETE", Some("arn:new"));
        assert_eq!(
            judge(
                &delete,
                &replaced,
                Some(&cleanup("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", true))
            ),
            Ok(())
        );
        let not_this_id = judge(
            &delete,
            &replaced,
            Some(&cleanup("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", false)),
        )
        .unwrap_err();
        assert!(
            not_this_id.contains("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            "{not_this_id}"
        );
        // A stack at rest deletes nothing, whatever the request says.
        assert!(judge(&delete, &replaced, Some(&cleanup("UPDATE_COMPLETE", false))).is_err());
        // Deleting another id of a resource being deleted is refused.
        assert!(judge(&delete, &view("DELETE_IN_PROGRESS", Some("arn:new")), None).is_err());
    }

    #[test]
    fn another_type_or_stack_is_refused() {
        let create = request(RequestKind::Create, None);
        let mut other_type = view("CREATE_IN_PROGRESS", None);
        other_type.resource_type = "AWS::SNS::Topic".into();
        assert!(
            judge(&create, &other_type, None)
                .unwrap_err()
                .contains("AWS::SNS::Topic")
        );
        let mut other_stack = view("CREATE_IN_PROGRESS", None);
        other_stack.stack_id =
            "arn:aws:cloudformation:us-east-1:100000000001:stack/app/guid-2".into();
        assert!(
            judge(&create, &other_stack, None)
                .unwrap_err()
                .contains("guid-2")
        );
    }

    #[test]
    fn only_a_delete_off_its_resource_status_reads_the_stack() {
        let delete = request(RequestKind::Delete, Some("arn:old"));
        assert!(!needs_cleanup_view(
            &delete,
            &view("DELETE_IN_PROGRESS", Some("arn:old"))
        ));
        assert!(needs_cleanup_view(
            &delete,
            &view("UPDATE_COMPLETE", Some("arn:new"))
        ));
        let update = request(RequestKind::Update, Some("arn:old"));
        assert!(!needs_cleanup_view(
            &update,
            &view("UPDATE_COMPLETE", Some("arn:new"))
        ));
    }
}
