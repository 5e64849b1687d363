//! Bulk import of staff lists (R-A6, R-A10): all rows or none, every problem reported with its
//! line and column, dry runs that commit nothing.

use kadry::core::command::{Query, QueryResult};
use kadry::core::ids::{OrgId, PersonId};
use kadry::core::model::{EmploymentStatus, Position};
use kadry::import::{ImportReport, import_staff};
use kadry::{Actor, Service};

use crate::world::World;

const CLEAN: &str = "\u{FEFF}ФИО;Электронная почта;Должность;Педагогический;Согласие;СНИЛС;Предмет;Год рождения\r\n\
                     Иванова Мария Петровна;ivanova@school0.ru;учитель;да;да;112-233-445 95;математика;1980\r\n\
                     Петров Пётр Ильич;petrov@school0.ru;педагог-психолог;да;да;;;\r\n\
                     Сидорова Анна;sidorova@school0.ru;другое;нет;да;;;1975\r\n";

async fn staff(service: &Service, actor: PersonId, org: OrgId) -> kadry::core::command::StaffView {
    match service.query(Actor::Person(actor), Query::ShowStaff { org }).await.unwrap() {
        QueryResult::Staff(s) => s,
        other => panic!("{other:?}"),
    }
}

fn errors(r: &ImportReport) -> Vec<(u64, Option<&str>, &str)> {
    r.errors.iter().map(|e| (e.line, e.column.as_deref(), e.code.as_str())).collect()
}

async fn import(w: &World, actor: PersonId, school: usize, csv: &str, dry_run: bool) -> ImportReport {
    import_staff(&w.service, Actor::Person(actor), w.schools[school], csv.as_bytes(), dry_run).await.unwrap()
}

/// R-A6, R-A10: a clean file registers every row, workplaces confirmed.
#[tokio::test]
async fn a_clean_file_imports_every_row() {
    let w = World::samara().await;
    let before = staff(&w.service, w.resps[0], w.schools[0]).await.count;
    let r = import(&w, w.resps[0], 0, CLEAN, false).await;
    assert_eq!(errors(&r), vec![]);
    assert_eq!((r.rows, r.imported, r.dry_run), (3, 3, false));
    assert_eq!(r.created.iter().map(|c| c.line).collect::<Vec<_>>(), vec![2, 3, 4]);
    let after = staff(&w.service, w.resps[0], w.schools[0]).await;
    assert_eq!((after.count, after.pending), (before + 3, 0));
    let psychologist = r.created[1].person;
    let QueryResult::Person(p) =
        w.service.query(Actor::Person(w.resps[0]), Query::ShowPerson { person: psychologist }).await.unwrap()
    else {
        panic!("person")
    };
    assert_eq!((p.full_name.as_str(), p.email.as_str()), ("Петров Пётр Ильич", "petrov@school0.ru"));
    assert_eq!((p.employment, p.position), ("active", Some(Position::Psychologist)));
    let entry = after.staff.iter().find(|e| e.person == r.created[0].person).unwrap();
    assert_eq!(entry.status, EmploymentStatus::Active);
}

/// A dry run of a clean file reports no errors and commits nothing; the real run then works.
#[tokio::test]
async fn a_dry_run_reports_and_commits_nothing() {
    let w = World::samara().await;
    let before = staff(&w.service, w.resps[0], w.schools[0]).await.count;
    let audit = w.store.audit().len();
    let r = import(&w, w.resps[0], 0, CLEAN, true).await;
    assert_eq!(errors(&r), vec![]);
    assert_eq!((r.rows, r.imported, r.dry_run, r.created.len()), (3, 0, true, 0));
    assert_eq!(staff(&w.service, w.resps[0], w.schools[0]).await.count, before);
    assert_eq!(w.store.audit().len(), audit);
    let r = import(&w, w.resps[0], 0, CLEAN, false).await;
    assert_eq!((r.imported, errors(&r)), (3, vec![]));
}

/// All or none: one bad row among good ones imports nothing and is the only error.
#[tokio::test]
async fn one_bad_row_imports_nothing_and_is_reported_exactly() {
    let w = World::samara().await;
    let before = staff(&w.service, w.resps[0], w.schools[0]).await.count;
    let audit = w.store.audit().len();
    let csv = CLEAN.replace("112-233-445 95", "112-233-445 96");
    for dry_run in [false, true] {
        let r = import(&w, w.resps[0], 0, &csv, dry_run).await;
        assert_eq!(errors(&r), vec![(2, Some("СНИЛС"), "input.snils_invalid")]);
        assert_eq!((r.rows, r.imported, r.created.len()), (3, 0, 0));
    }
    assert_eq!(staff(&w.service, w.resps[0], w.schools[0]).await.count, before);
    assert_eq!(w.store.audit().len(), audit);
}

