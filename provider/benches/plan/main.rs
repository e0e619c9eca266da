//! `make bench-plan`: how long `chatops plan --org` takes over a large
//! organization, next to the ideal (the time the services' rates and
//! latency allow), with the calls made, the throttles met and the peak
//! memory of the process.
//!
//! 1. 1,000 and 10,000 accounts of an in-process fake of the services
//!    (`fake.rs`: 50 ms ±20 % a call, a token bucket per API and caller,
//!    throttled answers as each service sends them); the real code runs
//!    against it through the SDK's HTTP client: the organization listed with
//!    ListAccounts, then every account planned, each account's plan summed
//!    as it streams out.
//! 2. 100 accounts of the local cloud (`localcloud/serve`, 100 members), one
//!    Slack channel deployed in each, 50 ms of latency injected on every call.
//!
//! ```text
//! cargo bench --bench plan -- [--accounts 1000,10000] [--latency-ms 50] [--concurrency 128]
//!                             [--sts-rate 100] [--localcloud-accounts 100] [--check]
//! ```
//! `--sts-rate` sets STS's rate (and burst) a second: `make test` runs a
//! small organization with a low one, so that the plan meets throttling.
//! `--localcloud-accounts 0` skips the local cloud; `--check` exits 1 when
//! the largest organization's plan is over 1.15 times the ideal or its peak
//! memory over 200 MiB.

mod fake;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use chatops::accounts::Accounts;
use chatops::adaptive::Api;
use chatops::config::ProviderConfig;
use chatops::ownership::Owner;
use chatops::plan::live::AccountsLive;
use chatops::plan::run::{self, DEFAULT_CONCURRENCY, Inputs, StackTarget};
use chatops::plan::{Summary, detailed_exit_code, targets as plan_targets};
use chatops::resources::Resource;
use chatops::resources::chatbot_slack_channel::SlackChannel;
use chatops::template::Template;
use serde_json::{Value, json};

const STACK: &str = "chatops";
const TARGET_RATIO: f64 = 1.15;
const TARGET_PEAK_MIB: f64 = 200.0;
const SERVICE_TOKEN: &str = "arn:aws:sns:us-east-1:123456789012:chatops-provider";

/// The heap in use and its peak since the last reset: what the process
/// itself holds, apart from code and the allocator's slack.
struct CountingAllocator;

static HEAP: AtomicUsize = AtomicUsize::new(0);
static HEAP_PEAK: AtomicUsize = AtomicUsize::new(0);

