//! The demo region loaded on first start with an empty database: two territories, schools,
//! a kindergarten, a licensed provider with approved programs and open groups, and one account
//! per role, all with the password [`DEMO_PASSWORD`].

use chrono::{Datelike, Days, NaiveDate};
use kadry::core::command::{Command, ScopeRef};
use kadry::core::ids::*;
use kadry::core::model::{Audience, Funding, License, OrgKind, Ownership, Position, Role};
use kadry::{Actor, Service};

use crate::auth::Auth;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "kadry-demo-2025";

/// A demo login: what the account is for, and its email.
pub struct Login {
    /// The role, in words.
    pub role: &'static str,
    /// The email to log in with.
    pub email: &'static str,
}

async fn created(service: &Service, actor: PersonId, c: Command) -> kadry::Result<uuid::Uuid> {
    let name = c.name();
    let outcome = service.execute(Actor::Person(actor), c).await?;
    outcome.created().ok_or_else(|| kadry::Error::Storage(format!("{name} created nothing")))
}

async fn run(service: &Service, actor: PersonId, c: Command) -> kadry::Result<()> {
    service.execute(Actor::Person(actor), c).await.map(|_| ())
}

struct Seeder<'a> {
    service: &'a Service,
    auth: &'a Auth,
    operator: PersonId,
}

impl Seeder<'_> {
    async fn person(
        &self,
        name: &str,
        email: &str,
        org: OrgId,
        position: Position,
        subject: Option<&str>,
    ) -> kadry::Result<PersonId> {
        let id = PersonId(
            created(
                self.service,
                self.operator,
                Command::RegisterPerson {
                    full_name: name.into(),
                    email: email.into(),
                    org,
                    position,
                    pedagogical: position != Position::Other,
                    consent: true,
                    snils: None,
                    subject: subject.map(str::to_string),
                    birth_year: None,
                },
            )
            .await?,
        );
        run(self.service, id, Command::ConfirmEmail { person: id }).await?;
        self.password(id).await?;
        Ok(id)
    }

    async fn password(&self, id: PersonId) -> kadry::Result<()> {
        self.auth.set_password(id, DEMO_PASSWORD).await.map_err(|e| kadry::Error::Storage(e.body.message))
    }

    async fn grant(&self, person: PersonId, role: Role, scope: Option<ScopeRef>) -> kadry::Result<()> {
        run(
            self.service,
            self.operator,
            Command::GrantRole { person, role, scope, basis: "приказ № 1 от 09.01.2025 (демо)".into() },
        )
        .await
    }

    async fn official(&self, name: &str, email: &str, role: Role) -> kadry::Result<PersonId> {
        let id = PersonId(
            created(
                self.service,
                self.operator,
                Command::RegisterOfficial {
                    full_name: name.into(),
                    email: email.into(),
                    role,
                    basis: "положение (демо)".into(),
                },
            )
            .await?,
        );
        run(self.service, id, Command::ConfirmEmail { person: id }).await?;
        self.password(id).await?;
        Ok(id)
    }
}

