package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
)

// initFlags are the config flags init shows: where the data directory and
// its master key go, and the settings it stores.
var initFlags = []string{"data", "master-key-file", "ocsp-url", "crl-base-url", "ocsp-validity", "ocsp-responder-validity",
	"ocsp-sign-with-ca", "ocsp-responder-id", "log-format", "log-level"}

// initResult is what init created, as --json prints it.
type initResult struct {
	Data          string
	MasterKeyFile string
	AccessKeyID   string
	AccessKeyFile string
	RootCA        *caSummary `json:",omitempty"`
	SubCA         *caSummary `json:",omitempty"`
	Settings      settingsView
}

// caSummary names one CA init created.
type caSummary struct{ Identifier, Alias, CommonName string }

// initSynopsis is the usage line of init.
const initSynopsis = "init --data DIR --ocsp-url URL [--crl-base-url URL] (--ca-cn NAME [--sub-cn NAME] --o ORG --c CC [--algorithm ALG] [--root-years N] [--sub-years N] | --no-ca)"

func runInit(ctx context.Context, e *cmdEnv, args []string) error {
	return runLeaf(ctx, e, "init", args)
}

// bindInit binds the flags of init and returns what runs it.
func bindInit(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
	cfg, resolve := bindConfigOnly(fs, true, initFlags...)
	noCA := fs.Bool("no-ca", false, "create no CA: for importing an existing one (certstatus import …) or creating them later (certstatus ca …)")
	caCN := fs.String("ca-cn", "", "common name (CN) of the root CA; required unless --no-ca")
	subCN := fs.String("sub-cn", "", "common name of the issuing sub CA (default: the root's with \"Root CA\" turned into \"Issuing CA\", or \"Issuing CA\" appended)")
	org := fs.String("o", "", "organization (O) of both CAs; required unless --no-ca")
	country := fs.String("c", "", "country (C) of both CAs, two letters; required unless --no-ca")
	alg := fs.String("algorithm", "", "key algorithm of both CAs: ECC_256, ECC_384, RSA_2048, RSA_3072, RSA_4096 (default ECC_384 for the root, ECC_256 for the sub CA)")
	rootYears := fs.Int("root-years", 20, "validity of the root CA in years")
	subYears := fs.Int("sub-years", 10, "validity of the issuing sub CA in years, less than --root-years")
	asJSON := fs.Bool("json", false, "print JSON")
	return func(args []string) error {
		pos, help, err := parse(fs, args)
		if help || err != nil {
			return err
		}
		if len(pos) > 0 {
			return usageErr("init takes no arguments, got %q", pos)
		}
		if err := resolve(e.getenv); err != nil {
			return err
		}
		if cfg.from["ocsp-url"] == "" {
			return usageErr("init needs --ocsp-url: the URL relying parties reach the OCSP responder at, which every certificate carries (for example http://ocsp.example.com)")
		}
		if err := cfg.flagSettings().Validate(); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		var pki pkiRequest
		if !*noCA {
			if pki, err = initPKI(*caCN, *subCN, *org, *country, *alg, *rootYears, *subYears, time.Now()); err != nil {
				return err
			}
		} else if *caCN != "" || *subCN != "" {
			return usageErr("--no-ca creates no CA: drop --ca-cn and --sub-cn")
		}
		path := filepath.Join(cfg.Data, db.FileName)
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			if err == nil {
				return fmt.Errorf("init: %s already holds a database (%s): init only creates a new data directory; to change its settings use \"certstatus settings set\"", cfg.Data, path)
			}
			return fmt.Errorf("init: %w", err)
		}
		s, err := open(ctx, cfg, newCLILogger(cfg, e.stderr), true, e.getenv, nil)
		if err != nil {
			return err
		}
		defer s.Close()
		// The admin AccessKey first: a data directory with settings and an
		// AccessKey is never given serve's dev PKI, even if init stops here.
		id, keyFile, err := s.createAdminKey(ctx)
		if err != nil {
			return fmt.Errorf("init: admin access key: %w", err)
		}
		res := initResult{Data: cfg.Data, MasterKeyFile: cfg.MasterKeyFile, AccessKeyID: id, AccessKeyFile: keyFile}
		st, err := s.store.Settings(ctx)
		if err != nil {
			return err
		}
		res.Settings = settingsJSON(st)
		if !*noCA {
			var made bootstrapResult
			if err := s.createPKI(ctx, pki, nil, &made); err != nil {
				return fmt.Errorf("init: %w (the data directory is made; finish with \"certstatus ca create-root\"/\"create-sub\", or remove it and run init again)", err)
			}
			res.RootCA = &caSummary{string(made.Root.Identifier), made.Root.Alias, subjectCN(made.Root.DER)}
			res.SubCA = &caSummary{string(made.Sub.Identifier), made.Sub.Alias, subjectCN(made.Sub.DER)}
		}
		if *asJSON {
			return printJSON(e.stdout, res)
		}
		w := e.stdout
		fmt.Fprintf(w, "certstatus: initialised data directory %s\n", res.Data)
		if s.createdKey {
			fmt.Fprintf(w, "  created master key      %s (mode 0600; back it up apart from the data: it decrypts every stored key)\n", res.MasterKeyFile)
		} else if e.getenv("CERTSTATUS_MASTER_KEY") != "" {
			fmt.Fprintln(w, "  using master key        from $CERTSTATUS_MASTER_KEY (give it to every command the same way)")
		} else {
			fmt.Fprintf(w, "  using master key        %s (it was there already)\n", res.MasterKeyFile)
		}
		fmt.Fprintf(w, "  created admin AccessKey %s in %s (mode 0600)\n", res.AccessKeyID, res.AccessKeyFile)
		if res.RootCA != nil {
			fmt.Fprintf(w, "  created root CA         %s  %s (alias %s)\n", res.RootCA.Identifier, res.RootCA.CommonName, res.RootCA.Alias)
			fmt.Fprintf(w, "  created issuing sub CA  %s  %s (alias %s)\n", res.SubCA.Identifier, res.SubCA.CommonName, res.SubCA.Alias)
		} else {
			fmt.Fprintln(w, "  no CA (--no-ca): import one with \"certstatus import\" or create them with \"certstatus ca create-root\"")
		}
		fmt.Fprintln(w, "  stored settings (\"certstatus settings set\" changes them):")
		for _, f := range st.Fields() {
			fmt.Fprintf(w, "    %-24s %s\n", f.Name, f.Value)
		}
		fmt.Fprintf(w, "next: certstatus serve --data %s\n", res.Data)
		return nil
	}
}

