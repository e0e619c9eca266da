//! A local Lambda Runtime API: the `chatops` binary runs in Lambda mode
//! against it exactly as in AWS, one warm process serving invocation after
//! invocation. It implements the endpoints the runtime client uses:
//! `invocation/next`, `invocation/{id}/response`, `invocation/{id}/error`
//! and `init/error`.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// How an invocation ended, as the runtime reported it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `invocation/{id}/response` with this body.
    Response(String),
    /// `invocation/{id}/error` with this body.
    Error(String),
}

/// When the runtime handed an invocation to the function and when the function answered it.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// `invocation/next` returned the event.
    pub handed_out: Instant,
    /// `invocation/{id}/response` or `/error` arrived.
    pub answered: Instant,
}

#[derive(Default)]
struct State {
    pending: VecDeque<(String, Value, u64)>,
    outcomes: HashMap<String, (Outcome, Timing)>,
    handed_out: HashMap<String, Instant>,
    init_error: Option<String>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

/// The `chatops` binary running as a Lambda function against a local Runtime API.
pub struct LocalLambda {
    shared: Arc<Shared>,
    process: Child,
    next_id: u64,
    log_path: std::path::PathBuf,
    /// When the process was started: for cold-start measurements.
    pub started: Instant,
}

impl LocalLambda {
    /// Starts the runtime API and the binary with `env` (plus the Lambda variables).
    pub fn start(env: &[(String, String)]) -> LocalLambda {
        LocalLambda::start_program(Command::new(env!("CARGO_BIN_EXE_chatops")), env)
    }

    /// Starts the runtime API and `program`, any Lambda runtime client (such
    /// as a reference implementation), with `env` plus the Lambda variables.
    pub fn start_program(mut program: Command, env: &[(String, String)]) -> LocalLambda {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the runtime API");
        let address = listener.local_addr().expect("runtime API address");
        let shared = Arc::new(Shared::default());
        {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let shared = shared.clone();
                    std::thread::spawn(move || serve_connection(stream, &shared));
                }
            });
        }
        let log_path = std::env::temp_dir().join(format!(
            "chatops-lambda-{}-{}.log",
            std::process::id(),
            address.port()
        ));
        let log = std::fs::File::create(&log_path).expect("creating the function log");
        let started = Instant::now();
        let process = program
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "chatops-provider")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/chatops-provider")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("starting the function");
        LocalLambda {
            shared,
            process,
            next_id: 0,
            log_path,
            started,
        }
    }

    /// Invokes the function with `event` and a deadline `timeout` from now;
    /// returns how the invocation ended (waiting up to `timeout` + 30 s).
    pub fn invoke(&mut self, event: Value, timeout: Duration) -> Outcome {
        self.invoke_timed(event, timeout).0
    }

    /// [`LocalLambda::invoke`], with when the event was handed out and answered.
    pub fn invoke_timed(&mut self, event: Value, timeout: Duration) -> (Outcome, Timing) {
        self.next_id += 1;
        let id = format!("invocation-{}", self.next_id);
        let deadline_ms = (SystemTime::now() + timeout)
            .duration_since(UNIX_EPOCH)
            .expect("clock after the epoch")
            .as_millis() as u64;
        let mut state = self.shared.state.lock().expect("runtime state");
        state.pending.push_back((id.clone(), event, deadline_ms));
        self.shared.changed.notify_all();
        let wait_until = Instant::now() + timeout + Duration::from_secs(30);
        loop {
            if let Some(answer) = state.outcomes.remove(&id) {
                return answer;
            }
            if let Some(error) = &state.init_error {
                panic!("the function failed to start: {error}\n{}", self.logs());
            }
            let left = wait_until.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "invocation {id} got no answer\n{}",
                self.logs()
            );
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .expect("runtime state")
                .0;
        }
    }

    /// Everything the function wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The function's process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The peak resident memory of the function's process so far (VmHWM), in KiB.
    pub fn peak_memory_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for LocalLambda {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}

/// Serves one keep-alive connection of the runtime client.
fn serve_connection(stream: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(stream.try_clone().expect("stream clone"));
    let mut writer = stream;
    while let Some((method, path, body)) = read_request(&mut reader) {
        let (status, headers, reply) = route(&method, &path, body, shared);
        let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", reply.len());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if writer
            .write_all(head.as_bytes())
            .and_then(|_| writer.write_all(&reply))
            .is_err()
        {
            return;
        }
    }
}

fn route(
    method: &str,
    path: &str,
    body: Vec<u8>,
    shared: &Shared,
) -> (&'static str, Vec<(String, String)>, Vec<u8>) {
    let text = String::from_utf8_lossy(&body).into_owned();
    let path = path.trim_start_matches("/2018-06-01/runtime");
    if method == "GET" && path == "/invocation/next" {
        let mut state = shared.state.lock().expect("runtime state");
        loop {
            if let Some((id, event, deadline)) = state.pending.pop_front() {
                state.handed_out.insert(id.clone(), Instant::now());
                let headers = vec![
                    ("content-type".to_owned(), "application/json".to_owned()),
                    ("lambda-runtime-aws-request-id".to_owned(), id),
                    (
                        "lambda-runtime-deadline-ms".to_owned(),
                        deadline.to_string(),
                    ),
                    (
                        "lambda-runtime-invoked-function-arn".to_owned(),
                        "arn:aws:lambda:us-east-1:123456789012:function:chatops-provider"
                            .to_owned(),
                    ),
                    (
                        "lambda-runtime-trace-id".to_owned(),
                        "Root=1-00000000-000000000000000000000000".to_owned(),
                    ),
                ];
                return ("200 OK", headers, event.to_string().into_bytes());
            }
            state = shared.changed.wait(state).expect("runtime state");
        }
    }
    let answered = Instant::now();
    let mut state = shared.state.lock().expect("runtime state");
    let parts: Vec<&str> = path.split('/').collect();
    let mut timing = |id: &str| Timing {
        handed_out: state.handed_out.remove(id).unwrap_or(answered),
        answered,
    };
    match (method, parts.as_slice()) {
        ("POST", ["", "invocation", id, "response"]) => {
            let timing = timing(id);
            state
                .outcomes
                .insert((*id).to_owned(), (Outcome::Response(text), timing));
        }
        ("POST", ["", "invocation", id, "error"]) => {
            let timing = timing(id);
            state
                .outcomes
                .insert((*id).to_owned(), (Outcome::Error(text), timing));
        }
        ("POST", ["", "init", "error"]) => state.init_error = Some(text),
        _ => return ("404 Not Found", Vec::new(), Vec::new()),
    }
    shared.changed.notify_all();
    ("202 Accepted", Vec::new(), b"{\"status\":\"OK\"}".to_vec())
}

/// Reads one HTTP/1.1 request (Content-Length bodies only, as the runtime client sends).
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut words = line.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next()?.to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}
