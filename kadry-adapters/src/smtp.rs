//! Email notifications over SMTP, through lettre's async transport on Tokio (feature `smtp`).
//!
//! Each notification becomes one plain-text Russian email: the subject is
//! [`NotificationKind::subject_ru`](kadry_core::model::NotificationKind::subject_ru), the body
//! carries the details, and the `Message-ID` is derived from the notification's id
//! (`<{id}@{domain of the sender}>`), so a notification the relay sends twice (delivery is at
//! least once) is recognisable as one message by receivers.
//!
//! A connection is opened per message (no pool). Send failures are
//! [`Error::Storage`]: the relay retries them with backoff.
//!
//! # TLS
//!
//! The crate enables lettre without a TLS backend, so only [`SmtpTls::None`] (plain SMTP) works:
//! use it with a trusted relay on the host or the local network (a local MTA, an in-cluster
//! relay) that forwards mail securely. Choosing [`SmtpTls::StartTls`] or [`SmtpTls::Wrapper`]
//! is refused by [`SmtpNotifier::new`] until a TLS backend (e.g. lettre's `tokio1-rustls-tls`)
//! is enabled.

use std::time::Duration;

use async_trait::async_trait;
use kadry_core::error::{Error, Result};
use kadry_core::model::Notification;
use kadry_core::ports::Notifier;
use kadry_core::types::Email;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// Plain SMTP, no encryption: the only choice that works with the enabled features. For a
    /// trusted relay only.
    #[default]
    None,
    /// Plain connection upgraded with `STARTTLS` (usually port 587). Needs a TLS backend.
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465). Needs a TLS backend.
    Wrapper,
}

/// SMTP login credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpCredentials").field("username", &self.username).field("password", &"***").finish()
    }
}

/// Where and how to send notification emails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// The SMTP server's host name or IP address.
    pub host: String,
    /// The SMTP server's port (25 for a local relay).
    pub port: u16,
    /// The sender, e.g. `Кадры <noreply@kadry.example>` or `noreply@kadry.example`. Its domain
    /// also names the `Message-ID`s.
    pub from: String,
    /// Login credentials, if the server wants them. With [`SmtpTls::None`] they travel in
    /// clear text.
    pub credentials: Option<SmtpCredentials>,
    /// Connection security; see the [module docs](self) for what works.
    pub tls: SmtpTls,
    /// Timeout for each SMTP command; `None` waits forever. Default 30 seconds.
    pub timeout: Option<Duration>,
}

impl SmtpConfig {
    /// A plain SMTP config for `host:port` sending as `from`, without credentials, with a
    /// 30-second timeout.
    pub fn new(host: impl Into<String>, port: u16, from: impl Into<String>) -> Self {
        SmtpConfig {
            host: host.into(),
            port,
            from: from.into(),
            credentials: None,
            tls: SmtpTls::None,
            timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// Delivers notifications as emails over SMTP.
#[derive(Debug, Clone)]
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    id_domain: String,
}

impl SmtpNotifier {
    /// A notifier for `config`. Nothing is connected until the first delivery.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the sender address does not parse or the TLS choice needs a TLS
    /// backend that is not compiled in.
    pub fn new(config: SmtpConfig) -> Result<Self> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| Error::InvalidInput(format!("SMTP sender address {:?}: {e}", config.from)))?;
        if config.tls != SmtpTls::None {
            return Err(Error::InvalidInput(format!(
                "SMTP TLS mode {:?} needs a TLS backend for lettre, which is not enabled; use SmtpTls::None with a trusted relay",
                config.tls
            )));
        }
        let domain = from.email.domain();
        let id_domain =
            if domain.is_ascii() && !domain.is_empty() { domain.to_string() } else { "kadry.invalid".into() };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host)
            .port(config.port)
            .timeout(config.timeout);
        if let Some(c) = config.credentials {
            builder = builder.credentials(Credentials::new(c.username, c.password));
        }
        Ok(SmtpNotifier { transport: builder.build(), from, id_domain })
    }

    /// The `Message-ID` of a notification's email: `<{id}@{sender's domain}>`.
    pub fn message_id(&self, notification: &Notification) -> String {
        format!("<{}@{}>", notification.id, self.id_domain)
    }

    fn message(&self, n: &Notification, to: &Email) -> Result<Message> {
        let to: Address =
            to.as_str().parse().map_err(|e| Error::InvalidInput(format!("recipient address {to}: {e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(n.kind.subject_ru())
            .message_id(Some(self.message_id(n)))
            .header(ContentType::TEXT_PLAIN)
            .body(body_ru(n))
            .map_err(|e| Error::InvalidInput(format!("notification email: {e}")))
    }
}

/// The plain-text Russian body.
fn body_ru(n: &Notification) -> String {
    let mut body = String::from("Здравствуйте!\n\n");
    body.push_str(n.kind.subject_ru());
    body.push_str(".\n");
    let details = n.details_ru.trim();
    if !details.is_empty() {
        body.push('\n');
        body.push_str(details);
        body.push('\n');
    }
    body.push_str(&format!(
        "\nДата события: {} (UTC)\nНомер уведомления: {}\n\n\
         Письмо отправлено автоматически, отвечать на него не нужно.\n",
        n.at.format("%d.%m.%Y %H:%M"),
        n.id
    ));
    body
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn deliver(&self, notification: &Notification, email: &Email) -> Result<()> {
        let message = self.message(notification, email)?;
        self.transport.send(message).await.map_err(|e| {
            let kind = if e.is_permanent() { "permanent" } else { "transient" };
            Error::Storage(format!("SMTP delivery of notification {} failed ({kind}): {e}", notification.id))
        })?;
        tracing::debug!(id = %notification.id, to = %email, kind = notification.kind.as_str(), "notification emailed");
        Ok(())
    }
}
