package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"flag"
	"fmt"
	"os"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/fsutil"
	"github.com/certstatus/certstatus/internal/ocspclient"
)

func ocspSubcommands() []subcommand {
	return []subcommand{
		{"fetch", "fetch, verify and save a certificate's current OCSP response (for stapling)", "ocsp fetch --cert FILE --issuer FILE --out FILE [--url URL] [--sha256] [--json]", bindOCSPFetch},
	}
}

func runOCSP(ctx context.Context, e *cmdEnv, args []string) error {
	return runGroup(ctx, e, "ocsp", ocspSubcommands(), args)
}

func bindOCSPFetch(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
	certFile := fs.String("cert", "", "the certificate (PEM)")
	issuerFile := fs.String("issuer", "", "its issuing CA certificate (PEM; the first certificate of a chain file)")
	url := fs.String("url", "", "OCSP responder URL (default: the certificate's AIA OCSP URL)")
	out := fs.String("out", "", "where to write the DER response (replaced atomically; e.g. nginx ssl_stapling_file)")
	sha256 := fs.Bool("sha256", false, "use a SHA-256 CertID instead of SHA-1")
	asJSON := fs.Bool("json", false, "print JSON")
	return func(args []string) error {
		pos, help, err := parse(fs, args)
		if help || err != nil {
			return err
		}
		if len(pos) > 0 {
			return usageErr("ocsp fetch takes no arguments, got %q", pos)
		}
		if *certFile == "" || *issuerFile == "" || *out == "" {
			return usageErr("ocsp fetch needs --cert, --issuer and --out")
		}
		cert, err := readCert("--cert", *certFile)
		if err != nil {
			return err
		}
		issuer, err := readCert("--issuer", *issuerFile)
		if err != nil {
			return err
		}
		h := crypto.SHA1
		if *sha256 {
			h = crypto.SHA256
		}
		der, r, err := ocspclient.Fetch(ctx, nil, *url, cert, issuer, h)
		if err != nil {
			return err
		}
		if r.Status == ocsp.Unknown {
			return fmt.Errorf("the responder does not know %s under --issuer %s (is it the certificate's issuing CA?); nothing written", *certFile, *issuerFile)
		}
		if err := fsutil.WriteAtomic(*out, der, 0o644); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		status := map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked", ocsp.Unknown: "unknown"}[r.Status]
		v := map[string]any{"Status": status, "ThisUpdate": rfc3339(r.ThisUpdate), "NextUpdate": rfc3339(r.NextUpdate), "File": *out, "Bytes": len(der)}
		if r.Status == ocsp.Revoked {
			v["RevokedAt"] = rfc3339(r.RevokedAt)
			v["Reason"] = certs.Reason(r.RevocationReason).String()
		}
		if *asJSON {
			return printJSON(e.stdout, v)
		}
		fmt.Fprintf(e.stdout, "%s: %s (this update %s, next update %s), %d bytes written to %s\n", *certFile, status, v["ThisUpdate"], v["NextUpdate"], len(der), *out)
		return nil
	}
}

// readCert reads the first certificate of a PEM file.
func readCert(flag, path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	cs, err := certs.ParseCertsPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return cs[0], nil
}
