//! `chatops`: a Lambda function when the Lambda runtime starts it, a command line otherwise.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        chatops::logging::init(true);
        let provider = chatops::cli::provider_from_env().await;
        return match chatops::lambda::run(provider).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "lambda runtime stopped");
                ExitCode::FAILURE
            }
        };
    }
    chatops::logging::init(false);
    chatops::cli::main().await
}
