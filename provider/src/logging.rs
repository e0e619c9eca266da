//! Structured logs with tracing: JSON lines in Lambda (CloudWatch Logs
//! Insights reads them), plain text on a terminal. Log lines carry types,
//! ids and outcomes, never property values, so no secret can reach them.

use tracing_subscriber::EnvFilter;

/// Where a dependency logs secrets at TRACE: never that verbose, whatever
/// `RUST_LOG` asks. The Lambda runtime logs whole events (every property
/// value, such as a WebhookUrl, and the pre-signed ResponseURL); the AWS SDK
/// logs each request with its headers (the session token) and each response
/// with its body (AssumeRole's secret key), and its signer the canonical
/// request (the session token again).
const EVENT_LOGGERS: &[&str] = &[
    "lambda_runtime::layers::api_response=debug",
    "aws_smithy_runtime::client::orchestrator=debug",
    "aws_sigv4=debug",
];

/// Installs the global subscriber; `RUST_LOG` sets the level (default `info`).
pub fn init(json: bool) {
    let filter = EVENT_LOGGERS.iter().fold(
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        |filter, directive| match directive.parse() {
            Ok(directive) => filter.add_directive(directive),
            Err(_) => filter,
        },
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
}
