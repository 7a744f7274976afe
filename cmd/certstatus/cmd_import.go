package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/parallel"
)

func importSubcommands() []subcommand {
	return []subcommand{
		{"openssl-index", "import an OpenSSL ca/ocsp CA database (index.txt and its certificates)",
			"import openssl-index --index index.txt --ca-cert ca.pem [--ca-key ca.key] --certs DIR [flags]", offline(bindImportIndex)},
		{"pem", "import a PEM bundle of certificates a CA issued (as not revoked)",
			"import pem --bundle FILE --ca-cert ca.pem [--ca-key ca.key] [flags]", offline(bindImportPEM)},
		{"cfssl", "import a cfssl certdb (SQLite): certificates and their revocation state",
			"import cfssl (--sqlite FILE | --db-config FILE) --ca-cert ca.pem [--ca-key ca-key.pem] [flags]", offline(bindImportCFSSL)},
	}
}

func runImport(ctx context.Context, e *cmdEnv, args []string) error {
	return runGroup(ctx, e, "import", importSubcommands(), args)
}

func bindImportIndex(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	index := fs.String("index", "", "the OpenSSL CA database (index.txt)")
	caCert := fs.String("ca-cert", "", "the CA certificate, PEM; further certificates in the file are its issuers, up to the root")
	caKey := fs.String("ca-key", "", "the CA private key, PEM (unencrypted); without it certstatus cannot sign for this CA")
	dir := fs.String("certs", "", "directory of the issued certificates (<SERIAL>.pem, as openssl ca writes them)")
	batch := fs.Int("batch", 500, "certificates per transaction")
	return func(s *service, pos []string) error {
		if len(pos) > 0 {
			return usageErr("import openssl-index takes no arguments")
		}
		if *index == "" || *caCert == "" || *dir == "" {
			return usageErr("import openssl-index needs --index, --ca-cert and --certs")
		}
		if *batch < 1 {
			return usageErr("--batch must be positive")
		}
		ca, err := importCAs(ctx, s, e, *caCert, *caKey)
		if err != nil {
			return err
		}
		rep, err := importIndex(ctx, s, e, ca, *index, *dir, *batch)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, rep)
		}
		rep.print(e.stdout, "lines")
		return nil
	}
}

// importCAs stores the CA certificate of caFile (with the key of keyFile)
// and, first, the issuers that follow it in the file.
func importCAs(ctx context.Context, s *service, e *cmdEnv, caFile, keyFile string) (certs.CA, error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return certs.CA{}, fmt.Errorf("--ca-cert: %w", err)
	}
	chain, err := certs.ParseCertsPEM(data)
	if err != nil {
		return certs.CA{}, fmt.Errorf("--ca-cert %s: %w", caFile, err)
	}
	var key crypto.Signer
	if keyFile != "" {
		if key, err = readKey(keyFile); err != nil {
			return certs.CA{}, err
		}
	}
	for i := len(chain) - 1; i >= 1; i-- {
		if _, _, err := s.ca.ImportCA(ctx, chain[i].Raw, nil); err != nil {
			return certs.CA{}, fmt.Errorf("--ca-cert issuer %d: %w", i, err)
		}
	}
	c, created, err := s.ca.ImportCA(ctx, chain[0].Raw, key)
	if err != nil {
		return certs.CA{}, err
	}
	if created {
		fmt.Fprintf(e.stderr, "imported CA %s (%s)\n", c.Identifier, chain[0].Subject)
	}
	return c, nil
}

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca-key: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("--ca-key %s: no PEM block", path)
	}
	if strings.Contains(b.Type, "ENCRYPTED") || b.Headers["Proc-Type"] != "" {
		return nil, fmt.Errorf("--ca-key %s: the key is encrypted; decrypt it first (openssl pkey -in %s -out plain.key)", path, path)
	}
	var k any
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("--ca-key %s: PEM block %q is not a private key", path, b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("--ca-key %s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("--ca-key %s: %T cannot sign", path, k)
	}
	return s, nil
}

