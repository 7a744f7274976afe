package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/internal/syncbuf"
)

// cli runs certstatus in-process with an environment of its own.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T, data string) *cli {
	return &cli{t: t, env: map[string]string{"CERTSTATUS_DATA": data, "CERTSTATUS_LOG_LEVEL": "warn"}}
}

func (c *cli) getenv(k string) string { return c.env[k] }

// run returns stdout, stderr and the error of one invocation.
func (c *cli) run(args ...string) (string, string, error) {
	var out, errb syncbuf.Buffer
	err := runEnv(context.Background(), args, &cmdEnv{stdout: &out, stderr: &errb, getenv: c.getenv})
	return out.String(), errb.String(), err
}

// ok runs and fails the test on error.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, stderr, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("certstatus %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// fails runs, expects an error containing msg, and returns it.
func (c *cli) fails(msg string, args ...string) error {
	c.t.Helper()
	_, _, err := c.run(args...)
	if err == nil || !strings.Contains(err.Error(), msg) {
		c.t.Fatalf("certstatus %s: got %v, want an error containing %q", strings.Join(args, " "), err, msg)
	}
	return err
}

// json runs with --json and decodes stdout into v.
func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("certstatus %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}
