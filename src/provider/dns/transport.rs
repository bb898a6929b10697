//! A small DNS transport over tokio: one question to one server, UDP first with an EDNS0 OPT
//! record (RFC 6891) advertising a 1232-byte buffer (the DNS Flag Day 2020 value) and the DO bit
//! (RFC 3225), retried over TCP (RFC 1035 §4.2.2, RFC 7766) when the answer is truncated. The
//! response's id and question are checked against the query (RFC 5452 §9.1); answers that do
//! not match are ignored, so a stray or spoofed datagram cannot be mistaken for the answer. Each
//! attempt has its own timeout; only timeouts are retried, and only a bounded number of times.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::state::{ProbeError, ProbeErrorKind};

/// The EDNS0 UDP payload size we advertise (DNS Flag Day 2020 recommendation).
pub const EDNS_BUFFER: u16 = 1232;

/// How one question is sent.
#[derive(Clone, Copy, Debug)]
pub struct QueryOptions {
    /// Time allowed for one attempt (one UDP exchange, or one TCP connect + exchange).
    pub timeout: Duration,
    /// Extra attempts after a timeout (so `retries: 2` means at most three sends).
    pub retries: u32,
    /// RD bit: `false` for questions to authoritative servers, `true` for recursive resolvers.
    pub recursion_desired: bool,
    /// Skip UDP and ask over TCP straight away.
    pub tcp_only: bool,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            timeout: Duration::from_secs(2),
            retries: 2,
            recursion_desired: false,
            tcp_only: false,
        }
    }
}

/// An answer and how it came.
#[derive(Clone, Debug)]
pub struct Answer {
    pub message: Message,
    /// The UDP answer was truncated and the question was asked again over TCP.
    pub via_tcp: bool,
}

fn err(kind: ProbeErrorKind, message: impl Into<String>) -> ProbeError {
    ProbeError {
        kind,
        message: message.into(),
    }
}

/// Builds the query message: one question, class IN, RD as asked, EDNS0 with DO (RFC 4035 §3.2.1).
fn build_query(name: &Name, rtype: RecordType, rd: bool) -> Result<(u16, Vec<u8>), ProbeError> {
    let mut msg = Message::query();
    msg.metadata.recursion_desired = rd;
    msg.metadata.message_type = MessageType::Query;
    msg.metadata.op_code = OpCode::Query;
    let mut q = Query::query(name.clone(), rtype);
    q.set_query_class(DNSClass::IN);
    msg.add_query(q);
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_BUFFER);
    edns.set_dnssec_ok(true);
    edns.set_version(0);
    msg.set_edns(edns);
    let id = msg.metadata.id;
    let bytes = msg.to_vec().map_err(|e| {
        err(
            ProbeErrorKind::Malformed,
            format!("cannot encode query: {e}"),
        )
    })?;
    Ok((id, bytes))
}

/// Whether `resp` answers the query `id` for (`name`, `rtype`, IN): QR set, same id, same single
/// question (names compared case-insensitively, RFC 4343).
fn matches_question(resp: &Message, id: u16, name: &Name, rtype: RecordType) -> bool {
    resp.metadata.id == id
        && resp.metadata.message_type == MessageType::Response
        && resp.queries.len() == 1
        && resp.queries[0].query_type() == rtype
        && resp.queries[0].query_class() == DNSClass::IN
        && resp.queries[0].name().eq_ignore_root(name)
}

/// Asks `server` one question. Errors are typed: [`ProbeErrorKind::Timeout`] once every attempt
/// timed out, [`ProbeErrorKind::Network`] for socket errors (e.g. TCP connection refused),
/// [`ProbeErrorKind::Malformed`] when the TCP answer does not parse or match. RCODEs are left to
/// the caller, which knows what the question meant.
pub async fn query(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    opts: QueryOptions,
) -> Result<Answer, ProbeError> {
    let mut last = err(ProbeErrorKind::Timeout, "no attempt made");
    for _ in 0..=opts.retries {
        let (id, bytes) = build_query(name, rtype, opts.recursion_desired)?;
        let attempt = if opts.tcp_only {
            tcp_exchange(server, &bytes, id, name, rtype, opts.timeout)
                .await
                .map(|message| Answer {
                    message,
                    via_tcp: true,
                })
        } else {
            match udp_exchange(server, &bytes, id, name, rtype, opts.timeout).await {
                Ok(m) if m.metadata.truncation => {
                    // RFC 7766 §5: a truncated UDP answer is asked again over TCP.
                    tcp_exchange(server, &bytes, id, name, rtype, opts.timeout)
                        .await
                        .map(|message| Answer {
                            message,
                            via_tcp: true,
                        })
                }
                Ok(message) => Ok(Answer {
                    message,
                    via_tcp: false,
                }),
                Err(e) => Err(e),
            }
        };
        match attempt {
            Err(e) if e.kind == ProbeErrorKind::Timeout => last = e,
            other => return other,
        }
    }
    last.message = format!(
        "{server}: no answer to {name} {rtype} after {} attempt(s) of {} ms",
        opts.retries + 1,
        opts.timeout.as_millis()
    );
    Err(last)
}

