//! The executor's narrow view of the API: the few calls it makes ([`Org`]) and the requests it
//! sends ([`Request`]). The HTTP client implements it here, so that the executor's write state
//! machine runs, in its unit tests, against a scripted fake as well (docs/contract.md §5).

use crate::api::{ApiError, Client, Pauses, RetryPolicy, SendLog};
use crate::email::Email;
use crate::live::{LiveState, Lookup};
use crate::plan::{Change, Invite, Remove, Revoke, UpdateRole};
use std::future::Future;
use std::sync::Arc;

/// What the executor asks of the org. Every write counts what it sends in `log` (retries
/// included), and records the `requestId` of each error answer there.
pub(crate) trait Org: Clone + Send + Sync + 'static {
    /// The whole live state (reads in flight at once may be shared: docs/contract.md §5).
    fn list(&self) -> impl Future<Output = Result<Arc<LiveState>, ApiError>> + Send;
    fn invite(
        &self,
        request: &Invite,
        log: &SendLog,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    fn update_role(
        &self,
        request: &UpdateRole,
        log: &SendLog,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    fn remove(
        &self,
        request: &Remove,
        log: &SendLog,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    fn revoke(
        &self,
        request: &Revoke,
        log: &SendLog,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// How long to wait between tries, and how many.
    fn retry_policy(&self) -> &RetryPolicy;
    /// The rate-limit pauses so far.
    fn pauses(&self) -> Pauses;
}

impl Org for Client {
    async fn list(&self) -> Result<Arc<LiveState>, ApiError> {
        Client::list(self).await
    }
    async fn invite(&self, r: &Invite, log: &SendLog) -> Result<(), ApiError> {
        Client::invite(self, &r.email, r.role, log).await
    }
    async fn update_role(&self, r: &UpdateRole, log: &SendLog) -> Result<(), ApiError> {
        Client::update_role(self, &r.id, r.to, log).await
    }
    async fn remove(&self, r: &Remove, log: &SendLog) -> Result<(), ApiError> {
        Client::remove(self, &r.id, log).await
    }
    async fn revoke(&self, r: &Revoke, log: &SendLog) -> Result<(), ApiError> {
        Client::revoke(self, &r.id, log).await
    }
    fn retry_policy(&self) -> &RetryPolicy {
        Client::retry_policy(self)
    }
    fn pauses(&self) -> Pauses {
        Client::pauses(self)
    }
}

/// One request as it is sent: a re-send is two of them, its revoke then its invite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    Invite(Invite),
    UpdateRole(UpdateRole),
    Remove(Remove),
    Revoke(Revoke),
}

impl Request {
    /// The requests that make `change`, in the order they are sent.
    pub(crate) fn of(change: &Change) -> Vec<Request> {
        match change {
            Change::Invite(c) => vec![Request::Invite(c.clone())],
            Change::UpdateRole(c) => vec![Request::UpdateRole(c.clone())],
            Change::Remove(c) => vec![Request::Remove(c.clone())],
            Change::Revoke(c) => vec![Request::Revoke(c.clone())],
            Change::Resend(c) => {
                let (revoke, invite) = c.parts();
                vec![Request::Revoke(revoke), Request::Invite(invite)]
            }
        }
    }

    pub(crate) fn email(&self) -> &Email {
        match self {
            Request::Invite(c) => &c.email,
            Request::UpdateRole(c) => &c.email,
            Request::Remove(c) => &c.email,
            Request::Revoke(c) => &c.email,
        }
    }

    /// Sends the request through `org`.
    pub(crate) async fn send(&self, org: &impl Org, log: &SendLog) -> Result<(), ApiError> {
        match self {
            Request::Invite(c) => org.invite(c, log).await,
            Request::UpdateRole(c) => org.update_role(c, log).await,
            Request::Remove(c) => org.remove(c, log).await,
            Request::Revoke(c) => org.revoke(c, log).await,
        }
    }

    /// Whether the org, as `live` indexes it, already shows the request's effect.
    pub(crate) fn is_done(&self, live: &Lookup) -> bool {
        match self {
            Request::Invite(c) => live.is_member(&c.email) || invited(live, &c.email, c.role),
            Request::UpdateRole(c) => live.member(&c.id).is_some_and(|m| m.role.is(c.to)),
            Request::Remove(c) => live.member(&c.id).is_none(),
            Request::Revoke(c) => !live.is_pending(&c.id),
        }
    }
}

/// Whether `email` has a pending invitation with `role`.
pub(super) fn invited(live: &Lookup, email: &Email, role: crate::role::Role) -> bool {
    live.invitations_of(email).iter().any(|i| i.role.is(role))
}
