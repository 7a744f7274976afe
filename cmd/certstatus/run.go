package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/keyseal"
	"github.com/certstatus/certstatus/responder"
)

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// cmdEnv is what every subcommand gets.
type cmdEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// svc, when set, is the service of the serve process a command runs
	// in on a caller's behalf (remote.go): commands use it instead of
	// opening the data directory, and keep the caller as actor.
	svc *service
	// argv is the command line from the command's name on, for running it
	// through a server (runRemote).
	argv []string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *cmdEnv, args []string) error
}

func commands() []command {
	return []command{
		{"init", "create a data directory for production: master key, admin AccessKey, settings, CAs", runInit},
		{"serve", "run the JSON API and OCSP listeners (bootstraps an empty data directory with a dev PKI)", runServe},
		{"ca", "manage CAs offline: create-root, create-sub, list, show, revoke, disable, enable", runCA},
		{"cert", "manage certificates offline: issue, revoke, show, list, delete", runCert},
		{"accesskey", "manage API AccessKeys offline: create, list, show, set, disable, enable, delete", runAccessKey},
		{"crl", "crl fetch saves a CA's current, verified CRL from the running server", runCRL},
		{"ocsp", "relying-party help: ocsp fetch saves a verified OCSP response for stapling", runOCSP},
		{"settings", "the data directory's stored settings (URLs, OCSP signing): show, set", runSettings},
		{"audit", "the hash-chained audit trail: list, verify", runAudit},
		{"import", "migrate in: import openssl-index, import cfssl, import pem", runImport},
		{"backup", "write a consistent copy of the database to --out FILE", runBackup},
		{"check", "verify the database's structure, records and indexes", runCheck},
		{"version", "print the version, commit and Go release (also --version)", runVersion},
		{"api", "call any action of the running server's JSON API, signed: api <Action> --Param value", runAPI},
		{"completion", "print a shell completion script: completion bash|zsh", runCompletion},
	}
}

// run is the whole program; main only maps its error to an exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, &cmdEnv{stdout: stdout, stderr: stderr, getenv: os.Getenv})
}

func runEnv(ctx context.Context, args []string, e *cmdEnv) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			return runEnv(ctx, []string{args[1], "--help"}, e)
		}
		printUsage(e.stdout)
		if len(args) == 0 {
			return usageErr("no subcommand given")
		}
		return nil
	}
	if e.svc == nil {
		if handled, err := runOnServer(ctx, e, args); handled {
			return err
		}
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if e.svc == nil {
				ctx = certs.WithActor(ctx, certs.Actor{Who: cliActor()})
			}
			e.argv = args
			return c.run(ctx, e, args[1:])
		}
	}
	printUsage(e.stderr)
	return usageErr("unknown subcommand %q", args[0])
}

