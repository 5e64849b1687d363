//! Typed identifiers: `uuid` newtypes, one per entity, so an organisation id can never be passed
//! where a person id is expected.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A territory (территориальное управление / муниципалитет).
    TerritoryId
);
id_type!(
    /// An organisation: a school, kindergarten, provider, or a structural subdivision.
    OrgId
);
id_type!(
    /// A person, who holds exactly one account for life (R-A1).
    PersonId
);
id_type!(
    /// An employment: a person's workplace at an organisation.
    EmploymentId
);
id_type!(
    /// A voucher or a voucher application (ИОЧ).
    VoucherId
);
id_type!(
    /// An additional professional program (программа ДПО).
    ProgramId
);
id_type!(
    /// A study group of a program.
    GroupId
);
id_type!(
    /// An enrolment of a worker in a group.
    EnrollmentId
);
id_type!(
    /// A notification addressed to a person.
    NotificationId
);
id_type!(
    /// A planned training (a worker's plan for a year).
    PlanId
);
id_type!(
    /// A survey (анкета) of monitoring, satisfaction or professional deficits (R-R2).
    SurveyId
);