// importIndex reads index.txt (tab-separated: status V/R/E, expiry,
// revocation "time[,reason]", serial, file name, subject) and imports the
// certificates in batches, one transaction each.
func importIndex(ctx context.Context, s *service, e *cmdEnv, ca certs.CA, index, dir string, batch int) (importReport, error) {
	im := newImporter(ctx, s, e, ca, batch)
	f, err := os.Open(index)
	if err != nil {
		return im.rep, fmt.Errorf("--index: %w", err)
	}
	defer f.Close()
	caCert, err := ca.Certificate()
	if err != nil {
		return im.rep, err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	// Lines are read in chunks; reading, parsing and verifying the
	// certificate files of a chunk (most of an import's work) runs on every
	// core while the previous chunk is written. Chunks are applied in file
	// order, so the report, the batches and their error messages are what
	// a sequential import gives.
	chunks := make(chan []indexItem, 1)
	applied := make(chan error, 1)
	go func() {
		var err error
		for items := range chunks {
			if err == nil {
				err = im.apply(items)
			}
		}
		applied <- err
	}()
	chunk := max(batch, 1000)
	lines := 0
	for {
		items := make([]indexItem, 0, chunk)
		for len(items) < chunk && sc.Scan() {
			line := sc.Text()
			if strings.TrimSpace(line) == "" {
				continue
			}
			lines++
			items = append(items, indexItem{where: fmt.Sprintf("line %d", lines), fields: strings.Split(line, "\t")})
		}
		if len(items) == 0 {
			break
		}
		parallel.For(len(items), func(i int) { items[i].load(dir, filepath.Dir(index), ca.Identifier, caCert) })
		chunks <- items
	}
	close(chunks)
	if err := <-applied; err != nil {
		return im.rep, err
	}
	if err := sc.Err(); err != nil {
		return im.rep, fmt.Errorf("--index: %w", err)
	}
	return im.finish()
}

// apply adds a chunk of loaded index lines, in order.
func (im *importer) apply(items []indexItem) error {
	for _, it := range items {
		im.next()
		if it.skip != "" {
			im.skip(it.skip, it.example)
			continue
		}
		r := it.rec
		if it.fields[0] == "R" {
			at, reason, err := parseRevocationField(it.fields[2])
			if err != nil {
				im.revoked(&r, at, 0, "unreadable revocation field", it.where+": "+err.Error())
			} else {
				im.revoked(&r, at, reason, "", "")
			}
		}
		if err := im.add(r); err != nil {
			return err
		}
	}
	return nil
}

// indexItem is one line of an OpenSSL index and what became of it.
type indexItem struct {
	where         string
	fields        []string
	rec           certs.Record
	skip, example string // why the line is left out, and where
}

// load checks the line and reads, parses and verifies its certificate.
func (it *indexItem) load(dir, indexDir string, issuer certs.Identifier, caCert *x509.Certificate) {
	fail := func(why, example string) { it.skip, it.example = why, example }
	if len(it.fields) < 6 {
		fail("malformed line (want 6 tab-separated fields)", it.where)
		return
	}
	status, serialHex, file := it.fields[0], it.fields[3], it.fields[4]
	if status != "V" && status != "R" && status != "E" {
		fail("unknown status "+status, it.where)
		return
	}
	serial, err := certs.ParseSerial(serialHex)
	if err != nil {
		fail("bad serial", it.where)
		return
	}
	der, err := findCertFile(dir, indexDir, serialHex, file)
	if err != nil {
		fail("certificate file not found", it.where+": "+serialHex)
		return
	}
	r, why := recordFor(der, issuer, caCert)
	if why != "" {
		fail(why, it.where)
		return
	}
	if r.Serial != serial {
		fail("certificate file has another serial", it.where)
		return
	}
	it.rec = r
}

func bindImportPEM(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	bundle := fs.String("bundle", "", "PEM file with the certificates to import")
	caCert := fs.String("ca-cert", "", "the issuing CA certificate, PEM (its issuers may follow)")
	caKey := fs.String("ca-key", "", "the CA private key, PEM (unencrypted); without it certstatus cannot sign for this CA")
	batch := fs.Int("batch", 500, "certificates per transaction")
	return func(s *service, pos []string) error {
		if len(pos) > 0 || *bundle == "" || *caCert == "" {
			return usageErr("import pem needs --bundle and --ca-cert")
		}
		if *batch < 1 {
			return usageErr("--batch must be positive")
		}
		ca, err := importCAs(ctx, s, e, *caCert, *caKey)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(*bundle)
		if err != nil {
			return fmt.Errorf("--bundle: %w", err)
		}
		caX, err := ca.Certificate()
		if err != nil {
			return err
		}
		im := newImporter(ctx, s, e, ca, *batch)
		for rest := data; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			im.next()
			r, why := recordFor(b.Bytes, ca.Identifier, caX)
			if why != "" {
				im.skip(why, fmt.Sprintf("certificate %d", im.rep.Lines))
				continue
			}
			if err := im.add(r); err != nil {
				return err
			}
		}
		rep, err := im.finish()
		if err != nil {
			return err
		}
		if rep.Lines == 0 {
			return fmt.Errorf("--bundle %s holds no CERTIFICATE block", *bundle)
		}
		if *asJSON {
			return printJSON(e.stdout, rep)
		}
		rep.print(e.stdout, "certificates")
		return nil
	}
}

