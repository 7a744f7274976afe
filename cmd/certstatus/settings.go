package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
)

// The settings every issuer and OCSP signer of a data directory must agree
// on (certs.Settings) live in its store. Every command reads them from
// there at open (useStoredSettings): a flag, variable or config key that
// would set one is accepted when it says what is stored and refused when
// it differs, naming "certstatus settings set", the one way to change
// them. The first open of a data directory without stored settings (a new
// one, or one from before schema 10) stores those it was started with.

// flagSettings are the settings c's flags, variables and defaults ask for.
// A Config bound without the listeners' settings (offline commands) has
// the OCSP signer defaults.
func (c *Config) flagSettings() certs.Settings {
	st := certs.DefaultSettings(c.OCSPURL, c.CRLBaseURL)
	if c.serve {
		st.OCSPValidity, st.OCSPResponderValidity = c.OCSPValidity, c.OCSPResponderValidity
		st.OCSPSignWithCA, st.OCSPResponderID = c.OCSPSignWithCA, certs.ResponderIDForm(c.OCSPResponderID)
	}
	return st
}

// applySettings makes c's fields that stored settings govern say what st
// says, so that every use of c (ca.Options, caOCSPOptions, the API's CRL
// URL, serve's summary) reads the stored values.
func (c *Config) applySettings(st certs.Settings) {
	c.OCSPURL, c.CRLBaseURL = st.OCSPURL, st.CRLBaseURL
	c.OCSPValidity, c.OCSPResponderValidity = st.OCSPValidity, st.OCSPResponderValidity
	c.OCSPSignWithCA, c.OCSPResponderID = st.OCSPSignWithCA, string(st.OCSPResponderID)
	c.OCSPOmitCACert = st.OCSPOmitCACert
}

// settingFlag is the flag (and config key) of a stored setting's field:
// ocsp_url → ocsp-url.
func settingFlag(field string) string { return strings.ReplaceAll(field, "_", "-") }

// useStoredSettings reads the store's settings into c. When none are
// stored yet it stores c's (flagSettings) and says so in the log; created
// reports that. With refuseDiffering, a value c was given (not defaulted)
// for a stored setting must equal the stored one.
func useStoredSettings(ctx context.Context, store *db.Store, c *Config, log *slog.Logger, refuseDiffering bool) (created bool, err error) {
	st, err := store.Settings(ctx)
	if errors.Is(err, certs.ErrNotFound) {
		want := c.flagSettings()
		if err := want.Validate(); err != nil {
			return false, fmt.Errorf("settings for data directory %s: %w", c.Data, err)
		}
		if st, err = store.UpdateSettings(ctx, func(s *certs.Settings) error {
			created = *s == (certs.Settings{})
			if created {
				*s = want
			}
			return nil
		}); err != nil {
			return false, err
		}
		if created {
			args := []any{"data", c.Data}
			for _, f := range st.Fields() {
				args = append(args, f.Name, f.Value)
			}
			log.Info("settings stored in the data directory from the flags given (or the defaults); every command reads them from there now, and \"certstatus settings set\" changes them", args...)
		}
	} else if err != nil {
		return false, err
	}
	if err := st.Validate(); err != nil {
		return false, fmt.Errorf("stored settings of data directory %s: %w (correct them with \"certstatus settings set\")", c.Data, err)
	}
	if refuseDiffering {
		given, stored := c.flagSettings().Fields(), st.Fields()
		for i, f := range given {
			name := settingFlag(f.Name)
			if from := c.from[name]; from != "" && f.Value != stored[i].Value {
				return false, fmt.Errorf("config: --%s %q (from %s) differs from the setting %s %q stored in data directory %s: settings live in the data directory, so that every command and the server agree; change it with \"certstatus settings set --%s %s\", or drop the flag",
					name, f.Value, from, f.Name, stored[i].Value, c.Data, name, f.Value)
			}
		}
	}
	c.applySettings(st)
	return created, nil
}

// bindConfigOnly is bindConfig for a command that shows only some of the
// config flags (and --config): names. The others still take their values
// from the environment and the config file, or their defaults.
func bindConfigOnly(fs *flag.FlagSet, withListeners bool, names ...string) (*Config, func(getenv func(string) string) error) {
	all := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	all.SetOutput(io.Discard)
	c, resolve := bindConfig(all, withListeners)
	keep := map[string]bool{"config": true}
	for _, n := range names {
		keep[n] = true
	}
	all.VisitAll(func(f *flag.Flag) {
		if keep[f.Name] {
			fs.Var(f.Value, f.Name, f.Usage)
		}
	})
	return c, func(getenv func(string) string) error {
		var err error
		// Mark what fs was given as given to the flag set resolve reads.
		fs.Visit(func(f *flag.Flag) {
			if keep[f.Name] && err == nil {
				err = all.Set(f.Name, f.Value.String())
			}
		})
		if err != nil {
			return err
		}
		return resolve(getenv)
	}
}

