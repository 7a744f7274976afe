package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

func caSubcommands() []subcommand {
	return []subcommand{
		{"create-root", "create a self-signed root CA", "ca create-root --cn NAME [--o ORG] [--c CC] [--algorithm ALG] [--path-len N] [--alias NAME] [flags]", offline(bindCACreate(false))},
		{"create-sub", "create a sub CA signed by --parent", "ca create-sub --parent CA --cn NAME [--eku EKU …] [--cert-max-days N] [--alias NAME] [flags]", offline(bindCACreate(true))},
		{"list", "list every CA", "ca list [flags]", offline(bindCAList)},
		{"show", "show one CA (ID)", "ca show CA [--pem] [flags]", offline(bindCAShow)},
		{"revoke", "revoke a CA (ID --reason R)", "ca revoke CA --reason R [--at T] [flags]", offline(bindCARevoke)},
		{"disable", "stop a CA from issuing without revoking it (ID)", "ca disable CA [flags]", offline(bindCADisabled(true))},
		{"enable", "let a disabled CA issue again (ID)", "ca enable CA [flags]", offline(bindCADisabled(false))},
	}
}

func runCA(ctx context.Context, e *cmdEnv, args []string) error {
	return runGroup(ctx, e, "ca", caSubcommands(), args)
}

// bindCACreate binds ca create-root, or create-sub when sub is set.
func bindCACreate(sub bool) offlineBinder {
	return func(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
		name := "create-root"
		if sub {
			name = "create-sub"
		}
		subj := subjectFlags(fs)
		alg := fs.String("algorithm", "", "key algorithm: ECC_256, ECC_384, RSA_2048, RSA_3072, RSA_4096 (default ECC_384 for a root, ECC_256 for a sub CA)")
		pathLen := fs.Int("path-len", -1, "basicConstraints path length (root default: unconstrained; sub CA default: 0, issues only leaves)")
		alias := fs.String("alias", "", "a name for the CA, accepted wherever a CA identifier is")
		var tags multiFlag
		fs.Var(&tags, "tag", "KEY=VALUE tag (repeatable)")
		var (
			parent  *string
			ekus    multiFlag
			maxDays *int
		)
		defDays := 3650
		if sub {
			parent = fs.String("parent", "", "identifier or alias of the parent CA")
			fs.Var(&ekus, "eku", "limit the sub CA to this extended key usage: serverAuth, clientAuth, codeSigning, emailProtection (repeatable; default no limit)")
			maxDays = fs.Int("cert-max-days", 0, "the longest validity, in days, of what the sub CA issues (default 0: only its own validity)")
			defDays = 1825
		}
		val := bindValidity(fs, defDays)
		return func(s *service, pos []string) error {
			if len(pos) > 0 {
				return usageErr("ca %s takes no arguments, got %q", name, pos)
			}
			v, err := val.resolve(defDays)
			if err != nil {
				return err
			}
			t, err := parseTags(tags)
			if err != nil {
				return err
			}
			var c certs.CA
			if !sub {
				a, err := parseAlgorithm(*alg, certs.ECC384)
				if err != nil {
					return err
				}
				c, err = s.ca.CreateRoot(ctx, certs.RootRequest{Subject: *subj, Algorithm: a, Validity: v, PathLen: *pathLen, Alias: *alias, Tags: t})
				if err != nil {
					return err
				}
				return showCA(e, c, *asJSON)
			}
			if *parent == "" {
				return usageErr("ca create-sub needs --parent CA-ID")
			}
			p, err := findCA(ctx, s, *parent)
			if err != nil {
				return fmt.Errorf("--parent: %w", err)
			}
			a, err := parseAlgorithm(*alg, certs.ECC256)
			if err != nil {
				return err
			}
			pl := *pathLen
			if pl < 0 {
				pl = 0
			}
			var limit []certs.EKU
			for _, u := range ekus {
				eku, err := certs.ParseEKU(u)
				if err != nil {
					return usageErr("--eku: %v", err)
				}
				limit = append(limit, eku)
			}
			c, err = s.ca.CreateSub(ctx, certs.SubRequest{Parent: p.Identifier, Subject: *subj, Algorithm: a, Validity: v, PathLen: pl,
				ExtKeyUsages: limit, CertMaxDays: *maxDays, Alias: *alias, Tags: t})
			if err != nil {
				return err
			}
			return showCA(e, c, *asJSON)
		}
	}
}

