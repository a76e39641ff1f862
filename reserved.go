package vault

import "strings"

// A reservedCategory is a kind of environment variable that Flatten refuses
// to set unless allowed: variables that make common programs run or load
// other code, or change whom they trust. Each is a list of exact names and
// of name prefixes; the category's name and reason go into the error.
type reservedCategory struct {
	name     string
	why      string
	names    []string
	prefixes []string
}

// reservedCategories are the names Flatten refuses by default, by category.
// The README's "Reserved names" section lists the same.
var reservedCategories = []reservedCategory{
	{
		name: "shell",
		why:  "shells read it to run code or to change how every script runs",
		names: []string{
			"PATH", "HOME", "SHELL", "USER", "LOGNAME", "TMPDIR", "PWD", "OLDPWD",
			"ENV", "BASH_ENV", "PS1", "PS2", "PS3", "PS4", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS",
			"IFS", "CDPATH", "GLOBIGNORE", "EXECIGNORE", "FPATH", "ZDOTDIR", "HISTFILE", "INPUTRC",
			"BASH_XTRACEFD", "BASH_COMPAT", "BASH_LOADABLES_PATH", "POSIXLY_CORRECT",
		},
		prefixes: []string{"BASH_FUNC_"},
	},
	{
		name: "dynamic linker and libc",
		why:  "it makes every program load other code or data",
		names: []string{
			"GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH", "HOSTALIASES", "RES_OPTIONS",
			"LOCALDOMAIN", "TZDIR", "MALLOC_CHECK_", "MALLOC_TRACE",
		},
		prefixes: []string{"LD_", "DYLD_"},
	},
	{
		name: "language runtime",
		why:  "Python, Perl, Ruby, Node, Java, Go or another runtime loads code or options from it",
		names: []string{
			"PERLLIB", "PERLDB_OPTS", "GEM_HOME", "GEM_PATH", "BUNDLE_GEMFILE",
			"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS", "JAVA_HOME", "CLASSPATH",
			"MAVEN_OPTS", "GRADLE_OPTS",
			"GOFLAGS", "GOPATH", "GOROOT", "GOBIN", "GOENV", "GOTOOLCHAIN", "GOPROXY", "GONOPROXY",
			"GOPRIVATE", "GOSUMDB", "GONOSUMDB", "GOINSECURE", "GOEXPERIMENT", "GODEBUG", "GOCACHE",
			"GOMODCACHE", "GOWORK", "CC", "CXX",
			"PHPRC", "PHP_INI_SCAN_DIR", "LUA_INIT", "LUA_PATH", "LUA_CPATH", "TCLLIBPATH",
			"DOTNET_STARTUP_HOOKS", "CORECLR_PROFILER_PATH", "CORECLR_ENABLE_PROFILING",
		},
		prefixes: []string{"PYTHON", "PERL5", "PERL_", "RUBY", "NODE_", "NPM_CONFIG_", "CGO_"},
	},
	{
		name: "git and ssh helpers",
		why:  "git, ssh, sudo and other programs run the command it names or read their settings from it",
		names: []string{
			"SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "SSH_AUTH_SOCK", "SUDO_ASKPASS",
			"EDITOR", "VISUAL", "PAGER", "MANPAGER", "BROWSER", "LESSOPEN", "LESSCLOSE",
		},
		prefixes: []string{"GIT_"},
	},
	{
		name: "TLS trust and proxies",
		why:  "it changes which certificates programs trust, where their traffic goes, or where TLS keys are logged",
		names: []string{
			"SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE",
			"PIP_CERT", "NODE_EXTRA_CA_CERTS", "SSLKEYLOGFILE",
			"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY",
		},
	},
	{
		name:     "CI platform",
		why:      "the CI platform sets it and reads it back",
		prefixes: []string{"GITHUB_", "RUNNER_", "ACTIONS_", "CI_", "GITLAB_", "BUILDKITE_", "CIRCLE_"},
	},
}

// reservedIndex indexes reservedCategories so that a name is checked with
// one map lookup and the few prefixes that start with its first letter.
var reservedIndex = func() (idx struct {
	exact   map[string]*reservedCategory
	byFirst [256][]reservedPrefix
}) {
	idx.exact = map[string]*reservedCategory{}
	for i := range reservedCategories {
		c := &reservedCategories[i]
		for _, n := range c.names {
			idx.exact[n] = c
		}
		for _, p := range c.prefixes {
			idx.byFirst[p[0]] = append(idx.byFirst[p[0]], reservedPrefix{p, c})
		}
	}
	return idx
}()

type reservedPrefix struct {
	prefix   string
	category *reservedCategory
}

// reservedAs returns the category of a name Flatten refuses by default, or
// nil.
func reservedAs(name string) *reservedCategory {
	if name == "" {
		return nil
	}
	if c, ok := reservedIndex.exact[name]; ok {
		return c
	}
	for _, p := range reservedIndex.byFirst[name[0]] {
		if strings.HasPrefix(name, p.prefix) {
			return p.category
		}
	}
	return nil
}

// isReserved reports whether name is one Flatten refuses by default.
func isReserved(name string) bool { return reservedAs(name) != nil }