func settingsSubcommands() []subcommand {
	return []subcommand{
		{"show", "print the settings stored in the data directory", "settings show [--data DIR] [--json]", bindSettings("show")},
		{"set", "change stored settings (audited as settings.update)", "settings set [--data DIR] [--ocsp-url URL] [--crl-base-url URL] [--ocsp-validity D] [--ocsp-responder-validity D] [--ocsp-sign-with-ca[=false]] [--ocsp-responder-id byKey|byName] [--ocsp-omit-ca-cert[=false]] [--json]", bindSettings("set")},
	}
}

func runSettings(ctx context.Context, e *cmdEnv, args []string) error {
	return runGroup(ctx, e, "settings", settingsSubcommands(), args)
}

// bindSettings binds settings show or set (sub).
func bindSettings(sub string) binder {
	return func(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
		cfg, resolve := bindConfigOnly(fs, false, "data", "log-format", "log-level")
		asJSON := fs.Bool("json", false, "print JSON")
		var set map[string]*string
		var signWithCA, omitCACert *bool
		if sub == "set" {
			set = map[string]*string{
				"ocsp-url":                fs.String("ocsp-url", "", "the OCSP URL put in issued certificates (AIA)"),
				"crl-base-url":            fs.String("crl-base-url", "", "prefix of the CRL distribution point and caIssuers URL of issued certificates"),
				"ocsp-validity":           fs.String("ocsp-validity", "", "OCSP answer validity (nextUpdate - thisUpdate), 8h..168h"),
				"ocsp-responder-validity": fs.String("ocsp-responder-validity", "", "validity of delegated OCSP responder certificates, at least twice --ocsp-validity"),
				"ocsp-responder-id":       fs.String("ocsp-responder-id", "", "OCSP ResponderID: byKey or byName"),
			}
			signWithCA = fs.Bool("ocsp-sign-with-ca", false, "sign OCSP answers with the CA key instead of a delegated responder (--ocsp-sign-with-ca=false: delegated)")
			omitCACert = fs.Bool("ocsp-omit-ca-cert", false, "with --ocsp-sign-with-ca, leave the CA's certificate out of its answers: golang.org/x/crypto/ocsp clients then accept a sub CA's answers, Apache needs SSLOCSPResponderCertificateFile (docs/OCSP-CLIENTS.md)")
		}
		return func(args []string) error {
			return settingsRun(ctx, e, fs, sub, cfg, resolve, asJSON, set, signWithCA, omitCACert, args)
		}
	}
}

// settingsRun runs settings show or set with the flags bindSettings bound.
func settingsRun(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, sub string, cfg *Config, resolve func(func(string) string) error,
	asJSON *bool, set map[string]*string, signWithCA, omitCACert *bool, args []string) error {
	pos, help, err := parse(fs, args)
	if help || err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("settings %s takes no arguments, got %q", sub, pos)
	}
	if err := resolve(e.getenv); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	edit, err := settingsEdit(set, signWithCA, omitCACert, given)
	if err != nil {
		return err
	}
	if sub == "set" && edit == nil {
		return usageErr("settings set needs at least one setting to change (see certstatus settings set --help)")
	}
	var store *db.Store
	if e.svc != nil {
		store = e.svc.store // inside serve, on a caller's behalf
	} else {
		// The settings need neither the master key nor the CA: the store alone.
		if _, err := os.Stat(filepath.Join(cfg.Data, db.FileName)); err != nil {
			return fmt.Errorf("no database in %s: is --data a certstatus data directory? (\"certstatus init\" creates one): %w", cfg.Data, err)
		}
		log := newCLILogger(cfg, e.stderr)
		store, err = db.Open(cfg.Data, &db.Options{Logger: log})
		if errors.Is(err, db.ErrLocked) {
			return throughServer(ctx, e, cfg.Data, err)
		}
		if err != nil {
			return err
		}
		defer store.Close()
		if _, err := useStoredSettings(ctx, store, cfg, log, false); err != nil {
			return err
		}
	}
	old, err := store.Settings(ctx)
	if err != nil {
		return err
	}
	st := old
	if edit != nil {
		if st, err = store.UpdateSettings(ctx, edit); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(e.stdout, settingsJSON(st))
	}
	if sub == "show" {
		printSettings(e.stdout, st)
		return nil
	}
	changes := old.Changes(st)
	if len(changes) == 0 {
		fmt.Fprintln(e.stdout, "settings unchanged")
		return nil
	}
	for _, c := range changes {
		fmt.Fprintln(e.stdout, "changed", c)
	}
	if e.svc != nil {
		fmt.Fprintln(e.stdout, "stored; the running server reads the settings at start: restart it to apply them (until then it issues and signs with the ones it started with)")
	}
	if old.OCSPURL != st.OCSPURL || old.CRLBaseURL != st.CRLBaseURL {
		fmt.Fprintln(e.stdout, "certificates issued from now on carry the new URLs; those issued before keep theirs")
	}
	if old.OCSPValidity != st.OCSPValidity || old.OCSPSignWithCA != st.OCSPSignWithCA || old.OCSPResponderID != st.OCSPResponderID || old.OCSPResponderValidity != st.OCSPResponderValidity || old.OCSPOmitCACert != st.OCSPOmitCACert {
		fmt.Fprintln(e.stdout, "serve re-signs the stored OCSP answers with the new signer settings at its next start")
	}
	return nil
}

