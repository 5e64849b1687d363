//! Refusals. Every refusal carries one stable, dotted code from the rules catalogue
//! (`../shared/spec/rules.md`, "Error codes"), an English `Display`, and a Russian message for end
//! users ([`Error::message_ru`]).

use serde::Serialize;

/// A refusal of a command or a query, or a failure of a port.
///
/// Architecture invariant: a refused command changes nothing; the service commits a command's
/// effects and notifications together or not at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Malformed or out-of-range input.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An email address that does not parse.
    #[error("invalid email address: {0}")]
    EmailInvalid(String),
    /// A SNILS with a bad format or checksum (R-A3).
    #[error("invalid SNILS: {0}")]
    SnilsInvalid(String),
    /// The actor's role or scope does not allow the action.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// A referenced thing does not exist (or is not visible to the actor).
    #[error("not found: {0}")]
    NotFound(String),
    /// The action does not apply to the current state.
    #[error("not allowed in the current state: {0}")]
    InvalidState(String),
    /// R-A2: the email belongs to another account.
    #[error("the email is already used by another account")]
    EmailTaken,
    /// R-A3: the SNILS belongs to another account.
    #[error("the SNILS is already used by another account")]
    SnilsTaken,
    /// R-A4: registration needs consent to personal data processing.
    #[error("consent to personal data processing is required")]
    ConsentRequired,
    /// R-A5: the person has not confirmed their email yet.
    #[error("the email address is not confirmed")]
    EmailUnconfirmed,
    /// A role grant needs its basis document.
    #[error("a role is granted on a basis document (order number and date)")]
    RoleBasisRequired,
    /// R-A7: the workplace is still pending confirmation.
    #[error("the workplace is not confirmed yet")]
    EmploymentUnconfirmed,
    /// The person has no current workplace.
    #[error("the person has no current workplace")]
    EmploymentNone,
    /// R-V1: only pedagogical workers and heads receive vouchers.
    #[error("vouchers are issued to pedagogical workers only")]
    VoucherNotPedagogical,
    /// R-V2: the last voucher was issued less than the interval ago.
    #[error("a voucher may be issued again from {next}")]
    VoucherTooSoon {
        /// The first day a new voucher may be issued.
        next: chrono::NaiveDate,
    },
    /// R-V3: an application is already open.
    #[error("a voucher application is already pending")]
    VoucherPendingExists,
    /// R-V9: a voucher-funded group needs an active voucher.
    #[error("the group is funded by vouchers and the worker holds no active voucher")]
    VoucherNone,
    /// R-V6: the group starts after the voucher runs out.
    #[error("the voucher is valid until {valid_until}, the group starts later")]
    VoucherExpiredForGroup {
        /// The voucher's last valid day.
        valid_until: chrono::NaiveDate,
    },
    /// R-V7: the remaining blocks must still allow a profile block.
    #[error("at least one voucher block must be spent on a program profile for the position")]
    VoucherProfileBlockRequired,
    /// R-V8: no free blocks left on the voucher.
    #[error("the voucher has no free blocks left")]
    VoucherExhausted,
    /// R-P1: the program has not passed expertise.
    #[error("the program has not passed expertise")]
    ProgramNotApproved,
    /// R-P3: the provider's licence is missing or ends before the group.
    #[error("the provider's licence does not cover the group")]
    ProviderLicenseInvalid,
    /// R-P4: the provider may not train this worker.
    #[error("this provider may not train the worker (R-P4)")]
    ProviderNotPermitted,
    /// R-G3: no seats left.
    #[error("the group is full")]
    GroupFull,
    /// R-G2: the worker is outside the program's audience.
    #[error("the program's audience does not include the worker")]
    GroupAudienceMismatch,
    /// R-G4: enrolment is closed.
    #[error("enrolment in the group is closed")]
    GroupClosed,
    /// R-G6: results are recorded after the group ends.
    #[error("the group has not finished yet")]
    GroupNotFinished,
    /// R-G4: the worker is already enrolled.
    #[error("the worker is already enrolled in the group")]
    EnrollmentDuplicate,
    /// R-W1..R-W3: outside the planning window.
    #[error("outside the planning window: {0}")]
    PlanningWindowClosed(String),
    /// R-W3: a Tatarstan application needs a quota number.
    #[error("a quota number is required")]
    QuotaRequired,
    /// R-W3: the quota number is not valid for this worker.
    #[error("the quota number is not valid")]
    QuotaInvalid,
    /// R-W3: a quota number may move only within its organisation.
    #[error("a quota number may be reassigned only within its organisation")]
    QuotaOtherOrg,
    /// R-F1: the commitment exceeds the financing limit.
    #[error("the financing limit would be exceeded")]
    FundingLimitExceeded,
    /// A storage or notification port failed; nothing was committed.
    #[error("storage failure: {0}")]
    Storage(String),
    /// A concurrent unit of work conflicted (serialization failure, deadlock, busy database);
    /// nothing was committed and the command may be retried. The service retries it a bounded
    /// number of times before giving it to the caller.
    #[error("storage conflict: {0}")]
    Conflict(String),
}

