//! A TCP relay in front of the local cloud that measures how long the
//! function waits for services: from the last byte of each request to the
//! last byte of its response, on every connection, and from accepting a
//! connection to its first request byte (connecting to a service is waiting
//! for it; the relay's own set-up happens then). HTTP/1.1 clients (the Rust
//! SDK, botocore, urllib) never pipeline, so on one connection a request and
//! its response strictly alternate, and no HTTP parsing is needed.
//! Overlapping waits (concurrent calls) count once.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a connection is in its request/response cycle.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Accepted at this instant; no request byte yet.
    Connecting(Instant),
    /// Request bytes are arriving; the last one at this instant.
    Request(Instant),
    /// The service is answering: since the request's last byte, to the
    /// response's last byte so far.
    Response(Instant, Instant),
}

#[derive(Default)]
struct Waits {
    closed: Vec<(Instant, Instant)>,
    open: Vec<Arc<Mutex<Phase>>>,
}

/// The relay; dropping it leaves its threads to die with the process.
pub struct TimingProxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    waits: Arc<Mutex<Waits>>,
    exchanges: Arc<AtomicUsize>,
}

impl TimingProxy {
    /// Relays every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> TimingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let waits = Arc::new(Mutex::new(Waits::default()));
        let exchanges = Arc::new(AtomicUsize::new(0));
        {
            let (waits, exchanges) = (waits.clone(), exchanges.clone());
            std::thread::spawn(move || {
                for client in listener.incoming().flatten() {
                    let phase = Arc::new(Mutex::new(Phase::Connecting(Instant::now())));
                    waits.lock().expect("waits").open.push(phase.clone());
                    let (waits, exchanges) = (waits.clone(), exchanges.clone());
                    std::thread::spawn(move || {
                        let Ok(server) = TcpStream::connect(upstream) else {
                            return;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        relay(client, server, phase, waits, exchanges);
                    });
                }
            });
        }
        TimingProxy {
            endpoint,
            waits,
            exchanges,
        }
    }

    /// How long, between `from` and `to`, at least one call was waiting for a service.
    pub fn service_time(&self, from: Instant, to: Instant) -> Duration {
        let waits = self.waits.lock().expect("waits");
        let mut intervals: Vec<(Instant, Instant)> = waits.closed.clone();
        for phase in &waits.open {
            match *phase.lock().expect("phase") {
                Phase::Response(start, end) => intervals.push((start, end)),
                Phase::Connecting(start) => intervals.push((start, Instant::now())),
                Phase::Request(_) => {}
            }
        }
        let mut clipped: Vec<(Instant, Instant)> = intervals
            .into_iter()
            .map(|(start, end)| (start.max(from), end.min(to)))
            .filter(|(start, end)| start < end)
            .collect();
        clipped.sort();
        let mut total = Duration::ZERO;
        let mut current: Option<(Instant, Instant)> = None;
        for (start, end) in clipped {
            current = match current {
                Some((s, e)) if start <= e => Some((s, e.max(end))),
                Some((s, e)) => {
                    total += e - s;
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        if let Some((s, e)) = current {
            total += e - s;
        }
        total
    }

    /// How many request/response exchanges went through so far.
    pub fn exchanges(&self) -> usize {
        self.exchanges.load(Ordering::SeqCst)
    }
}

fn relay(
    client: TcpStream,
    server: TcpStream,
    phase: Arc<Mutex<Phase>>,
    waits: Arc<Mutex<Waits>>,
    exchanges: Arc<AtomicUsize>,
) {
    let (Ok(client_reader), Ok(server_reader)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    {
        let phase = phase.clone();
        std::thread::spawn(move || {
            pump(server_reader, client, |at| {
                let mut phase = phase.lock().expect("phase");
                *phase = match *phase {
                    Phase::Request(sent) => {
                        exchanges.fetch_add(1, Ordering::SeqCst);
                        Phase::Response(sent, at)
                    }
                    Phase::Response(start, _) => Phase::Response(start, at),
                    connecting => connecting,
                };
            });
        });
    }
    pump(client_reader, server, |at| {
        let mut phase = phase.lock().expect("phase");
        match *phase {
            Phase::Response(start, end) => waits.lock().expect("waits").closed.push((start, end)),
            Phase::Connecting(accepted) => waits.lock().expect("waits").closed.push((accepted, at)),
            Phase::Request(_) => {}
        }
        *phase = Phase::Request(at);
    });
}

/// Copies `from` to `to`, calling `on_bytes` with the arrival time of each read.
fn pump(mut from: TcpStream, mut to: TcpStream, mut on_bytes: impl FnMut(Instant)) {
    let mut buffer = vec![0; 64 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                on_bytes(Instant::now());
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
