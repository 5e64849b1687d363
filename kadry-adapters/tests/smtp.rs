//! The SMTP notifier against a minimal SMTP sink on 127.0.0.1 that the test starts itself.
#![cfg(feature = "smtp")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use kadry_adapters::smtp::{SmtpConfig, SmtpNotifier, SmtpTls};
use kadry_core::Error;
use kadry_core::ids::{NotificationId, PersonId};
use kadry_core::model::{Notification, NotificationKind};
use kadry_core::ports::Notifier;
use kadry_core::types::Email;
use tokio::net::{TcpListener, TcpStream};

/// What one SMTP session sent to the sink.
#[derive(Debug, Clone, Default)]
struct Session {
    commands: Vec<String>,
    messages: Vec<String>,
}

/// A minimal SMTP sink: greets, accepts everything except that RCPT gets `rcpt_reply`.
struct Sink {
    addr: SocketAddr,
    sessions: Arc<Mutex<Vec<Session>>>,
}

impl Sink {
    async fn start(rcpt_reply: &'static str) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sessions = Arc::new(Mutex::new(Vec::new()));
        let log = sessions.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut session = Session::default();
                    let _ = serve(stream, rcpt_reply, &mut session).await;
                    log.lock().unwrap().push(session);
                });
            }
        });
        Sink { addr, sessions }
    }

    fn sessions(&self) -> Vec<Session> {
        self.sessions.lock().unwrap().clone()
    }

    fn config(&self) -> SmtpConfig {
        let mut c = SmtpConfig::new("127.0.0.1", self.addr.port(), "Кадры <noreply@kadry.example>");
        c.timeout = Some(Duration::from_secs(5));
        c
    }
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads more bytes into `buf`; false at end of stream.
async fn read_more(stream: &TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 4096];
    loop {
        stream.readable().await?;
        match stream.try_read(&mut chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(true);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn serve(stream: TcpStream, rcpt_reply: &str, session: &mut Session) -> std::io::Result<()> {
    write_all(&stream, b"220 sink.test ESMTP\r\n").await?;
    let mut buf = Vec::new();
    let mut in_data = false;
    loop {
        if in_data {
            // The terminator follows the message's last CRLF.
            if let Some(i) = find(&buf, b"\r\n.\r\n") {
                let message = String::from_utf8_lossy(&buf[..i + 2]).into_owned();
                session.messages.push(message);
                buf.drain(..i + 5);
                in_data = false;
                write_all(&stream, b"250 2.0.0 queued\r\n").await?;
                continue;
            }
        } else if let Some(i) = find(&buf, b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..i]).into_owned();
            buf.drain(..i + 2);
            let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            session.commands.push(line);
            let reply = match verb.as_str() {
                "EHLO" | "HELO" => "250 sink.test",
                "MAIL" | "RSET" | "NOOP" => "250 2.1.0 ok",
                "RCPT" => rcpt_reply,
                "DATA" => {
                    in_data = true;
                    "354 end with <CRLF>.<CRLF>"
                }
                "QUIT" => {
                    write_all(&stream, b"221 2.0.0 bye\r\n").await?;
                    return Ok(());
                }
                _ => "502 5.5.2 not implemented",
            };
            write_all(&stream, format!("{reply}\r\n").as_bytes()).await?;
            continue;
        }
        if !read_more(&stream, &mut buf).await? {
            return Ok(());
        }
    }
}

// --- Minimal MIME decoding for the assertions -------------------------------------------

