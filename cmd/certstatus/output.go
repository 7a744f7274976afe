package main

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// certView is how the CLI shows a certificate or CA (JSON with --json).
type certView struct {
	Identifier       string   `json:"Identifier"`
	ParentIdentifier string   `json:"ParentIdentifier,omitempty"`
	SerialNumber     string   `json:"SerialNumber"`
	CertificateType  string   `json:"CertificateType"`
	Status           string   `json:"Status"`
	StatusNow        string   `json:"StatusNow"`
	SubjectDN        string   `json:"SubjectDN"`
	CommonName       string   `json:"CommonName,omitempty"`
	Sans             []string `json:"Sans,omitempty"`
	KeyAlgorithm     string   `json:"KeyAlgorithm"`
	NotBefore        string   `json:"NotBefore"`
	NotAfter         string   `json:"NotAfter"`
	RevokedAt        string   `json:"RevokedAt,omitempty"`
	RevocationReason string   `json:"RevocationReason,omitempty"`
	PathLen          *int     `json:"PathLen,omitempty"`
	ExtKeyUsages     []string `json:"ExtKeyUsages,omitempty"`
	CertMaxDays      int      `json:"CertMaxDays,omitempty"`
	Disabled         bool     `json:"Disabled,omitempty"`
	Deleted          bool     `json:"Deleted,omitempty"`
	Alias            string   `json:"Alias,omitempty"`
	CustomIdentifier string   `json:"CustomIdentifier,omitempty"`
	HasPrivateKey    bool     `json:"HasPrivateKey"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func viewOf(r certs.Record) certView {
	v := certView{
		Identifier:       string(r.Identifier),
		ParentIdentifier: string(r.Issuer),
		SerialNumber:     string(r.Serial),
		CertificateType:  r.Kind.String(),
		Status:           r.State.String(),
		StatusNow:        statusNow(r),
		NotBefore:        rfc3339(r.NotBefore),
		NotAfter:         rfc3339(r.NotAfter),
		Deleted:          r.Deleted,
		Alias:            r.Alias,
		CustomIdentifier: r.CustomIdentifier,
		HasPrivateKey:    len(r.SealedKey) > 0,
	}
	if r.State == certs.StateRevoked {
		v.RevokedAt = rfc3339(r.RevokedAt)
		v.RevocationReason = r.Reason.String()
	}
	if c, err := x509.ParseCertificate(r.DER); err == nil {
		v.SubjectDN = c.Subject.String()
		v.CommonName = c.Subject.CommonName
		v.KeyAlgorithm = keyAlgorithm(c)
		v.Sans = append(v.Sans, c.DNSNames...)
		for _, ip := range c.IPAddresses {
			v.Sans = append(v.Sans, ip.String())
		}
		v.Sans = append(v.Sans, c.EmailAddresses...)
		for _, u := range c.URIs {
			v.Sans = append(v.Sans, u.String())
		}
	}
	return v
}

func caViewOf(c certs.CA) certView {
	v := viewOf(c.AsRecord())
	v.HasPrivateKey = len(c.SealedKey) > 0
	v.Disabled = c.Disabled
	v.Alias = c.Alias
	pl := c.PathLen
	v.PathLen = &pl
	for _, u := range c.ExtKeyUsages {
		v.ExtKeyUsages = append(v.ExtKeyUsages, string(u))
	}
	v.CertMaxDays = c.CertMaxDays
	return v
}

func keyAlgorithm(c *x509.Certificate) string {
	switch c.PublicKeyAlgorithm {
	case x509.ECDSA:
		return fmt.Sprintf("ECDSA %s", curveName(c))
	case x509.RSA:
		return fmt.Sprintf("RSA %d", rsaBits(c))
	}
	return c.PublicKeyAlgorithm.String()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printView prints one certificate as "Key: value" lines.
func printView(w io.Writer, v certView) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, val string) {
		if val != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, val)
		}
	}
	line("Identifier", v.Identifier)
	line("Type", v.CertificateType)
	line("Issuer", v.ParentIdentifier)
	line("Serial", v.SerialNumber)
	line("Subject", v.SubjectDN)
	line("SANs", strings.Join(v.Sans, ", "))
	line("Key", v.KeyAlgorithm)
	line("Not before", v.NotBefore)
	line("Not after", v.NotAfter)
	line("Status", v.Status+" (answered now: "+v.StatusNow+")")
	line("Revoked at", v.RevokedAt)
	line("Reason", v.RevocationReason)
	if v.PathLen != nil {
		pl := "unconstrained"
		if *v.PathLen >= 0 {
			pl = fmt.Sprint(*v.PathLen)
		}
		line("Path length", pl)
	}
	if len(v.ExtKeyUsages) > 0 {
		line("Issues only", strings.Join(v.ExtKeyUsages, ", "))
	}
	if v.CertMaxDays > 0 {
		line("Longest issued", fmt.Sprintf("%d days", v.CertMaxDays))
	}
	if v.Disabled {
		line("Disabled", "yes (issuance stopped)")
	}
	if v.Deleted {
		line("Deleted", "yes (hidden from listings; status unchanged)")
	}
	line("Alias", v.Alias)
	line("Custom ID", v.CustomIdentifier)
	tw.Flush()
}

// printTable prints certificates one per line.
func printTable(w io.Writer, vs []certView) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IDENTIFIER\tTYPE\tSTATUS\tSERIAL\tNOT AFTER\tSUBJECT")
	for _, v := range vs {
		st := v.Status
		if v.Deleted {
			st += ",DELETED"
		}
		if v.Disabled {
			st += ",DISABLED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Identifier, v.CertificateType, st, v.SerialNumber, v.NotAfter, v.SubjectDN)
	}
	tw.Flush()
}

// statusNow is the status r has now, or "corrupt" for a record that cannot
// be decided (its state or revocation facts are not what a writer stores).
func statusNow(r certs.Record) string {
	a, err := r.StatusAt(time.Now())
	if err != nil {
		return "corrupt"
	}
	return a.Status.String()
}
