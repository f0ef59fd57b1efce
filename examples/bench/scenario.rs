//! The bench's scenario: one org of `n` desired members and its drifted live state, as the
//! planner, the emulator and a desired-state file each take it.

use crate::{KEY, TODAY};
use scaling_emulator::{Emulator, Invitation, Member, Options, OrgState};
use std::fmt::Write as _;
use std::path::Path;

/// The two roles, as the bench writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Admin,
    Member,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "org:admin",
            Role::Member => "org:member",
        }
    }
}

/// What the org should be and what it is, as plain data both the planner and the emulator use.
pub(crate) struct Scenario {
    /// (email, role, reason, expires)
    pub(crate) desired: Vec<(String, Role, Option<String>, Option<&'static str>)>,
    /// (id, email, role)
    pub(crate) members: Vec<(String, String, &'static str)>,
    /// (id, email, role, status)
    pub(crate) invitations: Vec<(String, String, &'static str, &'static str)>,
}

pub(crate) fn other(role: Role) -> Role {
    match role {
        Role::Admin => Role::Member,
        Role::Member => Role::Admin,
    }
}

pub(crate) fn scenario(n: usize) -> Scenario {
    let mut s = Scenario {
        desired: Vec::with_capacity(n),
        members: Vec::with_capacity(n + n / 50 + 3),
        invitations: Vec::with_capacity(n / 50),
    };
    for i in 0..n {
        let email = format!("user{i:07}@example.com");
        let role = if i % 50 == 0 {
            Role::Admin
        } else {
            Role::Member
        };
        let reason = (i % 20 == 3).then(|| format!("team {}", i % 37));
        // One in 1000 expired yesterday's month: planned for removal with its reason.
        let expires = match i % 1000 {
            11 => Some("2026-05-01"),
            12 => Some("2027-12-31"),
            _ => None,
        };
        s.desired.push((email.clone(), role, reason, expires));
        let id = format!("user_{i:07}");
        match i % 100 {
            // 5 %: another role.
            1..=5 => s.members.push((id, email, other(role).as_str())),
            // 2 %: not there: invited.
            6 | 7 => {}
            // 1 %: invited already, right role (half), wrong role (half: replaced).
            8 => {
                let r = if i % 200 == 8 { other(role) } else { role };
                s.invitations
                    .push((format!("orginv_{i:07}"), email, r.as_str(), "pending"));
            }
            // 3 %: as the dashboard typed it, in mixed case.
            10 | 20 | 30 => s
                .members
                .push((id, format!("User{i:07}@Example.COM"), role.as_str())),
            _ => s.members.push((id, email, role.as_str())),
        }
    }
    // 2 %: members who left (removals), 0.5 % stale invitations (revokes), 0.5 % revoked ones.
    for j in 0..n / 50 {
        s.members.push((
            format!("user_left{j:07}"),
            format!("left{j:07}@example.com"),
            Role::Member.as_str(),
        ));
    }
    for j in 0..n / 200 {
        s.invitations.push((
            format!("orginv_gone{j:07}"),
            format!("gone{j:07}@example.com"),
            Role::Member.as_str(),
            "pending",
        ));
        s.invitations.push((
            format!("orginv_old{j:07}"),
            format!("old{j:07}@example.com"),
            Role::Member.as_str(),
            "revoked",
        ));
    }
    // The vendor's accounts: ignored.
    for k in 0..3 {
        s.members.push((
            format!("user_vendor{k}"),
            format!("support{k}@vendor.io"),
            Role::Admin.as_str(),
        ));
    }
    s
}

/// The scenario in memory, for the planner alone.
pub(crate) fn org_in_memory(s: &Scenario) -> teamsync::bench::Org {
    let mut org = teamsync::bench::Org::new(TODAY);
    for (email, role, reason, expires) in &s.desired {
        org.want(email, role.as_str(), reason.as_deref(), *expires);
    }
    org.ignore("*@vendor.io");
    org.protect("user0000000@example.com");
    for (id, email, role) in &s.members {
        org.member(id, email, role);
    }
    for (id, email, role, status) in &s.invitations {
        org.invitation(id, email, role, status);
    }
    org
}

pub(crate) fn org_of(s: &Scenario) -> OrgState {
    OrgState {
        members: s
            .members
            .iter()
            .map(|(id, email, role)| Member {
                id: id.clone(),
                email: email.clone(),
                first_name: None,
                last_name: None,
                role: role.to_string(),
            })
            .collect(),
        invitations: s
            .invitations
            .iter()
            .map(|(id, email, role, status)| Invitation {
                id: id.clone(),
                email_address: email.clone(),
                role: role.to_string(),
                status: status.to_string(),
            })
            .collect(),
    }
}

pub(crate) fn yaml_of(s: &Scenario) -> String {
    let mut y = String::with_capacity(s.desired.len() * 60);
    y.push_str("version: 1\nignore:\n  - \"*@vendor.io\"\nprotected:\n  - user0000000@example.com\nmembers:\n");
    write_members(&mut y, &s.desired);
    y
}

/// The `members` entries of `desired`, as a person would write them.
pub(crate) fn write_members(
    y: &mut String,
    desired: &[(String, Role, Option<String>, Option<&'static str>)],
) {
    for (email, role, reason, expires) in desired {
        let _ = writeln!(y, "  - email: {email}\n    role: {}", role.as_str());
        if let Some(r) = reason {
            let _ = writeln!(y, "    reason: {r}");
        }
        if let Some(e) = expires {
            let _ = writeln!(y, "    expires: {e}");
        }
    }
}

/// A desired file of one admin and `invites` new members, in `dir`.
pub(crate) fn write_invites_file(dir: &Path, invites: usize) {
    let mut yaml =
        String::from("version: 1\nmembers:\n  - email: admin@example.com\n    role: org:admin\n");
    for i in 0..invites {
        let _ = writeln!(
            yaml,
            "  - email: new{i:03}@example.com\n    role: org:member"
        );
    }
    std::fs::write(dir.join("teamsync.yaml"), &yaml).expect("write the desired file");
}

/// An emulator of `org` that takes the bench's key, with the emulator's defaults otherwise.
pub(crate) fn emulator(org: OrgState) -> Emulator {
    emulator_with(org, Options::default())
}

/// An emulator of `org` with `options`, taking the bench's key.
pub(crate) fn emulator_with(org: OrgState, options: Options) -> Emulator {
    Emulator::start(
        org,
        Options {
            api_key: KEY.into(),
            ..options
        },
    )
}

/// An emulator whose org is one admin.
pub(crate) fn admin_only_org() -> Emulator {
    emulator(OrgState::with_members(&[(
        "admin@example.com",
        "org:admin",
    )]))
}

/// An org of `members` members (`m000000@example.com`…, every 50th an admin) and a desired
/// file, in `dir`, that keeps all but the last `removals` of them and invites `invites`
/// newcomers: `invites + removals` steps, nothing else.
pub(crate) fn scale_org(dir: &Path, members: usize, invites: usize, removals: usize) -> OrgState {
    let mut org = OrgState::default();
    let mut yaml = String::with_capacity((members + invites) * 60);
    yaml.push_str("version: 1\nmembers:\n");
    for i in 0..members {
        let email = format!("m{i:06}@example.com");
        let role = if i % 50 == 0 {
            Role::Admin
        } else {
            Role::Member
        };
        org.members.push(Member {
            id: format!("user_{i:06}"),
            email: email.clone(),
            first_name: None,
            last_name: None,
            role: role.as_str().to_string(),
        });
        if i < members - removals {
            let _ = writeln!(yaml, "  - email: {email}\n    role: {}", role.as_str());
        }
    }
    for i in 0..invites {
        let _ = writeln!(yaml, "  - email: n{i:06}@example.com\n    role: org:member");
    }
    std::fs::write(dir.join("teamsync.yaml"), &yaml).expect("write the desired file");
    org
}
