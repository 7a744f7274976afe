package main

import (
	"context"
	"errors"
	"time"

	"github.com/certstatus/certstatus/certs"
)

var caSubcommands = []subcommand{
	{"create-root", "create a self-signed root CA"},
	{"create-sub", "create a sub CA signed by --parent"},
	{"list", "list every CA"},
	{"show", "show one CA (ID)"},
	{"revoke", "revoke a CA (ID --reason R)"},
	{"disable", "stop a CA from issuing without revoking it (ID)"},
	{"enable", "let a disabled CA issue again (ID)"},
}

func runCA(ctx context.Context, e *cmdEnv, args []string) error {
	sub, args, done, err := pickSubcommand(e, "ca", caSubcommands, args)
	if done {
		return err
	}
	fs := newFlagSet(e, "ca "+sub, "ca "+sub+" [flags]")
	cfg, resolve := bindConfig(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	var run func(*service, []string) error

	switch sub {
	case "create-root", "create-sub":
		subj := subjectFlags(fs)
		alg := fs.String("algorithm", "", "key algorithm: ECC_256, ECC_384, RSA_2048, RSA_3072, RSA_4096 (default ECC_384 for a root, ECC_256 for a sub CA)")
		pathLen := fs.Int("path-len", -1, "basicConstraints path length (root default: unconstrained; sub CA default: 0, issues only leaves)")
		alias := fs.String("alias", "", "a name for the CA")
		var tags multiFlag
		fs.Var(&tags, "tag", "KEY=VALUE tag (repeatable)")
		parent := fs.String("parent", "", "identifier of the parent CA (create-sub)")
		var ekus multiFlag
		fs.Var(&ekus, "eku", "create-sub: limit the sub CA to this extended key usage: serverAuth, clientAuth, codeSigning, emailProtection (repeatable; default no limit)")
		maxDays := fs.Int("cert-max-days", 0, "create-sub: the longest validity, in days, of what the sub CA issues (default 0: only its own validity)")
		defDays := 3650
		if sub == "create-sub" {
			defDays = 1825
		}
		val := bindValidity(fs, defDays)
		run = func(s *service, pos []string) error {
			if len(pos) > 0 {
				return usageErr("ca %s takes no arguments, got %q", sub, pos)
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
			if sub == "create-root" {
				if *parent != "" || len(ekus) > 0 || *maxDays != 0 {
					return usageErr("--parent, --eku and --cert-max-days are for create-sub")
				}
				a, err := parseAlgorithm(*alg, certs.ECC384)
				if err != nil {
					return err
				}
				c, err = s.ca.CreateRoot(ctx, certs.RootRequest{Subject: *subj, Algorithm: a, Validity: v, PathLen: *pathLen, Alias: *alias, Tags: t})
				if err != nil {
					return err
				}
			} else {
				if *parent == "" {
					return usageErr("ca create-sub needs --parent CA-ID")
				}
				pid, err := certs.ParseIdentifier(*parent)
				if err != nil {
					return usageErr("--parent: %v", err)
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
				c, err = s.ca.CreateSub(ctx, certs.SubRequest{Parent: pid, Subject: *subj, Algorithm: a, Validity: v, PathLen: pl,
					ExtKeyUsages: limit, CertMaxDays: *maxDays, Alias: *alias, Tags: t})
				if err != nil {
					return err
				}
			}
			return showCA(e, c, *asJSON)
		}
	case "list":
		run = func(s *service, pos []string) error {
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
	case "show", "revoke", "disable", "enable":
		pemOut := fs.Bool("pem", false, "show: print the certificate as PEM")
		reason := fs.String("reason", "", "revoke: RFC 5280 reason, e.g. keyCompromise, cACompromise, superseded, cessationOfOperation")
		at := fs.String("at", "", "revoke: revocation time, RFC 3339 (default now)")
		run = func(s *service, pos []string) error {
			if len(pos) != 1 {
				return usageErr("ca %s needs exactly one CA identifier", sub)
			}
			id, err := certs.ParseIdentifier(pos[0])
			if err != nil {
				return usageErr("%v", err)
			}
			var c certs.CA
			switch sub {
			case "show":
				if c, err = s.store.CA(ctx, id); err != nil {
					return err
				}
				if *pemOut {
					_, err = e.stdout.Write(certs.EncodeCertPEM(c.DER))
					return err
				}
			case "revoke":
				r, t, err := parseRevocation(*reason, *at)
				if err != nil {
					return err
				}
				if c, err = s.ca.RevokeCA(ctx, id, r, t); err != nil {
					return err
				}
			default:
				if c, err = s.ca.SetCADisabled(ctx, id, sub == "disable"); err != nil {
					return err
				}
			}
			return showCA(e, c, *asJSON)
		}
	default:
		return usageErr("unknown ca subcommand %q (want create-root, create-sub, list, show, revoke, disable, enable)", sub)
	}

	return runOffline(e, fs, cfg, resolve, args, run)
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
