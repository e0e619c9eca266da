//! Structured logs with tracing: JSON lines in Lambda (CloudWatch Logs
//! Insights reads them), plain text on a terminal. Log lines carry types,
//! ids and outcomes, never property values, so no secret can reach them.

use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// Where a dependency logs secrets at TRACE: never that verbose, whatever
/// `RUST_LOG` asks. The Lambda runtime logs whole events (every property
/// value, such as a WebhookUrl, and the pre-signed ResponseURL); the AWS SDK
/// logs each request with its headers (the session token) and each response
/// with its body (AssumeRole's secret key), and its signer the canonical
/// request (the session token again).
const SECRET_LOGGERS: &[&str] = &[
    "lambda_runtime::layers::api_response",
    "aws_smithy_runtime::client::orchestrator",
    "aws_sigv4",
];

/// Caps [`SECRET_LOGGERS`] at DEBUG and lets everything else through. It is
/// combined with `RUST_LOG` by "and": a cap only lowers a level, never
/// raises one (a directive added to `RUST_LOG` would turn DEBUG on for them).
fn secret_loggers_capped() -> Targets {
    SECRET_LOGGERS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |caps, target| caps.with_target(*target, LevelFilter::DEBUG),
    )
}

/// The filter of `RUST_LOG` (default `info`) with the caps.
fn filter<S>(rust_log: Option<&str>) -> impl tracing_subscriber::layer::Filter<S> + use<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let requested = rust_log
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    requested.and(secret_loggers_capped())
}

/// Installs the global subscriber; `RUST_LOG` sets the level (default `info`).
pub fn init(json: bool) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let layer = fmt::layer().with_writer(std::io::stderr).with_target(false);
    let result = if json {
        tracing_subscriber::registry()
            .with(
                layer
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_filter(filter(rust_log.as_deref())),
            )
            .try_init()
    } else {
        tracing_subscriber::registry()
            .with(
                layer
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_filter(filter(rust_log.as_deref())),
            )
            .try_init()
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What a subscriber with `rust_log` writes for one event of each level
    /// on `target`.
    fn logged(rust_log: Option<&str>, emit: impl FnOnce()) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let out = out.clone();
            move || Capture(out.clone())
        };
        let subscriber = tracing_subscriber::registry().with(
            fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(filter(rust_log)),
        );
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = out.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn every_level() {
        tracing::trace!(target: "aws_sigv4::http_request::sign", "sdk trace");
        tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "sdk debug");
        tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "sdk request trace");
        tracing::info!(target: "chatops::request::handler", "provider info");
        tracing::debug!(target: "chatops::request::handler", "provider debug");
        tracing::trace!(target: "hyper_util::client", "other trace");
    }

    #[test]
    fn the_default_level_is_info_and_the_caps_raise_nothing() {
        let out = logged(None, every_level);
        assert!(out.contains("provider info"), "{out}");
        for quiet in ["sdk debug", "sdk trace", "provider debug", "other trace"] {
            assert!(!out.contains(quiet), "{quiet} at the default level:\n{out}");
        }
    }

    #[test]
    fn trace_is_trace_except_where_secrets_are_logged() {
        let out = logged(Some("trace"), every_level);
        for shown in [
            "sdk debug",
            "provider info",
            "provider debug",
            "other trace",
        ] {
            assert!(out.contains(shown), "{shown} missing at trace:\n{out}");
        }
        for capped in ["sdk trace", "sdk request trace"] {
            assert!(!out.contains(capped), "{capped} at trace:\n{out}");
        }
    }
}
