//! The one error type of the library. Variants are named after what the user
//! has to do differently, because each one ends up as a CloudFormation Reason.

use aws_sdk_sts::error::ProvideErrorMetadata;

/// Everything that can make a request fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The event itself is not a CloudFormation custom resource request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A resource property is missing, unknown or has a bad value.
    #[error("invalid property {property}: {problem}")]
    InvalidProperty {
        /// The property path, such as `SlackChannelId` or `Tags/0/Key`.
        property: String,
        /// What is wrong and what to do about it.
        problem: String,
    },
    /// A one-time set-up step outside CloudFormation is missing (Slack OAuth, console authorization).
    #[error("not authorized: {0}")]
    NotAuthorized(String),
    /// The provider may not act in the target account.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// The service kept throttling after the SDK's retries.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The resource exists already and belongs to someone else.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The resource, or something it refers to, does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A service quota would be exceeded.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The service refused the request for another reason.
    #[error("{service} {operation} failed: {message}")]
    Service {
        /// The AWS service, such as `chatbot`.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// The service's own message.
        message: String,
    },
    /// A template cannot be read or resolved; `location` says where, such as
    /// `Resources/Alerts/Properties/SlackChannelId`.
    #[error("{location}: {problem}")]
    InvalidTemplate {
        /// The path in the template (or the file) where the problem is.
        location: String,
        /// What is wrong and what to do about it.
        problem: String,
    },
    /// CloudFormation did not confirm the request: it may be forged, so nothing was done.
    #[error("could not verify this request with CloudFormation: {0}")]
    Unverified(String),
    /// The Lambda deadline came close before the work was done.
    #[error("timed out: {0}")]
    Timeout(String),
}

/// Shorthand for results of this library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which policy grants a denied call: Organizations, STS and StackSet calls
/// are made in the central account, by the provider's role or by whoever runs
/// `chatops plan` (provider.yaml); every other call by the execution role or
/// the plan role in the target account (member-role.yaml). AWS's message
/// names the role session that was refused.
fn access_denied_hint(service: &str, operation: &str) -> &'static str {
    match (service, operation) {
        ("organizations" | "sts", _)
        | ("cloudformation", "DescribeStackSet" | "ListStackInstances" | "DescribeStackInstance") => {
            "grant it to the provider's role (ProviderRole in cfn-templates/provider.yaml) or, for \
             `chatops plan`, to the caller (PlannerPolicy in cfn-templates/provider.yaml); or check an \
             SCP or permissions boundary"
        }
        _ => {
            "grant it to the role named above in the target account (ExecutionRole, or PlanRole for \
             `chatops plan`, in cfn-templates/member-role.yaml); or check an SCP or permissions boundary"
        }
    }
}

impl Error {
    /// An invalid property with what is wrong and what to do.
    pub fn invalid_property(property: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::InvalidProperty {
            property: property.into(),
            problem: problem.into(),
        }
    }

    /// Maps an AWS SDK error to the variant that tells the user what to do.
    ///
    /// `what` names the object of the call (for example "Slack channel configuration
    /// arn:..."), so that the message makes sense on its own in a Reason.
    pub fn from_sdk<E>(
        service: &'static str,
        operation: &'static str,
        what: &str,
        err: aws_sdk_sts::error::SdkError<E>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = err.code().unwrap_or_default().to_owned();
        let message = err
            .message()
            .map(str::to_owned)
            .unwrap_or_else(|| describe_transport_error(&err));
        let detail = format!("{service} {operation} on {what}: {message}");
        match code.as_str() {
            c if crate::adaptive::is_throttling_code(c) => Error::Throttled(format!(
                "{detail} (still throttled after retries; try again later)"
            )),
            // SNS names its denial AuthorizationError (API model AuthorizationErrorException).
            c if c.starts_with("AccessDenied")
                || c == "UnauthorizedOperation"
                || c == "AuthorizationError" =>
            {
                Error::AccessDenied(format!(
                    "{detail} ({})",
                    access_denied_hint(service, operation)
                ))
            }
            "ExpiredToken" | "ExpiredTokenException" => Error::AccessDenied(format!(
                "{detail} (the execution role's credentials were refused as expired, also after \
                 assuming the role again; try again, and check the clock of the provider's host)"
            )),
            "ResourceNotFoundException" | "NotFoundException" | "NoSuchEntity" | "NotFound" => {
                Error::NotFound(detail)
            }
            "ConflictException" => Error::Conflict(detail),
            "LimitExceededException" | "ServiceQuotaExceededException" => {
                Error::LimitExceeded(detail)
            }
            _ => Error::Service {
                service,
                operation,
                message: format!("{what}: {message}"),
            },
        }
    }

