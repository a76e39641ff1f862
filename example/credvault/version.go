package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release's version, set by release/build.sh with
// -ldflags "-X main.version=v1.2.3". When empty, the module version from
// the build information is shown: the tag that "go install ...@v1.2.3"
// fetched, or a pseudo-version when built from a checkout.
var version string

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version, the source revision and the Go version it was built with",
		example: `  credvault version
  credvault --version`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("version takes no arguments")
				}
				info, _ := debug.ReadBuildInfo()
				_, err := fmt.Fprint(c.stdout, versionText(info, version))
				return err
			}
		},
	}
}

// versionText describes a build: the version (release overrides the
// module's), the VCS revision with its time and "dirty" if the tree had
// changes, and the Go version and platform. info may be nil.
func versionText(info *debug.BuildInfo, release string) string {
	v := release
	goVersion := runtime.Version()
	settings := map[string]string{}
	if info != nil {
		if v == "" {
			v = info.Main.Version
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	if v == "" {
		v = "(devel)"
	}
	text := "credvault " + v + "\n"
	if rev := settings["vcs.revision"]; rev != "" {
		text += "revision " + rev
		if t := settings["vcs.time"]; t != "" {
			text += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			text += " dirty"
		}
		text += "\n"
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	if settings["GOOS"] != "" && settings["GOARCH"] != "" {
		platform = settings["GOOS"] + "/" + settings["GOARCH"]
	}
	return text + "built with " + goVersion + " for " + platform + "\n"
}
