//! `make bench` (`cargo bench --bench lambda`): the `chatops` Lambda, built
//! as it ships (release), against a reference Python handler with boto3 that
//! makes the same service calls, both run the same way:
//!
//! - as Lambda functions under the local Runtime API of the end-to-end tests
//!   (`tests/support/lambda.rs`), the reference through a minimal Python
//!   runtime loop (`reference/bootstrap.py`);
//! - against one local cloud, reached through a timing proxy (`proxy.rs`)
//!   that records when each call waits for a service, the ResponseURL PUT
//!   included.
//!
//! Cold start: process start to the first response received by the Runtime
//! API, for a first request that needs no service call but the response PUT
//! (an Update that changes nothing), and for a first request that is a Create.
//! Warm overhead: the time from handing a request to the function to its
//! response, minus the time a service call was outstanding meanwhile, over
//! Creates, Deletes and no-change Updates of a warm function; the handler's
//! own is that of the no-change Update, and each further call's is read off
//! the Creates. Peak memory: VmHWM of the warm function's process.
//!
//! Needs the local cloud's virtualenv (`make setup`); `BENCH_CHATOPS` names
//! another build of `chatops` to measure (such as one with symbols, for a
//! profiler).

#[path = "../../../tests/support/mod.rs"]
mod support;

mod proxy;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use proxy::TimingProxy;
use support::lambda::Timing;
use support::{LocalCloud, LocalLambda, Outcome, Stack, unique};

const TYPE: &str = "Custom::ChatbotSlackChannel";

/// How many times each thing is measured.
#[derive(Clone, Copy)]
struct Runs {
    cold: usize,
    cold_create: usize,
    warm_cycles: usize,
}

impl Runs {
    /// The full bench; with `BENCH_SIZE=small` (`make test`), each measure
    /// once or twice: enough to check that the bench works and prints its figures.
    fn from_env() -> Runs {
        if std::env::var("BENCH_SIZE").is_ok_and(|size| size == "small") {
            Runs {
                cold: 1,
                cold_create: 1,
                warm_cycles: 2,
            }
        } else {
            Runs {
                cold: 7,
                cold_create: 3,
                warm_cycles: 40,
            }
        }
    }
}
const DEADLINE: Duration = Duration::from_secs(60);

/// What runs as the function.
struct Contender {
    name: &'static str,
    program: fn() -> Command,
}

/// The release build of `chatops`, or the build named by `BENCH_CHATOPS`
/// (such as a build with symbols, for a profiler).
fn chatops() -> Command {
    Command::new(
        std::env::var("BENCH_CHATOPS").unwrap_or_else(|_| env!("CARGO_BIN_EXE_chatops").to_owned()),
    )
}

fn reference() -> Command {
    let root = support::localcloud::repo_root();
    let mut command = Command::new(root.join(".venv/bin/python"));
    command.arg(root.join("provider/benches/lambda/reference/bootstrap.py"));
    command
}

