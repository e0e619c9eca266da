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
