//! Delivery: requests go out on sender threads of their own, several at a
//! time, so the worker keeps taking in and batching records while they are
//! out, and a shutdown never waits on a request past its deadline: what is
//! still out then is abandoned (its answer is never read) and its batch
//! stays with the worker, to be spooled or counted.
//!
//! Every answer carries the sequence number of the batch it is for and the
//! round trip it took. What sends is a [`Deliver`]: the HTTP transport, or
//! a test's script, shared by the sender threads.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::limiter::Signal;
use crate::payload::Payload;

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 2xx: delivered.
    Delivered,
    /// A status that will not get better by sending the same body again.
    Rejected { status: u16, answer: String },
    /// 401: the credentials were refused. `renewable`: whether fresh ones
    /// can be had (asked of the credentials after the answer, see
    /// [`Deliver::renew`]).
    Unauthorized { answer: String, renewable: bool },
    /// No credential could be had (IAM refused or unreachable, the
    /// provider failed); nothing was sent.
    NoCredentials { message: String },
    /// Worth retrying: 408, 429, 5xx, a timeout or a connection error.
    Retry {
        reason: String,
        retry_after: Option<Duration>,
        cause: RetryCause,
    },
}

/// Why an attempt is worth retrying; some causes say "slow down".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryCause {
    /// 429: the service asks for fewer requests.
    Throttled,
    /// 503: the service is overloaded (or down).
    Unavailable,
    /// No answer within the request timeout.
    Timeout,
    /// Another retryable status (408, 500, 502, 504, ...).
    Status,
    /// The connection failed (refused, reset, TLS).
    Connection,
}

impl Outcome {
    /// What the answer says of the service's load.
    pub(crate) fn signal(&self) -> Signal {
        match self {
            Outcome::Delivered | Outcome::Rejected { .. } | Outcome::Unauthorized { .. } => Signal::Accepted,
            Outcome::Retry {
                cause: RetryCause::Throttled,
                ..
            } => Signal::Throttled,
            Outcome::Retry {
                cause: RetryCause::Unavailable,
                ..
            } => Signal::Overloaded,
            Outcome::Retry {
                cause: RetryCause::Timeout,
                ..
            } => Signal::TimedOut,
            Outcome::Retry { .. } | Outcome::NoCredentials { .. } => Signal::Failed,
        }
    }
}

/// What sends one request: the worker's only view of HTTP. Shared by the
/// sender threads, so several requests can be out at once.
pub(crate) trait Deliver: Send + Sync + 'static {
    /// Sends `payload`; `timeout` bounds the whole request (and a token
    /// fetch before it); `random` jitters a credential renewal.
    fn send(&self, payload: &Payload, timeout: Duration, random: u64) -> Outcome;

    /// After a 401: forgets the credential; returns whether a fresh one
    /// can be had.
    fn renew(&self) -> bool;
}

/// One request to make.
pub(crate) struct Request {
    /// The batch it carries.
    pub(crate) seq: u64,
    /// The body, shared with the batch (which keeps it for a retry or the
    /// spool).
    pub(crate) payload: Payload,
    /// Bounds the whole request, and the token fetch before it.
    pub(crate) timeout: Duration,
    /// Jitter for a credential renewal's schedule.
    pub(crate) random: u64,
}

/// What became of the request for batch `seq`, and how long it took.
pub(crate) struct Answer {
    pub(crate) seq: u64,
    pub(crate) outcome: Outcome,
    pub(crate) round_trip: Duration,
}

/// The worker's side of the sender threads.
pub(crate) struct Delivery {
    requests: Option<Sender<Request>>,
    answers: Receiver<Answer>,
    /// The batches whose requests are out, with when each ends at the
    /// latest (its timeout).
    out: HashMap<u64, Instant>,
    /// Woken when an answer arrives (the worker thread, once it runs).
    waker: Arc<OnceLock<Thread>>,
}

impl Delivery {
    /// Starts `senders` threads sharing `deliver`.
    pub(crate) fn start(deliver: impl Deliver, senders: usize) -> std::io::Result<Delivery> {
        let deliver = Arc::new(deliver);
        let (requests, inbox) = crossbeam_channel::unbounded::<Request>();
        let (replies, answers) = crossbeam_channel::unbounded();
        let waker = Arc::new(OnceLock::<Thread>::new());
        for i in 0..senders.max(1) {
            let (deliver, inbox, replies, wake) = (deliver.clone(), inbox.clone(), replies.clone(), waker.clone());
            std::thread::Builder::new()
                .name(format!("lts-delivery-{i}"))
                .spawn(move || sender(&*deliver, &inbox, &replies, &wake))?;
        }
        Ok(Delivery {
            requests: Some(requests),
            answers,
            out: HashMap::new(),
            waker,
        })
    }

    /// The thread to wake when an answer arrives.
    pub(crate) fn wake(&self, thread: Thread) {
        let _ = self.waker.set(thread);
    }

    /// Requests out now.
    pub(crate) fn in_flight(&self) -> usize {
        self.out.len()
    }

    /// Sends a request. Should the sender threads be gone (a panic in the
    /// HTTP stack), the answer says so and the batch is retried.
    pub(crate) fn send(&mut self, request: Request) {
        self.out.insert(request.seq, Instant::now() + request.timeout);
        if let Some(r) = &self.requests {
            let _ = r.send(request);
        }
    }

    /// An answer that came, if one did.
    pub(crate) fn try_answer(&mut self) -> Option<Answer> {
        let answer = match self.answers.try_recv() {
            Ok(a) => a,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => {
                let seq = *self.out.keys().next()?;
                Answer {
                    seq,
                    outcome: Outcome::Retry {
                        reason: "the delivery threads ended".into(),
                        retry_after: None,
                        cause: RetryCause::Connection,
                    },
                    round_trip: Duration::ZERO,
                }
            }
        };
        self.out.remove(&answer.seq);
        Some(answer)
    }

    /// Waits until `until` for the answers to the requests out whose own
    /// timeouts end by then (sent during a shutdown, their timeouts cut to
    /// the deadline); returns at once when there are none.
    pub(crate) fn wait_answers(&mut self, until: Instant) -> Vec<Answer> {
        let mut got = Vec::new();
        while self.out.values().any(|&end| end <= until) {
            let Ok(answer) = self.answers.recv_deadline(until) else {
                break;
            };
            self.out.remove(&answer.seq);
            got.push(answer);
        }
        got
    }

    /// Stops waiting for the requests out: their answers, whenever they
    /// come, are never read. Returns the batches they were for.
    pub(crate) fn abandon(&mut self) -> Vec<u64> {
        // A fresh channel: abandoned answers land in the old one, and the
        // senders end once they have finished what they are doing.
        let (_, answers) = crossbeam_channel::unbounded();
        self.answers = answers;
        self.requests = None;
        self.out.drain().map(|(seq, _)| seq).collect()
    }
}

/// A sender thread: one request at a time, until the worker lets go.
fn sender(deliver: &dyn Deliver, inbox: &Receiver<Request>, replies: &Sender<Answer>, wake: &OnceLock<Thread>) {
    crate::self_filter::mark_shipper_thread();
    for r in inbox {
        let started = Instant::now();
        let mut outcome = deliver.send(&r.payload, r.timeout, r.random);
        if let Outcome::Unauthorized { renewable, .. } = &mut outcome {
            *renewable = deliver.renew();
        }
        let answer = Answer {
            seq: r.seq,
            outcome,
            round_trip: started.elapsed(),
        };
        if replies.send(answer).is_err() {
            return;
        }
        if let Some(t) = wake.get() {
            t.unpark();
        }
    }
}
