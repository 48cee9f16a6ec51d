//! Delivery: requests go out on a thread of their own, so the worker keeps
//! taking in and batching records while one is out, and a shutdown never
//! waits on a request past its deadline: what is still out then is
//! abandoned (its answer is never read) and its batch stays with the worker,
//! to be spooled or counted.
//!
//! One request is out at a time. Every answer carries the sequence number of
//! the batch it is for. What sends is a [`Deliver`]: the HTTP transport, or
//! a test's script.

use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

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
    },
}

/// What sends one request: the worker's only view of HTTP.
pub(crate) trait Deliver: Send + 'static {
    /// Sends `payload`; `timeout` bounds the whole request (and a token
    /// fetch before it); `random` jitters a credential renewal.
    fn send(&mut self, payload: &Payload, timeout: Duration, random: u64) -> Outcome;

    /// After a 401: forgets the credential; returns whether a fresh one
    /// can be had.
    fn renew(&mut self) -> bool;
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

/// What became of the request for batch `seq`.
pub(crate) struct Answer {
    pub(crate) seq: u64,
    pub(crate) outcome: Outcome,
}

/// The worker's side of the delivery thread.
pub(crate) struct Delivery {
    requests: Option<Sender<Request>>,
    answers: Receiver<Answer>,
    /// The batch whose request is out.
    in_flight: Option<u64>,
    /// When that request ends at the latest (its timeout).
    ends_by: Option<Instant>,
    /// Woken when an answer arrives (the worker thread, once it runs).
    waker: Arc<OnceLock<Thread>>,
}

impl Delivery {
    /// Starts the delivery thread, which owns `deliver`.
    pub(crate) fn start(mut deliver: impl Deliver) -> std::io::Result<Delivery> {
        let (requests, inbox) = crossbeam_channel::unbounded::<Request>();
        let (replies, answers) = crossbeam_channel::unbounded();
        let waker = Arc::new(OnceLock::<Thread>::new());
        let wake = waker.clone();
        std::thread::Builder::new().name("lts-delivery".into()).spawn(move || {
            crate::self_filter::mark_shipper_thread();
            for r in inbox {
                let mut outcome = deliver.send(&r.payload, r.timeout, r.random);
                if let Outcome::Unauthorized { renewable, .. } = &mut outcome {
                    *renewable = deliver.renew();
                }
                if replies.send(Answer { seq: r.seq, outcome }).is_err() {
                    return;
                }
                if let Some(t) = wake.get() {
                    t.unpark();
                }
            }
        })?;
        Ok(Delivery {
            requests: Some(requests),
            answers,
            in_flight: None,
            ends_by: None,
            waker,
        })
    }

    /// The thread to wake when an answer arrives.
    pub(crate) fn wake(&self, thread: Thread) {
        let _ = self.waker.set(thread);
    }

    /// The batch whose request is out, if one is.
    pub(crate) fn in_flight(&self) -> Option<u64> {
        self.in_flight
    }

    /// Sends a request; the caller checked that none is out. Should the
    /// thread be gone (a panic in the HTTP stack), the answer says so and
    /// the batch is retried.
    pub(crate) fn send(&mut self, request: Request) {
        debug_assert!(self.in_flight.is_none());
        self.in_flight = Some(request.seq);
        self.ends_by = Some(Instant::now() + request.timeout);
        if let Some(r) = &self.requests {
            let _ = r.send(request);
        }
    }

    /// The answer to the request out, if it came.
    pub(crate) fn try_answer(&mut self) -> Option<Answer> {
        let seq = self.in_flight?;
        let answer = match self.answers.try_recv() {
            Ok(a) => a,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => Answer {
                seq,
                outcome: Outcome::Retry {
                    reason: "the delivery thread ended".into(),
                    retry_after: None,
                },
            },
        };
        debug_assert_eq!(answer.seq, seq);
        self.in_flight = None;
        Some(answer)
    }

    /// Waits for the answer to the request out until `until`, if that
    /// request's own timeout ends by then (one sent during a shutdown, its
    /// timeout cut to the deadline); else returns at once.
    pub(crate) fn wait_answer(&mut self, until: Instant) -> Option<Answer> {
        if self.ends_by.is_none_or(|end| end > until) {
            return None;
        }
        let seq = self.in_flight?;
        let answer = self.answers.recv_deadline(until).ok()?;
        debug_assert_eq!(answer.seq, seq);
        self.in_flight = None;
        Some(answer)
    }

    /// Stops waiting for the request out: its answer, whenever it comes, is
    /// never read. Returns the batch it was for.
    pub(crate) fn abandon(&mut self) -> Option<u64> {
        let seq = self.in_flight.take()?;
        // A fresh channel: the abandoned answer lands in the old one.
        let (_, answers) = crossbeam_channel::unbounded();
        self.answers = answers;
        self.requests = None;
        Some(seq)
    }
}
