//! Speaks HTTP to ZITADEL's Management API v1. The pure core (the endpoint catalog, the
//! instance URL, the classification of every failure by what the user has to do about it,
//! the proxy choice) is apart from the one I/O part, the client, which sends authenticated,
//! paced requests and waits between retries.

mod body;
mod client;
mod deadline;
mod endpoint;
mod error;
mod net;
mod no_proxy;
mod url;

pub use body::Body;
pub use client::{Client, Settings};
pub use endpoint::Endpoint;
pub use error::{ApiError, ErrorClass};
pub use net::{BadProxyVariable, ProxyEnv};
pub use url::InstanceUrl;

/// The largest response body we read. A 1000-row page of real data is about 1 MiB (a user
/// with many login names a few KiB); with strings capped too (`wire::MAX_TEXT_BYTES`), a
/// body this large keeps what one page takes within 16 MiB however hostile it is (the
/// bodies of the lists read at once are part of `budget::FIXED_MIB`).
pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
