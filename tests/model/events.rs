//! Every webhook payload example of GitHub's (`../shared/github/payloads/`) reads into the
//! closed event set: the events ws-fix acts on become their variants, every other one is
//! ignored, none is an error.

use std::path::Path;

use ws_fix::events::Event;

#[test]
fn every_payload_example_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/github/payloads");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let event = name.split('.').next().unwrap().to_owned();
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if v["installation"].is_null() {
            v["installation"] = serde_json::json!({"id": 1});
        }
        let parsed = Event::parse(&event, &serde_json::to_vec(&v).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let action = v["action"].as_str().unwrap_or("");
        let expect_acted = matches!(
            (event.as_str(), action),
            ("push", _)
                | ("ping", _)
                | (
                    "installation",
                    "created" | "deleted" | "suspend" | "unsuspend"
                )
                | ("installation_repositories", "added" | "removed")
                | (
                    "pull_request",
                    "closed" | "opened" | "synchronize" | "reopened"
                )
                | ("check_suite", "requested" | "rerequested")
                | ("issue_comment", "created" | "edited")
        ) || (event == "check_run"
            && action == "rerequested"
            && v["check_run"]["name"] == ws_fix::events::CHECK_RUN_NAME);
        assert_eq!(
            !matches!(parsed, Event::Ignored { .. }),
            expect_acted,
            "{name}: {parsed:?}"
        );
        seen += 1;
    }
    assert!(seen >= 90, "{seen} payloads");
}

#[test]
fn comment_details_are_read() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/github/payloads/issue_comment.edited.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["installation"] = serde_json::json!({"id": 7});
    let Event::Comment(c) =
        Event::parse("issue_comment", &serde_json::to_vec(&v).unwrap()).unwrap()
    else {
        panic!("not a comment")
    };
    assert_eq!(c.repo.installation, 7);
    assert!(c.previous_body.is_some(), "an edit carries the old body");
    assert_eq!(c.body, v["comment"]["body"].as_str().unwrap());
}