// initPKI is the root and issuing sub CA init creates, from its flags.
func initPKI(rootCN, subCN, org, country, alg string, rootYears, subYears int, now time.Time) (pkiRequest, error) {
	if rootCN == "" {
		return pkiRequest{}, usageErr("init needs --ca-cn, the root CA's common name (or --no-ca to create no CA)")
	}
	if org == "" || country == "" {
		return pkiRequest{}, usageErr("init needs --o and --c, the organization and country of its CAs (RFC 5280 §4.1.2.6, BR 7.1.4.3)")
	}
	if rootYears < 1 || subYears < 1 || subYears >= rootYears {
		return pkiRequest{}, usageErr("--root-years %d, --sub-years %d: want at least 1 year each, the sub CA's shorter than the root's", rootYears, subYears)
	}
	if subCN == "" {
		subCN = issuingCN(rootCN)
	}
	rootAlg, err := parseAlgorithm(alg, certs.ECC384)
	if err != nil {
		return pkiRequest{}, usageErr("--algorithm: %v", err)
	}
	subAlg, _ := parseAlgorithm(alg, certs.ECC256)
	days := func(years int) int { return int(now.AddDate(years, 0, 0).Sub(now).Hours() / 24) }
	subject := func(cn string) certs.Subject {
		return certs.Subject{CommonName: cn, Organization: org, Country: country}
	}
	for _, cn := range []string{rootCN, subCN} {
		if err := subject(cn).Validate(); err != nil {
			return pkiRequest{}, usageErr("init: %v", err)
		}
	}
	return pkiRequest{
		root: certs.RootRequest{Subject: subject(rootCN), Algorithm: rootAlg, Validity: certs.Validity{Days: days(rootYears)}, Alias: "root"},
		sub:  certs.SubRequest{Subject: subject(subCN), Algorithm: subAlg, Validity: certs.Validity{Days: days(subYears)}, PathLen: 0, Alias: "issuing"},
	}, nil
}

// issuingCN derives the issuing sub CA's common name from the root's:
// "Example Root CA" → "Example Issuing CA", "Example" → "Example Issuing CA".
func issuingCN(root string) string {
	for _, suffix := range []string{" Root CA", " root CA", " Root"} {
		if base, ok := strings.CutSuffix(root, suffix); ok && base != "" {
			return base + " Issuing CA"
		}
	}
	return root + " Issuing CA"
}
