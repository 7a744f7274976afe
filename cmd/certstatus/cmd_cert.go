package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

func certSubcommands() []subcommand {
	return []subcommand{
		{"issue", "issue a CLIENT or SERVER certificate (from flags, or --csr FILE)",
			"cert issue [--ca CA] [--kind client|server] [--cn NAME] [--dns NAME …] [--csr FILE] [--out-dir DIR] [flags]", offline(bindIssue)},
		{"revoke", "revoke a certificate (ID --reason R)", "cert revoke ID --reason R [--at T] [flags]", offline(bindCertRevoke)},
		{"show", "show one certificate (ID or custom identifier)", "cert show ID [--pem] [flags]", offline(bindCertShow)},
		{"list", "list certificates", "cert list [--ca CA] [--kind K] [--status S] [--all] [--limit N] [--after ID] [flags]", offline(bindCertList)},
		{"delete", "hide a revoked certificate from listings; its status is kept (ID; --force for one never revoked)", "cert delete ID [--force] [flags]", offline(bindCertDelete)},
	}
}

func runCert(ctx context.Context, e *cmdEnv, args []string) error {
	return runGroup(ctx, e, "cert", certSubcommands(), args)
}

// offlineBinder binds the flags of a command that works on the data
// directory, besides the config flags and --json, and returns what runs
// on the open directory.
type offlineBinder func(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error

// offline makes the binder of a command that works on the data directory:
// the config flags, --json and b's own; it runs on the open directory, or
// through the server holding it (runOffline).
func offline(b offlineBinder) binder {
	return func(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
		cfg, resolve := bindConfig(fs, false)
		asJSON := fs.Bool("json", false, "print JSON")
		run := b(ctx, e, fs, asJSON)
		return func(args []string) error { return runOffline(e, fs, cfg, resolve, args, run) }
	}
}

func bindCertList(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	caID := fs.String("ca", "", "only certificates issued by this CA (identifier or alias)")
	kind := fs.String("kind", "", "only CLIENT or SERVER")
	status := fs.String("status", "", "only ISSUE or REVOKE")
	all := fs.Bool("all", false, "include deleted certificates")
	limit := fs.Int("limit", 0, "at most this many (0: all)")
	after := fs.String("after", "", "start after this identifier (paging)")
	return func(s *service, pos []string) error {
		if len(pos) > 0 {
			return usageErr("cert list takes no arguments")
		}
		f := certs.Filter{IncludeDeleted: *all, Limit: *limit}
		var err error
		if *caID != "" {
			c, err := findCA(ctx, s, *caID)
			if err != nil {
				return fmt.Errorf("--ca: %w", err)
			}
			f.Issuer = c.Identifier
		}
		if *kind != "" {
			if f.Kind, err = certs.ParseKind(*kind); err != nil || f.Kind.IsCA() {
				return usageErr("--kind %q: want CLIENT or SERVER", *kind)
			}
		}
		if *status != "" {
			if f.State, err = certs.ParseState(*status); err != nil {
				return usageErr("--status: %v", err)
			}
		}
		if *after != "" {
			if f.After, err = certs.ParseIdentifier(*after); err != nil {
				return usageErr("--after: %v", err)
			}
		}
		if *limit < 0 {
			return usageErr("--limit must be 0 or more")
		}
		recs, next, err := s.store.List(ctx, f)
		if err != nil {
			return err
		}
		vs := make([]certView, 0, len(recs))
		for _, r := range recs {
			vs = append(vs, viewOf(r))
		}
		if *asJSON {
			return printJSON(e.stdout, map[string]any{"Certificates": vs, "NextAfter": next})
		}
		printTable(e.stdout, vs)
		if next != "" {
			fmt.Fprintf(e.stdout, "more: --after %s\n", next)
		}
		return nil
	}
}

// oneCert checks that pos is one certificate identifier and finds it.
func oneCert(ctx context.Context, s *service, sub string, pos []string) (certs.Record, error) {
	if len(pos) != 1 {
		return certs.Record{}, usageErr("cert %s needs exactly one certificate identifier", sub)
	}
	return findCert(ctx, s, pos[0])
}

// printCert prints a certificate, as JSON with --json.
func printCert(e *cmdEnv, r certs.Record, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, viewOf(r))
	}
	printView(e.stdout, viewOf(r))
	return nil
}

func bindCertShow(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	pemOut := fs.Bool("pem", false, "print the certificate as PEM")
	return func(s *service, pos []string) error {
		r, err := oneCert(ctx, s, "show", pos)
		if err != nil {
			return err
		}
		if *pemOut {
			_, err = e.stdout.Write(certs.EncodeCertPEM(r.DER))
			return err
		}
		return printCert(e, r, *asJSON)
	}
}

func bindCertRevoke(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	reason := fs.String("reason", "", "RFC 5280 reason, e.g. keyCompromise, superseded, cessationOfOperation, unspecified")
	atFlag := fs.String("at", "", "revocation time, RFC 3339 (default now)")
	return func(s *service, pos []string) error {
		if len(pos) != 1 {
			return usageErr("cert revoke needs exactly one certificate identifier")
		}
		rsn, at, err := parseRevocation(*reason, *atFlag)
		if err != nil {
			return err
		}
		r, err := findCert(ctx, s, pos[0])
		if err != nil {
			return err
		}
		if r, err = s.ca.Revoke(ctx, r.Identifier, rsn, at); err != nil {
			return err
		}
		return printCert(e, r, *asJSON)
	}
}

func bindCertDelete(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	force := fs.Bool("force", false, "also delete a certificate that was never revoked (it keeps answering good; a warning is printed)")
	return func(s *service, pos []string) error {
		r, err := oneCert(ctx, s, "delete", pos)
		if err != nil {
			return err
		}
		// As the API: only a revoked certificate leaves the listings,
		// unless the operator insists.
		if err := r.Deletable(); err != nil && !r.Deleted {
			if !*force {
				return fmt.Errorf("%w (or pass --force to hide it anyway: it keeps answering good)", err)
			}
			fmt.Fprintf(e.stderr, "warning: certificate %s was never revoked: it leaves the listings but keeps answering good to status queries and OCSP\n", r.Identifier)
			s.log.Warn("unrevoked certificate deleted with --force", "id", r.Identifier, "serial", r.Serial, "issuer", r.Issuer)
		}
		if r, err = s.store.Delete(ctx, r.Identifier, time.Now()); err != nil {
			return err
		}
		s.log.Info("certificate deleted", "id", r.Identifier, "serial", r.Serial, "issuer", r.Issuer)
		return printCert(e, r, *asJSON)
	}
}

// findCert resolves an identifier, or else a custom identifier.
func findCert(ctx context.Context, s *service, arg string) (certs.Record, error) {
	if id, err := certs.ParseIdentifier(arg); err == nil {
		r, err := s.store.Get(ctx, id)
		if err == nil || !errors.Is(err, certs.ErrNotFound) {
			return r, err
		}
	}
	r, err := s.store.ByCustomIdentifier(ctx, arg)
	if errors.Is(err, certs.ErrNotFound) {
		return r, fmt.Errorf("no certificate with identifier or custom identifier %q", arg)
	}
	return r, err
}
