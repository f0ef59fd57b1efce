//! `apply --report FILE` (the JSON audit document) and the GitHub job summary
//! (`GITHUB_STEP_SUMMARY`): written on every path once the plan is made.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::Faults;

/// Times, request ids and the version vary: redact them, keeping nulls visible.
fn redacted(mut v: serde_json::Value) -> String {
    fn put(v: &mut serde_json::Value, key: &str, with: &str) {
        if v[key].is_string() {
            v[key] = with.into();
        }
    }
    put(&mut v, "started_at", "[time]");
    put(&mut v, "finished_at", "[time]");
    put(&mut v, "teamsync_version", "[version]");
    for s in v["steps"].as_array_mut().unwrap() {
        put(s, "started_at", "[time]");
        put(s, "finished_at", "[time]");
        put(s, "request_id", "[request_id]");
        if let Some(ids) = s["error_request_ids"].as_array_mut() {
            for id in ids {
                *id = "[request_id]".into();
            }
        }
    }
    serde_json::to_string_pretty(&v).unwrap()
}

macro_rules! assert_report {
    ($name:expr, $value:expr) => {
        crate::assert_text!($name, redacted($value))
    };
}

#[test]
fn the_report_of_a_successful_apply_has_every_step_and_no_key() {
    let w = World::new(org(), FILE);
    let r = w.run(APPLY_REPORTED);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = w.report();
    // RFC 3339 in UTC, and in order.
    let (start, end) = (
        v["started_at"].as_str().unwrap(),
        v["finished_at"].as_str().unwrap(),
    );
    for t in [start, end] {
        assert!(
            t.len() == 24 && t.ends_with('Z') && &t[10..11] == "T",
            "{t}"
        );
    }
    assert!(start <= end);
    for s in v["steps"].as_array().unwrap() {
        let (a, b) = (
            s["started_at"].as_str().unwrap(),
            s["finished_at"].as_str().unwrap(),
        );
        assert!(start <= a && a <= b && b <= end, "{s}");
    }
    assert_report!("report_done", v);
}

#[test]
fn a_guard_refusal_writes_a_report_with_every_step_not_attempted() {
    let w = World::new(
        org(),
        &FILE.replace("members:\n", "safety:\n  max_removals: 0\nmembers:\n"),
    );
    let r = w.run(&["apply", "--auto-approve", "--report", "report.json"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert_eq!(w.emu.write_count(), 0);
    let v = w.report();
    assert_eq!(v["ending"], "refused");
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["counts"]["not_attempted"], 6);
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["outcome"] == "not_attempted" && s["attempts"] == 0)
    );
}

#[test]
fn failed_steps_carry_the_api_code_request_id_and_message() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        error_5xx: 1.0,
        writes_only: true,
        ..Faults::default()
    });
    let r = w.run(APPLY_REPORTED);
    assert_eq!(r.code, 1, "{}", r.all());
    let v = w.report();
    assert_report!("report_failed", v);
}

#[test]
fn no_report_when_planning_fails() {
    let w = World::new(org(), "version: 1\nmembers: []\n");
    let r = w.run(&["apply", "--auto-approve", "--report", "report.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!w.path("report.json").exists());
}

#[test]
fn the_report_schema_is_printed_and_committed() {
    let w = World::new(org(), FILE);
    let r = w.run(&["schema", "--report"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/report.schema.json"
    ))
    .unwrap();
    assert_eq!(r.stdout, committed);
    // Every top-level field of a real report is in the schema, and the other way round.
    w.run(&["apply", "--auto-approve", "--report", "report.json"]);
    let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let mut in_schema: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    let v = w.report();
    let mut in_report: Vec<&String> = v.as_object().unwrap().keys().collect();
    in_schema.sort();
    in_report.sort();
    assert_eq!(in_schema, in_report);
}

#[test]
fn github_job_summary_gets_the_plan_then_the_apply_outcome() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        delete_404: true,
        ..Faults::default()
    });
    let summary = w.path("summary.md");
    let env = [("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())];
    let plan = w.run_env(&["plan"], &env);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let r = w.run_env(&["apply", "--auto-approve", "--parallelism", "1"], &env);
    assert_eq!(r.code, 1, "{}", r.all());
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("<!-- teamsync:plan -->"), "{text}");
    let outcome = &text[text.find("## teamsync apply").expect("the apply outcome")..];
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => filters(),
    }, {
        insta::assert_snapshot!("job_summary_apply", outcome);
    });
}

#[test]
fn a_report_into_a_missing_folder_is_refused_before_anything_is_sent() {
    let w = World::new(org(), FILE);
    assert_run!(
        "report_unwritable",
        w.run(&[
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            "--report",
            "no/such/dir/report.json"
        ])
    );
    assert_eq!(w.emu.requests().len(), 0, "nothing was sent");
}