fn count_up(size: usize) {
    let now = HEAP.fetch_add(size, Ordering::Relaxed) + size;
    HEAP_PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count_up(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(pointer, layout) };
        HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
            count_up(new_size);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

struct Options {
    sizes: Vec<usize>,
    latency: Duration,
    concurrency: usize,
    sts_rate: Option<f64>,
    localcloud_accounts: usize,
    check: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        sizes: vec![1_000, 10_000],
        latency: Duration::from_millis(50),
        concurrency: DEFAULT_CONCURRENCY,
        sts_rate: None,
        localcloud_accounts: 100,
        check: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> anyhow::Result<String> {
            args.next().with_context(|| format!("{name} needs a value"))
        };
        let number = |name: &str, text: String| -> anyhow::Result<usize> {
            text.trim()
                .parse()
                .with_context(|| format!("{name} needs a number, not {text:?}"))
        };
        match arg.as_str() {
            "--accounts" => {
                options.sizes = value("--accounts")?
                    .split(',')
                    .map(|n| number("--accounts", n.to_owned()))
                    .collect::<anyhow::Result<_>>()?
            }
            "--latency-ms" => {
                options.latency =
                    Duration::from_millis(number("--latency-ms", value("--latency-ms")?)? as u64)
            }
            "--concurrency" => {
                options.concurrency = number("--concurrency", value("--concurrency")?)?.max(1)
            }
            "--sts-rate" => {
                options.sts_rate = Some(number("--sts-rate", value("--sts-rate")?)?.max(1) as f64)
            }
            "--localcloud-accounts" => {
                options.localcloud_accounts =
                    number("--localcloud-accounts", value("--localcloud-accounts")?)?
            }
            "--check" => options.check = true,
            // What `cargo bench` passes to every bench target.
            "--bench" => {}
            other => bail!("unknown argument {other}; see the doc comment of benches/plan"),
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

fn target(account_id: String, region: &str, channel_role: Option<&str>) -> StackTarget {
    StackTarget {
        region: region.to_owned(),
        stack_name: Some(STACK.to_owned()),
        // Known, as a StackSet's instances give it (`--stack-name` reads it
        // with one CloudFormation DescribeStacks per account).
        stack_id: Some(stack_id(&account_id)),
        account_id,
        parameters: parameters(channel_role),
        deployed_parameters: parameters(channel_role),
    }
}

fn stack_id(account: &str) -> String {
    format!("arn:aws:cloudformation:us-east-1:{account}:stack/{STACK}/0a1b2c3d")
}

/// Peak resident memory of this process, in bytes, from /proc/self/status (VmHWM).
fn peak_resident() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: usize = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
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

/// The figures of one plan of the fake organization.
struct FakeFigures {
    accounts: usize,
    latency: Duration,
    concurrency: usize,
    rates: fake::Rates,
    pages: usize,
    calls: u64,
    throttles: u64,
    by_operation: Vec<(String, u64, u64)>,
    /// Calls per account of the plan itself, throttled ones left out.
    per_account: f64,
    listed_in: Duration,
    elapsed: Duration,
    heap_peak: usize,
    resident_peak: Option<usize>,
    limits: Vec<(Api, chatops::adaptive::LimiterStats)>,
}

impl FakeFigures {
    /// Listing: one page after the other, each a call's latency, within
    /// Organizations' rate after its burst.
    fn ideal_listing(&self) -> f64 {
        let rate = self.rates.organizations;
        let by_latency = self.pages as f64 * self.latency.as_secs_f64();
        let by_rate = (self.pages as f64 - rate.burst).max(0.0) / rate.per_second;
        by_latency.max(by_rate)
    }

    /// Planning: the last AssumeRole no sooner than STS's rate allows after
    /// its burst, then that account's calls one after the other; and never
    /// faster than every call's latency spread over the accounts at once.
    /// (AWS Chatbot's and the Support App's buckets are per account, and an
    /// account's reads are one after the other: they never bind.)
    fn ideal_planning(&self) -> f64 {
        let latency = self.latency.as_secs_f64();
        let sts = self.rates.sts;
        let by_sts = (self.accounts as f64 - sts.burst).max(0.0) / sts.per_second
            + self.per_account * latency;
        let by_concurrency =
            self.accounts as f64 * self.per_account * latency / self.concurrency as f64;
        by_sts.max(by_concurrency)
    }

    fn ideal(&self) -> f64 {
        self.ideal_listing() + self.ideal_planning()
    }

    fn ratio(&self) -> f64 {
        self.elapsed.as_secs_f64() / self.ideal()
    }

    fn within(&self) -> bool {
        self.ratio() <= TARGET_RATIO
            && self
                .resident_peak
                .is_none_or(|peak| mib(peak) < TARGET_PEAK_MIB)
    }

    fn print(&self) {
        let ms = self.latency.as_millis();
        println!(
            "chatops plan --org, in-process fake of the services, {} accounts:",
            self.accounts
        );
        println!(
            "  calls made          {} ({:.2} a planned account, {} ListAccounts pages)",
            self.calls, self.per_account, self.pages
        );
        let throttled: Vec<String> = self
            .by_operation
            .iter()
            .filter(|(_, _, t)| *t > 0)
            .map(|(op, _, t)| format!("{op} {t}"))
            .collect();
        println!(
            "  throttles met       {}{}",
            self.throttles,
            if throttled.is_empty() {
                String::new()
            } else {
                format!(" ({})", throttled.join(", "))
            }
        );
        println!(
            "  latency, rates      {ms} ms ±20 % a call; STS {}/s (burst {}), Organizations {}/s (burst {}), \
             AWS Chatbot and Support App {}/s (burst {}) an account",
            self.rates.sts.per_second,
            self.rates.sts.burst,
            self.rates.organizations.per_second,
            self.rates.organizations.burst,
            self.rates.chatbot.per_second,
            self.rates.chatbot.burst
        );
        println!(
            "  ideal               {:.2} s  (listing {:.2} s: {} pages one after the other; planning {:.2} s: \
             AssumeRole at STS's rate after its burst, then {:.0} calls of {ms} ms)",
            self.ideal(),
            self.ideal_listing(),
            self.pages,
            self.ideal_planning(),
            self.per_account
        );
        println!(
            "  plan took           {:.2} s  (listing {:.2} s)",
            self.elapsed.as_secs_f64(),
            self.listed_in.as_secs_f64()
        );
        println!(
            "  ratio               {:.3}x  (target: within {TARGET_RATIO}x)",
            self.ratio()
        );
        let limits: Vec<String> = self
            .limits
            .iter()
            .filter(|(_, stats)| stats.peak > 0)
            .map(|(api, stats)| {
                format!(
                    "{api:?} {} (now {}, {} throttled)",
                    stats.peak, stats.limit, stats.throttles
                )
            })
            .collect();
        println!(
            "  calls in flight     at most {} (concurrency ceiling {})",
            limits.join(", "),
            self.concurrency
        );
        println!("  peak heap           {:.1} MiB", mib(self.heap_peak));
        match self.resident_peak {
            Some(peak) => println!(
                "  peak memory (VmHWM) {:.1} MiB  (target: under {TARGET_PEAK_MIB} MiB)",
                mib(peak)
            ),
            None => println!("  peak memory (VmHWM) unknown (no /proc/self/status)"),
        }
        println!(
            "  verdict             {}",
            if self.within() {
                "within target"
            } else {
                "OVER target"
            }
        );
    }
}

async fn bench_fake(options: &Options, size: usize) -> anyhow::Result<FakeFigures> {
    let accounts: Vec<String> = (0..size)
        .map(|i| format!("{:012}", 200_000_000_000u64 + i as u64))
        .collect();
    let mut rates = fake::Rates::default();
    if let Some(per_second) = options.sts_rate {
        rates.sts = fake::Rate {
            per_second,
            burst: per_second,
        };
    }
    let cloud = fake::FakeCloud::new(
        options.latency,
        rates,
        accounts,
        Arc::new(|account: &str| vec![deployed_configuration(account)]),
    );
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
        // As the CLI's: the SDK's standard retries, five attempts.
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5))
        .build();
    let config = ProviderConfig {
        external_id: Some("bench".into()),
        ..ProviderConfig::from_lookup(|_| None)
    };
    let provider = Accounts::new(config, sdk);
    let mut inputs = Inputs::new(template()?, None);
    inputs.concurrency = options.concurrency;

    HEAP_PEAK.store(HEAP.load(Ordering::Relaxed), Ordering::Relaxed);
    let started = Instant::now();
    // As `chatops plan --org`: list the organization, then plan each account.
    let organizations =
        aws_sdk_organizations::Client::new(&provider.sdk_config_for(Api::Organizations));
    let listed = plan_targets::organization_accounts(&organizations, None)
        .await
        .context("listing the fake organization")?;
    provider.remember_active_accounts(listed.clone()).await;
    let listed_in = started.elapsed();
    let listed_calls = cloud.calls();
    let (mut planned, mut failed, mut changed, mut first_error) = (0, 0, 0, None);
    run::plan_each(
        &provider,
        &inputs,
        listed
            .into_iter()
            .map(|account| target(account, "us-east-1", None)),
        None,
        || AccountsLive::new(&provider, "chatops-bench"),
        None,
        |account| {
            let summary = Summary::of_account(&account);
            planned += 1;
            failed += summary.accounts_failed;
            changed += summary.accounts_changed;
            if let (None, Err(e)) = (&first_error, &account.outcome) {
                first_error = Some(e.clone());
            }
        },
    )
    .await;
    let elapsed = started.elapsed();
    if planned != size || failed > 0 || changed > 0 {
        bail!(
            "the fake plan should find every one of {size} accounts up to date: {planned} planned, \
             {failed} failed, {changed} changed; first error {first_error:?}"
        );
    }
    let throttles = cloud.throttles();
    Ok(FakeFigures {
        accounts: size,
        latency: options.latency,
        concurrency: options.concurrency,
        rates,
        pages: size.div_ceil(fake::ACCOUNTS_PER_PAGE).max(1),
        calls: cloud.calls(),
        throttles,
        by_operation: cloud.calls_by_operation(),
        per_account: (cloud.calls() - listed_calls - throttles) as f64 / size as f64,
        listed_in,
        elapsed,
        heap_peak: HEAP_PEAK.load(Ordering::Relaxed),
        resident_peak: peak_resident(),
        limits: Api::ALL
            .iter()
            .map(|api| (*api, provider.pace().limiter(*api).stats()))
            .collect(),
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

async fn bench_localcloud(options: &Options) -> anyhow::Result<()> {
    let cloud = start_localcloud(options.localcloud_accounts)?;
    let accounts: Vec<String> = cloud.info["member_accounts"]
        .as_array()
        .context("member_accounts")?
        .iter()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    // The provider role's session: the local cloud enforces the templates' IAM.
    let session = &cloud.info["provider_credentials"];
    let field = |name: &str| session[name].as_str().map(str::to_owned);
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&cloud.endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            field("access_key_id").context("the provider role's credentials")?,
            field("secret_access_key").unwrap_or_default(),
            field("session_token"),
            None,
            "bench",
        ))
        .load()
        .await;
    let mut config = ProviderConfig {
        external_id: cloud.info["external_id"].as_str().map(str::to_owned),
        ..ProviderConfig::from_lookup(|_| None)
    };
    if let Some(role) = cloud.info["execution_role_name"].as_str() {
        config.execution_role_name = role.to_owned();
    }
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
    let all: Vec<StackTarget> = accounts
        .iter()
        .map(|account| target(account.clone(), "us-east-1", Some(&channel_role)))
        .collect();
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
    println!("chatops plan, local cloud with injected latency:");
    println!("  accounts            {}", accounts.len());
    println!(
        "  calls made          {calls} ({:.2} per account)",
        calls as f64 / accounts.len() as f64
    );
    println!("  latency per call    {latency_ms} ms");
    println!(
        "  plan took           {:.2} s  (the local cloud is one Python process: its own time is in it)",
        elapsed.as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let mut within = true;
    for (index, size) in options.sizes.iter().enumerate() {
        let figures = bench_fake(&options, *size).await?;
        figures.print();
        println!();
        if index + 1 == options.sizes.len() {
            within = figures.within();
        }
    }
    if options.localcloud_accounts > 0 {
        bench_localcloud(&options).await?;
    }
    if options.check && !within {
        std::process::exit(1);
    }
    Ok(())
}