/// The figures of one contender.
#[derive(Default)]
struct Figures {
    cold_noop: Vec<Duration>,
    cold_noop_service: Vec<Duration>,
    cold_create: Vec<Duration>,
    cold_create_service: Vec<Duration>,
    warm_overhead: Vec<Duration>,
    warm_by_kind: Vec<(&'static str, Vec<Duration>)>,
    calls: Vec<(&'static str, usize)>,
    peak_kib: u64,
    /// Resident memory at the end: anonymous, and file-backed (the binary's
    /// or the interpreter's code and libraries), in KiB.
    rss_anon_kib: u64,
    rss_file_kib: u64,
}

struct Bench {
    runtime: tokio::runtime::Runtime,
    cloud: LocalCloud,
    proxy: TimingProxy,
    env: Vec<(String, String)>,
    account: String,
    runs: Runs,
}

impl Bench {
    fn properties(&self, name: &str) -> Value {
        let seeded = self.cloud.account(&self.account);
        json!({
            "ConfigurationName": name,
            "SlackWorkspaceId": self.cloud.seed["slack_team_id"],
            "SlackChannelId": support::unique_channel(),
            "IamRoleArn": seeded["chatbot_role_arn"],
            "SnsTopicArns": [seeded["topics"]["us-east-1"]],
            "LoggingLevel": "ERROR",
        })
    }

    /// Invokes `lambda` with `request` and a ResponseURL through the proxy;
    /// checks the response; returns its PhysicalResourceId and the timing.
    fn invoke(&self, lambda: &mut LocalLambda, mut request: Value) -> (String, Timing) {
        // As if CloudFormation sent it: both contenders verify every request.
        self.runtime.block_on(self.cloud.stage(&request, None));
        let (url, key) = self.runtime.block_on(self.cloud.response_url());
        request["ResponseURL"] = json!(url.replace(&self.cloud.endpoint, &self.proxy.endpoint));
        let (outcome, timing) = lambda.invoke_timed(request, DEADLINE);
        assert!(
            matches!(outcome, Outcome::Response(_)),
            "the invocation failed: {outcome:?}\n{}",
            lambda.logs()
        );
        let response = self.runtime.block_on(self.cloud.response(&key));
        assert_eq!(
            response["Status"],
            "SUCCESS",
            "{response}\n{}",
            lambda.logs()
        );
        let id = response["PhysicalResourceId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (id, timing)
    }

    fn no_change(&self, stack: &Stack) -> Value {
        let props = self.properties("unchanged");
        let arn = format!(
            "arn:aws:chatbot::{}:chat-configuration/slack-channel/unchanged",
            self.account
        );
        stack.update("Unchanged", &arn, &props, &props)
    }

    fn measure(&self, contender: &Contender) -> Figures {
        eprintln!("measuring {}...", contender.name);
        let mut figures = Figures::default();
        let stack = Stack::new(&self.account, TYPE);

        for _ in 0..self.runs.cold {
            let mut lambda = LocalLambda::start_program((contender.program)(), &self.env);
            let (_, timing) = self.invoke(&mut lambda, self.no_change(&stack));
            figures.cold_noop.push(timing.answered - lambda.started);
            figures
                .cold_noop_service
                .push(self.proxy.service_time(lambda.started, timing.answered));
        }
        for _ in 0..self.runs.cold_create {
            let mut lambda = LocalLambda::start_program((contender.program)(), &self.env);
            let name = unique("bench-cold").replace('-', "");
            let props = self.properties(&name);
            let (arn, timing) = self.invoke(&mut lambda, stack.create(&name, &props));
            figures.cold_create.push(timing.answered - lambda.started);
            figures
                .cold_create_service
                .push(self.proxy.service_time(lambda.started, timing.answered));
            self.invoke(&mut lambda, stack.delete(&name, &arn, &props));
        }

        let mut lambda = LocalLambda::start_program((contender.program)(), &self.env);
        // Warm up: caches of the account's membership and credentials filled.
        let props = self.properties("bench-warmup");
        let (arn, _) = self.invoke(&mut lambda, stack.create("Warmup", &props));
        self.invoke(&mut lambda, stack.delete("Warmup", &arn, &props));
        self.invoke(&mut lambda, self.no_change(&stack));
        let mut by_kind: Vec<(&'static str, Vec<Duration>)> = vec![
            ("Create", vec![]),
            ("Delete", vec![]),
            ("no-change Update", vec![]),
        ];
        let mut calls = [0; 3];
        for cycle in 0..self.runs.warm_cycles {
            let name = unique("bench").replace('-', "");
            let props = self.properties(&name);
            let before = self.proxy.exchanges();
            let (arn, create) = self.invoke(&mut lambda, stack.create(&name, &props));
            let after_create = self.proxy.exchanges();
            let (_, delete) = self.invoke(&mut lambda, stack.delete(&name, &arn, &props));
            let after_delete = self.proxy.exchanges();
            let (_, unchanged) = self.invoke(&mut lambda, self.no_change(&stack));
            if cycle == 0 {
                calls = [
                    after_create - before,
                    after_delete - after_create,
                    self.proxy.exchanges() - after_delete,
                ];
            }
            for (i, timing) in [create, delete, unchanged].into_iter().enumerate() {
                let overhead = (timing.answered - timing.handed_out)
                    .saturating_sub(self.proxy.service_time(timing.handed_out, timing.answered));
                by_kind[i].1.push(overhead);
                figures.warm_overhead.push(overhead);
            }
        }
        figures.peak_kib = lambda.peak_memory_kib().unwrap_or_default();
        (figures.rss_anon_kib, figures.rss_file_kib) = resident(lambda.pid());
        figures.warm_by_kind = by_kind;
        figures.calls = vec![
            ("Create", calls[0]),
            ("Delete", calls[1]),
            ("no-change Update", calls[2]),
        ];
        figures
    }
}

/// RssAnon and RssFile of process `pid`, in KiB.
fn resident(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_default()
    };
    (field("RssAnon:"), field("RssFile:"))
}

fn median(values: &[Duration]) -> Duration {
    percentile(values, 50)
}

fn percentile(values: &[Duration], p: usize) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted
        .get((sorted.len().saturating_sub(1)) * p / 100)
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn ratio(ours: f64, theirs: f64) -> String {
    if theirs > 0.0 {
        format!("{:.3}", ours / theirs)
    } else {
        "-".to_owned()
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn main() {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let cloud = LocalCloud::start(None);
    let upstream: SocketAddr = cloud
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("the local cloud's address");
    let proxy = TimingProxy::start(upstream);
    let mut env = cloud.provider_env();
    for (key, value) in &mut env {
        if key == "AWS_ENDPOINT_URL" || key == "CHATOPS_LOCAL_RESPONSE_ORIGIN" {
            *value = proxy.endpoint.clone();
        }
    }
    // As Lambda sets it, for botocore.
    env.push(("AWS_DEFAULT_REGION".into(), "us-east-1".into()));
    env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
    let account = cloud.members()[0].clone();
    let runs = Runs::from_env();
    let bench = Bench {
        runtime,
        cloud,
        proxy,
        env,
        account,
        runs,
    };

    let contenders = [
        Contender {
            name: "chatops",
            program: chatops,
        },
        Contender {
            name: "reference",
            program: reference,
        },
    ];
    let figures: Vec<Figures> = contenders.iter().map(|c| bench.measure(c)).collect();
    let (ours, theirs) = (&figures[0], &figures[1]);
    let boto3 = Command::new(support::localcloud::repo_root().join(".venv/bin/python"))
        .args([
            "-c",
            "import sys, boto3; print(sys.version.split()[0], boto3.__version__)",
        ])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace(' ', " + boto3 ")
        })
        .unwrap_or_default();
    let profile = if cfg!(debug_assertions) {
        "DEBUG build: figures unfair to Rust, use `cargo bench`"
    } else {
        "release build, as `make package` ships it"
    };

    println!();
    println!(
        "ChatOps Lambda benchmark: chatops ({profile}) vs the reference handler (Python {boto3})"
    );
    println!(
        "{:<48} {:>18} {:>18} {:>7}   goal",
        "", "chatops", "reference", "ratio"
    );
    let cold = |f: &Figures| median(&f.cold_noop);
    let cold_ratio = cold(ours).as_secs_f64() / cold(theirs).as_secs_f64().max(f64::EPSILON);
    println!(
        "{:<48} {:>18} {:>18} {:>7}   at most 0.1 of the reference: {}",
        format!("cold start, first request no-op (median of {})", runs.cold),
        ms(cold(ours)),
        ms(cold(theirs)),
        ratio(cold(ours).as_secs_f64(), cold(theirs).as_secs_f64()),
        verdict(cold_ratio <= 0.1)
    );
    println!(
        "{:<48} {:>18} {:>18}",
        "  of which waiting for services (response PUT)",
        ms(median(&ours.cold_noop_service)),
        ms(median(&theirs.cold_noop_service)),
    );
    println!(
        "{:<48} {:>18} {:>18} {:>7}",
        format!(
            "cold start, first request a Create (median of {})",
            runs.cold_create
        ),
        ms(median(&ours.cold_create)),
        ms(median(&theirs.cold_create)),
        ratio(
            median(&ours.cold_create).as_secs_f64(),
            median(&theirs.cold_create).as_secs_f64()
        ),
    );
    println!(
        "{:<48} {:>18} {:>18}",
        "  of which waiting for services",
        ms(median(&ours.cold_create_service)),
        ms(median(&theirs.cold_create_service)),
    );
    // The handler alone: a no-change Update's only call is its response PUT.
    let alone = |f: &Figures| median(&f.warm_by_kind[2].1);
    println!(
        "{:<48} {:>18} {:>18} {:>7}   under 1 ms: {}",
        "warm overhead of the handler (no-change Update)",
        ms(alone(ours)),
        ms(alone(theirs)),
        ratio(alone(ours).as_secs_f64(), alone(theirs).as_secs_f64()),
        verdict(alone(ours) < Duration::from_millis(1))
    );
    // Each further call: what a Create adds over it, per call it adds.
    let per_call = |f: &Figures| {
        let extra_calls = f.calls[0].1.saturating_sub(f.calls[2].1).max(1) as u32;
        median(&f.warm_by_kind[0].1).saturating_sub(alone(f)) / extra_calls
    };
    println!(
        "{:<48} {:>18} {:>18} {:>7}",
        "  each further service call adds (SDK work)",
        ms(per_call(ours)),
        ms(per_call(theirs)),
        ratio(per_call(ours).as_secs_f64(), per_call(theirs).as_secs_f64()),
    );
    for ((kind, our), (_, their)) in ours.warm_by_kind.iter().zip(&theirs.warm_by_kind) {
        println!(
            "{:<48} {:>18} {:>18}",
            format!("  {kind}: median / p90"),
            format!("{} / {}", ms(median(our)), ms(percentile(our, 90))),
            format!("{} / {}", ms(median(their)), ms(percentile(their, 90))),
        );
    }
    let warm = |f: &Figures| median(&f.warm_overhead);
    println!(
        "{:<48} {:>18} {:>18} {:>7}",
        format!("  all {} warm requests: median", ours.warm_overhead.len()),
        ms(warm(ours)),
        ms(warm(theirs)),
        ratio(warm(ours).as_secs_f64(), warm(theirs).as_secs_f64()),
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "{:<48} {:>18} {:>18} {:>7}   under 25 MiB: {}",
        "peak memory (VmHWM)",
        format!("{:.1} MiB", mib(ours.peak_kib)),
        format!("{:.1} MiB", mib(theirs.peak_kib)),
        ratio(mib(ours.peak_kib), mib(theirs.peak_kib)),
        verdict(mib(ours.peak_kib) < 25.0)
    );
    println!(
        "{:<48} {:>18} {:>18}",
        "  resident at the end: anonymous / code, files",
        format!(
            "{:.1} / {:.1}",
            mib(ours.rss_anon_kib),
            mib(ours.rss_file_kib)
        ),
        format!(
            "{:.1} / {:.1}",
            mib(theirs.rss_anon_kib),
            mib(theirs.rss_file_kib)
        ),
    );
    for ((kind, our), (_, their)) in ours.calls.iter().zip(&theirs.calls) {
        println!(
            "{:<48} {:>18} {:>18}",
            format!("service calls of a warm {kind}"),
            our,
            their
        );
    }
    println!();
    println!(
        "Method: both functions run under the same local Lambda Runtime API and call the same local cloud\n\
         through a timing proxy; the calls counted include the ResponseURL PUT. Cold start is process start\n\
         to the first response the Runtime API receives. Warm overhead is, per request of a warm function,\n\
         the time from the Runtime API handing the event out to receiving the response, minus the time\n\
         during which at least one service call was waiting for its answer (or its connection) at the\n\
         proxy: what the function itself spends. The handler's own is that of a no-change Update, whose\n\
         only call is the response PUT; a call more costs the SDK work on the function's side (request,\n\
         signature, connection: the local cloud closes every connection, so each call opens one, unlike\n\
         AWS endpoints, which keep them), read off the Creates. Peak memory is VmHWM of the warm function\n\
         after its {} requests. The reference's Runtime API loop is a minimal urllib client, lighter than\n\
         awslambdaric. Bench time {:.0} s.",
        ours.warm_overhead.len(),
        started.elapsed().as_secs_f64()
    );
}
