//go:build tools

// Package loadgen pins the native load generator of bench/gateway (bombardier, Go + fasthttp).
// bench/gateway/run.ts installs it with `go install github.com/codesenberg/bombardier` from this
// folder, so the version and every dependency's checksum come from go.mod and go.sum here.
package loadgen

import _ "github.com/codesenberg/bombardier"