func bindCAList(ctx context.Context, e *cmdEnv, _ *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	return func(s *service, pos []string) error {
		if len(pos) > 0 {
			return usageErr("ca list takes no arguments")
		}
		cas, err := s.store.CAs(ctx)
		if err != nil {
			return err
		}
		vs := make([]certView, 0, len(cas))
		for _, c := range cas {
			vs = append(vs, caViewOf(c))
		}
		if *asJSON {
			return printJSON(e.stdout, vs)
		}
		printTable(e.stdout, vs)
		return nil
	}
}

// oneCA checks that pos is one CA identifier or alias and finds it.
func oneCA(ctx context.Context, s *service, sub string, pos []string) (certs.CA, error) {
	if len(pos) != 1 {
		return certs.CA{}, usageErr("ca %s needs exactly one CA identifier", sub)
	}
	return findCA(ctx, s, pos[0])
}

func bindCAShow(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	pemOut := fs.Bool("pem", false, "print the certificate as PEM")
	return func(s *service, pos []string) error {
		c, err := oneCA(ctx, s, "show", pos)
		if err != nil {
			return err
		}
		if *pemOut {
			_, err = e.stdout.Write(certs.EncodeCertPEM(c.DER))
			return err
		}
		return showCA(e, c, *asJSON)
	}
}

func bindCARevoke(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	reason := fs.String("reason", "", "RFC 5280 reason, e.g. keyCompromise, cACompromise, superseded, cessationOfOperation")
	at := fs.String("at", "", "revocation time, RFC 3339 (default now)")
	return func(s *service, pos []string) error {
		if len(pos) != 1 {
			return usageErr("ca revoke needs exactly one CA identifier")
		}
		r, t, err := parseRevocation(*reason, *at)
		if err != nil {
			return err
		}
		c, err := findCA(ctx, s, pos[0])
		if err != nil {
			return err
		}
		if c, err = s.ca.RevokeCA(ctx, c.Identifier, r, t); err != nil {
			return err
		}
		return showCA(e, c, *asJSON)
	}
}

// bindCADisabled binds ca disable (disabled set) or ca enable.
func bindCADisabled(disabled bool) offlineBinder {
	return func(ctx context.Context, e *cmdEnv, _ *flag.FlagSet, asJSON *bool) func(*service, []string) error {
		sub := "enable"
		if disabled {
			sub = "disable"
		}
		return func(s *service, pos []string) error {
			c, err := oneCA(ctx, s, sub, pos)
			if err != nil {
				return err
			}
			if c, err = s.ca.SetCADisabled(ctx, c.Identifier, disabled); err != nil {
				return err
			}
			return showCA(e, c, *asJSON)
		}
	}
}

func showCA(e *cmdEnv, c certs.CA, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, caViewOf(c))
	}
	printView(e.stdout, caViewOf(c))
	return nil
}

// parseRevocation reads --reason (required) and --at.
func parseRevocation(reason, at string) (certs.Reason, time.Time, error) {
	if reason == "" {
		return 0, time.Time{}, usageErr("--reason is required (e.g. keyCompromise, superseded, cessationOfOperation, unspecified)")
	}
	r, err := certs.ParseRevocationReason(reason)
	if err != nil {
		return 0, time.Time{}, usageErr("--reason: %v", err)
	}
	var t time.Time
	if at != "" {
		if t, err = time.Parse(time.RFC3339, at); err != nil {
			return 0, time.Time{}, usageErr("--at %q: want RFC 3339 such as 2026-01-02T15:04:05Z", at)
		}
	}
	return r, t, nil
}

var errNoCA = errors.New("no CA to issue from")
