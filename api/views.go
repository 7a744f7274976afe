package api

import (
	"crypto/ecdsa"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
)

type tagView struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// certView holds the certificate fields the Describe*/List* actions share,
// named as in the SDK models. Dates are epoch milliseconds here; the actions
// whose models use strings convert with dayString.
type certView struct {
	Id               int64     `json:"Id"`
	Identifier       string    `json:"Identifier"`
	ParentIdentifier string    `json:"ParentIdentifier"`
	SerialNumber     string    `json:"SerialNumber"`
	CertificateType  string    `json:"CertificateType"`
	Status           string    `json:"Status"`
	CommonName       string    `json:"CommonName"`
	CountryCode      string    `json:"CountryCode"`
	State            string    `json:"State"`
	Locality         string    `json:"Locality"`
	Organization     string    `json:"Organization"`
	OrganizationUnit string    `json:"OrganizationUnit"`
	SubjectDN        string    `json:"SubjectDN"`
	Sans             string    `json:"Sans"`
	Algorithm        string    `json:"Algorithm"`
	FullAlgorithm    string    `json:"FullAlgorithm"`
	KeySize          int       `json:"KeySize"`
	SignAlgorithm    string    `json:"SignAlgorithm"`
	BeforeDate       int64     `json:"BeforeDate"`
	AfterDate        int64     `json:"AfterDate"`
	Days             int       `json:"Days"`
	Md5              string    `json:"Md5"`
	Sha2             string    `json:"Sha2"`
	AliasName        string    `json:"AliasName"`
	CustomIdentifier string    `json:"CustomIdentifier"`
	ResourceGroupId  string    `json:"ResourceGroupId"`
	Tags             []tagView `json:"Tags"`
	// UploadFlag is 0: certstatus never synchronises certificates to
	// Alibaba's Certificate Management Service.
	UploadFlag      int    `json:"UploadFlag"`
	X509Certificate string `json:"X509Certificate"`
	CertChain       string `json:"CertChain,omitempty"`
	RevokeTime      int64  `json:"RevokeTime,omitempty"`
	RevokeReason    string `json:"RevokeReason,omitempty"`

	cert *x509.Certificate
}

// sanJSON is one entry of the Sans JSON-array string.
type sanJSON struct {
	Type  int    `json:"Type"`
	Value string `json:"Value"`
}

func first(v []string) string {
	if len(v) > 0 {
		return v[0]
	}
	return ""
}

// viewOf fills the shared fields from a record (a CA is viewed through
// CA.AsRecord).
func viewOf(r certs.Record) certView {
	v := certView{
		Id:               numericID(r.Identifier),
		Identifier:       string(r.Identifier),
		ParentIdentifier: string(r.Issuer),
		SerialNumber:     string(r.Serial),
		CertificateType:  r.Kind.String(),
		Status:           r.State.String(),
		BeforeDate:       epochMillis(r.NotBefore),
		AfterDate:        epochMillis(r.NotAfter),
		Days:             int(r.NotAfter.Sub(r.NotBefore).Round(24*time.Hour) / (24 * time.Hour)),
		AliasName:        r.Alias,
		CustomIdentifier: r.CustomIdentifier,
		ResourceGroupId:  r.ResourceGroupID,
		X509Certificate:  string(certs.EncodeCertPEM(r.DER)),
		Sans:             "[]",
		Tags:             []tagView{},
	}
	for _, t := range r.Tags {
		v.Tags = append(v.Tags, tagView{TagKey: t.Key, TagValue: t.Value})
	}
	if r.State == certs.StateRevoked {
		v.RevokeTime = epochMillis(r.RevokedAt)
		v.RevokeReason = r.Reason.String()
	}
	md := md5.Sum(r.DER)
	sh := sha256.Sum256(r.DER)
	v.Md5 = hex.EncodeToString(md[:])
	v.Sha2 = hex.EncodeToString(sh[:])
	c, err := x509.ParseCertificate(r.DER)
	if err != nil {
		return v
	}
	v.cert = c
	s := c.Subject
	v.CommonName = s.CommonName
	v.CountryCode, v.State, v.Locality = first(s.Country), first(s.Province), first(s.Locality)
	v.Organization, v.OrganizationUnit = first(s.Organization), first(s.OrganizationalUnit)
	v.SubjectDN = subjectDN(s)
	v.SignAlgorithm = signAlgorithm(c.SignatureAlgorithm)
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		v.Algorithm, v.KeySize = "RSA", k.N.BitLen()
		v.FullAlgorithm = "RSA_" + strconv.Itoa(v.KeySize)
	case *ecdsa.PublicKey:
		v.Algorithm, v.KeySize = "ECC", k.Curve.Params().BitSize
		v.FullAlgorithm = "ECC_" + strconv.Itoa(v.KeySize)
	}
	var sans []sanJSON
	for _, e := range c.EmailAddresses {
		sans = append(sans, sanJSON{1, e})
	}
	for _, d := range c.DNSNames {
		sans = append(sans, sanJSON{2, d})
	}
	for _, u := range c.URIs {
		sans = append(sans, sanJSON{6, u.String()})
	}
	for _, ip := range c.IPAddresses {
		sans = append(sans, sanJSON{7, ip.String()})
	}
	if len(sans) > 0 {
		b, _ := json.Marshal(sans)
		v.Sans = string(b)
	}
	return v
}

// chainPEM concatenates CA certificates as PEM.
func chainPEM(chain []certs.CA) string {
	var b strings.Builder
	for _, c := range chain {
		b.Write(certs.EncodeCertPEM(c.DER))
	}
	return b.String()
}
