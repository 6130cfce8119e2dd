//! The calls ws-fix makes on one repository, each on GitHub's documented path and body.

use base64::Engine;
use serde_json::{Value, json};

use super::{GitHubApp, GitHubError, Method};

/// What ws-fix needs of a repository.
#[derive(Clone, Debug)]
pub struct RepoInfo {
    pub default_branch: String,
    pub archived: bool,
}

/// One blob of a recursive tree.
#[derive(Clone, Debug)]
pub struct TreeEntry {
    pub path: String,
    pub sha: String,
    pub size: u64,
    /// `100644`, `100755`, or `120000` for a symbolic link (whose blob is the link's target).
    pub mode: String,
}

impl TreeEntry {
    pub fn is_symlink(&self) -> bool {
        self.mode == "120000"
    }
}

#[derive(Clone, Debug)]
pub struct Commit {
    pub sha: String,
    pub message: String,
    pub tree: String,
    pub parents: Vec<String>,
    pub verified: bool,
}

#[derive(Clone, Debug)]
pub struct Pull {
    pub number: u64,
    pub open: bool,
    pub merged: bool,
    pub title: String,
    pub body: String,
    pub head_ref: String,
    pub head_sha: String,
    /// The branch the pull request merges into.
    pub base_ref: String,
    pub labels: Vec<String>,
    pub url: String,
}

impl Pull {
    fn from(v: &Value) -> Pull {
        Pull {
            number: v["number"].as_u64().unwrap_or(0),
            open: v["state"] == "open",
            merged: v["merged"].as_bool().unwrap_or(false) || !v["merged_at"].is_null(),
            title: v["title"].as_str().unwrap_or("").to_owned(),
            body: v["body"].as_str().unwrap_or("").to_owned(),
            head_ref: v["head"]["ref"].as_str().unwrap_or("").to_owned(),
            head_sha: v["head"]["sha"].as_str().unwrap_or("").to_owned(),
            base_ref: v["base"]["ref"].as_str().unwrap_or("").to_owned(),
            labels: v["labels"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["name"].as_str().map(str::to_owned))
                .collect(),
            url: v["html_url"].as_str().unwrap_or("").to_owned(),
        }
    }
}

/// GitHub takes at most this many annotations per check-run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// A check run's `output` text (Markdown).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckOutput {
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One annotation of a check run, on lines of a file of its head commit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    /// `notice`, `warning` or `failure`.
    pub annotation_level: &'static str,
    pub message: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_details: Option<String>,
}

/// A completed check run to create.
pub struct NewCheckRun<'a> {
    pub name: &'a str,
    pub head_sha: &'a str,
    /// `success`, `neutral`, `failure`, ...
    pub conclusion: &'a str,
    /// Set with the last request, so that a run cut short by a failure is not taken for a
    /// finished one.
    pub external_id: &'a str,
    pub output: &'a CheckOutput,
    pub annotations: &'a [Annotation],
}

/// A check run as listed for a commit.
#[derive(Clone, Debug)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub external_id: String,
    /// The App that made it.
    pub app_slug: String,
    pub summary: String,
}

/// `base...head`: where the head branched off, and what it changed since.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub merge_base: String,
    /// The paths changed since the merge base (a rename gives both names); `None` when GitHub
    /// did not list them all (it lists at most 300).
    pub files: Option<Vec<String>>,
}

/// One repository of one installation.
pub struct Repo<'a> {
    gh: &'a GitHubApp,
    installation: u64,
    pub owner: String,
    pub name: String,
}

