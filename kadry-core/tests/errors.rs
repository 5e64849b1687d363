//! Every code of the rules catalogue has a refusal, with an English and a Russian message, and
//! `docs/errors.md` lists them all.

use chrono::NaiveDate;
use kadry_core::Error;

const CATALOGUE: &[&str] = &[
    "input.invalid",
    "input.email_invalid",
    "input.snils_invalid",
    "access.denied",
    "not_found",
    "state.invalid",
    "account.email_taken",
    "account.snils_taken",
    "account.consent_required",
    "account.email_unconfirmed",
    "role.basis_required",
    "employment.unconfirmed",
    "employment.none",
    "voucher.not_pedagogical",
    "voucher.too_soon",
    "voucher.pending_exists",
    "voucher.none",
    "voucher.expired_for_group",
    "voucher.profile_block_required",
    "voucher.exhausted",
    "program.not_approved",
    "provider.license_invalid",
    "provider.not_permitted",
    "group.full",
    "group.audience_mismatch",
    "group.closed",
    "group.not_finished",
    "enrollment.duplicate",
    "planning.window_closed",
    "quota.required",
    "quota.invalid",
    "quota.other_org",
    "funding.limit_exceeded",
];

fn all() -> Vec<Error> {
    let d = NaiveDate::from_ymd_opt(2028, 1, 15).unwrap();
    vec![
        Error::InvalidInput("x".into()),
        Error::EmailInvalid("x".into()),
        Error::SnilsInvalid("x".into()),
        Error::AccessDenied("x".into()),
        Error::NotFound("x".into()),
        Error::InvalidState("x".into()),
        Error::EmailTaken,
        Error::SnilsTaken,
        Error::ConsentRequired,
        Error::EmailUnconfirmed,
        Error::RoleBasisRequired,
        Error::EmploymentUnconfirmed,
        Error::EmploymentNone,
        Error::VoucherNotPedagogical,
        Error::VoucherTooSoon { next: d },
        Error::VoucherPendingExists,
        Error::VoucherNone,
        Error::VoucherExpiredForGroup { valid_until: d },
        Error::VoucherProfileBlockRequired,
        Error::VoucherExhausted,
        Error::ProgramNotApproved,
        Error::ProviderLicenseInvalid,
        Error::ProviderNotPermitted,
        Error::GroupFull,
        Error::GroupAudienceMismatch,
        Error::GroupClosed,
        Error::GroupNotFinished,
        Error::EnrollmentDuplicate,
        Error::PlanningWindowClosed("x".into()),
        Error::QuotaRequired,
        Error::QuotaInvalid,
        Error::QuotaOtherOrg,
        Error::FundingLimitExceeded,
        Error::Storage("x".into()),
        Error::Conflict("x".into()),
    ]
}

#[test]
fn every_catalogue_code_has_a_refusal_with_both_messages() {
    let errors = all();
    for code in CATALOGUE {
        let e = errors.iter().find(|e| e.code() == *code).unwrap_or_else(|| panic!("no refusal for {code}"));
        assert!(!e.to_string().is_empty());
        let ru = e.message_ru();
        assert!(ru.chars().any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap())), "{code}: {ru}");
    }
    // Codes are unique.
    let mut codes: Vec<&str> = errors.iter().map(Error::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
}

#[test]
fn dates_in_messages_are_russian_style() {
    let e = Error::VoucherTooSoon { next: NaiveDate::from_ymd_opt(2028, 1, 15).unwrap() };
    assert!(e.message_ru().contains("15.01.2028"));
    assert!(e.to_string().contains("2028-01-15"));
}

#[test]
fn docs_errors_md_lists_every_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md");
    let doc = std::fs::read_to_string(path).expect("docs/errors.md");
    for e in all() {
        assert!(doc.contains(&format!("`{}`", e.code())), "docs/errors.md lacks {}", e.code());
    }
}
