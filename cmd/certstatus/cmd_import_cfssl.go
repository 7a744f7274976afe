package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite" // pure-Go SQLite (no cgo), registers "sqlite"

	"github.com/certstatus/certstatus/certs"
)

// bindImportCFSSL binds import cfssl, which imports a cfssl certdb (certificates and their revocation
// state) issued by one CA.
func bindImportCFSSL(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	sqlite := fs.String("sqlite", "", "the cfssl certdb SQLite file")
	dbConfig := fs.String("db-config", "", `cfssl's db-config JSON ({"driver":"sqlite3","data_source":"certs.db"})`)
	caCert := fs.String("ca-cert", "", "the CA certificate, PEM (its issuers may follow)")
	caKey := fs.String("ca-key", "", "the CA private key, PEM (unencrypted); without it certstatus cannot sign for this CA")
	batch := fs.Int("batch", 500, "certificates per transaction")
	return func(s *service, pos []string) error {
		if len(pos) > 0 || *caCert == "" || (*sqlite == "") == (*dbConfig == "") {
			return usageErr("import cfssl needs --ca-cert and one of --sqlite or --db-config")
		}
		path := *sqlite
		if *dbConfig != "" {
			var err error
			if path, err = sqliteFromDBConfig(*dbConfig); err != nil {
				return err
			}
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("certdb: %w", err)
		}
		ca, err := importCAs(ctx, s, e, *caCert, *caKey)
		if err != nil {
			return err
		}
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			return fmt.Errorf("certdb %s: %w", path, err)
		}
		defer db.Close()
		rep, err := importCFSSLRows(ctx, s, e, db, ca, *batch)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, rep)
		}
		rep.print(e.stdout, "rows")
		return nil
	}
}

// sqliteFromDBConfig reads cfssl's db-config and returns the SQLite file.
func sqliteFromDBConfig(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--db-config: %w", err)
	}
	var c struct {
		Driver     string `json:"driver"`
		DataSource string `json:"data_source"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return "", fmt.Errorf("--db-config %s: %w", path, err)
	}
	if c.Driver != "sqlite3" {
		return "", fmt.Errorf("--db-config %s: driver %q: certstatus imports cfssl's sqlite3 certdbs; dump a %s certdb's certificates table to SQLite (or PEM, for import pem) first", path, c.Driver, c.Driver)
	}
	ds := strings.TrimPrefix(c.DataSource, "file:")
	if i := strings.IndexByte(ds, '?'); i >= 0 {
		ds = ds[:i]
	}
	return ds, nil
}

// importCFSSLRows reads cfssl's certificates table: serial_number
// (decimal), authority_key_identifier (hex), status (good/revoked), reason
// (RFC 5280 code), revoked_at, pem.
func importCFSSLRows(ctx context.Context, s *service, e *cmdEnv, db *sql.DB, ca certs.CA, batch int) (importReport, error) {
	im := newImporter(ctx, s, e, ca, batch)
	caX, err := ca.Certificate()
	if err != nil {
		return im.rep, err
	}
	rows, err := db.QueryContext(ctx, `SELECT serial_number, authority_key_identifier, status, reason, revoked_at, pem FROM certificates`)
	if err != nil {
		return im.rep, fmt.Errorf("certdb: %w (is this a cfssl certdb?)", err)
	}
	defer rows.Close()
	for rows.Next() {
		var serial, aki, status, pemText string
		var reason sql.NullInt64
		var revokedAt sql.NullString
		if err := rows.Scan(&serial, &aki, &status, &reason, &revokedAt, &pemText); err != nil {
			return im.rep, fmt.Errorf("certdb row %d: %w", im.rep.Lines+1, err)
		}
		im.next()
		where := "serial " + serial
		if want := hex.EncodeToString(caX.SubjectKeyId); len(caX.SubjectKeyId) > 0 && !strings.EqualFold(aki, want) {
			im.skip("issued by another CA (authority key identifier)", where)
			continue
		}
		b, _ := pem.Decode([]byte(pemText))
		if b == nil || b.Type != "CERTIFICATE" {
			im.skip("no certificate PEM", where)
			continue
		}
		r, why := recordFor(b.Bytes, ca.Identifier, caX)
		if why != "" {
			im.skip(why, where)
			continue
		}
		if n, ok := r.Serial.Big(); !ok || n.String() != serial {
			im.skip("certificate has another serial", where)
			continue
		}
		switch status {
		case "good":
		case "revoked":
			var why []string
			at, err := parseSQLTime(revokedAt.String)
			if err != nil {
				at, why = time.Time{}, append(why, "unreadable revoked_at")
			}
			rsn := certs.Reason(reason.Int64)
			if !rsn.Revocable() {
				why = append(why, "unreadable reason")
			}
			im.revoked(&r, at, rsn, strings.Join(why, " and "), where)
		default:
			im.skip("unknown status "+status, where)
			continue
		}
		if err := im.add(r); err != nil {
			return im.rep, err
		}
	}
	if err := rows.Err(); err != nil {
		return im.rep, fmt.Errorf("certdb: %w", err)
	}
	return im.finish()
}

// parseSQLTime reads the timestamps go-sqlite3 (cfssl's driver) writes.
func parseSQLTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q", s)
}
