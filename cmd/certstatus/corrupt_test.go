package main

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
)

// callAPIErr is callAPI for a call that may fail: the SDK's error, if any.
func (e *ocspEnv) callAPIErr(t *testing.T, action string, q map[string]any) (map[string]any, error) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(e.c.env["CERTSTATUS_DATA"], AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ AccessKeyId, AccessKeySecret string }
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	endpoint := strings.TrimPrefix(e.api, "http://")
	cl, err := openapi.NewClient(&openapiutil.Config{AccessKeyId: dara.String(k.AccessKeyId), AccessKeySecret: dara.String(k.AccessKeySecret),
		Endpoint: dara.String(endpoint), Protocol: dara.String("HTTP")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.CallApi(&openapiutil.Params{Action: dara.String(action), Version: dara.String("2020-06-30"), Protocol: dara.String("HTTPS"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"), Style: dara.String("RPC"),
		ReqBodyType: dara.String("formData"), BodyType: dara.String("json")},
		&openapiutil.OpenApiRequest{Query: openapiutil.Query(q)}, &dara.RuntimeOptions{NoProxy: dara.String(endpoint)})
	if err != nil {
		return nil, err
	}
	body, _ := out["body"].(map[string]any)
	return body, nil
}

// sdkCode returns the Alibaba error code and HTTP status of an SDK error
// (the SDK's error types differ between its versions; its text does not).
func sdkCode(t *testing.T, err error) (string, int) {
	t.Helper()
	code := regexp.MustCompile(`(?m)^\s*Code: (\S+)$`).FindStringSubmatch(err.Error())
	status := regexp.MustCompile(`(?m)^\s*StatusCode: (\d+)$`).FindStringSubmatch(err.Error())
	if code == nil || status == nil {
		t.Fatalf("not an SDK error with a code: %v", err)
	}
	n, _ := strconv.Atoi(status[1])
	return code[1], n
}

// rawRecord applies fn to the stored bytes of certificate id, straight in
// the bbolt file (certstatus must be stopped), as a disk or memory fault
// would.
func rawRecord(t *testing.T, data, id string, fn func(v []byte)) {
	t.Helper()
	b, err := bolt.Open(filepath.Join(data, db.FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("certs"))
		v := bytes.Clone(bk.Get([]byte(id)))
		if v == nil {
			t.Fatalf("no record %s in the file", id)
		}
		fn(v)
		return bk.Put([]byte(id), v)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestServe_FlippedBitInRevokedRecord: a bit flipped in a revoked
// certificate's stored record — in its state byte (revoked 2 → 0, which
// once read as good) or anywhere else — is never answered as a status:
// the JSON API answers InternalError, OCSP internalError on every path that
// reads the record (live SHA-256, nonce), the pre-signed answer stays the
// revoked one signed before the damage, no new answer is stored, the read
// is counted, and check names the certificate.
func TestServe_FlippedBitInRevokedRecord(t *testing.T) {
	for _, tc := range []struct {
		name string
		flip func(t *testing.T, v []byte)
	}{
		{"state byte", func(t *testing.T, v []byte) {
			// tag rState (8<<1|varint) with value 2, then tag rRevokedAt
			i := bytes.LastIndex(v, []byte{0x10, 0x02, 0x12})
			if i < 0 {
				t.Fatalf("no state field in %x", v)
			}
			v[i+1] = 0 // 2 → 0
		}},
		{"a byte of the certificate", func(t *testing.T, v []byte) { v[len(v)/3] ^= 0x04 }},
		{"the last byte", func(t *testing.T, v []byte) { v[len(v)-1] ^= 0x80 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newOCSPEnv(t)
			id := e.issue(t, "--cn", "flipped")
			e.c.ok("cert", "revoke", id, "--reason", "keyCompromise")
			cert := e.cert(t, id)
			data := e.c.env["CERTSTATUS_DATA"]
			rawRecord(t, data, id, func(v []byte) { tc.flip(t, v) })
			e.serve(t)

			_, err := e.callAPIErr(t, "DescribeClientCertificateStatus", map[string]any{"Identifier": id})
			if err == nil {
				t.Fatal("DescribeClientCertificateStatus answered a status for a corrupt record")
			}
			if code, status := sdkCode(t, err); code != "InternalError" || status != 500 {
				t.Errorf("DescribeClientCertificateStatus: %s %d, want InternalError 500", code, status)
			}

			never := func(what string, der []byte, wantError bool) {
				t.Helper()
				r, err := ocsp.ParseResponse(der, e.subCert)
				var re ocsp.ResponseError
				switch {
				case errors.As(err, &re):
					if re.Status != ocsp.InternalError && re.Status != ocsp.TryLater {
						t.Errorf("%s: %v, want internalError or tryLater", what, re.Status)
					}
				case err != nil:
					t.Errorf("%s: %v", what, err)
				case r.Status == ocsp.Good:
					t.Errorf("%s: good for a revoked certificate", what)
				case wantError:
					t.Errorf("%s: status %d, want internalError", what, r.Status)
				}
			}
			sha256Req := ocspRequest(t, cert, e.subCert, &ocsp.RequestOptions{Hash: crypto.SHA256})
			sha1Req := ocspRequest(t, cert, e.subCert, nil)
			for range 2 {
				never("live SHA-256", postOCSP(t, e.ocsp, sha256Req), true)
				never("nonce", postOCSP(t, e.ocsp, withNonce(t, sha1Req, []byte("0123456789abcdef"))), true)
				never("pre-signed SHA-1", postOCSP(t, e.ocsp, sha1Req), false)
			}
			m := scrape(t, e.api)
			if c := regexp.MustCompile(`(?m)^certstatus_db_corrupt_reads_total (\d+)$`).FindStringSubmatch(m); c == nil || c[1] == "0" {
				t.Errorf("certstatus_db_corrupt_reads_total: %v", c)
			}
			if !strings.Contains(m, `certstatus_ocsp_answers_total{cause="corrupt record",outcome="internal"}`) {
				t.Error("no internal/corrupt record OCSP answer counted")
			}
			e.shutdown(t)

			s, err := db.Open(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if o, err := s.OCSPResponse(t.Context(), certs.Identifier(e.subID), certs.SerialFromBig(cert.SerialNumber), crypto.SHA256); !errors.Is(err, certs.ErrNotFound) {
				t.Errorf("an answer was stored for the corrupt record: %v %v", o.Status, err)
			}
			s.Close()
			out, _, err := e.c.run("check")
			if err == nil || !strings.Contains(out, "certs/"+id) {
				t.Errorf("check: %v\n%s\nwant a problem naming certs/%s", err, out, id)
			}
		})
	}
}