// recordFor turns an issued certificate into a record of CA issuer, or
// says why it cannot be imported.
func recordFor(der []byte, issuer certs.Identifier, caCert *x509.Certificate) (certs.Record, string) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return certs.Record{}, "certificate does not parse"
	}
	if cert.CheckSignatureFrom(caCert) != nil {
		return certs.Record{}, "not issued by this CA"
	}
	if cert.IsCA {
		return certs.Record{}, "a CA certificate (import it with --ca-cert)"
	}
	kind := certs.KindClient
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth {
			kind = certs.KindServer
		}
	}
	return certs.Record{Identifier: certs.IdentifierOf(der), Issuer: issuer, Serial: certs.SerialFromBig(cert.SerialNumber), Kind: kind, DER: der,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, State: certs.StateIssued, CreatedAt: time.Now().UTC()}, ""
}

// findCertFile finds a certificate by the names openssl ca gives it.
func findCertFile(dir, indexDir, serialHex, file string) ([]byte, error) {
	var tries []string
	for _, s := range []string{strings.ToUpper(serialHex), strings.ToLower(serialHex)} {
		tries = append(tries, filepath.Join(dir, s+".pem"), filepath.Join(dir, s+".crt"))
	}
	if file != "" && file != "unknown" {
		if filepath.IsAbs(file) {
			tries = append(tries, file)
		} else {
			tries = append(tries, filepath.Join(dir, file), filepath.Join(indexDir, file))
		}
	}
	for _, p := range tries {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if b, _ := pem.Decode(data); b != nil && b.Type == "CERTIFICATE" {
			return b.Bytes, nil
		}
		return data, nil // DER
	}
	return nil, errors.New("not found")
}

// parseRevocationField reads "YYMMDDHHMMSSZ[,reason]" (or a four-digit
// year).
func parseRevocationField(s string) (time.Time, certs.Reason, error) {
	ts, reasonName, _ := strings.Cut(s, ",")
	var t time.Time
	var err error
	switch len(ts) {
	case 13:
		t, err = time.Parse("060102150405Z", ts)
		if err == nil && t.Year() >= 2050 { // UTCTime: 50..99 are 19xx
			t = t.AddDate(-100, 0, 0)
		}
	case 15:
		t, err = time.Parse("20060102150405Z", ts)
	default:
		err = fmt.Errorf("revocation time %q", ts)
	}
	if err != nil {
		return t, 0, err
	}
	reason := certs.Unspecified
	if reasonName != "" {
		// OpenSSL's names: unspecified, keyCompromise, CACompromise,
		// affiliationChanged, superseded, cessationOfOperation,
		// certificateHold, removeFromCRL; holdInstruction/keyTime/CAkeyTime
		// carry a second value and mean certificateHold/keyCompromise.
		name, _, _ := strings.Cut(reasonName, ",")
		switch strings.ToLower(name) {
		case "holdinstruction":
			reason = certs.CertificateHold
		case "keytime":
			reason = certs.KeyCompromise
		case "cakeytime":
			reason = certs.CACompromise
		default:
			if reason, err = certs.ParseReason(name); err != nil {
				return t, 0, err
			}
		}
	}
	if !reason.Revocable() {
		return t, 0, fmt.Errorf("reason %v", reason)
	}
	return t.UTC(), reason, nil
}

// progress shows import progress: a bar on a terminal, a line every few
// seconds otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	last  time.Time
	start time.Time
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, start: time.Now(), last: time.Now()}
}

func (p *progress) update(lines, imported, skipped int) {
	if p.tty {
		fmt.Fprintf(p.w, "\rimporting: %d lines read, %d imported, %d skipped", lines, imported, skipped)
		return
	}
	if time.Since(p.last) >= 2*time.Second {
		p.last = time.Now()
		rate := float64(imported) / time.Since(p.start).Seconds()
		fmt.Fprintf(p.w, "importing: %d lines read, %d imported (%.0f/s), %d skipped\n", lines, imported, rate, skipped)
	}
}

func (p *progress) done(lines int) {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
