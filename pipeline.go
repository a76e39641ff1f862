package vault

import (
	"log/slog"
	"strings"
)

// A Pipeline identifies the CI run that uses a vault, for audit events: the
// seed's "pipeline: CI_PIPELINE_ID", for twelve platforms. Fields a platform
// does not provide are empty.
type Pipeline struct {
	Platform string // "github-actions", "gitlab-ci", ..., "ci" for an unknown CI, "local" outside CI
	RunID    string // the run (pipeline, build, workflow run) id
	Job      string // the job's name or id within the run
	Commit   string // the commit being built
	Actor    string // who or what started the run
	Repo     string // the repository or project
	URL      string // a link to the run or job
}

// LogValue makes a Pipeline a group of its non-empty fields in log/slog.
func (p Pipeline) LogValue() slog.Value {
	var attrs []slog.Attr
	add := func(key, value string) {
		if value != "" {
			attrs = append(attrs, slog.String(key, value))
		}
	}
	add("platform", p.Platform)
	add("run_id", p.RunID)
	add("job", p.Job)
	add("commit", p.Commit)
	add("actor", p.Actor)
	add("repo", p.Repo)
	add("url", p.URL)
	return slog.GroupValue(attrs...)
}

// DetectPipeline identifies the CI platform and run from environment
// variables, read through getenv (os.Getenv, or a map in tests): GitHub
// Actions, GitLab CI, Jenkins, CircleCI, Buildkite, Azure Pipelines,
// Bitbucket Pipelines, Travis CI, TeamCity, Drone, Woodpecker and AWS
// CodeBuild. Each platform's own variable is checked before the generic
// CI=true that many of them set, and Woodpecker (CI=woodpecker) before
// anything that reads GitLab-like CI_* names. With CI set to anything else
// it returns Platform "ci"; outside CI, "local".
//
// The variables are those the platforms document; see ci-platforms.md in
// the design notes for the sources. DetectPipeline reads nothing secret.
// A nil getenv is an empty environment.
func DetectPipeline(getenv func(string) string) Pipeline {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	for _, d := range detectors {
		if d.match(getenv) {
			p := d.read(getenv)
			p.Platform = d.platform
			return p
		}
	}
	if ci := getenv("CI"); ci != "" && !strings.EqualFold(ci, "false") && ci != "0" {
		return Pipeline{Platform: "ci"}
	}
	return Pipeline{Platform: "local"}
}

type detector struct {
	platform string
	match    func(getenv func(string) string) bool
	read     func(getenv func(string) string) Pipeline
}

