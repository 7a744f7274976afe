package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release version, set at build time with
// -ldflags "-X main.version=v1.2.3" (make build sets it from git describe);
// empty means the module version or "devel".
var version string

// versionInfo is what `certstatus version` prints.
type versionInfo struct {
	Version  string
	Commit   string `json:",omitempty"`
	Modified bool   `json:",omitempty"` // built from a tree with uncommitted changes
	Go       string
	Platform string
}

func currentVersion() versionInfo {
	v := versionInfo{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	return v
}

func (v versionInfo) String() string {
	s := "certstatus " + v.Version
	if v.Commit != "" {
		s += " (commit " + v.Commit
		if v.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + ", " + v.Go + ", " + v.Platform
}

// runVersion is `certstatus version [--json]` (also `certstatus --version`).
func runVersion(ctx context.Context, e *cmdEnv, args []string) error {
	return runLeaf(ctx, e, "version", args)
}

// bindVersion binds the flags of version and returns what runs it.
func bindVersion(_ context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(args []string) error {
		pos, help, err := parse(fs, args)
		if help || err != nil {
			return err
		}
		if len(pos) > 0 {
			return usageErr("version takes no arguments")
		}
		if *asJSON {
			return printJSON(e.stdout, currentVersion())
		}
		_, err = fmt.Fprintln(e.stdout, currentVersion())
		return err
	}
}
