//! Tests of the fake GitHub (`tests/common/fake_github.rs`): App auth, git data, pull requests,
//! comments, fault injection, and the REST description check.

use crate::common::fake_github::{FakeGitHub, make_jwt, parse_rfc3339, test_private_key_pem};
use serde_json::{Value, json};

const INST: u64 = 7;

async fn fake() -> FakeGitHub {
    let gh = FakeGitHub::start().await;
    gh.add_installation(INST, "acme");
    gh.add_repo(
        INST,
        "acme",
        "gitops",
        &[("apps/a.yaml", "kind: A\n"), ("README.md", "hi\n")],
    );
    gh
}

fn octocrab_for(gh: &FakeGitHub) -> octocrab::Octocrab {
    let key = octocrab::EncodingKey::from_rsa_pem(test_private_key_pem().as_bytes()).unwrap();
    octocrab::Octocrab::builder()
        .base_uri(gh.url())
        .unwrap()
        .app(gh.app_id().into(), key)
        .build()
        .unwrap()
        .installation(INST.into())
        .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn the_app_jwt_buys_an_installation_token_that_opens_the_api() {
    let gh = fake().await;
    let jwt = format!("Bearer {}", gh.app_jwt());
    let r = gh
        .request(
            "POST",
            "/app/installations/7/access_tokens",
            Some(&jwt),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghs_"));
    let expires = parse_rfc3339(r.body["expires_at"].as_str().unwrap()).unwrap();
    assert!((expires - now() - 3600).abs() < 5);

    for auth in [format!("token {token}"), format!("Bearer {token}")] {
        let r = gh
            .request("GET", "/repos/acme/gitops", Some(&auth), None)
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["default_branch"], "main");
        assert_eq!(r.body["full_name"], "acme/gitops");
        assert_eq!(r.body["owner"]["login"], "acme");
        assert_eq!(r.body["archived"], false);
    }
    let r = gh
        .request("GET", "/app/installations/7", Some(&jwt), None)
        .await;
    assert_eq!(
        (r.status, r.body["account"]["login"].clone()),
        (200, json!("acme"))
    );
    let r = gh
        .call(INST, "GET", "/installation/repositories", None)
        .await;
    assert_eq!(r.body["repositories"][0]["full_name"], "acme/gitops");
    // A numeric `iss` is accepted too.
    let t = now();
    let numeric = make_jwt(&json!({"iat": t - 60, "exp": t + 500, "iss": gh.app_id()}));
    let r = gh
        .request(
            "POST",
            "/app/installations/7/access_tokens",
            Some(&format!("Bearer {numeric}")),
            None,
        )
        .await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn bad_credentials_are_401() {
    let gh = fake().await;
    let t = now();
    let app = gh.app_id().to_string();
    let bad_jwts = [
        "not-a-jwt".to_owned(),
        make_jwt(&json!({"iat": t - 60, "exp": t + 3600, "iss": app})),
        make_jwt(&json!({"iat": t - 60, "exp": t + 500, "iss": "1"})),
        make_jwt(&json!({"iat": t + 120, "exp": t + 500, "iss": app})),
        make_jwt(&json!({"iat": t - 700, "exp": t - 100, "iss": app})),
    ];
    for jwt in &bad_jwts {
        let r = gh
            .request(
                "POST",
                "/app/installations/7/access_tokens",
                Some(&format!("Bearer {jwt}")),
                None,
            )
            .await;
        assert_eq!(r.status, 401, "{jwt}: {}", r.body);
    }
    let jwt = format!("Bearer {}", gh.app_jwt());
    for auth in [None, Some("token ghs_nonsense"), Some(jwt.as_str())] {
        let r = gh.request("GET", "/repos/acme/gitops", auth, None).await;
        assert_eq!(r.status, 401, "{auth:?}");
    }
    let token = format!("token {}", gh.installation_token(INST));
    gh.expire_tokens();
    let r = gh
        .request("GET", "/repos/acme/gitops", Some(&token), None)
        .await;
    assert_eq!(r.status, 401);
    // No token endpoint call succeeded, and none of this is a violation.
    assert_eq!(gh.count("POST", "/app/installations/7/access_tokens"), 5);
    gh.assert_no_violations();
}

#[tokio::test]
async fn octocrab_with_app_auth_talks_to_the_fake() {
    let gh = fake().await;
    gh.push_commit(
        "acme",
        "gitops",
        "fix",
        "alice",
        "change",
        &[("apps/a.yaml", Some("kind: B\n"))],
    );
    // octocrab's calls below send only fields GitHub's schemas list.
    gh.set_strict_bodies(true);
    let octo = octocrab_for(&gh);
    let repo = octo.repos("acme", "gitops").get().await.unwrap();
    assert_eq!(repo.default_branch.as_deref(), Some("main"));
    let pr = octo
        .pulls("acme", "gitops")
        .create("Fix it", "fix", "main")
        .body("body")
        .send()
        .await
        .unwrap();
    assert_eq!(pr.head.ref_field, "fix");
    let list = octo
        .pulls("acme", "gitops")
        .list()
        .state(octocrab::params::State::All)
        .head("acme:fix")
        .send()
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    let comment = octo
        .issues("acme", "gitops")
        .create_comment(pr.number, "hello")
        .await
        .unwrap();
    assert_eq!(comment.user.login, "ws-fix[bot]");
    octo.issues("acme", "gitops")
        .create_comment_reaction(
            comment.id,
            octocrab::models::reactions::ReactionContent::Eyes,
        )
        .await
        .unwrap();
    let perm: Value = octo
        .get(
            "/repos/acme/gitops/collaborators/alice/permission",
            None::<&()>,
        )
        .await
        .unwrap();
    assert_eq!(perm["permission"], "none");
    // One token for all of it: the JWT went to the token endpoint only.
    assert_eq!(gh.count("POST", "/app/installations/"), 1);
    gh.assert_no_violations();
}

#[tokio::test]
async fn blobs_trees_commits_and_refs_round_trip() {
    let gh = fake().await;
    let repo = "/repos/acme/gitops";
    let r = gh
        .call(
            INST,
            "POST",
            &format!("{repo}/git/blobs"),
            Some(&json!({"content": "aGVsbG8K", "encoding": "base64"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let blob = r.body["sha"].as_str().unwrap().to_owned();
    // Git's own object id for "hello\n".
    assert_eq!(blob, "ce013625030ba8dba906f756967f9e9ca394464a");
    let r = gh
        .call(INST, "GET", &format!("{repo}/git/blobs/{blob}"), None)
        .await;
    assert_eq!(
        (r.body["content"].as_str(), r.body["encoding"].as_str()),
        (Some("aGVsbG8K\n"), Some("base64"))
    );

    let r = gh
        .call(INST, "GET", &format!("{repo}/git/ref/heads/main"), None)
        .await;
    assert_eq!(r.body["ref"], "refs/heads/main");
    let main = r.body["object"]["sha"].as_str().unwrap().to_owned();
    let r = gh
        .call(INST, "GET", &format!("{repo}/git/commits/{main}"), None)
        .await;
    let base_tree = r.body["tree"]["sha"].as_str().unwrap().to_owned();

    let r = gh
        .call(
            INST,
            "POST",
            &format!("{repo}/git/trees"),
            Some(&json!({
                "base_tree": base_tree,
                "tree": [
                    {"path": "apps/b/c.yaml", "mode": "100644", "type": "blob", "content": "kind: C\n"},
                    {"path": "hello.txt", "mode": "100644", "type": "blob", "sha": blob},
                    {"path": "README.md", "mode": "100644", "type": "blob", "sha": null},
                ],
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let tree = r.body["sha"].as_str().unwrap().to_owned();
    let r = gh
        .call(
            INST,
            "GET",
            &format!("{repo}/git/trees/{tree}?recursive=1"),
            None,
        )
        .await;
    let paths: Vec<&str> = r.body["tree"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "blob")
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["apps/a.yaml", "apps/b/c.yaml", "hello.txt"]);

    // Without author: made by the App, verified. With one: not.
    let r = gh
        .call(
            INST,
            "POST",
            &format!("{repo}/git/commits"),
            Some(&json!({"message": "fix", "tree": tree, "parents": [main]})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["verification"]["verified"], true);
    assert_eq!(r.body["author"]["name"], "ws-fix[bot]");
    let commit = r.body["sha"].as_str().unwrap().to_owned();
    let r = gh
        .call(
            INST,
            "POST",
            &format!("{repo}/git/commits"),
            Some(&json!({"message": "x", "tree": tree, "parents": [],
                "author": {"name": "Me", "email": "me@example.com"}})),
        )
        .await;
    assert_eq!(r.body["verification"]["verified"], false);
    let orphan = r.body["sha"].as_str().unwrap().to_owned();

    let create = json!({"ref": "refs/heads/ws-fix/alpn", "sha": main});
    let r = gh
        .call(INST, "POST", &format!("{repo}/git/refs"), Some(&create))
        .await;
    assert_eq!(r.status, 201);
    let r = gh
        .call(INST, "POST", &format!("{repo}/git/refs"), Some(&create))
        .await;
    assert_eq!(r.status, 422);
    let refpath = format!("{repo}/git/refs/heads/ws-fix/alpn");
    let r = gh
        .call(INST, "PATCH", &refpath, Some(&json!({"sha": commit})))
        .await;
    assert_eq!(r.status, 200, "fast-forward");
    let r = gh
        .call(INST, "PATCH", &refpath, Some(&json!({"sha": orphan})))
        .await;
    assert_eq!(r.status, 422, "not a fast-forward");
    let r = gh
        .call(
            INST,
            "PATCH",
            &refpath,
            Some(&json!({"sha": orphan, "force": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = gh
        .call(
            INST,
            "GET",
            &format!("{repo}/git/ref/heads/ws-fix/alpn"),
            None,
        )
        .await;
    assert_eq!(r.body["object"]["sha"], json!(orphan));
    assert_eq!(
        gh.file("acme", "gitops", "ws-fix/alpn", "apps/b/c.yaml")
            .as_deref(),
        Some("kind: C\n")
    );
    assert_eq!(gh.call(INST, "DELETE", &refpath, None).await.status, 204);
    let r = gh
        .call(
            INST,
            "GET",
            &format!("{repo}/git/ref/heads/ws-fix/alpn"),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(gh.commit("acme", "gitops", &commit).unwrap().verified);
}

async fn open_pr(gh: &FakeGitHub, branch: &str) -> (u16, Value) {
    let r = gh
        .call(
            INST,
            "POST",
            "/repos/acme/gitops/pulls",
            Some(&json!({"title": format!("Fix {branch}"), "head": format!("acme:{branch}"), "base": "main", "body": "b"})),
        )
        .await;
    (r.status, r.body)
}

#[tokio::test]
async fn a_second_pr_with_the_same_head_and_base_is_422() {
    let gh = fake().await;
    gh.push_commit("acme", "gitops", "fix-a", "alice", "a", &[("a", Some("1"))]);
    let (status, body) = open_pr(&gh, "fix-a").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (
            body["number"].as_u64(),
            body["state"].as_str(),
            body["merged"].as_bool()
        ),
        (Some(1), Some("open"), Some(false))
    );
    assert_eq!(body["html_url"], "https://github.com/acme/gitops/pull/1");
    assert_eq!(body["head"]["ref"], "fix-a");
    assert_eq!(body["base"]["ref"], "main");
    let (status, body) = open_pr(&gh, "fix-a").await;
    assert_eq!(status, 422);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    // Once closed, a new one may be opened.
    gh.close_pr("acme", "gitops", 1);
    assert_eq!(open_pr(&gh, "fix-a").await.0, 201);
    gh.merge_pr("acme", "gitops", 2, "bob");
    let r = gh
        .call(INST, "GET", "/repos/acme/gitops/pulls/2", None)
        .await;
    assert_eq!(
        (r.body["merged"].clone(), r.body["state"].clone()),
        (json!(true), json!("closed"))
    );
    assert_eq!(gh.file("acme", "gitops", "main", "a").as_deref(), Some("1"));
}

#[tokio::test]
async fn head_without_owner_is_ignored_like_github_does() {
    let gh = fake().await;
    for b in ["fix-a", "fix-b"] {
        gh.push_commit("acme", "gitops", b, "alice", b, &[(b, Some(b))]);
        assert_eq!(open_pr(&gh, b).await.0, 201);
    }
    let count = |r: &crate::common::fake_github::RawResponse| r.body.as_array().unwrap().len();
    let r = gh
        .call(INST, "GET", "/repos/acme/gitops/pulls?head=fix-a", None)
        .await;
    assert_eq!(count(&r), 2, "the filter is ignored");
    let r = gh
        .call(
            INST,
            "GET",
            "/repos/acme/gitops/pulls?head=acme:fix-a&state=all",
            None,
        )
        .await;
    assert_eq!(count(&r), 1);
    assert_eq!(r.body[0]["head"]["ref"], "fix-a");
    let r = gh
        .call(
            INST,
            "GET",
            "/repos/acme/gitops/pulls?head=other:fix-a",
            None,
        )
        .await;
    assert_eq!(count(&r), 0);
}

#[tokio::test]
async fn injected_faults_fail_then_succeed() {
    let gh = fake().await;
    gh.push_commit("acme", "gitops", "fix-a", "alice", "a", &[("a", Some("1"))]);
    gh.fail_next("POST", "/repos/acme/gitops/pulls", 502, &[]);
    assert_eq!(open_pr(&gh, "fix-a").await.0, 502);
    assert!(gh.pulls("acme", "gitops").is_empty(), "nothing was created");
    assert_eq!(open_pr(&gh, "fix-a").await.0, 201);

    // A 5xx after the write: the comment exists.
    gh.fail_next_after_success("POST", "/repos/acme/gitops/issues/1/comments", 502);
    let r = gh
        .call(
            INST,
            "POST",
            "/repos/acme/gitops/issues/1/comments",
            Some(&json!({"body": "hi"})),
        )
        .await;
    assert_eq!(r.status, 502);
    assert_eq!(gh.comments("acme", "gitops", 1).len(), 1);

    gh.secondary_rate_limit_next("GET", "/repos/acme/gitops", 1);
    let r = gh.call(INST, "GET", "/repos/acme/gitops", None).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit")
    );
    assert_eq!(
        gh.call(INST, "GET", "/repos/acme/gitops", None)
            .await
            .status,
        200
    );
    assert_eq!(gh.pending_faults(), 0);
    assert_eq!(gh.count("POST", "/repos/acme/gitops/pulls"), 2);
    assert_eq!(gh.writes().len(), 3);
}

#[tokio::test]
async fn comments_reactions_labels_and_permissions() {
    let gh = fake().await;
    gh.push_commit("acme", "gitops", "fix-a", "alice", "a", &[("a", Some("1"))]);
    open_pr(&gh, "fix-a").await;
    gh.set_permission("acme", "gitops", "bob", "write", "maintain");
    let human = gh.post_comment_as("acme", "gitops", 1, "bob", "@ws-fix recreate");
    let path = format!("/repos/acme/gitops/issues/comments/{human}/reactions");
    let r = gh
        .call(INST, "POST", &path, Some(&json!({"content": "eyes"})))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        gh.call(INST, "POST", &path, Some(&json!({"content": "eyes"})))
            .await
            .status,
        200
    );
    let r = gh
        .call(
            INST,
            "POST",
            "/repos/acme/gitops/issues/1/comments",
            Some(&json!({"body": "Done."})),
        )
        .await;
    let mine = r.body["id"].as_u64().unwrap();
    let r = gh
        .call(
            INST,
            "PATCH",
            &format!("/repos/acme/gitops/issues/comments/{mine}"),
            Some(&json!({"body": "Done!"})),
        )
        .await;
    assert_eq!(r.body["body"], "Done!");
    let r = gh
        .call(
            INST,
            "GET",
            "/repos/acme/gitops/issues/1/comments?per_page=1",
            None,
        )
        .await;
    assert_eq!(r.body[0]["user"]["login"], "bob");
    assert_eq!(r.body[0]["reactions"]["eyes"], 1);
    assert!(r.header("link").unwrap().contains("rel=\"next\""));
    let r = gh
        .call(
            INST,
            "POST",
            "/repos/acme/gitops/issues/1/labels",
            Some(&json!({"labels": ["ws-fix"]})),
        )
        .await;
    assert_eq!(r.body[0]["name"], "ws-fix");
    assert_eq!(gh.issue("acme", "gitops", 1).unwrap().labels, ["ws-fix"]);
    let r = gh
        .call(
            INST,
            "GET",
            "/repos/acme/gitops/collaborators/bob/permission",
            None,
        )
        .await;
    assert_eq!(
        (r.body["permission"].clone(), r.body["role_name"].clone()),
        (json!("write"), json!("maintain"))
    );
}

#[tokio::test]
async fn a_persons_push_is_unverified_and_moves_the_pr_head() {
    let gh = fake().await;
    gh.push_commit("acme", "gitops", "fix-a", "alice", "a", &[("a", Some("1"))]);
    open_pr(&gh, "fix-a").await;
    let sha = gh.push_commit("acme", "gitops", "fix-a", "carol", "mine", &[("a", None)]);
    assert!(!gh.commit("acme", "gitops", &sha).unwrap().verified);
    let r = gh
        .call(INST, "GET", "/repos/acme/gitops/pulls/1", None)
        .await;
    assert_eq!(r.body["head"]["sha"], json!(sha));
    let r = gh
        .call(
            INST,
            "GET",
            &format!("/repos/acme/gitops/git/commits/{sha}"),
            None,
        )
        .await;
    assert_eq!(r.body["author"]["name"], "carol");
    assert_eq!(r.body["verification"]["verified"], false);
}

#[tokio::test]
async fn requests_the_description_does_not_allow_are_violations() {
    let gh = fake().await;
    gh.push_commit("acme", "gitops", "fix-a", "alice", "a", &[("a", Some("1"))]);
    // Request bodies in GitHub's description allow unknown properties, so a misspelt field is
    // not a violation: GitHub ignores it (and here, without `title`, answers 422).
    let r = gh
        .call(
            INST,
            "POST",
            "/repos/acme/gitops/pulls",
            Some(&json!({"titel": "x", "head": "acme:fix-a", "base": "main"})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(gh.violations().is_empty());
    // Unless the fake is told to be stricter than the description.
    gh.set_strict_bodies(true);
    let r = gh
        .call(
            INST,
            "POST",
            "/repos/acme/gitops/pulls",
            Some(&json!({"titel": "x", "head": "acme:fix-a", "base": "main"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let v = gh.take_violations();
    assert!(v[0].contains("titel"), "{v:?}");
    gh.set_strict_bodies(false);

    let bad = [
        // A wrong type.
        (
            "POST",
            "/repos/acme/gitops/pulls".to_owned(),
            Some(json!({"title": 5, "head": "acme:fix-a", "base": "main"})),
        ),
        // A missing required field.
        (
            "POST",
            "/repos/acme/gitops/git/refs".to_owned(),
            Some(json!({"ref": "refs/heads/x"})),
        ),
        // A wrong method (what octocrab's `update_comment` sends).
        (
            "POST",
            "/repos/acme/gitops/issues/comments/1".to_owned(),
            Some(json!({"body": "x"})),
        ),
        // An undeclared query parameter.
        ("GET", "/repos/acme/gitops/pulls?author=me".to_owned(), None),
        // A value outside the enum.
        (
            "GET",
            "/repos/acme/gitops/pulls?state=merged".to_owned(),
            None,
        ),
        // A path that is not GitHub's.
        (
            "GET",
            "/repos/acme/gitops/git/branches/main".to_owned(),
            None,
        ),
        // A body where none is taken.
        ("GET", "/repos/acme/gitops".to_owned(), Some(json!({}))),
    ];
    for (method, path, body) in &bad {
        let r = gh.call(INST, method, path, body.as_ref()).await;
        assert_eq!(r.status, 400, "{method} {path}: {}", r.body);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("REST description")
        );
    }
    let v = gh.take_violations();
    assert_eq!(v.len(), bad.len(), "{v:#?}");
    assert!(v[0].contains("/title"), "{}", v[0]);
    assert!(v[2].contains("allowed: DELETE, GET, PATCH"), "{}", v[2]);
    assert!(v[3].contains("`author`"), "{}", v[3]);
    assert!(gh.pulls("acme", "gitops").is_empty());
    gh.assert_no_violations();
}
