package main

import (
	"runtime"
	"runtime/debug"
)

// Set at link time by the Makefile and the Dockerfile:
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=3f2a9c1" ./cmd/syncd
//
// When unset, buildInfo falls back to what the Go toolchain recorded.
var (
	version string
	commit  string
)

// BuildInfo identifies a syncd binary.
type BuildInfo struct {
	// Version is the release ("v1.2.0"), the module version for `go install
	// ...@v1.2.0`, or "dev".
	Version string
	// Commit is the VCS revision, with "-dirty" for a modified tree, or
	// "unknown".
	Commit string
	// GoVersion is the toolchain that built the binary.
	GoVersion string
	// Platform is GOOS/GOARCH.
	Platform string
}

// String formats the build for `syncd version`.
func (b BuildInfo) String() string {
	return "syncd " + b.Version + " (commit " + b.Commit + ", " + b.GoVersion + " " + b.Platform + ")"
}

// buildInfo combines the link-time values with the toolchain's record. The
// VCS settings are absent under -buildvcs=false (set on some machines), which
// is why the Makefile passes the commit explicitly.
func buildInfo() BuildInfo {
	b := BuildInfo{
		Version:   version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	info, ok := debug.ReadBuildInfo()
	if ok && b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	if ok && b.Commit == "" {
		var rev, dirty string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if rev != "" {
			b.Commit = rev + dirty
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}
