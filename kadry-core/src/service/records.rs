//! The service's commands about a worker's records: personal data, the attestation category,
//! trainings entered from a document, and reminders.

use std::collections::HashSet;

use super::Service;
use crate::access::{Action, Actor, Target};
use crate::command::*;
use crate::decide::Ctx;
use crate::error::Result;
use crate::ids::*;
use crate::model::*;
use crate::ports::{Change, Tx};
use crate::records as r;

type Decided = (Outcome, Option<PersonId>, Vec<Change>);

impl Service {
    /// The records commands and the surveys' (R-R2); any other command goes on to the planning
    /// cycle's.
    pub(super) async fn decide_records(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        actor: Actor,
        command: Command,
    ) -> Result<Decided> {
        use Command as C;
        Ok(match command {
            C::SetProfile { person, birth_date, sex, citizenship, education, experience_since } => {
                let (target, _) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::SetProfile, &target).await?;
                let p = Self::person_or_nf(tx, person).await?;
                let input = r::ProfileInput { birth_date, sex, citizenship, education, experience_since };
                (Outcome::Done, Some(person), r::set_profile(ctx, p, input)?)
            }
            C::SetCategory { worker, category } => {
                let (target, emps) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::SetCategory, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                (Outcome::Done, Some(worker), r::set_category(&emps, category)?)
            }
            C::RecordTraining {
                worker,
                source,
                program_title,
                provider_name,
                hours,
                started_on,
                completed_on,
                document,
            } => {
                let (target, _) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::RecordTraining, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                let t = r::EnteredTraining {
                    source,
                    program_title,
                    provider_name,
                    hours,
                    started_on,
                    completed_on,
                    document,
                };
                (Outcome::Done, Some(worker), r::record_training(ctx, worker, t)?)
            }
            C::SetReminders { person, enabled } => {
                let (target, _) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::SetReminders, &target).await?;
                let p = Self::person_or_nf(tx, person).await?;
                (Outcome::Done, Some(person), r::set_reminders(p, enabled))
            }
            C::SendReminders => {
                Self::authorize(tx, actor, Action::SendReminders, &Target::region()).await?;
                let rows = tx.staff_rows(Scope::Region).await?;
                let mut due = r::worker_reminders(&self.policy, &rows, ctx.today);
                if self.policy.reminders.approvals {
                    let mut operators = Vec::new();
                    for op in tx.role_holders(Role::Operator).await? {
                        let off = tx.person(op).await?.is_none_or(|p| p.profile.reminders_off);
                        operators.push((op, off));
                    }
                    due.extend(r::approval_reminders(&rows, &operators, ctx.today));
                }
                // Once each: a reminder's id is fixed by what it is about.
                let mut sent = HashSet::new();
                let recipients: std::collections::BTreeSet<PersonId> = due.iter().map(|x| x.person).collect();
                for p in recipients {
                    sent.extend(tx.notifications(p).await?.into_iter().map(|n| n.id.0));
                }
                (Outcome::Done, None, r::send(ctx, due, &sent))
            }
            C::CreateSurvey { .. } | C::CloseSurvey { .. } | C::AnswerSurvey { .. } => {
                self.decide_surveys(ctx, tx, actor, command).await?
            }
            other => self.decide_planning(ctx, tx, actor, other).await?,
        })
    }
}