/// Loads the demo region if the database has no operator yet; returns the logins, or `None`
/// when the region already has data.
pub async fn seed(service: &Service, auth: &Auth) -> kadry::Result<Option<Vec<Login>>> {
    let operator = match service
        .bootstrap_operator("Оператор Регионального Центра", "operator@demo.kadry.ru", "регламент АИС")
        .await
    {
        Ok(id) => id,
        Err(e) if e.code() == "state.invalid" => return Ok(None),
        Err(e) => return Err(e),
    };
    let s = Seeder { service, auth, operator };
    s.password(operator).await?;
    let territory = |name: &str| Command::RegisterTerritory { name: name.into() };
    let tlt = TerritoryId(created(service, operator, territory("Тольяттинское управление")).await?);
    let smr = TerritoryId(created(service, operator, territory("Самарское управление")).await?);
    let org = |name: &str, kind, territory, license: Option<License>, ownership| Command::RegisterOrg {
        name: name.into(),
        kind,
        territory,
        parent: None,
        license,
        ownership: Some(ownership),
    };
    let school1 = OrgId(
        created(
            service,
            operator,
            org("МБУ «Школа № 1» г.о. Тольятти", OrgKind::School, tlt, None, Ownership::Municipal),
        )
        .await?,
    );
    let school9 = OrgId(
        created(
            service,
            operator,
            org("МБОУ «Школа № 9» г.о. Самара", OrgKind::School, smr, None, Ownership::Municipal),
        )
        .await?,
    );
    let _kindergarten = OrgId(
        created(
            service,
            operator,
            org("МБДОУ «Детский сад № 5»", OrgKind::Kindergarten, tlt, None, Ownership::Municipal),
        )
        .await?,
    );
    let license = License { number: "6345".into(), valid_until: None, issued_on: None };
    let provider = OrgId(
        created(
            service,
            operator,
            org("ГБУ ДПО «Центр развития образования»", OrgKind::Dpo, smr, Some(license), Ownership::Regional),
        )
        .await?,
    );

    let ministry = s.official("Министерство Образования", "ministry@demo.kadry.ru", Role::Ministry).await;
    ministry?;
    let tu = s.person("Белова Ирина Олеговна", "territory@demo.kadry.ru", school1, Position::Methodist, None).await?;
    s.grant(tu, Role::Territory, Some(ScopeRef::Territory(tlt))).await?;
    let resp =
        s.person("Кузнецова Анна Викторовна", "responsible@demo.kadry.ru", school1, Position::DeputyHead, None).await?;
    s.grant(resp, Role::OrgResponsible, Some(ScopeRef::Organisation(school1))).await?;
    let head = s.person("Орлов Сергей Павлович", "head@demo.kadry.ru", school1, Position::Head, None).await?;
    s.grant(head, Role::OrgHead, Some(ScopeRef::Organisation(school1))).await?;
    let kurator =
        s.person("Сидоров Олег Иванович", "provider@demo.kadry.ru", provider, Position::Methodist, None).await?;
    s.grant(kurator, Role::Provider, Some(ScopeRef::Organisation(provider))).await?;
    s.person("Иванова Мария Петровна", "teacher@demo.kadry.ru", school1, Position::Teacher, Some("math")).await?;
    s.person("Волков Пётр Андреевич", "teacher2@demo.kadry.ru", school9, Position::Teacher, Some("physics")).await?;

    let today = service.policy().local_date(service.now());
    let program = |title: &str, hours, profile: Vec<Position>| Command::SubmitProgram {
        form: Default::default(),
        provider,
        title: title.into(),
        hours,
        annotation: Some("Демонстрационная программа повышения квалификации".into()),
        positions: Audience::All,
        profile_for: Audience::Only(profile),
        org_kinds: Audience::All,
        subjects: Audience::All,
        year: None,
        direction: None,
        min_group: None,
        max_group: None,
        places: None,
    };
    let mut programs = Vec::new();
    for (title, hours, profile) in [
        ("Обновлённые ФГОС: практика урока", 36, vec![Position::Teacher]),
        (
            "Функциональная грамотность для всех категорий",
            72,
            vec![Position::Teacher, Position::Educator, Position::Psychologist],
        ),
    ] {
        let p = ProgramId(created(service, kurator, program(title, hours, profile)).await?);
        run(service, operator, Command::ApproveProgram { program: p }).await?;
        programs.push(p);
    }
    // Groups a month and two months ahead, one per funding kind.
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today) + Days::new(40);
    for (i, funding) in [Funding::Voucher, Funding::State, Funding::Paid].into_iter().enumerate() {
        let starts = first + Days::new(30 * i as u64);
        let c = Command::OpenGroup {
            program: programs[i % programs.len()],
            starts,
            ends: starts + Days::new(11),
            place: "Самара, ул. Артиллерийская, 24".into(),
            capacity: 25,
            funding,
        };
        created(service, kurator, c).await?;
    }
    Ok(Some(vec![
        Login { role: "operator (regional operator)", email: "operator@demo.kadry.ru" },
        Login { role: "ministry", email: "ministry@demo.kadry.ru" },
        Login { role: "territory (Тольятти)", email: "territory@demo.kadry.ru" },
        Login { role: "org_responsible (Школа № 1)", email: "responsible@demo.kadry.ru" },
        Login { role: "org_head (Школа № 1)", email: "head@demo.kadry.ru" },
        Login {
            role: "provider (Центр развития образования)", email: "provider@demo.kadry.ru"
        },
        Login { role: "worker (teacher, Школа № 1)", email: "teacher@demo.kadry.ru" },
        Login { role: "worker (teacher, Школа № 9)", email: "teacher2@demo.kadry.ru" },
    ]))
}

/// Prints the demo logins to stdout.
pub fn print_logins(logins: &[Login]) {
    println!("demo region loaded; every demo account's password is {DEMO_PASSWORD}");
    for l in logins {
        println!("  {:<42} {}", l.role, l.email);
    }
}