/// R-A2, R-A3, R-A10: repeats within the file and accounts that already exist are reported on
/// their lines in the same run; nothing is half-imported.
#[tokio::test]
async fn duplicates_in_the_file_and_against_accounts_are_reported() {
    let w = World::samara().await;
    let first = "full_name,email,position,consent,snils\nИванова Мария,ivanova@school0.ru,teacher,yes,11223344595\n";
    assert_eq!(import(&w, w.resps[0], 0, first, false).await.imported, 1);
    let before = staff(&w.service, w.resps[0], w.schools[0]).await.count;
    let csv = "full_name,email,position,consent,snils\n\
               Петрова Анна,petrova@school0.ru,teacher,yes,\n\
               Орлова Анна,W0@Example.ru,teacher,yes,\n\
               Козлова Анна,kozlova@school0.ru,teacher,yes,112-233-445 95\n\
               Белова Анна,belova@school0.ru,teacher,yes,342-932-447 76\n\
               Петрова Анна,PETROVA@school0.ru,teacher,yes,\n\
               Смирнова Анна,smirnova@school0.ru,teacher,yes,34293244776\n";
    for dry_run in [true, false] {
        let r = import(&w, w.resps[0], 0, csv, dry_run).await;
        assert_eq!(
            errors(&r),
            vec![
                (2, Some("email"), "account.email_taken"),
                (3, Some("email"), "account.email_taken"),
                (4, Some("snils"), "account.snils_taken"),
                (5, Some("snils"), "account.snils_taken"),
                (6, Some("email"), "account.email_taken"),
                (7, Some("snils"), "account.snils_taken"),
            ]
        );
        // In-file repeats name the first line; existing accounts use the catalogue's message.
        assert!(r.errors[0].message.contains("lines 2, 6"));
        assert!(r.errors[3].message_ru.contains("впервые — в строке 5"));
        assert_eq!(r.errors[1].message_ru, kadry::Error::EmailTaken.message_ru());
        assert_eq!((r.imported, r.created.len()), (0, 0));
    }
    assert_eq!(staff(&w.service, w.resps[0], w.schools[0]).await.count, before);
}

/// Errors of the file and refusals of the service come back together, whatever the mode.
#[tokio::test]
async fn file_errors_and_service_refusals_are_reported_in_one_pass() {
    let w = World::samara().await;
    let csv = "ФИО;email;должность;согласие\nИванова;ivanova@school0.ru;учитель;да\nОрлова Анна;w1@example.ru;учитель;да\n\
               Козлова Анна;kozlova@school0.ru;учитель;нет\n";
    let r = import(&w, w.resps[0], 0, csv, false).await;
    assert_eq!(
        errors(&r),
        vec![
            (2, Some("ФИО"), "input.invalid"),
            (3, Some("email"), "account.email_taken"),
            (4, Some("согласие"), "account.consent_required"),
        ]
    );
    assert_eq!(r.imported, 0);
}

/// R-A6: a responsible registers the staff of their own organisation only; workers and
/// anonymous callers import nothing.
#[tokio::test]
async fn a_responsible_of_another_school_is_refused() {
    let w = World::samara().await;
    let before = staff(&w.service, w.resps[0], w.schools[0]).await.count;
    for dry_run in [true, false] {
        let r = import(&w, w.resps[1], 0, CLEAN, dry_run).await;
        assert_eq!(
            errors(&r),
            vec![(2, None, "access.denied"), (3, None, "access.denied"), (4, None, "access.denied")]
        );
        assert_eq!(r.imported, 0);
    }
    let r = import(&w, w.workers[0], 0, CLEAN, false).await;
    assert!(r.errors.iter().all(|e| e.code == "access.denied") && r.errors.len() == 3);
    let anonymous = import_staff(&w.service, Actor::Anonymous, w.schools[0], CLEAN.as_bytes(), false).await;
    assert_eq!(anonymous.unwrap_err().code(), "access.denied");
    assert_eq!(staff(&w.service, w.resps[0], w.schools[0]).await.count, before);
    // The operator may import into any school.
    assert_eq!(import(&w, w.operator, 0, CLEAN, false).await.imported, 3);
}

/// R-A10: never a second account — the same file twice refuses every row the second time.
#[tokio::test]
async fn importing_the_same_file_twice_refuses_every_row_the_second_time() {
    let w = World::samara().await;
    assert_eq!(import(&w, w.resps[0], 0, CLEAN, false).await.imported, 3);
    let count = staff(&w.service, w.resps[0], w.schools[0]).await.count;
    let r = import(&w, w.resps[0], 0, CLEAN, false).await;
    assert_eq!(
        errors(&r),
        vec![
            (2, Some("Электронная почта"), "account.email_taken"),
            (3, Some("Электронная почта"), "account.email_taken"),
            (4, Some("Электронная почта"), "account.email_taken"),
        ]
    );
    assert_eq!(r.imported, 0);
    assert_eq!(staff(&w.service, w.resps[0], w.schools[0]).await.count, count);
}

/// The report as a host serialises it.
#[tokio::test]
async fn the_report_serialises_with_lines_and_ids() {
    let w = World::samara().await;
    let r = import(&w, w.resps[0], 0, CLEAN, false).await;
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["imported"], 3);
    assert_eq!(json["created"][0]["line"], 2);
    assert_eq!(json["created"][0]["person"], r.created[0].person.to_string());
    assert_eq!(serde_json::from_value::<ImportReport>(json).unwrap(), r);
}
