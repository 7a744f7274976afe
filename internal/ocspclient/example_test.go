package ocspclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/internal/ocspclient"
)

// A TLS server stapling the OCSP response of its certstatus-issued
// certificate: the files are what "certstatus cert issue --kind server
// --out-dir ." writes (<id>.chain.pem holds the issuing CA first).
func ExampleNewStapler() {
	cert, err := tls.LoadX509KeyPair("server.pem", "server.key.pem")
	if err != nil {
		log.Fatal(err)
	}
	chain, err := os.ReadFile("server.chain.pem")
	if err != nil {
		log.Fatal(err)
	}
	block, _ := pem.Decode(chain)
	if block == nil {
		log.Fatal("server.chain.pem: no certificate")
	}
	issuer, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	cert.Certificate = append(cert.Certificate, issuer.Raw)

	// An empty URL asks the responder named in the certificate's AIA.
	st, err := ocspclient.NewStapler(cert, issuer, "", slog.Default())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := st.Refresh(ctx); err != nil {
		log.Printf("no OCSP staple yet: %v", err)
	}
	go st.Run(ctx) // re-fetches at half-life until ctx ends

	srv := &http.Server{
		Addr:              ":8443",
		TLSConfig:         &tls.Config{GetCertificate: st.GetCertificate},
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.ListenAndServeTLS("", ""))
}

// Fetching and checking a certificate's status once, as "certstatus ocsp
// fetch" does.
func ExampleFetch() {
	read := func(path string) *x509.Certificate {
		b, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		block, _ := pem.Decode(b)
		if block == nil {
			log.Fatalf("%s: no certificate", path)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	cert, issuer := read("client.pem"), read("client.chain.pem")
	der, r, err := ocspclient.Fetch(context.Background(), nil, "", cert, issuer, 0)
	if err != nil {
		log.Fatal(err)
	}
	switch r.Status {
	case ocsp.Good:
		fmt.Printf("good until %v (%d bytes to staple)\n", r.NextUpdate, len(der))
	case ocsp.Revoked:
		fmt.Printf("revoked at %v\n", r.RevokedAt)
	default:
		fmt.Println("unknown to the responder")
	}
}
