//! HTTP/1.1 as Go's net/http speaks it: reading requests, keep-alive connections, and framing answers.

use crate::faults::{Answer, FaultAction, Mutation};
use crate::json;
use crate::query::uint_of;
use crate::routes::handle;
use crate::{RequestLog, Shared, lock};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;

/// Go's net/http sends bodies up to this size with `Content-Length`, larger ones chunked.
const CONTENT_LENGTH_MAX: usize = 2048;
/// The size of each chunk of a chunked body (Go flushes its 4 KiB buffer per chunk).
const CHUNK_SIZE: usize = 4096;
/// Requests with a longer header line or header section are rejected as malformed.
const MAX_LINE: usize = 16 * 1024;
const MAX_HEADERS: usize = 100;
/// Request bodies are small filters; anything above this is rejected as malformed.
const MAX_BODY: usize = 1024 * 1024;
/// The body answered for `FaultAction::Garbage`: what a proxy in front of ZITADEL might send.
const GARBAGE_BODY: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
    <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

pub(super) fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        if !shared.register(id, &stream) {
            return;
        }
        let conn_shared = Arc::clone(shared);
        let spawned = thread::Builder::new().name("fake-zitadel-conn".into()).spawn(move || {
            serve_connection(stream, &conn_shared);
            lock(&conn_shared.connections).remove(&id);
        });
        if spawned.is_err() {
            lock(&shared.connections).remove(&id);
        }
    }
}

/// A parsed HTTP request.
pub(super) struct Request {
    pub(super) method: String,
    pub(super) path: String,
    http_1_1: bool,
    /// Header names are lowercased.
    headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Request {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only when asked to keep it.
    fn keep_alive(&self) -> bool {
        let tokens = self.header("connection").unwrap_or_default().to_ascii_lowercase();
        let has = |t: &str| tokens.split(',').any(|token| token.trim() == t);
        if self.http_1_1 { !has("close") } else { has("keep-alive") }
    }
}

/// Why reading a request stopped.
enum ReadError {
    /// The peer closed or the socket failed: nothing to answer.
    Closed,
    /// The bytes are not a valid request: answer 400 and close.
    Malformed,
}

/// An answer: status, extra headers and body.
pub(super) struct Response {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    loop {
        let request = match read_request(&mut reader, &mut writer) {
            Ok(Some(request)) => request,
            Ok(None) | Err(ReadError::Closed) => return,
            Err(ReadError::Malformed) => {
                answer_malformed(&mut writer, shared);
                return;
            }
        };
        let number = shared.request_counter.fetch_add(1, Ordering::SeqCst) + 1;
        // Taking the lock that waiters hold between checking and sleeping means no waiter
        // can miss this wake-up.
        drop(lock(&shared.log));
        shared.arrived.notify_all();
        let keep_alive = request.keep_alive();
        let fault = shared.take_fault(number, &request.path);
        let latency = lock(&shared.options).latency;
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        let mut entry = log_entry(&request, number);
        let sent = match fault {
            None | Some(FaultAction::Mutate(_)) => {
                if let Some(FaultAction::Mutate(Mutation(change))) = &fault {
                    shared.write(|dataset| change(dataset));
                }
                let response = handle(shared, &request, number);
                entry.status = response.status;
                shared.log(entry);
                send(&mut writer, &response, request.http_1_1, keep_alive)
            }
            Some(FaultAction::Answer(Answer(answer))) => {
                let response = Response { status: 200, headers: Vec::new(), body: answer(&entry) };
                entry.status = 200;
                shared.log(entry);
                send(&mut writer, &response, request.http_1_1, keep_alive)
            }
            Some(FaultAction::Status { status, body, headers }) => {
                let mut response = Response { status, headers, body };
                if !response.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
                    response.headers.insert(0, ("Content-Type".into(), "application/json".into()));
                }
                entry.status = status;
                shared.log(entry);
                send_raw(&mut writer, &response, keep_alive)
            }
            Some(FaultAction::Garbage) => {
                let headers = vec![("Content-Type".into(), "text/html".into())];
                let response = Response { status: 200, headers, body: GARBAGE_BODY.into() };
                entry.status = 200;
                shared.log(entry);
                send_raw(&mut writer, &response, keep_alive)
            }
            Some(FaultAction::DropConnection) => {
                shared.log(entry);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Some(FaultAction::CutBody) => {
                let response = handle(shared, &request, number);
                entry.status = response.status;
                shared.log(entry);
                if let Ok(bytes) = send_cut(&mut writer, &response) {
                    shared.response_bytes.fetch_add(bytes, Ordering::SeqCst);
                }
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        };
        match sent {
            Ok(bytes) => shared.response_bytes.fetch_add(bytes, Ordering::SeqCst),
            Err(_) => return,
        };
        if !keep_alive {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Builds the log entry of a request; its status is filled in once the answer is decided.
fn log_entry(request: &Request, number: u64) -> RequestLog {
    let parsed = std::str::from_utf8(&request.body).ok().and_then(|text| json::parse(text).ok());
    // The v2 lists page with `pagination` where v1 lists have `query`.
    let query =
        parsed.as_ref().and_then(|body| body.get("query").or_else(|| body.get("pagination")));
    let number_of = |key: &str| query.and_then(|q| q.get(key)).and_then(|v| uint_of(v, u64::MAX));
    RequestLog {
        number,
        method: request.method.clone(),
        path: request.path.clone(),
        host: request.header("host").map(str::to_string),
        org_header: request.header("x-zitadel-orgid").map(str::to_string),
        has_authorization: request.header("authorization").is_some(),
        offset: number_of("offset"),
        limit: number_of("limit"),
        body: String::from_utf8_lossy(&request.body).into_owned(),
        status: 0,
    }
}

/// Answers a malformed request like Go's net/http does: a plain-text 400, then close.
fn answer_malformed(writer: &mut TcpStream, shared: &Shared) {
    let number = shared.request_counter.fetch_add(1, Ordering::SeqCst) + 1;
    shared.log(RequestLog {
        number,
        method: String::new(),
        path: String::new(),
        host: None,
        org_header: None,
        has_authorization: false,
        offset: None,
        limit: None,
        body: String::new(),
        status: 400,
    });
    let body = "400 Bad Request";
    let head = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(body.as_bytes())).is_ok() {
        shared.response_bytes.fetch_add(body.len() as u64, Ordering::SeqCst);
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// Reads one request; `Ok(None)` is a clean close between requests.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> Result<Option<Request>, ReadError> {
    // RFC 9112 asks servers to ignore empty lines before a request line.
    let request_line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed);
    };
    let http_1_1 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(ReadError::Malformed),
    };
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
    {
        return Err(ReadError::Malformed);
    }
    let path = target.split('?').next().unwrap_or_default().to_string();

    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(reader)? else { return Err(ReadError::Malformed) };
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else { return Err(ReadError::Malformed) };
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(ReadError::Malformed);
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
        if headers.len() > MAX_HEADERS {
            return Err(ReadError::Malformed);
        }
    }
    let mut request =
        Request { method: method.to_string(), path, http_1_1, headers, body: Vec::new() };

