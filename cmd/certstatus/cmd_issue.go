package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/fsutil"
)

// bindIssue registers the flags of "cert issue" and returns its runner.
func bindIssue(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	caID := fs.String("ca", "", "identifier or alias of the issuing sub CA (default: the only usable sub CA)")
	kind := fs.String("kind", "client", "client or server")
	subj := subjectFlags(fs)
	var sans, dns, ips, emails, uris multiFlag
	fs.Var(&sans, "san", "subject alternative name, sorted by form: IP, e-mail, URI or DNS (repeatable, comma-separated)")
	fs.Var(&dns, "dns", "DNS name SAN (repeatable)")
	fs.Var(&ips, "ip", "IP address SAN (repeatable)")
	fs.Var(&emails, "email", "e-mail SAN (repeatable)")
	fs.Var(&uris, "uri", "URI SAN (repeatable)")
	alg := fs.String("algorithm", "", "key algorithm for a generated key: ECC_256 (default), ECC_384, RSA_2048, RSA_3072, RSA_4096")
	csrFile := fs.String("csr", "", "issue for this CSR (PEM or DER) instead of generating a key")
	val := bindValidity(fs, 365)
	alias := fs.String("alias", "", "a name for the certificate")
	custom := fs.String("custom-id", "", "a unique custom identifier")
	var tags multiFlag
	fs.Var(&tags, "tag", "KEY=VALUE tag (repeatable)")
	outDir := fs.String("out-dir", ".", "directory for <id>.pem, <id>.chain.pem and <id>.key.pem")

	return func(s *service, pos []string) error {
		if len(pos) > 0 {
			return usageErr("cert issue takes no arguments, got %q", pos)
		}
		k, err := certs.ParseKind(*kind)
		if err != nil || k.IsCA() {
			return usageErr("--kind %q: want client or server", *kind)
		}
		req := certs.IssueRequest{Kind: k, Subject: *subj, Alias: *alias, CustomIdentifier: *custom}
		if req.Validity, err = val.resolve(365); err != nil {
			return err
		}
		if req.Tags, err = parseTags(tags); err != nil {
			return err
		}
		for _, group := range [][]string{sans, dns, ips, emails, uris} {
			for _, v := range group {
				if err := req.SANs.ParseSAN(v); err != nil {
					return err
				}
			}
		}
		if *csrFile != "" {
			if *alg != "" {
				return usageErr("--algorithm does not go with --csr: the key is the CSR's")
			}
			if req.CSR, err = os.ReadFile(*csrFile); err != nil {
				return fmt.Errorf("--csr: %w", err)
			}
		} else if req.Algorithm, err = parseAlgorithm(*alg, certs.ECC256); err != nil {
			return err
		}
		if req.Issuer, err = pickIssuer(ctx, s, *caID); err != nil {
			return err
		}
		if fi, err := os.Stat(*outDir); err != nil || !fi.IsDir() {
			return fmt.Errorf("--out-dir %s is not a directory", *outDir)
		}
		out, err := s.ca.Issue(ctx, req)
		if err != nil {
			return err
		}
		id := string(out.Record.Identifier)
		files := []struct {
			name string
			data []byte
			perm os.FileMode
		}{
			{id + ".pem", certs.EncodeCertPEM(out.Record.DER), 0o644},
			{id + ".chain.pem", out.ChainPEM(), 0o644},
			{id + ".key.pem", out.KeyPEM, 0o600},
		}
		var written []string
		for _, f := range files {
			if f.data == nil {
				continue
			}
			p := filepath.Join(*outDir, f.name)
			if err := fsutil.WriteNew(p, f.data, f.perm); err != nil {
				return fmt.Errorf("certificate %s was issued and stored, but writing %s failed: %w (cert show --pem %s prints it)", id, p, err, id)
			}
			written = append(written, p)
		}
		if *asJSON {
			v := viewOf(out.Record)
			return printJSON(e.stdout, map[string]any{"Certificate": v, "Files": written})
		}
		printView(e.stdout, viewOf(out.Record))
		for _, p := range written {
			fmt.Fprintf(e.stdout, "wrote %s\n", p)
		}
		return nil
	}
}

// pickIssuer resolves --ca (an identifier or alias: findCA), or picks the only sub CA that can issue now.
func pickIssuer(ctx context.Context, s *service, arg string) (certs.Identifier, error) {
	if arg != "" {
		c, err := findCA(ctx, s, arg)
		if err != nil {
			return "", fmt.Errorf("--ca: %w", err)
		}
		return c.Identifier, nil
	}
	cas, err := s.store.CAs(ctx)
	if err != nil {
		return "", err
	}
	var usable []certs.Identifier
	for _, c := range cas {
		if c.Kind == certs.KindSubCA && c.CanIssueAt(time.Now()) == nil {
			usable = append(usable, c.Identifier)
		}
	}
	switch len(usable) {
	case 1:
		return usable[0], nil
	case 0:
		return "", fmt.Errorf("%w: no sub CA can issue; create one with \"ca create-sub\"", errNoCA)
	}
	return "", usageErr("several sub CAs can issue (%v); choose one with --ca", usable)
}