// cliActor names the person running the command in the audit trail.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli:unknown"
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "certstatus: a private CA and certificate status service (Alibaba CAS JSON API + OCSP)")
	fmt.Fprintln(w, "\nUsage: certstatus <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"certstatus <command> --help\" for a command's flags. Every flag can also be")
	fmt.Fprintln(w, "set as CERTSTATUS_<FLAG> in the environment or in a JSON --config file;")
	fmt.Fprintln(w, "flags win over the environment, which wins over the file.")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(e *cmdEnv, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: certstatus %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, turning -h into a nil return with help printed, and
// flag errors into usage errors. Flags may follow positional arguments.
func parse(fs *flag.FlagSet, args []string) (positional []string, help bool, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, true, nil
			}
			return nil, false, usageErr("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, false, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// newLogger builds the slog logger the config asks for.
func newLogger(c *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// service is an open data directory: the store, the key sealer and the CA.
type service struct {
	cfg    *Config
	log    *slog.Logger
	store  *db.Store
	sealer *keyseal.Sealer
	ca     *ca.Authority
	// createdKey is true when the master key was created by this open.
	createdKey bool
	// createdSettings is true when this open stored the settings (none
	// were stored before: a new data directory, or one from before them).
	createdSettings bool
	// rsp is the OCSP responder while serving.
	rsp *responder.Responder
	// reg holds the Prometheus metrics while serving.
	reg *prometheus.Registry
	// apiTLS holds the API listener's certificate while serving over TLS.
	apiTLS *apiTLS
	// readyChecks are the parts of /readyz that components of serve add
	// (the API listener's TLS certificate): readyz.go.
	readyChecks []readyCheck
}

// open opens the data directory. createKey allows creating a missing
// master key (serve's bootstrap); offline commands refuse to, so that a
// mistyped --data never silently starts a second CA.
// ocspMetrics, if set, receives the CA's OCSP signing metrics (serve).
// The stored settings (settings.go) replace c's URLs and OCSP signer
// settings; a value given for one that differs is refused. ctx carries
// the actor of the audit event when they are stored first.
func open(ctx context.Context, c *Config, log *slog.Logger, createKey bool, getenv func(string) string, ocspMetrics *ca.OCSPMetrics) (*service, error) {
	dbOpts := &db.Options{Logger: log}
	if c.serve {
		dbOpts.AnswerCache = c.OCSPAnswerCache
		if c.OCSPAnswerCache == 0 {
			dbOpts.AnswerCache = -1
		}
	}
	sealer, created, err := loadSealer(c, createKey, getenv)
	if err != nil {
		return nil, err
	}
	store, err := db.Open(c.Data, dbOpts)
	if err != nil {
		return nil, err
	}
	createdSettings, err := useStoredSettings(ctx, store, c, log, true)
	if err != nil {
		store.Close()
		return nil, err
	}
	caOpts := &ca.Options{OCSPURL: c.OCSPURL, CRLBaseURL: c.CRLBaseURL, Logger: log, CRL: c.crl, OCSP: caOCSPOptions(c, ocspMetrics)}
	auth, err := ca.New(store, sealer, caOpts)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &service{cfg: c, log: log, store: store, sealer: sealer, ca: auth, createdKey: created, createdSettings: createdSettings}, nil
}

func loadSealer(c *Config, create bool, getenv func(string) string) (*keyseal.Sealer, bool, error) {
	if hexKey := getenv("CERTSTATUS_MASTER_KEY"); hexKey != "" {
		key, err := keyseal.ParseKey([]byte(hexKey))
		if err != nil {
			return nil, false, fmt.Errorf("CERTSTATUS_MASTER_KEY: %w", err)
		}
		s, err := keyseal.New(key)
		return s, false, err
	}
	if create {
		s, err := keyseal.LoadFile(c.MasterKeyFile)
		if !errors.Is(err, os.ErrNotExist) {
			return s, false, err
		}
		// A database without its master key holds keys nothing can open:
		// a new key would start a CA that cannot sign for the old one.
		if fi, err := os.Stat(filepath.Join(c.Data, db.FileName)); err == nil && fi.Size() > 0 {
			return nil, false, fmt.Errorf("data directory %s has a database but no master key at %s: the key that decrypts its CA and certificate keys is missing; restore it from your backup (or give it with --master-key-file or CERTSTATUS_MASTER_KEY); certstatus will not create a new key for existing data", c.Data, c.MasterKeyFile)
		}
		return keyseal.LoadOrCreateFile(c.MasterKeyFile)
	}
	s, err := keyseal.LoadFile(c.MasterKeyFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("no master key at %s: is --data %s a certstatus data directory? (\"certstatus serve\" creates one)", c.MasterKeyFile, c.Data)
	}
	return s, false, err
}

// Close waits for the CRL regenerations revocations started, then closes
// the store.
func (s *service) Close() error {
	if s.ca != nil {
		s.ca.Wait()
	}
	return s.store.Close()
}

// openOffline is the common start of offline subcommands.
func openOffline(e *cmdEnv, c *Config) (*service, error) {
	return open(certs.WithActor(context.Background(), certs.Actor{Who: cliActor()}), c, newCLILogger(c, e.stderr), false, e.getenv, nil)
}

// newCLILogger is the logger of a command other than serve: warnings and
// errors only, unless --log-level (or its variable or config key) asks
// for more — a command's output is its own lines; what it changed is in
// the audit trail either way.
func newCLILogger(c *Config, w io.Writer) *slog.Logger {
	if _, explicit := c.from["log-level"]; !explicit {
		cc := *c
		cc.LogLevel = "warn"
		return newLogger(&cc, w)
	}
	return newLogger(c, w)
}

// pickSubcommand splits off the subcommand of group, printing the group's
// usage when there is none. done means help was printed and nothing is left
// to do.
func pickSubcommand(e *cmdEnv, group string, subs []subcommand, args []string) (sub string, rest []string, done bool, err error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:], false, nil
	}
	fmt.Fprintf(e.stderr, "Usage: certstatus %s <subcommand> [flags]\n\nSubcommands:\n", group)
	for _, s := range subs {
		fmt.Fprintf(e.stderr, "  %-12s %s\n", s.name, s.summary)
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		return "", nil, true, nil
	}
	return "", nil, true, usageErr("%s needs a subcommand", group)
}