/// Percent-encodes a path segment.
fn seg(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl<'a> Repo<'a> {
    pub(super) fn new(gh: &'a GitHubApp, installation: u64, owner: &str, name: &str) -> Self {
        Repo {
            gh,
            installation,
            owner: owner.to_owned(),
            name: name.to_owned(),
        }
    }

    fn path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", seg(&self.owner), seg(&self.name))
    }

    async fn get(&self, rest: &str) -> Result<Value, GitHubError> {
        self.gh
            .send(self.installation, Method::Get, self.path(rest), None)
            .await
    }

    async fn patch(&self, rest: &str, body: Value) -> Result<Value, GitHubError> {
        self.gh
            .send(
                self.installation,
                Method::Patch,
                self.path(rest),
                Some(body),
            )
            .await
    }

    /// A POST whose repetition is harmless (git objects are content-addressed).
    async fn post_idempotent(&self, rest: &str, body: Value) -> Result<Value, GitHubError> {
        self.gh
            .send(self.installation, Method::Post, self.path(rest), Some(body))
            .await
    }

    pub async fn info(&self) -> Result<RepoInfo, GitHubError> {
        let v = self.get("").await?;
        Ok(RepoInfo {
            default_branch: v["default_branch"].as_str().unwrap_or("main").to_owned(),
            archived: v["archived"].as_bool().unwrap_or(false),
        })
    }

    /// The commit a branch points at; `None` when it does not exist.
    pub async fn branch_sha(&self, branch: &str) -> Result<Option<String>, GitHubError> {
        match self.get(&format!("/git/ref/heads/{branch}")).await {
            Ok(v) => Ok(v["object"]["sha"].as_str().map(str::to_owned)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn commit(&self, sha: &str) -> Result<Commit, GitHubError> {
        let v = self.get(&format!("/git/commits/{sha}")).await?;
        Ok(Commit {
            sha: sha.to_owned(),
            message: v["message"].as_str().unwrap_or("").to_owned(),
            tree: v["tree"]["sha"].as_str().unwrap_or("").to_owned(),
            parents: v["parents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["sha"].as_str().map(str::to_owned))
                .collect(),
            verified: v["verification"]["verified"].as_bool().unwrap_or(false),
        })
    }

    /// The blobs of a tree, recursively. GitHub cuts a recursive listing at 100,000 entries
    /// (or 7 MB): a cut listing is an error, never taken for the whole tree.
    pub async fn tree(&self, sha: &str) -> Result<Vec<TreeEntry>, GitHubError> {
        let v = self.get(&format!("/git/trees/{sha}?recursive=1")).await?;
        if v["truncated"] == true {
            return Err(GitHubError::Truncated(format!(
                "the tree {sha} has more entries than GitHub lists at once (100,000)"
            )));
        }
        Ok(v["tree"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["type"] == "blob")
            .filter_map(|e| {
                Some(TreeEntry {
                    path: e["path"].as_str()?.to_owned(),
                    sha: e["sha"].as_str()?.to_owned(),
                    size: e["size"].as_u64().unwrap_or(0),
                    mode: e["mode"].as_str().unwrap_or("100644").to_owned(),
                })
            })
            .collect())
    }

    pub async fn blob(&self, sha: &str) -> Result<Vec<u8>, GitHubError> {
        let v = self.get(&format!("/git/blobs/{sha}")).await?;
        let content: String = v["content"]
            .as_str()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(content)
            .map_err(|e| GitHubError::Transport(format!("blob {sha}: {e}")))
    }

    pub async fn create_blob(&self, content: &[u8]) -> Result<String, GitHubError> {
        let body = json!({
            "content": base64::engine::general_purpose::STANDARD.encode(content),
            "encoding": "base64",
        });
        let v = self.post_idempotent("/git/blobs", body).await?;
        Ok(v["sha"].as_str().unwrap_or("").to_owned())
    }

    /// A tree: `base_tree` with `files` (path, blob sha) put in.
    pub async fn create_tree(
        &self,
        base_tree: &str,
        files: &[(String, String)],
    ) -> Result<String, GitHubError> {
        let entries: Vec<Value> = files
            .iter()
            .map(|(path, sha)| json!({"path": path, "mode": "100644", "type": "blob", "sha": sha}))
            .collect();
        let v = self
            .post_idempotent(
                "/git/trees",
                json!({"base_tree": base_tree, "tree": entries}),
            )
            .await?;
        Ok(v["sha"].as_str().unwrap_or("").to_owned())
    }

    /// A commit with no author, committer or signature, so GitHub signs it as the App
    /// (Verified).
    pub async fn create_commit(
        &self,
        message: &str,
        tree: &str,
        parents: &[String],
    ) -> Result<String, GitHubError> {
        let v = self
            .post_idempotent(
                "/git/commits",
                json!({"message": message, "tree": tree, "parents": parents}),
            )
            .await?;
        Ok(v["sha"].as_str().unwrap_or("").to_owned())
    }

    /// Points `branch` at `sha`, creating it when needed (`force` moves it anywhere).
    pub async fn set_branch(
        &self,
        branch: &str,
        sha: &str,
        exists: bool,
    ) -> Result<(), GitHubError> {
        if exists {
            self.patch(
                &format!("/git/refs/heads/{branch}"),
                json!({"sha": sha, "force": true}),
            )
            .await?;
            return Ok(());
        }
        let path = self.path("/git/refs");
        let body = json!({"ref": format!("refs/heads/{branch}"), "sha": sha});
        let branch_owned = branch.to_owned();
        let sha_owned = sha.to_owned();
        self.gh
            .create(self.installation, path, body, || async {
                Ok(match self.branch_sha(&branch_owned).await? {
                    Some(s) if s == sha_owned => Some(Value::Null),
                    _ => None,
                })
            })
            .await?;
        Ok(())
    }

    /// Every pull request (open and closed) whose head is `branch` of this repository.
    pub async fn pulls(&self, branch: &str) -> Result<Vec<Pull>, GitHubError> {
        // Without the `owner:` prefix GitHub ignores the filter.
        let v = self
            .get(&format!(
                "/pulls?state=all&per_page=100&head={}:{}",
                seg(&self.owner),
                seg(branch)
            ))
            .await?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .map(Pull::from)
            .filter(|p| p.head_ref == branch)
            .collect())
    }

    pub async fn pull(&self, number: u64) -> Result<Pull, GitHubError> {
        Ok(Pull::from(&self.get(&format!("/pulls/{number}")).await?))
    }

    pub async fn create_pull(
        &self,
        title: &str,
        branch: &str,
        base: &str,
        body: &str,
    ) -> Result<Pull, GitHubError> {
        let path = self.path("/pulls");
        let req = json!({"title": title, "head": branch, "base": base, "body": body});
        let v = self
            .gh
            .create(self.installation, path, req, || async {
                let open = self.pulls(branch).await?.into_iter().find(|p| p.open);
                Ok(open.map(|p| json!({"number": p.number, "state": "open", "title": p.title, "body": p.body, "head": {"ref": p.head_ref, "sha": p.head_sha}, "html_url": p.url})))
            })
            .await?;
        Ok(Pull::from(&v))
    }

    pub async fn update_pull(
        &self,
        number: u64,
        title: Option<&str>,
        body: Option<&str>,
        close: bool,
    ) -> Result<(), GitHubError> {
        let mut req = serde_json::Map::new();
        if let Some(t) = title {
            req.insert("title".into(), t.into());
        }
        if let Some(b) = body {
            req.insert("body".into(), b.into());
        }
        if close {
            req.insert("state".into(), "closed".into());
        }
        self.patch(&format!("/pulls/{number}"), Value::Object(req))
            .await?;
        Ok(())
    }

    /// `(id, body, author login)` of an issue's or pull request's comments.
    pub async fn comments(&self, issue: u64) -> Result<Vec<(u64, String, String)>, GitHubError> {
        let v = self
            .get(&format!("/issues/{issue}/comments?per_page=100"))
            .await?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["id"].as_u64().unwrap_or(0),
                    c["body"].as_str().unwrap_or("").to_owned(),
                    c["user"]["login"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect())
    }

    /// Posts a comment (looking for it before a retry, so a 5xx that succeeded posts once).
    pub async fn comment(&self, issue: u64, body: &str) -> Result<(), GitHubError> {
        let path = self.path(&format!("/issues/{issue}/comments"));
        self.gh
            .create(self.installation, path, json!({"body": body}), || async {
                let found = self
                    .comments(issue)
                    .await?
                    .into_iter()
                    .find(|(_, b, _)| b == body);
                Ok(found.map(|(id, _, _)| json!({"id": id})))
            })
            .await?;
        Ok(())
    }

    /// The open issues the App opened with `label` (number, body).
    pub async fn own_issues(
        &self,
        creator: &str,
        label: &str,
    ) -> Result<Vec<(u64, String)>, GitHubError> {
        let v = self
            .get(&format!(
                "/issues?state=open&per_page=100&creator={}&labels={}",
                seg(creator),
                seg(label)
            ))
            .await?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["pull_request"].is_null())
            .map(|i| {
                (
                    i["number"].as_u64().unwrap_or(0),
                    i["body"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect())
    }

    /// Opens an issue (looking for it by title and label before a retry).
    pub async fn create_issue(
        &self,
        title: &str,
        body: &str,
        label: &str,
        creator: &str,
    ) -> Result<u64, GitHubError> {
        let path = self.path("/issues");
        let req = json!({"title": title, "body": body, "labels": [label]});
        let v = self
            .gh
            .create(self.installation, path, req, || async {
                let found = self.own_issues(creator, label).await?.into_iter().next();
                Ok(found.map(|(n, _)| json!({"number": n})))
            })
            .await?;
        Ok(v["number"].as_u64().unwrap_or(0))
    }

    pub async fn update_issue_body(&self, number: u64, body: &str) -> Result<(), GitHubError> {
        self.patch(&format!("/issues/{number}"), json!({"body": body}))
            .await?;
        Ok(())
    }

    pub async fn react(&self, comment_id: u64, content: &str) -> Result<(), GitHubError> {
        self.post_idempotent(
            &format!("/issues/comments/{comment_id}/reactions"),
            json!({"content": content}),
        )
        .await?;
        Ok(())
    }

    pub async fn add_labels(&self, issue: u64, labels: &[&str]) -> Result<(), GitHubError> {
        self.post_idempotent(
            &format!("/issues/{issue}/labels"),
            json!({"labels": labels}),
        )
        .await?;
        Ok(())
    }

    /// Compares `base` (a branch or commit) with `head`.
    pub async fn compare(&self, base: &str, head: &str) -> Result<Comparison, GitHubError> {
        // One commit per page: the files are listed on the first page whatever its size.
        let basehead = format!("{}...{}", seg(base), seg(head)).replace("%2F", "/");
        let v = self.get(&format!("/compare/{basehead}?per_page=1")).await?;
        let merge_base = v["merge_base_commit"]["sha"]
            .as_str()
            .ok_or_else(|| {
                GitHubError::Transport(format!("compare {basehead}: no merge base in the answer"))
            })?
            .to_owned();
        let listed = v["files"].as_array();
        let files = listed.filter(|f| f.len() < 300).map(|f| {
            f.iter()
                .flat_map(|e| [&e["filename"], &e["previous_filename"]])
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        });
        Ok(Comparison { merge_base, files })
    }

    /// The check runs named `name` on commit `sha` (newest first).
    pub async fn check_runs(&self, sha: &str, name: &str) -> Result<Vec<CheckRun>, GitHubError> {
        let v = self
            .get(&format!(
                "/commits/{sha}/check-runs?check_name={}&filter=all&per_page=100",
                seg(name)
            ))
            .await?;
        Ok(v["check_runs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| CheckRun {
                id: c["id"].as_u64().unwrap_or(0),
                name: c["name"].as_str().unwrap_or("").to_owned(),
                external_id: c["external_id"].as_str().unwrap_or("").to_owned(),
                app_slug: c["app"]["slug"].as_str().unwrap_or("").to_owned(),
                summary: c["output"]["summary"].as_str().unwrap_or("").to_owned(),
            })
            .collect())
    }

    /// Creates a completed check run with the first [`ANNOTATIONS_PER_REQUEST`] annotations,
    /// then adds the rest in updates of as many (looking for the run before a retry, so a 5xx
    /// that succeeded creates one). Returns its id.
    pub async fn create_check_run(&self, run: &NewCheckRun<'_>) -> Result<u64, GitHubError> {
        let mut batches = run.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let first = batches.next().unwrap_or(&[]);
        let rest: Vec<&[Annotation]> = batches.collect();
        let mut body = json!({
            "name": run.name,
            "head_sha": run.head_sha,
            "status": "completed",
            "conclusion": run.conclusion,
            "output": output_json(run.output, first),
        });
        if rest.is_empty() {
            body["external_id"] = run.external_id.into();
        }
        let path = self.path("/check-runs");
        let v = self
            .gh
            .create(self.installation, path, body, || async {
                let found = self
                    .check_runs(run.head_sha, run.name)
                    .await?
                    .into_iter()
                    .find(|c| c.summary == run.output.summary);
                Ok(found.map(|c| json!({"id": c.id})))
            })
            .await?;
        let id = v["id"]
            .as_u64()
            .ok_or_else(|| GitHubError::Transport("the created check run has no id".to_owned()))?;
        for (i, batch) in rest.iter().enumerate() {
            let last = i + 1 == rest.len();
            self.update_check_run(id, run.output, batch, last.then_some(run.external_id))
                .await?;
        }
        Ok(id)
    }

    /// Sets a check run's output and appends `annotations` (at most
    /// [`ANNOTATIONS_PER_REQUEST`]) to it; `external_id` too when given.
    pub async fn update_check_run(
        &self,
        id: u64,
        output: &CheckOutput,
        annotations: &[Annotation],
        external_id: Option<&str>,
    ) -> Result<(), GitHubError> {
        let mut body = json!({"output": output_json(output, annotations)});
        if let Some(e) = external_id {
            body["external_id"] = e.into();
        }
        self.patch(&format!("/check-runs/{id}"), body).await?;
        Ok(())
    }

    /// The user's role on the repository (`admin`, `maintain`, `write`, `triage`, `read`, or a
    /// custom role), `none` when they have none.
    pub async fn role(&self, user: &str) -> Result<String, GitHubError> {
        match self
            .get(&format!("/collaborators/{}/permission", seg(user)))
            .await
        {
            Ok(v) => Ok(v["role_name"]
                .as_str()
                .or_else(|| v["permission"].as_str())
                .unwrap_or("none")
                .to_owned()),
            Err(e) if e.status() == Some(404) => Ok("none".into()),
            Err(e) => Err(e),
        }
    }
}

/// A check run's `output` with these annotations.
fn output_json(output: &CheckOutput, annotations: &[Annotation]) -> Value {
    let mut v = json!(output);
    if !annotations.is_empty() {
        v["annotations"] = json!(annotations);
    }
    v
}