    /// True when the error means "the thing does not exist".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }
}

/// A transport error has no service message: describe it from its source chain.
fn describe_transport_error<E: std::error::Error + 'static>(
    err: &aws_sdk_sts::error::SdkError<E>,
) -> String {
    use std::error::Error as _;
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use aws_sdk_chatbot::error::ErrorMetadata;
    use aws_sdk_chatbot::operation::create_slack_channel_configuration::CreateSlackChannelConfigurationError as ChatbotError;
    use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    use super::*;

    const WHAT: &str = "Slack channel configuration arn:aws:chatbot::100000000001:chat-configuration/slack-channel/alerts";
    /// A secret a request carried, which a service (or a proxy) may echo in
    /// the body of its answer: never in what the error says.
    const SECRET: &str = "https://hooks.chime.aws/incomingwebhooks/a1b2?token=CANARY-s3cr3t";

    /// A service error with `code` and `message`, in an HTTP answer whose body
    /// echoes the secret.
    fn service_error(status: u16, code: &str, message: &str) -> SdkError<ChatbotError, Response> {
        let metadata = ErrorMetadata::builder().code(code).message(message).build();
        let raw = Response::new(
            StatusCode::try_from(status).expect("a status"),
            SdkBody::from(format!(
                r#"{{"__type":"{code}","message":"{message}","echo":"{SECRET}"}}"#
            )),
        );
        SdkError::service_error(ChatbotError::generic(metadata), raw)
    }

    fn mapped(service: &'static str, operation: &'static str, code: &str) -> Error {
        Error::from_sdk(
            service,
            operation,
            WHAT,
            service_error(400, code, "the service's own words"),
        )
    }

    /// Every message names the call, the resource and the service's words,
    /// and never the secret of the raw answer.
    fn assert_says_what_and_keeps_the_secret(error: &Error) {
        let text = error.to_string();
        assert!(text.contains(WHAT), "names the resource: {text}");
        assert!(
            text.contains("the service's own words"),
            "keeps the service's message: {text}"
        );
        assert!(!text.contains("CANARY"), "leaks the secret: {text}");
        assert!(!format!("{error:?}").contains("CANARY"), "{error:?}");
    }

    #[test]
    fn throttling_codes_are_throttled_with_what_to_do() {
        for code in [
            "ThrottlingException",
            "Throttling",
            "TooManyRequestsException",
            "ThrottledException",
        ] {
            let error = mapped("chatbot", "CreateSlackChannelConfiguration", code);
            assert!(matches!(error, Error::Throttled(_)), "{code}: {error:?}");
            assert!(error.to_string().contains("try again later"), "{error}");
            assert_says_what_and_keeps_the_secret(&error);
        }
    }

    #[test]
    fn denials_are_access_denied_naming_the_policy_to_change() {
        for code in [
            "AccessDeniedException",
            "AccessDenied",
            "UnauthorizedOperation",
            "AuthorizationError",
        ] {
            let error = mapped("chatbot", "CreateSlackChannelConfiguration", code);
            assert!(matches!(error, Error::AccessDenied(_)), "{code}: {error:?}");
            assert!(
                error.to_string().contains("cfn-templates/member-role.yaml"),
                "a call in the target account is the execution role's: {error}"
            );
            assert_says_what_and_keeps_the_secret(&error);
        }
        // Calls in the central account are the provider's role's (or the planner's).
        for (service, operation) in [
            ("organizations", "ListAccounts"),
            ("sts", "AssumeRole"),
            ("cloudformation", "DescribeStackSet"),
        ] {
            let error = mapped(service, operation, "AccessDenied");
            let text = error.to_string();
            assert!(
                text.contains("cfn-templates/provider.yaml") && !text.contains("member-role.yaml"),
                "{service} {operation}: {text}"
            );
        }
        let expired = mapped("sts", "AssumeRole", "ExpiredTokenException");
        assert!(matches!(expired, Error::AccessDenied(_)), "{expired:?}");
        assert!(expired.to_string().contains("expired"), "{expired}");
    }

    #[test]
    fn not_found_codes_are_not_found() {
        for code in [
            "ResourceNotFoundException",
            "NotFoundException",
            "NoSuchEntity",
            "NotFound",
        ] {
            let error = mapped("iam", "GetRole", code);
            assert!(error.is_not_found(), "{code}: {error:?}");
            assert_says_what_and_keeps_the_secret(&error);
        }
        assert!(!mapped("iam", "GetRole", "ConflictException").is_not_found());
    }

    #[test]
    fn conflict_and_quota_codes_have_their_own_variants() {
        let conflict = mapped(
            "supportapp",
            "CreateSlackChannelConfiguration",
            "ConflictException",
        );
        assert!(matches!(conflict, Error::Conflict(_)), "{conflict:?}");
        assert!(
            conflict
                .to_string()
                .starts_with("conflict: supportapp CreateSlackChannelConfiguration on ")
        );
        assert_says_what_and_keeps_the_secret(&conflict);
        for code in ["LimitExceededException", "ServiceQuotaExceededException"] {
            let error = mapped("supportapp", "RegisterSlackWorkspaceForOrganization", code);
            assert!(
                matches!(error, Error::LimitExceeded(_)),
                "{code}: {error:?}"
            );
            assert_says_what_and_keeps_the_secret(&error);
        }
    }

    #[test]
    fn invalid_input_and_other_codes_are_the_services_refusal_in_its_words() {
        for code in [
            "InvalidParameterException",
            "InvalidRequestException",
            "ValidationException",
            "InternalServiceError",
        ] {
            let error = mapped("chatbot", "CreateSlackChannelConfiguration", code);
            match &error {
                Error::Service {
                    service,
                    operation,
                    message,
                } => {
                    assert_eq!(*service, "chatbot");
                    assert_eq!(*operation, "CreateSlackChannelConfiguration");
                    assert_eq!(message, &format!("{WHAT}: the service's own words"));
                }
                other => panic!("{code}: {other:?}"),
            }
            assert!(
                error
                    .to_string()
                    .starts_with("chatbot CreateSlackChannelConfiguration failed: "),
                "{error}"
            );
            assert_says_what_and_keeps_the_secret(&error);
        }
    }

    #[test]
    fn a_transport_error_is_described_from_its_causes() {
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let error = Error::from_sdk(
            "chatbot",
            "CreateSlackChannelConfiguration",
            WHAT,
            SdkError::<ChatbotError, Response>::dispatch_failure(ConnectorError::io(Box::new(
                refused,
            ))),
        );
        let text = error.to_string();
        assert!(matches!(error, Error::Service { .. }), "{error:?}");
        assert!(
            text.contains(WHAT) && text.contains("connection refused"),
            "{text}"
        );

        // An answer that is not the service's (a proxy's page) has no code:
        // its body, which may echo the request, is not repeated.
        let raw = Response::new(
            StatusCode::try_from(502).expect("a status"),
            SdkBody::from(format!("<html>bad gateway for {SECRET}</html>")),
        );
        let unreadable = SdkError::<ChatbotError, Response>::response_error(
            std::io::Error::other("the answer is not JSON"),
            raw,
        );
        let error = Error::from_sdk(
            "chatbot",
            "CreateSlackChannelConfiguration",
            WHAT,
            unreadable,
        );
        let text = error.to_string();
        assert!(text.contains(WHAT) && text.contains("not JSON"), "{text}");
        assert!(!text.contains("CANARY"), "{text}");
    }

    #[test]
    fn an_invalid_property_names_the_property_and_the_problem() {
        let error = Error::invalid_property("Tags/0/Key", "is empty; give the tag a key");
        assert_eq!(
            error.to_string(),
            "invalid property Tags/0/Key: is empty; give the tag a key"
        );
    }
}
