//! `make bench-plan`: how long `chatops plan` takes over many accounts when
//! every service call has latency, next to the ideal
//! (accounts × calls per account × latency ÷ concurrency), with the peak
//! memory of the process.
//!
//! 1. 1000 accounts of an in-process fake of the services (50 ms per call);
//!    the real plan code runs against it through the SDK's HTTP client.
//! 2. 100 accounts of the local cloud (`localcloud/serve`, 100 members), one
//!    Slack channel deployed in each, 50 ms of latency injected on every call.
//!
//! ```text
//! cargo run --example bench_plan -- [--accounts 1000] [--latency-ms 50] [--concurrency 16]
//!                                   [--localcloud-accounts 100] [--check]
//! ```
//! `--localcloud-accounts 0` skips the local cloud; `--check` exits 1 when the
//! fake's time is over 1.3 times the ideal.

mod fake;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use chatops::accounts::Accounts;
use chatops::config::ProviderConfig;
use chatops::ownership::Owner;
use chatops::plan::live::AccountsLive;
use chatops::plan::run::{self, DEFAULT_CONCURRENCY, Inputs, StackTarget};
use chatops::plan::{Summary, detailed_exit_code};
use chatops::resources::Resource;
use chatops::resources::chatbot_slack_channel::SlackChannel;
use chatops::template::Template;
use serde_json::{Value, json};

const STACK: &str = "chatops";
const TARGET_RATIO: f64 = 1.3;
const SERVICE_TOKEN: &str = "arn:aws:sns:us-east-1:123456789012:chatops-provider";

struct Options {
    accounts: usize,
    latency: Duration,
    concurrency: usize,
    localcloud_accounts: usize,
    check: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        accounts: 1000,
        latency: Duration::from_millis(50),
        concurrency: DEFAULT_CONCURRENCY,
        localcloud_accounts: 100,
        check: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> anyhow::Result<usize> {
            args.next()
                .with_context(|| format!("{name} needs a value"))?
                .parse()
                .with_context(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--accounts" => options.accounts = value("--accounts")?,
            "--latency-ms" => {
                options.latency = Duration::from_millis(value("--latency-ms")? as u64)
            }
            "--concurrency" => options.concurrency = value("--concurrency")?.max(1),
            "--localcloud-accounts" => {
                options.localcloud_accounts = value("--localcloud-accounts")?
            }
            "--check" => options.check = true,
            other => bail!("unknown argument {other}; see the doc comment of examples/bench_plan"),
        }
    }
    Ok(options)
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> anyhow::Result<Template> {
    Ok(Template::load(
        &repo_root().join("examples/chatops-stack.yaml"),
    )?)
}

/// The stack's parameters; `channel_role` overrides the template's default
/// channel role name (the local cloud seeds its own).
fn parameters(channel_role: Option<&str>) -> BTreeMap<String, String> {
    let mut parameters = BTreeMap::from([("ServiceToken".to_owned(), SERVICE_TOKEN.to_owned())]);
    if let Some(role) = channel_role {
        parameters.insert("ChannelRoleName".to_owned(), role.to_owned());
    }
    parameters
}

fn targets(accounts: &[String], region: &str, channel_role: Option<&str>) -> Vec<StackTarget> {
    accounts
        .iter()
        .map(|account_id| StackTarget {
            account_id: account_id.clone(),
            region: region.to_owned(),
            stack_name: Some(STACK.to_owned()),
            stack_id: Some(stack_id(account_id)),
            parameters: parameters(channel_role),
            deployed_parameters: parameters(channel_role),
        })
        .collect()
}

fn stack_id(account: &str) -> String {
    format!("arn:aws:cloudformation:us-east-1:{account}:stack/{STACK}/0a1b2c3d")
}

/// Peak resident memory of this process, from /proc/self/status (VmHWM).
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown (no /proc/self/status)".to_owned())
}

struct Figures {
    accounts: usize,
    calls: u64,
    latency: Duration,
    concurrency: usize,
    elapsed: Duration,
}

impl Figures {
    fn ideal(&self) -> Duration {
        self.latency
            .mul_f64(self.calls as f64 / self.concurrency as f64)
    }

    fn ratio(&self) -> f64 {
        self.elapsed.as_secs_f64() / self.ideal().as_secs_f64()
    }

    fn print(&self, title: &str) {
        let per_account = self.calls as f64 / self.accounts as f64;
        println!("{title}");
        println!("  accounts            {}", self.accounts);
        println!(
            "  calls               {} ({per_account:.2} per account)",
            self.calls
        );
        println!("  latency per call    {} ms", self.latency.as_millis());
        println!("  concurrency         {}", self.concurrency);
        println!(
            "  ideal               {:.2} s  (accounts x calls per account x latency / concurrency)",
            self.ideal().as_secs_f64()
        );
        println!("  plan took           {:.2} s", self.elapsed.as_secs_f64());
        println!(
            "  ratio               {:.3}x  (target: within {TARGET_RATIO}x)",
            self.ratio()
        );
        println!("  peak memory (VmHWM) {}", peak_memory());
    }
}