impl Error {
    /// The stable, dotted code from the rules catalogue.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput(_) => "input.invalid",
            Error::EmailInvalid(_) => "input.email_invalid",
            Error::SnilsInvalid(_) => "input.snils_invalid",
            Error::AccessDenied(_) => "access.denied",
            Error::NotFound(_) => "not_found",
            Error::InvalidState(_) => "state.invalid",
            Error::EmailTaken => "account.email_taken",
            Error::SnilsTaken => "account.snils_taken",
            Error::ConsentRequired => "account.consent_required",
            Error::EmailUnconfirmed => "account.email_unconfirmed",
            Error::RoleBasisRequired => "role.basis_required",
            Error::EmploymentUnconfirmed => "employment.unconfirmed",
            Error::EmploymentNone => "employment.none",
            Error::VoucherNotPedagogical => "voucher.not_pedagogical",
            Error::VoucherTooSoon { .. } => "voucher.too_soon",
            Error::VoucherPendingExists => "voucher.pending_exists",
            Error::VoucherNone => "voucher.none",
            Error::VoucherExpiredForGroup { .. } => "voucher.expired_for_group",
            Error::VoucherProfileBlockRequired => "voucher.profile_block_required",
            Error::VoucherExhausted => "voucher.exhausted",
            Error::ProgramNotApproved => "program.not_approved",
            Error::ProviderLicenseInvalid => "provider.license_invalid",
            Error::ProviderNotPermitted => "provider.not_permitted",
            Error::GroupFull => "group.full",
            Error::GroupAudienceMismatch => "group.audience_mismatch",
            Error::GroupClosed => "group.closed",
            Error::GroupNotFinished => "group.not_finished",
            Error::EnrollmentDuplicate => "enrollment.duplicate",
            Error::PlanningWindowClosed(_) => "planning.window_closed",
            Error::QuotaRequired => "quota.required",
            Error::QuotaInvalid => "quota.invalid",
            Error::QuotaOtherOrg => "quota.other_org",
            Error::FundingLimitExceeded => "funding.limit_exceeded",
            Error::Storage(_) => "storage.failed",
            Error::Conflict(_) => "storage.conflict",
        }
    }

    /// The message for end users, in Russian.
    pub fn message_ru(&self) -> String {
        match self {
            Error::InvalidInput(d) => format!("Некорректные данные: {d}"),
            Error::EmailInvalid(d) => format!("Некорректный адрес электронной почты: {d}"),
            Error::SnilsInvalid(d) => format!("Некорректный СНИЛС: {d}"),
            Error::AccessDenied(_) => "Недостаточно прав для этого действия".into(),
            Error::NotFound(d) => format!("Не найдено: {d}"),
            Error::InvalidState(d) => format!("Действие невозможно в текущем состоянии: {d}"),
            Error::EmailTaken => "Этот адрес электронной почты уже используется другой учётной записью".into(),
            Error::SnilsTaken => "Этот СНИЛС уже указан в другой учётной записи".into(),
            Error::ConsentRequired => "Необходимо согласие на обработку персональных данных".into(),
            Error::EmailUnconfirmed => "Адрес электронной почты не подтверждён".into(),
            Error::RoleBasisRequired => "Роль назначается на основании приказа (номер и дата)".into(),
            Error::EmploymentUnconfirmed => "Место работы ещё не подтверждено ответственным".into(),
            Error::EmploymentNone => "Нет текущего места работы".into(),
            Error::VoucherNotPedagogical => {
                "Именной образовательный чек выдаётся только педагогическим работникам".into()
            }
            Error::VoucherTooSoon { next } => {
                format!("Чек выдаётся один раз в три года; следующий можно получить с {}", next.format("%d.%m.%Y"))
            }
            Error::VoucherPendingExists => "Заявка на чек уже подана и ожидает рассмотрения".into(),
            Error::VoucherNone => "Для записи в группу по чеку нужен действующий именной образовательный чек".into(),
            Error::VoucherExpiredForGroup { valid_until } => {
                format!("Чек действителен до {}, а обучение в группе начинается позже", valid_until.format("%d.%m.%Y"))
            }
            Error::VoucherProfileBlockRequired => {
                "Один блок чека должен быть использован на профильную программу".into()
            }
            Error::VoucherExhausted => "В чеке не осталось свободных блоков".into(),
            Error::ProgramNotApproved => "Программа не прошла экспертизу".into(),
            Error::ProviderLicenseInvalid => "Лицензия организации не действует на сроки обучения группы".into(),
            Error::ProviderNotPermitted => "Обучение в этой организации для работника не допускается".into(),
            Error::GroupFull => "В группе нет свободных мест".into(),
            Error::GroupAudienceMismatch => "Программа не предназначена для вашей категории работников".into(),
            Error::GroupClosed => "Запись в группу закрыта".into(),
            Error::GroupNotFinished => "Обучение в группе ещё не завершено".into(),
            Error::EnrollmentDuplicate => "Работник уже записан в эту группу".into(),
            Error::PlanningWindowClosed(_) => "Действие доступно только в сроки, установленные регламентом".into(),
            Error::QuotaRequired => "Для подачи заявки нужен уникальный номер".into(),
            Error::QuotaInvalid => "Уникальный номер недействителен".into(),
            Error::QuotaOtherOrg => "Уникальный номер можно передать только работнику той же организации".into(),
            Error::FundingLimitExceeded => "Превышен лимит финансирования".into(),
            Error::Storage(_) => "Временная ошибка хранилища, повторите попытку".into(),
            Error::Conflict(_) => "Система занята, повторите попытку".into(),
        }
    }

    /// Whether this is a refusal by a rule (as opposed to bad input, access, or a port failure).
    pub fn is_rule_refusal(&self) -> bool {
        !matches!(
            self,
            Error::InvalidInput(_)
                | Error::EmailInvalid(_)
                | Error::SnilsInvalid(_)
                | Error::AccessDenied(_)
                | Error::NotFound(_)
                | Error::Storage(_)
                | Error::Conflict(_)
        )
    }
}

/// A refusal as a host would serialise it: code, English and Russian messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// The stable code.
    pub code: &'static str,
    /// The English message.
    pub message: String,
    /// The Russian message for end users.
    pub message_ru: String,
}

impl From<&Error> for ErrorBody {
    fn from(e: &Error) -> Self {
        ErrorBody { code: e.code(), message: e.to_string(), message_ru: e.message_ru() }
    }
}

/// Shorthand for results in kadry.
pub type Result<T, E = Error> = std::result::Result<T, E>;
