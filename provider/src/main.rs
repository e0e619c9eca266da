//! `chatops`: a Lambda function when the Lambda runtime starts it, a command line otherwise.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Fail points exist only in builds with the `failpoints` feature: tests set them with FAILPOINTS.
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    let lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    // Lambda hands the function one invocation at a time, whose work is
    // waiting on services: one thread does it with fewer wake-ups and less
    // memory. The command line reads many accounts at once.
    let mut builder = if lambda {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        if lambda {
            chatops::logging::init(true);
            let accounts = chatops::cli::accounts_from_env().await;
            return match chatops::request::lambda::run(accounts).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(%error, "lambda runtime stopped");
                    ExitCode::FAILURE
                }
            };
        }
        chatops::logging::init(false);
        chatops::cli::main().await
    })
}