// settingsEdit turns the settings set flags given into the edit
// UpdateSettings applies, or nil when none was given. Values are parsed
// here and checked by certs.Settings.Validate; errors name the field.
func settingsEdit(set map[string]*string, signWithCA, omitCACert *bool, given map[string]bool) (func(*certs.Settings) error, error) {
	var edits []func(*certs.Settings)
	for _, f := range []string{certs.FieldOCSPURL, certs.FieldCRLBaseURL} {
		if name := settingFlag(f); given[name] {
			v, url := *set[name], f == certs.FieldOCSPURL
			edits = append(edits, func(s *certs.Settings) {
				if url {
					s.OCSPURL = v
				} else {
					s.CRLBaseURL = v
				}
			})
		}
	}
	for _, f := range []string{certs.FieldOCSPValidity, certs.FieldOCSPResponderValidity} {
		name := settingFlag(f)
		if !given[name] {
			continue
		}
		d, err := time.ParseDuration(*set[name])
		if err != nil {
			return nil, usageErr("settings set --%s %q: want a duration such as 24h (setting %s)", name, *set[name], f)
		}
		responder := f == certs.FieldOCSPResponderValidity
		edits = append(edits, func(s *certs.Settings) {
			if responder {
				s.OCSPResponderValidity = d
			} else {
				s.OCSPValidity = d
			}
		})
	}
	if name := settingFlag(certs.FieldOCSPResponderID); given[name] {
		v := certs.ResponderIDForm(*set[name])
		edits = append(edits, func(s *certs.Settings) { s.OCSPResponderID = v })
	}
	if given[settingFlag(certs.FieldOCSPSignWithCA)] {
		v := *signWithCA
		edits = append(edits, func(s *certs.Settings) { s.OCSPSignWithCA = v })
	}
	if given[settingFlag(certs.FieldOCSPOmitCACert)] {
		v := *omitCACert
		edits = append(edits, func(s *certs.Settings) { s.OCSPOmitCACert = v })
	}
	if len(edits) == 0 {
		return nil, nil
	}
	return func(s *certs.Settings) error {
		for _, e := range edits {
			e(s)
		}
		return nil
	}, nil
}

// settingsView is the JSON form of the settings, keyed by field name.
type settingsView struct {
	OCSPURL               string `json:"ocsp_url"`
	CRLBaseURL            string `json:"crl_base_url"`
	OCSPValidity          string `json:"ocsp_validity"`
	OCSPResponderValidity string `json:"ocsp_responder_validity"`
	OCSPSignWithCA        bool   `json:"ocsp_sign_with_ca"`
	OCSPResponderID       string `json:"ocsp_responder_id"`
	OCSPOmitCACert        bool   `json:"ocsp_omit_ca_cert"`
}

func settingsJSON(st certs.Settings) settingsView {
	return settingsView{OCSPURL: st.OCSPURL, CRLBaseURL: st.CRLBaseURL,
		OCSPValidity: certs.FormatDuration(st.OCSPValidity), OCSPResponderValidity: certs.FormatDuration(st.OCSPResponderValidity),
		OCSPSignWithCA: st.OCSPSignWithCA, OCSPResponderID: string(st.OCSPResponderID), OCSPOmitCACert: st.OCSPOmitCACert}
}

// printSettings writes the settings as aligned "name value" lines.
func printSettings(w io.Writer, st certs.Settings) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range st.Fields() {
		fmt.Fprintf(tw, "%s\t%s\n", f.Name, f.Value)
	}
	tw.Flush()
}