// first returns the first non-empty value of the named variables.
func first(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// join joins the non-empty parts with sep, or returns "" if any is empty.
func join(sep string, parts ...string) string {
	for _, p := range parts {
		if p == "" {
			return ""
		}
	}
	return strings.Join(parts, sep)
}

func equals(name, want string) func(func(string) string) bool {
	return func(getenv func(string) string) bool { return strings.EqualFold(getenv(name), want) }
}

func isSet(names ...string) func(func(string) string) bool {
	return func(getenv func(string) string) bool { return first(getenv, names...) != "" }
}

// detectors are tried in order; see DetectPipeline.
var detectors = []detector{
	{"github-actions", equals("GITHUB_ACTIONS", "true"), func(e func(string) string) Pipeline {
		server := first(e, "GITHUB_SERVER_URL")
		if server == "" {
			server = "https://github.com"
		}
		return Pipeline{
			RunID:  e("GITHUB_RUN_ID"),
			Job:    e("GITHUB_JOB"),
			Commit: e("GITHUB_SHA"),
			Actor:  first(e, "GITHUB_TRIGGERING_ACTOR", "GITHUB_ACTOR"),
			Repo:   e("GITHUB_REPOSITORY"),
			URL:    join("/", server, e("GITHUB_REPOSITORY"), "actions/runs", e("GITHUB_RUN_ID")),
		}
	}},
	{"woodpecker", equals("CI", "woodpecker"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  e("CI_PIPELINE_NUMBER"),
			Job:    join("/", e("CI_WORKFLOW_NAME"), e("CI_STEP_NAME")),
			Commit: e("CI_COMMIT_SHA"),
			Actor:  first(e, "CI_PIPELINE_AUTHOR", "CI_COMMIT_AUTHOR"),
			Repo:   e("CI_REPO"),
			URL:    first(e, "CI_STEP_URL", "CI_PIPELINE_URL"),
		}
	}},
	{"gitlab-ci", equals("GITLAB_CI", "true"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  e("CI_PIPELINE_ID"),
			Job:    first(e, "CI_JOB_NAME", "CI_JOB_ID"),
			Commit: e("CI_COMMIT_SHA"),
			Actor:  e("GITLAB_USER_LOGIN"),
			Repo:   e("CI_PROJECT_PATH"),
			URL:    first(e, "CI_JOB_URL", "CI_PIPELINE_URL"),
		}
	}},
	{"buildkite", equals("BUILDKITE", "true"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  e("BUILDKITE_BUILD_ID"),
			Job:    first(e, "BUILDKITE_STEP_KEY", "BUILDKITE_LABEL", "BUILDKITE_JOB_ID"),
			Commit: e("BUILDKITE_COMMIT"),
			Actor:  e("BUILDKITE_BUILD_CREATOR"),
			// BUILDKITE_REPO can be changed by hooks; the slugs cannot.
			Repo: join("/", e("BUILDKITE_ORGANIZATION_SLUG"), e("BUILDKITE_PIPELINE_SLUG")),
			URL:  e("BUILDKITE_BUILD_URL"),
		}
	}},
	{"circleci", equals("CIRCLECI", "true"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  first(e, "CIRCLE_WORKFLOW_ID", "CIRCLE_PIPELINE_ID"),
			Job:    first(e, "CIRCLE_JOB", "CIRCLE_BUILD_NUM"),
			Commit: e("CIRCLE_SHA1"),
			Actor:  e("CIRCLE_USERNAME"),
			Repo:   join("/", e("CIRCLE_PROJECT_USERNAME"), e("CIRCLE_PROJECT_REPONAME")),
			URL:    e("CIRCLE_BUILD_URL"),
		}
	}},
	{"azure-pipelines", equals("TF_BUILD", "true"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  e("BUILD_BUILDID"),
			Job:    first(e, "AGENT_JOBNAME", "SYSTEM_JOBDISPLAYNAME"),
			Commit: e("BUILD_SOURCEVERSION"),
			Actor:  first(e, "BUILD_REQUESTEDFOR", "BUILD_QUEUEDBY"),
			Repo:   e("BUILD_REPOSITORY_NAME"),
			URL: join("", strings.TrimSuffix(e("SYSTEM_COLLECTIONURI"), "/"), "/", e("SYSTEM_TEAMPROJECT"),
				"/_build/results?buildId=", e("BUILD_BUILDID")),
		}
	}},
	{"bitbucket-pipelines", isSet("BITBUCKET_BUILD_NUMBER"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  first(e, "BITBUCKET_PIPELINE_UUID", "BITBUCKET_BUILD_NUMBER"),
			Job:    e("BITBUCKET_STEP_UUID"),
			Commit: e("BITBUCKET_COMMIT"),
			Actor:  e("BITBUCKET_STEP_TRIGGERER_UUID"),
			Repo:   e("BITBUCKET_REPO_FULL_NAME"),
			URL:    join("/", e("BITBUCKET_GIT_HTTP_ORIGIN"), "pipelines/results", e("BITBUCKET_BUILD_NUMBER")),
		}
	}},
	{"travis-ci", equals("TRAVIS", "true"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  e("TRAVIS_BUILD_ID"),
			Job:    first(e, "TRAVIS_JOB_NAME", "TRAVIS_JOB_NUMBER"),
			Commit: e("TRAVIS_COMMIT"),
			Repo:   e("TRAVIS_REPO_SLUG"),
			URL:    first(e, "TRAVIS_JOB_WEB_URL", "TRAVIS_BUILD_WEB_URL"),
		}
	}},
	{"teamcity", isSet("TEAMCITY_VERSION"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  e("BUILD_NUMBER"),
			Job:    e("TEAMCITY_BUILDCONF_NAME"),
			Commit: e("BUILD_VCS_NUMBER"),
			Repo:   e("TEAMCITY_PROJECT_NAME"),
		}
	}},
	{"jenkins", func(e func(string) string) bool {
		return first(e, "JENKINS_URL", "JENKINS_HOME") != "" && e("BUILD_ID") != ""
	}, func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  first(e, "BUILD_NUMBER", "BUILD_ID"),
			Job:    e("JOB_NAME"),
			Commit: e("GIT_COMMIT"),
			Actor:  first(e, "BUILD_USER_ID", "CHANGE_AUTHOR"),
			Repo:   e("GIT_URL"),
			URL:    e("BUILD_URL"),
		}
	}},
	{"aws-codebuild", isSet("CODEBUILD_BUILD_ARN", "CODEBUILD_BUILD_ID"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  e("CODEBUILD_BUILD_ID"),
			Job:    e("CODEBUILD_BATCH_BUILD_IDENTIFIER"),
			Commit: e("CODEBUILD_RESOLVED_SOURCE_VERSION"),
			Actor:  e("CODEBUILD_INITIATOR"),
			Repo:   e("CODEBUILD_SOURCE_REPO_URL"),
			URL:    e("CODEBUILD_PUBLIC_BUILD_URL"),
		}
	}},
	{"drone", equals("DRONE", "true"), func(e func(string) string) Pipeline {
		return Pipeline{
			RunID:  e("DRONE_BUILD_NUMBER"),
			Job:    first(e, "DRONE_STEP_NAME", "DRONE_STAGE_NAME"),
			Commit: e("DRONE_COMMIT_SHA"),
			Actor:  e("DRONE_BUILD_TRIGGER"),
			Repo:   e("DRONE_REPO"),
			URL:    e("DRONE_BUILD_LINK"),
		}
	}},
}
