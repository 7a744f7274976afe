package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/fsutil"
)

func crlSubcommands() []subcommand {
	return []subcommand{
		{"fetch", "fetch, verify and save a CA's current CRL from the running server", "crl fetch --ca CA --out FILE [--url URL] [--issuer FILE] [--pem] [--json]", bindCRLFetch},
	}
}

func runCRL(ctx context.Context, e *cmdEnv, args []string) error {
	return runGroup(ctx, e, "crl", crlSubcommands(), args)
}

func bindCRLFetch(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
	cfg, resolve := bindConfig(fs, false)
	caID := fs.String("ca", "", "identifier of the CA whose CRL to fetch, or its alias (looked up in --data)")
	out := fs.String("out", "", "where to write the CRL (replaced atomically)")
	url := fs.String("url", "", "CRL URL (default <crl-base-url>/crl/<ca>.crl)")
	issuerFile := fs.String("issuer", "", "the CA certificate to verify the CRL with (PEM; default: fetched from <crl-base-url>/ca/<ca>.crt)")
	asPEM := fs.Bool("pem", false, "write PEM instead of DER")
	asJSON := fs.Bool("json", false, "print JSON")
	return func(args []string) error {
		pos, help, err := parse(fs, args)
		if help || err != nil {
			return err
		}
		if len(pos) > 0 {
			return usageErr("crl fetch takes no arguments, got %q", pos)
		}
		if *caID == "" || *out == "" {
			return usageErr("crl fetch needs --ca and --out")
		}
		if err := resolve(e.getenv); err != nil {
			return err
		}
		id, err := caIdentifierOf(ctx, e, cfg, *caID)
		if err != nil {
			return fmt.Errorf("--ca: %w", err)
		}
		if _, explicit := cfg.from["crl-base-url"]; !explicit && (*url == "" || *issuerFile == "") {
			// The URLs certificates carry are the data directory's stored
			// settings, read from the store or, while serve holds it, from
			// the server.
			if stored, err := storedCRLBase(ctx, cfg.Data); err == nil {
				cfg.CRLBaseURL = stored
			} else {
				fmt.Fprintf(e.stderr, "warning: the stored CRL base URL cannot be read (%v); using %s (give --url or --crl-base-url)\n", err, cfg.CRLBaseURL)
			}
		}
		base := strings.TrimSuffix(cfg.CRLBaseURL, "/")
		if *url == "" {
			*url = base + "/crl/" + string(id) + ".crl"
		}
		client := &http.Client{Timeout: 30 * time.Second}
		get := func(u string) ([]byte, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			res, err := client.Do(req)
			if err != nil {
				return nil, err
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return nil, fmt.Errorf("%s answered HTTP %d", u, res.StatusCode)
			}
			return io.ReadAll(io.LimitReader(res.Body, 64<<20))
		}
		var issuer *x509.Certificate
		if *issuerFile != "" {
			if issuer, err = readCert("--issuer", *issuerFile); err != nil {
				return err
			}
		} else {
			der, err := get(base + "/ca/" + string(id) + ".crt")
			if err != nil {
				return fmt.Errorf("fetching the CA certificate: %w", err)
			}
			if issuer, err = x509.ParseCertificate(der); err != nil {
				return fmt.Errorf("the CA certificate does not parse: %w", err)
			}
		}
		if got := certs.IdentifierOf(issuer.Raw); got != id {
			return fmt.Errorf("the issuer certificate is %s, not CA %s", got, id)
		}
		der, err := get(*url)
		if err != nil {
			return err
		}
		rl, err := x509.ParseRevocationList(der)
		if err != nil {
			return fmt.Errorf("%s: not a CRL: %w", *url, err)
		}
		if err := rl.CheckSignatureFrom(issuer); err != nil {
			return fmt.Errorf("%s: the CRL is not signed by CA %s: %w", *url, id, err)
		}
		if !time.Now().Before(rl.NextUpdate) {
			return fmt.Errorf("%s: the CRL expired at %s", *url, rfc3339(rl.NextUpdate))
		}
		data := der
		if *asPEM {
			data = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
		}
		if err := fsutil.WriteAtomic(*out, data, 0o644); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		number := ""
		if rl.Number != nil {
			number = rl.Number.String()
		}
		v := map[string]any{"CA": string(id), "Number": number, "Entries": len(rl.RevokedCertificateEntries),
			"ThisUpdate": rfc3339(rl.ThisUpdate), "NextUpdate": rfc3339(rl.NextUpdate), "File": *out}
		if *asJSON {
			return printJSON(e.stdout, v)
		}
		fmt.Fprintf(e.stdout, "CRL %s of CA %s: %d revoked, next update %s, written to %s\n", number, id, len(rl.RevokedCertificateEntries), v["NextUpdate"], *out)
		return nil
	}
}

// storedCRLBase is the crl_base_url stored in data: from the store, or,
// while serve holds it, from the serve record (serve.json), so that
// fetching a CRL writes nothing anywhere.
func storedCRLBase(ctx context.Context, data string) (string, error) {
	store, err := db.Open(data, &db.Options{ReadOnly: true, LockTimeout: 200 * time.Millisecond})
	if err == nil {
		defer store.Close()
		st, err := store.Settings(ctx)
		return st.CRLBaseURL, err
	}
	if !errors.Is(err, db.ErrLocked) {
		return "", err
	}
	si, err := readServeInfo(data)
	if err != nil {
		return "", err
	}
	if si.CRLBaseURL == "" {
		return "", errors.New("the server's record names no CRL base URL")
	}
	return si.CRLBaseURL, nil
}
