package main

import (
	"context"
	"flag"
	"io"
	"strings"
)

// binder binds the flags of one command or subcommand to fs and returns
// what parses a command line with fs and runs it. Binding does nothing
// else, so --help, the help test and shell completion (completion.go) see
// exactly the flags the command accepts, built the same way.
type binder func(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func(args []string) error

// subcommand is one subcommand of a group ("cert revoke"), or the binding
// of a command without subcommands ("serve").
type subcommand struct {
	name, summary string
	// synopsis is the usage line after "certstatus ", naming the
	// positional arguments: "cert revoke ID --reason R [--at T]".
	synopsis string
	bind     binder
}

// subcommandsOf returns the subcommands of a group command, nil for a
// command without subcommands.
func subcommandsOf(command string) []subcommand {
	switch command {
	case "ca":
		return caSubcommands()
	case "cert":
		return certSubcommands()
	case "accesskey":
		return accessKeySubcommands()
	case "crl":
		return crlSubcommands()
	case "ocsp":
		return ocspSubcommands()
	case "settings":
		return settingsSubcommands()
	case "audit":
		return auditSubcommands()
	case "import":
		return importSubcommands()
	}
	return nil
}

// leafOf returns the binding of a command without subcommands.
func leafOf(command string) (subcommand, bool) {
	for _, l := range []subcommand{
		{"init", "", initSynopsis, bindInit},
		{"serve", "", "serve [--data DIR] [--api-addr HOST:PORT] [--ocsp-addr HOST:PORT] [--api-tls auto|off|CERT,KEY]", bindServe},
		{"backup", "", "backup --out FILE [--data DIR] [--json]", bindBackup},
		{"check", "", "check [--data DIR] [--json]", bindCheck},
		{"version", "", "version [--json]", bindVersion},
		{"api", "", "api <Action> [--Param value …] [flags]", bindAPI},
		{"completion", "", "completion bash|zsh", bindCompletion},
	} {
		if l.name == command {
			return l, true
		}
	}
	return subcommand{}, false
}

// runLeaf runs the command without subcommands called name.
func runLeaf(ctx context.Context, e *cmdEnv, name string, args []string) error {
	l, ok := leafOf(name)
	if !ok {
		return usageErr("unknown subcommand %q", name)
	}
	return l.bind(ctx, e, newFlagSet(e, l.name, l.synopsis))(args)
}

// runGroup picks the subcommand of group from args and runs it with a
// flag set of its own.
func runGroup(ctx context.Context, e *cmdEnv, group string, subs []subcommand, args []string) error {
	sub, args, done, err := pickSubcommand(e, group, subs, args)
	if done {
		return err
	}
	for _, s := range subs {
		if s.name == sub {
			return s.bind(ctx, e, newFlagSet(e, group+" "+sub, s.synopsis))(args)
		}
	}
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	return usageErr("unknown %s subcommand %q (want %s)", group, sub, strings.Join(names, ", "))
}

// flagsOf returns the flags of command (and sub, for a group), bound as
// the command binds them, without running anything; ok is false for an
// unknown command or subcommand.
func flagsOf(command, sub string) (fs *flag.FlagSet, ok bool) {
	e := &cmdEnv{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	name := command
	var s subcommand
	if subs := subcommandsOf(command); subs != nil {
		for _, c := range subs {
			if c.name == sub {
				s, ok = c, true
			}
		}
		name += " " + sub
	} else {
		s, ok = leafOf(command)
	}
	if !ok {
		return nil, false
	}
	fs = newFlagSet(e, name, s.synopsis)
	s.bind(context.Background(), e, fs)
	return fs, true
}
