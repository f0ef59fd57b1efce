//! The documents teamsync writes, as the binary writes them against the emulator: a saved plan,
//! the JSON plan, apply reports (a success and a failure), an exported file, an org snapshot,
//! an access review and validation documents (a valid file and an invalid one). They are kept in `target/tmp/schema-samples/` for `scripts/lint-ci schemas`, which
//! validates them with ajv --strict and check-jsonschema against the committed schemas
//! (docs/contract.md §11).

use crate::support::*;
use scaling_emulator::Faults;
use std::path::Path;

/// The committed schema `name`, parsed.
fn schema(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every top-level field of `doc` is in `schema`, and every field `schema` requires is in
/// `doc` (the validators then check the rest, field by field).
#[track_caller]
fn fits(doc: &serde_json::Value, schema: &serde_json::Value) {
    let properties = schema["properties"].as_object().unwrap();
    for key in doc.as_object().unwrap().keys() {
        assert!(properties.contains_key(key), "{key} is not in the schema");
    }
    for key in schema["required"].as_array().unwrap() {
        assert!(doc.get(key.as_str().unwrap()).is_some(), "{key} is missing");
    }
}

#[test]
fn documents_for_the_schema_check() {
    let samples = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schema-samples");
    let _ = std::fs::remove_dir_all(&samples);
    std::fs::create_dir_all(&samples).unwrap();
    let keep = |w: &World, from: &str, to: &str| {
        std::fs::copy(w.path(from), samples.join(to)).unwrap();
    };

    let w = World::new(org(), FILE);
    let json = w.run(&["plan", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.all());
    std::fs::write(samples.join("plan-stdout.json"), &json.stdout).unwrap();
    assert_eq!(w.run(&["plan", "--out", "plan.json"]).code, 0);
    keep(&w, "plan.json", "plan-saved.json");
    let applied = w.run(&[
        "apply",
        "--auto-approve",
        "--report",
        "report.json",
        "plan.json",
    ]);
    assert_eq!(applied.code, 0, "{}", applied.all());
    keep(&w, "report.json", "report-succeeded.json");
    assert_eq!(w.run(&["export", "-o", "export.yaml"]).code, 0);
    keep(&w, "export.yaml", "export.yaml");
    assert_eq!(w.run(&["snapshot", "-o", "snapshot.json"]).code, 0);
    keep(&w, "snapshot.json", "snapshot.json");

    // A failure fills the fields a success leaves null: status, code, request_id, message.
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        error_5xx: 1.0,
        writes_only: true,
        ..Faults::default()
    });
    assert_eq!(w.run(APPLY_REPORTED).code, 1);
    keep(&w, "report.json", "report-failed.json");

    // An access review from real history (commits with and without a pull request, lines not
    // committed), with the org's side.
    let w = crate::review::repository();
    w.snapshot_at("snap.json", "2027-03-31T09:00:00.000Z");
    let reviewed = crate::review::review(
        &w,
        &[
            "review",
            "--live",
            "snap.json",
            "--format",
            "json",
            "-o",
            "review.json",
        ],
    );
    assert_eq!(reviewed.code, 0, "{}", reviewed.all());
    keep(&w, "review.json", "review.json");

    // The validation document, of a valid file and of one with problems.
    let w = World::new(org(), FILE);
    let valid = w.run(&["validate", "--format", "json"]);
    assert_eq!(valid.code, 0, "{}", valid.all());
    std::fs::write(samples.join("validation-valid.json"), &valid.stdout).unwrap();
    w.write(
        "bad.yaml",
        "version: 1\nmembers:\n  - email: not-an-email\n    role: org:boss\n",
    );
    let invalid = w.run(&["validate", "--format", "json", "-f", "bad.yaml"]);
    assert_eq!(invalid.code, 1, "{}", invalid.all());
    std::fs::write(samples.join("validation-invalid.json"), &invalid.stdout).unwrap();

    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(samples.join(name)).unwrap()).unwrap()
    };
    for name in ["plan-stdout.json", "plan-saved.json"] {
        fits(&read(name), &schema("plan.schema.json"));
    }
    for name in ["report-succeeded.json", "report-failed.json"] {
        fits(&read(name), &schema("report.schema.json"));
    }
    fits(&read("snapshot.json"), &schema("snapshot.schema.json"));
    fits(&read("review.json"), &schema("review.schema.json"));
    for name in ["validation-valid.json", "validation-invalid.json"] {
        fits(&read(name), &schema("validation.schema.json"));
    }
    assert!(read("validation-invalid.json")["problems"][0]["line"].is_u64());
    assert!(read("review.json")["entries"][0]["added"]["pr"].is_u64());
    assert!(read("report-failed.json")["steps"][0]["status"].is_u64());
    let exported = std::fs::read_to_string(samples.join("export.yaml")).unwrap();
    assert!(exported.starts_with("# yaml-language-server: $schema=https://"));
}
