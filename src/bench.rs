//! Entry points for `examples/bench.rs`: the loader and the planner on in-memory input, with
//! plain types, so that nothing else has to be public. Not a stable interface.

use crate::date::Date;
use crate::desired::{self, Desired, DesiredMember};
use crate::email::Email;
use crate::glob::Glob;
use crate::live::{LiveInvitation, LiveMember, LiveState, Managed};
use crate::planner::{self, PlanOptions};
use crate::role::Role;

/// A desired state and a live org, built in memory.
pub struct Org {
    desired: Desired,
    live: LiveState,
    today: Date,
}

impl Org {
    /// `today` is `YYYY-MM-DD`.
    pub fn new(today: &str) -> Org {
        Org {
            desired: Desired::new(Vec::new()),
            live: LiveState::default(),
            today: Date::parse(today).unwrap_or(Date::EPOCH),
        }
    }

    /// A desired member (`role` is `org:admin` or `org:member`; anything else is a member).
    pub fn want(&mut self, email: &str, role: &str, reason: Option<&str>, expires: Option<&str>) {
        let mut m = DesiredMember::new(email, Role::parse(role).unwrap_or(Role::Member));
        m.reason = reason.map(str::to_owned);
        m.expires = expires.and_then(Date::parse);
        self.desired.members.push(m);
    }

    pub fn ignore(&mut self, glob: &str) {
        self.desired.ignore.push(Glob::new(glob));
    }

    pub fn protect(&mut self, email: &str) {
        self.desired.protected.push(Email::new(email));
    }

    /// A live member, as the API would list it.
    pub fn member(&mut self, id: &str, email: &str, role: &str) {
        self.live.members.push(LiveMember::new(id, email, role));
    }

    /// A live invitation; like the API client, only pending ones are kept.
    pub fn invitation(&mut self, id: &str, email: &str, role: &str, status: &str) {
        if status == "pending" {
            self.live
                .invitations
                .push(LiveInvitation::new(id, email, role));
        }
    }

    /// A copy to plan once (copying is not part of what is measured).
    pub fn prepare(&self) -> Prepared<'_> {
        Prepared {
            org: self,
            live: self.live.clone(),
        }
    }
}

/// An org ready to be planned once.
pub struct Prepared<'a> {
    org: &'a Org,
    live: LiveState,
}

impl Prepared<'_> {
    /// Plans as `teamsync plan` does once the org is read: the managed view (`ignore`, sorting),
    /// then the planner. Returns the number of changes, blocked ones included.
    pub fn plan(self) -> usize {
        let managed = Managed::new(self.live, &self.org.desired.ignore);
        let plan = planner::plan(
            &self.org.desired,
            &managed,
            &PlanOptions::new(self.org.today),
        );
        plan.changes.len() + plan.blocked.len()
    }
}

/// Loads and validates a desired file's text: the number of members, or of problems.
pub fn load(yaml: &str, today: &str) -> Result<usize, usize> {
    let today = Date::parse(today).unwrap_or(Date::EPOCH);
    match desired::validate(yaml, today).desired {
        Ok(d) => Ok(d.members.len()),
        Err(e) => Err(e.len()),
    }
}
