//! Faults the tests inject: error answers, dropped connections, cut bodies, and data that changes mid-walk.

use crate::RequestLog;
use crate::dataset::Dataset;
use crate::json;
use std::sync::Arc;

/// A fault to inject: which requests it hits, how often, and what happens instead.
///
/// ```
/// # use fake_zitadel::{Dataset, FakeZitadel, Fault, FaultAction, Options};
/// let fake = FakeZitadel::start(Dataset::new(), Options::default())?;
/// fake.inject(Fault::new(FaultAction::DropConnection).on_path("/users/_search").once());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Fault {
    /// Hit only requests whose path contains this text.
    pub path_contains: Option<String>,
    /// Hit only the request with this 1-based number.
    pub request_number: Option<u64>,
    /// How many more requests to hit; `None` means every matching request.
    pub times: Option<u32>,
    pub action: FaultAction,
}

/// What the fake does instead of answering normally.
#[derive(Debug, Clone)]
pub enum FaultAction {
    /// Answer with this status, body and extra headers (`Content-Type: application/json`
    /// is added unless the headers set a content type).
    Status { status: u16, body: String, headers: Vec<(String, String)> },
    /// Close the connection without answering.
    DropConnection,
    /// Send the normal answer's headers with its full `Content-Length`, then only half of
    /// the body, then close.
    CutBody,
    /// Answer 200 with an HTML proxy error page instead of JSON.
    Garbage,
    /// Change the dataset (one write), then answer normally: data that changes between
    /// two pages of a walk.
    Mutate(Mutation),
    /// Answer 200 with the JSON body this function makes of the request (its log entry):
    /// a server whose answers depend on the page asked for.
    Answer(Answer),
}

/// A body maker, for `FaultAction::Answer`.
#[derive(Clone)]
pub struct Answer(pub Arc<dyn Fn(&RequestLog) -> String + Send + Sync>);

impl Answer {
    pub fn new(answer: impl Fn(&RequestLog) -> String + Send + Sync + 'static) -> Answer {
        Answer(Arc::new(answer))
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Answer(..)")
    }
}

/// A change to the dataset, for `FaultAction::Mutate`.
#[derive(Clone)]
pub struct Mutation(pub Arc<dyn Fn(&mut Dataset) + Send + Sync>);

impl Mutation {
    pub fn new(change: impl Fn(&mut Dataset) + Send + Sync + 'static) -> Mutation {
        Mutation(Arc::new(change))
    }
}

impl std::fmt::Debug for Mutation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mutation(..)")
    }
}

impl Fault {
    /// A fault that hits every request; narrow it with the builder methods.
    pub fn new(action: FaultAction) -> Fault {
        Fault { path_contains: None, request_number: None, times: None, action }
    }

    /// Hits only requests whose path contains `text`.
    pub fn on_path(mut self, text: &str) -> Fault {
        self.path_contains = Some(text.to_string());
        self
    }

    /// Hits only the request with this 1-based number.
    pub fn on_request(mut self, number: u64) -> Fault {
        self.request_number = Some(number);
        self
    }

    /// Hits only the first matching request.
    pub fn once(self) -> Fault {
        self.times(1)
    }

    /// Hits only the first `n` matching requests.
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    pub(super) fn matches(&self, number: u64, path: &str) -> bool {
        self.times != Some(0)
            && self.request_number.is_none_or(|n| n == number)
            && self.path_contains.as_deref().is_none_or(|text| path.contains(text))
    }
}

impl FaultAction {
    /// A ZITADEL-style error answer: `{"code":grpc_code,"message":message}` with `status`.
    pub fn error(status: u16, grpc_code: u32, message: &str) -> FaultAction {
        let body = format!("{{\"code\":{grpc_code},\"message\":{}}}", json::quote(message));
        FaultAction::Status { status, body, headers: Vec::new() }
    }
}