async fn udp_exchange(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
    name: &Name,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Message, ProbeError> {
    let bind: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    // An unconnected socket: ICMP port-unreachable is not reported, so a server that is down
    // looks like one that does not answer (a timeout), as it does across the Internet.
    let sock = UdpSocket::bind(bind)
        .await
        .map_err(|e| err(ProbeErrorKind::Network, format!("udp bind: {e}")))?;
    sock.send_to(bytes, server)
        .await
        .map_err(|e| err(ProbeErrorKind::Network, format!("{server}: udp send: {e}")))?;
    let deadline = tokio::time::Instant::now() + timeout;
    // Servers send at most the advertised 1232 octets (512 without EDNS); a datagram larger
    // than this buffer is cut short, fails to parse and is ignored.
    let mut buf = vec![0u8; 4096];
    loop {
        let recv = tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await;
        let (n, from) = match recv {
            Err(_) => {
                return Err(err(
                    ProbeErrorKind::Timeout,
                    format!("{server}: udp timeout for {name} {rtype}"),
                ));
            }
            Ok(Err(e)) => {
                return Err(err(
                    ProbeErrorKind::Network,
                    format!("{server}: udp receive: {e}"),
                ));
            }
            Ok(Ok(x)) => x,
        };
        if from != server {
            continue; // not from the server we asked
        }
        let Some(data) = buf.get(..n) else { continue };
        match Message::from_vec(data) {
            Ok(m) if matches_question(&m, id, name, rtype) => return Ok(m),
            // Wrong id/question or garbage: keep waiting for the real answer (RFC 5452 §9.1).
            _ => continue,
        }
    }
}

async fn tcp_exchange(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
    name: &Name,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Message, ProbeError> {
    let work = async {
        let mut stream = TcpStream::connect(server).await.map_err(|e| {
            err(
                ProbeErrorKind::Network,
                format!("{server}: tcp connect: {e}"),
            )
        })?;
        let len = u16::try_from(bytes.len())
            .map_err(|_| err(ProbeErrorKind::Malformed, "query longer than 65535 octets"))?;
        // RFC 1035 §4.2.2: two-octet length prefix.
        let mut framed = Vec::with_capacity(bytes.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(bytes);
        stream
            .write_all(&framed)
            .await
            .map_err(|e| err(ProbeErrorKind::Network, format!("{server}: tcp write: {e}")))?;
        let mut lenbuf = [0u8; 2];
        stream
            .read_exact(&mut lenbuf)
            .await
            .map_err(|e| err(ProbeErrorKind::Network, format!("{server}: tcp read: {e}")))?;
        let mut data = vec![0u8; usize::from(u16::from_be_bytes(lenbuf))];
        stream
            .read_exact(&mut data)
            .await
            .map_err(|e| err(ProbeErrorKind::Network, format!("{server}: tcp read: {e}")))?;
        let m = Message::from_vec(&data).map_err(|e| {
            err(
                ProbeErrorKind::Malformed,
                format!("{server}: tcp answer does not parse: {e}"),
            )
        })?;
        if !matches_question(&m, id, name, rtype) {
            return Err(err(
                ProbeErrorKind::Malformed,
                format!("{server}: tcp answer does not match the question {name} {rtype}"),
            ));
        }
        Ok(m)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(err(
            ProbeErrorKind::Timeout,
            format!("{server}: tcp timeout for {name} {rtype}"),
        )),
    }
}
