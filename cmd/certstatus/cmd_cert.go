package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

var certSubcommands = []subcommand{
	{"issue", "issue a CLIENT or SERVER certificate (from flags, or --csr FILE)"},
	{"revoke", "revoke a certificate (ID --reason R)"},
	{"show", "show one certificate (ID or custom identifier)"},
	{"list", "list certificates"},
	{"delete", "hide a revoked certificate from listings; its status is kept (ID; --force for one never revoked)"},
}

func runCert(ctx context.Context, e *cmdEnv, args []string) error {
	sub, args, done, err := pickSubcommand(e, "cert", certSubcommands, args)
	if done {
		return err
	}
	fs := newFlagSet(e, "cert "+sub, "cert "+sub+" [flags]")
	cfg, resolve := bindConfig(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	var run func(*service, []string) error

	switch sub {
	case "issue":
		run = bindIssue(ctx, e, fs, asJSON)
	case "list":
		caID := fs.String("ca", "", "only certificates issued by this CA")
		kind := fs.String("kind", "", "only CLIENT or SERVER")
		status := fs.String("status", "", "only ISSUE or REVOKE")
		all := fs.Bool("all", false, "include deleted certificates")
		limit := fs.Int("limit", 0, "at most this many (0: all)")
		after := fs.String("after", "", "start after this identifier (paging)")
		run = func(s *service, pos []string) error {
			if len(pos) > 0 {
				return usageErr("cert list takes no arguments")
			}
			f := certs.Filter{IncludeDeleted: *all, Limit: *limit}
			var err error
			if *caID != "" {
				if f.Issuer, err = certs.ParseIdentifier(*caID); err != nil {
					return usageErr("--ca: %v", err)
				}
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
	case "show", "revoke", "delete":
		pemOut := fs.Bool("pem", false, "show: print the certificate as PEM")
		reason := fs.String("reason", "", "revoke: RFC 5280 reason, e.g. keyCompromise, superseded, cessationOfOperation, unspecified")
		atFlag := fs.String("at", "", "revoke: revocation time, RFC 3339 (default now)")
		force := fs.Bool("force", false, "delete: also delete a certificate that was never revoked (it keeps answering good; a warning is printed)")
		run = func(s *service, pos []string) error {
			if len(pos) != 1 {
				return usageErr("cert %s needs exactly one certificate identifier", sub)
			}
			var (
				rsn certs.Reason
				at  time.Time
			)
			if sub == "revoke" {
				var err error
				if rsn, at, err = parseRevocation(*reason, *atFlag); err != nil {
					return err
				}
			}
			r, err := findCert(ctx, s, pos[0])
			if err != nil {
				return err
			}
			switch sub {
			case "show":
				if *pemOut {
					_, err = e.stdout.Write(certs.EncodeCertPEM(r.DER))
					return err
				}
			case "revoke":
				if r, err = s.ca.Revoke(ctx, r.Identifier, rsn, at); err != nil {
					return err
				}
			case "delete":
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
			}
			if *asJSON {
				return printJSON(e.stdout, viewOf(r))
			}
			printView(e.stdout, viewOf(r))
			return nil
		}
	default:
		return usageErr("unknown cert subcommand %q (want issue, revoke, show, list, delete)", sub)
	}

	return runOffline(e, fs, cfg, resolve, args, run)
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