/// What DescribeSlackChannelConfigurations answers for the example stack's
/// channel deployed in `account`, with its tags.
fn deployed_configuration(account: &str) -> Value {
    let name = format!("alerts-{account}");
    let owner = Owner {
        stack_id: stack_id(account),
        logical_id: "AlertsChannel".into(),
    };
    let mut tags = vec![json!({"TagKey": "team", "TagValue": "platform"})];
    tags.extend(
        owner
            .managed_tags()
            .into_iter()
            .map(|t| json!({"TagKey": t.key, "TagValue": t.value})),
    );
    json!({
        "SlackTeamName": "chatops", "SlackTeamId": "T0CHATOPS1",
        "SlackChannelId": "C0ALERTS1", "SlackChannelName": "alerts",
        "ChatConfigurationArn": format!("arn:aws:chatbot::{account}:chat-configuration/slack-channel/{name}"),
        // The example template's default channel role (ChannelRoleName).
        "IamRoleArn": format!("arn:aws:iam::{account}:role/chatops-chatbot-notifications"),
        "SnsTopicArns": [format!("arn:aws:sns:us-east-1:{account}:chatops-alerts")],
        "ConfigurationName": name,
        "LoggingLevel": "INFO",
        "GuardrailPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "UserAuthorizationRequired": false,
        "Tags": tags,
    })
}

async fn bench_fake(options: &Options) -> anyhow::Result<Figures> {
    let accounts: Vec<String> = (0..options.accounts)
        .map(|i| format!("{:012}", 200_000_000_000u64 + i as u64))
        .collect();
    let configurations: HashMap<String, Vec<Value>> = accounts
        .iter()
        .map(|a| (a.clone(), vec![deployed_configuration(a)]))
        .collect();
    let cloud = fake::FakeCloud::new(options.latency, configurations);
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url("http://fake.invalid")
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIAMANAGEMENT",
            "fake",
            None,
            None,
            "bench",
        )))
        .http_client(cloud.clone())
        .sleep_impl(
            aws_smithy_async::rt::sleep::default_async_sleep().context("a sleep implementation")?,
        )
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .build();
    let config = ProviderConfig {
        external_id: Some("bench".into()),
        ..ProviderConfig::from_lookup(|_| None)
    };
    let provider = Accounts::new(config, sdk);
    let mut inputs = Inputs::new(template()?, None);
    inputs.concurrency = options.concurrency;
    let started = Instant::now();
    let planned = run::plan_all(
        &provider,
        &inputs,
        targets(&accounts, "us-east-1", None),
        None,
        || AccountsLive::new(&provider, "chatops-bench"),
        None,
    )
    .await;
    let elapsed = started.elapsed();
    let plan = run::assemble(&inputs, Some(STACK.into()), planned);
    let summary = Summary::of_plan(&plan);
    if summary.accounts_failed > 0 || summary.has_changes() {
        let first = plan.accounts.iter().find_map(|a| a.outcome.as_ref().err());
        bail!(
            "the fake plan should find every account up to date: {summary:?}, first error {first:?}"
        );
    }
    println!("calls by operation: {:?}", cloud.calls_by_operation());
    Ok(Figures {
        accounts: accounts.len(),
        calls: cloud.calls(),
        latency: options.latency,
        concurrency: options.concurrency,
        elapsed,
    })
}

/// The local cloud, stopped when dropped.
struct LocalCloud {
    endpoint: String,
    info: Value,
    server: Child,
}

impl Drop for LocalCloud {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn start_localcloud(members: usize) -> anyhow::Result<LocalCloud> {
    let seed = std::env::temp_dir().join(format!("chatops-bench-seed-{}.json", std::process::id()));
    std::fs::write(&seed, json!({"member_count": members}).to_string())?;
    let serve = repo_root().join("localcloud/serve");
    let mut server = Command::new(&serve)
        .args(["--port", "0", "--seed"])
        .arg(&seed)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {} (run `make setup` first)", serve.display()))?;
    let stdout = server.stdout.take().context("the server's stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let _ = std::fs::remove_file(&seed);
    let info: Value = serde_json::from_str(&line)
        .with_context(|| format!("the local cloud did not start: {line:?}"))?;
    let endpoint = info["endpoint"].as_str().context("endpoint")?.to_owned();
    Ok(LocalCloud {
        endpoint,
        info,
        server,
    })
}

async fn bench_localcloud(options: &Options) -> anyhow::Result<Figures> {
    let cloud = start_localcloud(options.localcloud_accounts)?;
    let accounts: Vec<String> = cloud.info["member_accounts"]
        .as_array()
        .context("member_accounts")?
        .iter()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&cloud.endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "bench"))
        .load()
        .await;
    let config = ProviderConfig {
        external_id: cloud.info["external_id"].as_str().map(str::to_owned),
        ..ProviderConfig::from_lookup(|_| None)
    };
    let provider = Accounts::new(config, sdk);
    let mut inputs = Inputs::new(template()?, None);
    inputs.concurrency = options.concurrency;