fn base64(input: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in input.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue, // padding, line breaks
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn quoted_printable(input: &str, underscore_is_space: bool) -> Vec<u8> {
    let b = input.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'=' if b[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'_' if underscore_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Decodes a header value with RFC 2047 encoded words.
fn decode_header(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    for token in value.split_whitespace() {
        let encoded = token.strip_prefix("=?").and_then(|t| t.strip_suffix("?=")).and_then(|t| {
            let mut parts = t.splitn(3, '?');
            Some((parts.next()?, parts.next()?, parts.next()?))
        });
        match encoded {
            Some((_charset, enc, text)) => match enc {
                "b" | "B" => pending.extend(base64(text)),
                _ => pending.extend(quoted_printable(text, true)),
            },
            None => {
                if !pending.is_empty() {
                    out.push_str(&String::from_utf8(std::mem::take(&mut pending)).unwrap());
                }
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(token);
            }
        }
    }
    out.push_str(&String::from_utf8(pending).unwrap());
    out
}

/// The message's headers (unfolded, names lowercased) and decoded body.
fn parse(message: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = message.split_once("\r\n\r\n").unwrap();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let headers: Vec<(String, String)> = unfolded
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let cte = headers.iter().find(|(k, _)| k == "content-transfer-encoding").map(|(_, v)| v.to_ascii_lowercase());
    let body = match cte.as_deref() {
        Some("base64") => String::from_utf8(base64(body)).unwrap(),
        Some("quoted-printable") => String::from_utf8(quoted_printable(body, false)).unwrap(),
        _ => body.to_string(),
    };
    (headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name} header"))
}

fn notification() -> Notification {
    Notification {
        id: NotificationId(uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0)),
        person: PersonId(uuid::Uuid::from_u128(7)),
        kind: NotificationKind::VoucherApproved,
        at: Utc.with_ymd_and_hms(2025, 1, 13, 9, 0, 0).unwrap(),
        details_ru: "Чек действует до 12.01.2028.".into(),
    }
}

#[tokio::test]
async fn delivers_a_russian_email_with_a_message_id_from_the_notification() {
    let sink = Sink::start("250 2.1.5 ok").await;
    let notifier = SmtpNotifier::new(sink.config()).unwrap();
    let n = notification();
    let to = Email::parse("W0@Example.ru").unwrap();
    notifier.deliver(&n, &to).await.unwrap();

    let sessions = sink.sessions();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert!(s.commands.iter().any(|c| c == "MAIL FROM:<noreply@kadry.example>"), "{:?}", s.commands);
    assert!(s.commands.iter().any(|c| c == "RCPT TO:<W0@Example.ru>"), "{:?}", s.commands);
    assert_eq!(s.messages.len(), 1);

    let (headers, body) = parse(&s.messages[0]);
    let subject = header(&headers, "subject");
    assert!(subject.is_ascii(), "headers are 7-bit (encoded words): {subject}");
    assert_eq!(decode_header(subject), "Заявка на именной образовательный чек одобрена");
    assert_eq!(header(&headers, "message-id"), format!("<{}@kadry.example>", n.id));
    assert_eq!(header(&headers, "message-id"), notifier.message_id(&n));
    assert!(header(&headers, "to").contains("W0@Example.ru"));
    assert!(decode_header(header(&headers, "from")).contains("noreply@kadry.example"));
    assert!(header(&headers, "content-type").starts_with("text/plain"));
    assert!(body.contains("Здравствуйте!"), "{body}");
    assert!(body.contains("Заявка на именной образовательный чек одобрена."), "{body}");
    assert!(body.contains("Чек действует до 12.01.2028."), "{body}");
    assert!(body.contains(&n.id.to_string()), "{body}");
}

#[tokio::test]
async fn a_refused_recipient_is_a_retryable_error() {
    let sink = Sink::start("550 5.1.1 no such user").await;
    let notifier = SmtpNotifier::new(sink.config()).unwrap();
    let err = notifier.deliver(&notification(), &Email::parse("nobody@example.ru").unwrap()).await.unwrap_err();
    assert!(matches!(err, Error::Storage(_)), "{err:?}");
    assert!(err.to_string().contains("550"), "{err}");
    let sessions = sink.sessions();
    assert!(sessions.iter().all(|s| s.messages.is_empty()), "nothing was accepted");
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_error() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = SmtpConfig::new("127.0.0.1", port, "noreply@kadry.example");
    config.timeout = Some(Duration::from_secs(2));
    let notifier = SmtpNotifier::new(config).unwrap();
    let err = notifier.deliver(&notification(), &Email::parse("w0@example.ru").unwrap()).await.unwrap_err();
    assert!(matches!(err, Error::Storage(_)), "{err:?}");
}

#[test]
fn config_is_checked() {
    let mut c = SmtpConfig::new("127.0.0.1", 25, "not an address");
    assert!(matches!(SmtpNotifier::new(c.clone()), Err(Error::InvalidInput(_))));
    c.from = "noreply@kadry.example".into();
    for tls in [SmtpTls::StartTls, SmtpTls::Wrapper] {
        c.tls = tls;
        assert!(matches!(SmtpNotifier::new(c.clone()), Err(Error::InvalidInput(_))), "{tls:?} needs a TLS backend");
    }
    c.tls = SmtpTls::None;
    assert!(SmtpNotifier::new(c).is_ok());
}

#[test]
fn credentials_are_not_printed() {
    let mut c = SmtpConfig::new("127.0.0.1", 25, "noreply@kadry.example");
    c.credentials = Some(kadry_adapters::smtp::SmtpCredentials { username: "kadry".into(), password: "s3cret".into() });
    let printed = format!("{c:?}");
    assert!(printed.contains("kadry") && !printed.contains("s3cret"), "{printed}");
}
