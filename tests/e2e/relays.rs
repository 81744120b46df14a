//! Loopback relays in front of the fake ZITADEL: a TLS terminator with the test CA's
//! certificate, and an HTTP CONNECT proxy. Each relays bytes on background threads until
//! either side closes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

/// Accepts TLS on `127.0.0.1` with `testdata/tls/server.pem` and forwards the plaintext to
/// `backend`. Returns the address it listens on.
pub fn tls_front(backend: SocketAddr, tls_dir: &Path) -> SocketAddr {
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(tls_dir.join("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("server.pem parses");
    let key = PrivateKeyDer::from_pem_file(tls_dir.join("server.key")).expect("server.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("the test certificate and key match");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            thread::spawn(move || {
                let _ = terminate(client, backend, config);
            });
        }
    });
    addr
}

/// Relays one TLS connection: one thread reads TLS records from the client and writes the
/// plaintext to the backend, the other writes the backend's answers back as TLS records.
/// Blocking reads happen outside the lock around the TLS state.
fn terminate(client: TcpStream, backend: SocketAddr, config: Arc<ServerConfig>) -> io::Result<()> {
    let tls = Arc::new(Mutex::new(ServerConnection::new(config).map_err(io::Error::other)?));
    let backend = TcpStream::connect(backend)?;
    let (mut client_in, client_out) = (client.try_clone()?, Arc::new(Mutex::new(client)));
    let (mut backend_in, mut backend_out) = (backend.try_clone()?, backend);

    let answers = {
        let (tls, client_out) = (Arc::clone(&tls), Arc::clone(&client_out));
        thread::spawn(move || -> io::Result<()> {
            let mut buffer = [0; 16 * 1024];
            loop {
                let n = backend_in.read(&mut buffer)?;
                if n == 0 {
                    return client_out.lock().unwrap().shutdown(Shutdown::Write);
                }
                let mut tls = tls.lock().unwrap();
                tls.writer().write_all(&buffer[..n])?;
                while tls.wants_write() {
                    tls.write_tls(&mut *client_out.lock().unwrap())?;
                }
            }
        })
    };
    let mut buffer = [0; 16 * 1024];
    let mut plaintext = Vec::new();
    loop {
        let n = client_in.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        {
            let mut tls = tls.lock().unwrap();
            tls.read_tls(&mut &buffer[..n])?;
            tls.process_new_packets().map_err(io::Error::other)?;
            plaintext.clear();
            match tls.reader().read_to_end(&mut plaintext) {
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
            while tls.wants_write() {
                tls.write_tls(&mut *client_out.lock().unwrap())?;
            }
        }
        backend_out.write_all(&plaintext)?;
    }
    let _ = backend_out.shutdown(Shutdown::Write);
    let _ = answers.join();
    Ok(())
}

/// An HTTP proxy that accepts only CONNECT to loopback addresses and to names under
/// `.invalid` (RFC 6761: no resolver knows them), which it connects to `127.0.0.1` at the
/// same port; it records each target. A client that reaches the fake through such a name
/// can only have gone through the proxy.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    targets: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let targets = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&targets);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let recorded = Arc::clone(&recorded);
                thread::spawn(move || {
                    let _ = tunnel(client, &recorded);
                });
            }
        });
        ConnectProxy { addr, targets }
    }

    /// The `host:port` of every CONNECT so far.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

fn tunnel(client: TcpStream, targets: &Mutex<Vec<String>>) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let mut writer = client;
    let target = match request_line.split(' ').collect::<Vec<_>>().as_slice() {
        ["CONNECT", target, _] => target.to_string(),
        _ => {
            return writer
                .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        }
    };
    let upstream = match target.rsplit_once(':') {
        Some((host, port))
            if host == "127.0.0.1" || host == "localhost" || host.ends_with(".invalid") =>
        {
            format!("127.0.0.1:{port}")
        }
        _ => return writer.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n"),
    };
    targets.lock().unwrap().push(target.clone());
    let upstream = TcpStream::connect(upstream)?;
    writer.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let (mut upstream_in, mut upstream_out) = (upstream.try_clone()?, upstream);
    let mut client_out = writer.try_clone()?;
    let answers = thread::spawn(move || {
        let _ = io::copy(&mut upstream_in, &mut client_out);
        let _ = client_out.shutdown(Shutdown::Write);
    });
    // Bytes the reader buffered past the CONNECT head belong to the tunnel.
    upstream_out.write_all(reader.buffer())?;
    let _ = io::copy(reader.get_mut(), &mut upstream_out);
    let _ = upstream_out.shutdown(Shutdown::Write);
    let _ = answers.join();
    Ok(())
}