    let chunked = match request.header("transfer-encoding") {
        None => false,
        Some(codings) if codings.to_ascii_lowercase().trim() == "chunked" => true,
        Some(_) => return Err(ReadError::Malformed),
    };
    let length = match request.header("content-length") {
        None => 0,
        Some(_) if chunked => return Err(ReadError::Malformed),
        Some(text) => text.parse::<usize>().map_err(|_| ReadError::Malformed)?,
    };
    if length > MAX_BODY {
        return Err(ReadError::Malformed);
    }
    let expects_body = chunked || length > 0;
    if expects_body
        && request.header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").map_err(|_| ReadError::Closed)?;
    }
    if chunked {
        request.body = read_chunked_body(reader)?;
    } else {
        request.body = vec![0; length];
        reader.read_exact(&mut request.body).map_err(|_| ReadError::Closed)?;
    }
    Ok(Some(request))
}

/// Reads a `Transfer-Encoding: chunked` body, discarding chunk extensions and trailers.
fn read_chunked_body(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let Some(line) = read_line(reader)? else { return Err(ReadError::Malformed) };
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| ReadError::Malformed)?;
        if size == 0 {
            // Trailer fields up to an empty line.
            loop {
                match read_line(reader)? {
                    None => return Err(ReadError::Malformed),
                    Some(line) if line.is_empty() => return Ok(body),
                    Some(_) => {}
                }
            }
        }
        if body.len().saturating_add(size) > MAX_BODY {
            return Err(ReadError::Malformed);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).map_err(|_| ReadError::Closed)?;
        if read_line(reader)?.is_none_or(|rest| !rest.is_empty()) {
            return Err(ReadError::Malformed);
        }
    }
}

/// Reads one line without its line ending; `Ok(None)` at end of stream before any byte.
fn read_line(reader: &mut BufReader<TcpStream>) -> Result<Option<String>, ReadError> {
    let mut line = Vec::new();
    let limit = MAX_LINE as u64 + 1;
    let read = reader.by_ref().take(limit).read_until(b'\n', &mut line);
    if read.map_err(|_| ReadError::Closed)? == 0 {
        return Ok(None);
    }
    // A line without its newline was either too long or cut off by the peer.
    if line.pop() != Some(b'\n') {
        return Err(ReadError::Malformed);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map(Some).map_err(|_| ReadError::Malformed)
}

/// Sends a ZITADEL answer with Go's framing: `Content-Length` for small bodies, chunked for
/// large ones. Returns the number of body bytes sent.
fn send(
    writer: &mut TcpStream,
    response: &Response,
    http_1_1: bool,
    keep_alive: bool,
) -> io::Result<u64> {
    let mut head = status_line(response.status);
    head.push_str("Content-Type: application/json\r\n");
    if response.status == 200 {
        head.push_str("Grpc-Metadata-Cache-Control: no-store\r\n");
        head.push_str("Grpc-Metadata-Content-Type: application/grpc\r\n");
    }
    head.push_str("X-Robots-Tag: none\r\n");
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = response.body.as_bytes();
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    if body.len() <= CONTENT_LENGTH_MAX || !http_1_1 {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        writer.write_all(&out)?;
        return Ok(body.len() as u64);
    }
    head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    let mut out = head.into_bytes();
    for chunk in body.chunks(CHUNK_SIZE) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    writer.write_all(&out)?;
    Ok(body.len() as u64)
}

/// Sends an injected answer exactly with the given headers and `Content-Length`.
fn send_raw(writer: &mut TcpStream, response: &Response, keep_alive: bool) -> io::Result<u64> {
    let mut head = status_line(response.status);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", response.body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(response.body.as_bytes());
    writer.write_all(&out)?;
    Ok(response.body.len() as u64)
}

/// Sends the headers of a normal answer with its full `Content-Length`, but only half the body.
fn send_cut(writer: &mut TcpStream, response: &Response) -> io::Result<u64> {
    let body = response.body.as_bytes();
    let mut head = status_line(response.status);
    head.push_str("Content-Type: application/json\r\n");
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    let half = &body[..body.len() / 2];
    out.extend_from_slice(half);
    writer.write_all(&out)?;
    Ok(half.len() as u64)
}

fn status_line(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    };
    format!("HTTP/1.1 {status} {reason}\r\n")
}