    // Deploy the example stack's channel in every account, as the provider would.
    let deploy_started = Instant::now();
    let channel_role = cloud.info["accounts"][0]["chatbot_role_arn"]
        .as_str()
        .and_then(|arn| arn.rsplit('/').next())
        .context("the seeded channel role")?
        .to_owned();
    let all = targets(&accounts, "us-east-1", Some(&channel_role));
    let deployed: Vec<anyhow::Result<()>> =
        futures::StreamExt::collect(futures::StreamExt::buffer_unordered(
            futures::stream::iter(all.iter().map(|target| {
                let provider = &provider;
                let inputs = &inputs;
                async move {
                    let resolved = run::resolve_stack(inputs, target)?;
                    for desired in resolved
                        .desired
                        .get(SlackChannel::TYPE_NAME)
                        .into_iter()
                        .flatten()
                    {
                        let channel: SlackChannel = chatops::reading::read(
                            &desired.properties,
                            chatops::reading::Reading::Strict,
                        )?;
                        let owner = Owner {
                            stack_id: stack_id(&target.account_id),
                            logical_id: desired.logical_id.clone(),
                        };
                        let where_ = provider.target(
                            &owner.stack_id,
                            channel.common(),
                            SlackChannel::SERVICE,
                        )?;
                        let ctx = provider
                            .account_context(&where_, "chatops-bench-deploy")
                            .await?;
                        channel.create(&ctx, &owner).await?;
                    }
                    Ok(())
                }
            })),
            8,
        ))
        .await;
    for result in deployed {
        result.context("deploying the example stack in the local cloud")?;
    }
    println!(
        "local cloud: {} accounts deployed in {:.1} s",
        accounts.len(),
        deploy_started.elapsed().as_secs_f64()
    );

    let http = reqwest::Client::new();
    let faults = format!("{}/_localcloud/faults", cloud.endpoint);
    let latency_ms = options.latency.as_millis() as u64;
    http.post(&faults)
        .header("content-type", "application/json")
        .body(json!({"kind": "latency", "latency_ms": latency_ms, "rate": 1.0}).to_string())
        .send()
        .await?
        .error_for_status()?;
    // A fresh provider: nothing cached from the deploy (credentials, memberships).
    let provider = Accounts::new(provider.config().clone(), provider.sdk_config().clone());
    let started = Instant::now();
    let planned = run::plan_all(
        &provider,
        &inputs,
        all.clone(),
        None,
        || AccountsLive::new(&provider, "chatops-bench"),
        None,
    )
    .await;
    let elapsed = started.elapsed();
    let listed: Value = serde_json::from_str(
        &http
            .get(&faults)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?,
    )?;
    let calls = listed
        .as_array()
        .or_else(|| listed["faults"].as_array())
        .and_then(|faults| faults.first())
        .and_then(|fault| fault["fired"].as_u64())
        .with_context(|| format!("the latency fault's count of calls: {listed}"))?;
    let _ = http.delete(&faults).send().await;
    let plan = run::assemble(&inputs, Some(STACK.into()), planned);
    let summary = Summary::of_plan(&plan);
    if detailed_exit_code(&summary) != 0 {
        let first = plan.accounts.iter().find_map(|a| a.outcome.as_ref().err());
        bail!(
            "the local cloud plan should find every account up to date: {summary:?}, first error {first:?}"
        );
    }
    Ok(Figures {
        accounts: accounts.len(),
        calls,
        latency: options.latency,
        concurrency: options.concurrency,
        elapsed,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let fake = bench_fake(&options).await?;
    fake.print("chatops plan, in-process fake of the services:");
    let within = fake.ratio() <= TARGET_RATIO;
    println!(
        "  verdict             {}",
        if within {
            "within target"
        } else {
            "OVER target"
        }
    );
    if options.localcloud_accounts > 0 {
        println!();
        let local = bench_localcloud(&options).await?;
        local.print("chatops plan, local cloud with injected latency:");
    }
    if options.check && !within {
        std::process::exit(1);
    }
    Ok(())
}
