package vault

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// envOf makes a getenv from a recorded environment.
func envOf(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

func TestDetectPipeline(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Pipeline
	}{
		{"github actions", map[string]string{
			"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1658821493", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "deploy",
			"GITHUB_SHA": "ffac537e6cbbf934b08745a378932722df287a53", "GITHUB_ACTOR": "octocat", "GITHUB_TRIGGERING_ACTOR": "monalisa",
			"GITHUB_REPOSITORY": "octo-org/octo-repo", "GITHUB_SERVER_URL": "https://github.com",
		}, Pipeline{"github-actions", "1658821493", "deploy", "ffac537e6cbbf934b08745a378932722df287a53", "monalisa", "octo-org/octo-repo",
			"https://github.com/octo-org/octo-repo/actions/runs/1658821493"}},
		{"gitlab ci", map[string]string{
			"CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_ID": "1000", "CI_JOB_ID": "50", "CI_JOB_NAME": "deploy-prod",
			"CI_COMMIT_SHA": "abc123", "GITLAB_USER_LOGIN": "alice", "CI_PROJECT_PATH": "group/app",
			"CI_JOB_URL": "https://gitlab.example.com/group/app/-/jobs/50", "CI_PIPELINE_URL": "https://gitlab.example.com/group/app/-/pipelines/1000",
		}, Pipeline{"gitlab-ci", "1000", "deploy-prod", "abc123", "alice", "group/app", "https://gitlab.example.com/group/app/-/jobs/50"}},
		{"jenkins", map[string]string{
			"JENKINS_URL": "https://ci.example.com/", "JENKINS_HOME": "/var/jenkins_home", "BUILD_ID": "17", "BUILD_NUMBER": "17",
			"JOB_NAME": "folder/deploy", "GIT_COMMIT": "def456", "GIT_URL": "https://git.example.com/app.git", "BUILD_URL": "https://ci.example.com/job/folder/job/deploy/17/",
		}, Pipeline{"jenkins", "17", "folder/deploy", "def456", "", "https://git.example.com/app.git", "https://ci.example.com/job/folder/job/deploy/17/"}},
		{"circleci", map[string]string{
			"CI": "true", "CIRCLECI": "true", "CIRCLE_WORKFLOW_ID": "wf-1", "CIRCLE_PIPELINE_ID": "p-1", "CIRCLE_JOB": "deploy",
			"CIRCLE_SHA1": "0123abc", "CIRCLE_USERNAME": "bob", "CIRCLE_PROJECT_USERNAME": "org", "CIRCLE_PROJECT_REPONAME": "app",
			"CIRCLE_BUILD_URL": "https://circleci.com/gh/org/app/99",
		}, Pipeline{"circleci", "wf-1", "deploy", "0123abc", "bob", "org/app", "https://circleci.com/gh/org/app/99"}},
		{"buildkite", map[string]string{
			"CI": "true", "BUILDKITE": "true", "BUILDKITE_BUILD_ID": "uuid-build", "BUILDKITE_LABEL": ":rocket: Deploy",
			"BUILDKITE_COMMIT": "HEAD", "BUILDKITE_BUILD_CREATOR": "Carol", "BUILDKITE_REPO": "git@example.com:hooked.git",
			"BUILDKITE_ORGANIZATION_SLUG": "acme", "BUILDKITE_PIPELINE_SLUG": "app", "BUILDKITE_BUILD_URL": "https://buildkite.com/acme/app/builds/5",
		}, Pipeline{"buildkite", "uuid-build", ":rocket: Deploy", "HEAD", "Carol", "acme/app", "https://buildkite.com/acme/app/builds/5"}},
		{"azure pipelines", map[string]string{
			"TF_BUILD": "True", "BUILD_BUILDID": "314", "AGENT_JOBNAME": "Deploy", "BUILD_SOURCEVERSION": "cafe01",
			"BUILD_REQUESTEDFOR": "Dave", "BUILD_REPOSITORY_NAME": "app", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT": "Shop",
		}, Pipeline{"azure-pipelines", "314", "Deploy", "cafe01", "Dave", "app", "https://dev.azure.com/acme/Shop/_build/results?buildId=314"}},
		{"bitbucket pipelines", map[string]string{
			"CI": "true", "BITBUCKET_BUILD_NUMBER": "12", "BITBUCKET_COMMIT": "b1b1", "BITBUCKET_REPO_FULL_NAME": "acme/app",
			"BITBUCKET_STEP_UUID": "{step}", "BITBUCKET_STEP_TRIGGERER_UUID": "{user}", "BITBUCKET_GIT_HTTP_ORIGIN": "http://bitbucket.org/acme/app",
		}, Pipeline{"bitbucket-pipelines", "12", "{step}", "b1b1", "{user}", "acme/app", "http://bitbucket.org/acme/app/pipelines/results/12"}},
		{"travis ci", map[string]string{
			"CI": "true", "TRAVIS": "true", "TRAVIS_BUILD_ID": "5001", "TRAVIS_JOB_NUMBER": "5001.1", "TRAVIS_COMMIT": "7a7a",
			"TRAVIS_REPO_SLUG": "acme/app", "TRAVIS_BUILD_WEB_URL": "https://travis-ci.com/acme/app/builds/5001",
		}, Pipeline{"travis-ci", "5001", "5001.1", "7a7a", "", "acme/app", "https://travis-ci.com/acme/app/builds/5001"}},
		{"teamcity", map[string]string{
			"TEAMCITY_VERSION": "2025.07", "BUILD_NUMBER": "88", "TEAMCITY_BUILDCONF_NAME": "Deploy", "BUILD_VCS_NUMBER": "9c9c",
			"TEAMCITY_PROJECT_NAME": "Shop",
		}, Pipeline{"teamcity", "88", "Deploy", "9c9c", "", "Shop", ""}},
		{"drone", map[string]string{
			"CI": "true", "DRONE": "true", "DRONE_BUILD_NUMBER": "3", "DRONE_STEP_NAME": "deploy", "DRONE_COMMIT_SHA": "d0d0",
			"DRONE_BUILD_TRIGGER": "@hook", "DRONE_REPO": "acme/app", "DRONE_BUILD_LINK": "https://drone.example.com/acme/app/3",
		}, Pipeline{"drone", "3", "deploy", "d0d0", "@hook", "acme/app", "https://drone.example.com/acme/app/3"}},
		{"woodpecker", map[string]string{
			"CI": "woodpecker", "CI_PIPELINE_NUMBER": "8", "CI_WORKFLOW_NAME": "release", "CI_STEP_NAME": "deploy",
			"CI_COMMIT_SHA": "w00d", "CI_PIPELINE_AUTHOR": "erin", "CI_REPO": "acme/app", "CI_PIPELINE_URL": "https://wp.example.com/repos/1/pipeline/8",
		}, Pipeline{"woodpecker", "8", "release/deploy", "w00d", "erin", "acme/app", "https://wp.example.com/repos/1/pipeline/8"}},
		{"aws codebuild", map[string]string{
			"CODEBUILD_BUILD_ARN": "arn:aws:codebuild:eu-west-1:123:build/app:uuid", "CODEBUILD_BUILD_ID": "app:uuid",
			"CODEBUILD_RESOLVED_SOURCE_VERSION": "c0de", "CODEBUILD_INITIATOR": "codepipeline/release",
		}, Pipeline{"aws-codebuild", "app:uuid", "", "c0de", "codepipeline/release", "", ""}},

		// Precedence.
		{"woodpecker's GitLab-like CI_* names", map[string]string{
			"CI": "woodpecker", "CI_PIPELINE_ID": "not-gitlab", "CI_PIPELINE_NUMBER": "9", "CI_COMMIT_SHA": "w",
		}, Pipeline{Platform: "woodpecker", RunID: "9", Commit: "w"}},
		{"azure's TF_BUILD in any case", map[string]string{"TF_BUILD": "TRUE", "BUILD_BUILDID": "1"},
			Pipeline{Platform: "azure-pipelines", RunID: "1"}},
		{"jenkins needs BUILD_ID", map[string]string{"JENKINS_URL": "https://ci.example.com/"}, Pipeline{Platform: "local"}},
		{"jenkins without a configured URL", map[string]string{"JENKINS_HOME": "/var/jenkins", "BUILD_ID": "4"},
			Pipeline{Platform: "jenkins", RunID: "4"}},
		{"an unknown CI", map[string]string{"CI": "true", "CI_PIPELINE_ID": "x"}, Pipeline{Platform: "ci"}},
		{"CI=false", map[string]string{"CI": "false"}, Pipeline{Platform: "local"}},
		{"local", map[string]string{"HOME": "/home/dev"}, Pipeline{Platform: "local"}},
		{"github without a server URL", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1", "GITHUB_REPOSITORY": "o/r"},
			Pipeline{Platform: "github-actions", RunID: "1", Repo: "o/r", URL: "https://github.com/o/r/actions/runs/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, DetectPipeline(envOf(tt.env))); diff != "" {
				t.Errorf("DetectPipeline (-want +got):\n%s", diff)
			}
		})
	}
}
