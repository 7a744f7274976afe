package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// validity reads Days, Months, Years or BeforeTime+AfterTime (UNIX
// seconds); exactly one form. A missing validity is MissingParameter Days.
func validity(p params) (certs.Validity, *Error) {
	var v certs.Validity
	for _, f := range []struct {
		name string
		dst  *int
		max  int64
	}{{"Days", &v.Days, 36600}, {"Months", &v.Months, 1200}, {"Years", &v.Years, 100}} {
		n, aerr := p.integer(f.name, 0, 0, f.max)
		if aerr != nil {
			return v, aerr
		}
		*f.dst = int(n)
	}
	before, aerr := p.integer("BeforeTime", 0, 0, 253402300799)
	if aerr != nil {
		return v, aerr
	}
	after, aerr := p.integer("AfterTime", 0, 0, 253402300799)
	if aerr != nil {
		return v, aerr
	}
	if (before == 0) != (after == 0) {
		return v, errInvalid("BeforeTime", "BeforeTime and AfterTime must both be given or both be empty")
	}
	if before != 0 {
		v.NotBefore, v.NotAfter = time.Unix(before, 0), time.Unix(after, 0)
	}
	if v == (certs.Validity{}) {
		return v, errMissing("Days")
	}
	return v, nil
}

// subject reads the subject fields; country may be called Country or
// CountryCode.
func subject(p params) certs.Subject {
	country := p.str("Country")
	if country == "" {
		country = p.str("CountryCode")
	}
	return certs.Subject{
		Country: country, State: p.str("State"), Locality: p.str("Locality"),
		Organization: p.str("Organization"), OrganizationalUnit: p.str("OrganizationUnit"),
		CommonName: p.str("CommonName"),
	}
}

// algorithm reads Algorithm, def when absent.
func algorithm(p params, def certs.Algorithm) (certs.Algorithm, *Error) {
	s := p.str("Algorithm")
	if s == "" {
		return def, nil
	}
	a, err := certs.ParseAlgorithm(s)
	if err != nil {
		return "", errInvalid("Algorithm", "%v", err)
	}
	return a, nil
}

// immediately reads Immediately: 0 no certificate, 1 the certificate, 2 the
// certificate and its chain.
func immediately(p params) (int64, *Error) { return p.integer("Immediately", 0, 0, 2) }

// sanParam reads SanType/SanValue. allowed lists the SAN types (X.509
// GeneralName tags) the action accepts.
func sanParam(p params, allowed ...int64) (certs.SANs, *Error) {
	var sans certs.SANs
	values := p.list("SanValue")
	if !p.has("SanType") {
		if len(values) > 0 {
			return sans, errMissing("SanType")
		}
		return sans, nil
	}
	t, aerr := p.integer("SanType", 0, 0, 8)
	if aerr != nil {
		return sans, aerr
	}
	ok := false
	for _, a := range allowed {
		ok = ok || a == t
	}
	if !ok {
		return sans, errInvalid("SanType", "%d is not supported here (supported: %v; 1 e-mail, 2 DNS, 6 URI, 7 IP)", t, allowed)
	}
	if len(values) == 0 {
		return sans, errMissing("SanValue")
	}
	for _, v := range values {
		var one certs.SANs
		if err := one.ParseSAN(v); err != nil {
			return sans, errInvalid("SanValue", "%v", err)
		}
		kind := map[int64]int{1: len(one.Emails), 2: len(one.DNSNames), 6: len(one.URIs), 7: len(one.IPs)}[t]
		if kind != 1 {
			return sans, errInvalid("SanValue", "%q is not a SanType %d name", v, t)
		}
		sans.Emails = append(sans.Emails, one.Emails...)
		sans.DNSNames = append(sans.DNSNames, one.DNSNames...)
		sans.URIs = append(sans.URIs, one.URIs...)
		sans.IPs = append(sans.IPs, one.IPs...)
	}
	return sans, nil
}

// domains reads a server certificate's Domain: DNS names and IP addresses.
func domains(p params) (certs.SANs, *Error) {
	var sans certs.SANs
	for _, v := range p.list("Domain") {
		if err := sans.ParseSAN(v); err != nil {
			return sans, errInvalid("Domain", "%v", err)
		}
		if len(sans.Emails) > 0 || len(sans.URIs) > 0 {
			return sans, errInvalid("Domain", "%q is not a DNS name or IP address", v)
		}
	}
	return sans, nil
}

// issueRequest reads what every leaf create action shares.
func (s *Server) issueRequest(c *call, kind certs.Kind) (certs.IssueRequest, *Error) {
	req := certs.IssueRequest{Kind: kind, Subject: subject(c.p), Alias: c.p.str("AliasName"),
		CustomIdentifier: c.p.str("CustomIdentifier"), ResourceGroupID: c.p.str("ResourceGroupId")}
	if err := certs.ValidateCustomIdentifier(req.CustomIdentifier); err != nil {
		return req, errInvalid("CustomIdentifier", "%v", err)
	}
	var aerr *Error
	if req.Issuer, aerr = c.p.identifier("ParentIdentifier"); aerr != nil {
		return req, aerr
	}
	if req.Validity, aerr = validity(c.p); aerr != nil {
		return req, aerr
	}
	if req.Tags, aerr = c.p.tags("Tags"); aerr != nil {
		return req, aerr
	}
	crl, aerr := c.p.integer("EnableCrl", 1, 0, 1)
	if aerr != nil {
		return req, aerr
	}
	req.OmitCRL = crl == 0
	if _, aerr = c.p.boolean("AsynchronousFlag"); aerr != nil {
		return req, aerr
	}
	// Locality and State default to the issuing CA's, as Alibaba documents.
	if req.Subject.Locality == "" || req.Subject.State == "" {
		if ca, err := s.cas.CA(c.ctx, req.Issuer); err == nil {
			if x, err := ca.Certificate(); err == nil {
				if req.Subject.Locality == "" {
					req.Subject.Locality = first(x.Subject.Locality)
				}
				if req.Subject.State == "" {
					req.Subject.State = first(x.Subject.Province)
				}
			}
		}
	}
	return req, nil
}

func (s *Server) issue(c *call, req certs.IssueRequest) (resp, *Error) {
	imm, aerr := immediately(c.p)
	if aerr != nil {
		return nil, aerr
	}
	out, err := s.issuer.Issue(c.ctx, req)
	if err != nil {
		if errors.Is(err, certs.ErrExists) && req.CustomIdentifier != "" {
			// Never name the certificate that holds it.
			return nil, newError(http.StatusConflict, "Duplicate", "The specified parameter \"CustomIdentifier\" is already used by another certificate: %q.", req.CustomIdentifier)
		}
		return nil, s.fail(c, "issue", "ParentIdentifier", err)
	}
	r := resp{"Identifier": string(out.Record.Identifier), "SerialNumber": string(out.Record.Serial)}
	if imm >= 1 {
		r["X509Certificate"] = string(certs.EncodeCertPEM(out.Record.DER))
	}
	if imm == 2 {
		r["CertificateChain"] = chainPEM(out.Chain)
	}
	return r, nil
}

func (s *Server) createClient(c *call) (resp, *Error) {
	req, aerr := s.issueRequest(c, certs.KindClient)
	if aerr != nil {
		return nil, aerr
	}
	if req.SANs, aerr = sanParam(c.p, 1, 6); aerr != nil {
		return nil, aerr
	}
	if req.Algorithm, aerr = algorithm(c.p, certs.ECC256); aerr != nil {
		return nil, aerr
	}
	return s.issue(c, req)
}

func (s *Server) createServer(c *call) (resp, *Error) {
	req, aerr := s.issueRequest(c, certs.KindServer)
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := c.p.required("CommonName"); aerr != nil {
		return nil, aerr
	}
	if req.SANs, aerr = domains(c.p); aerr != nil {
		return nil, aerr
	}
	if req.Algorithm, aerr = algorithm(c.p, certs.ECC256); aerr != nil {
		return nil, aerr
	}
	return s.issue(c, req)
}

// withCSR reads the CSR (PEM, as the SDKs send it); an Algorithm, if given,
// must be the CSR key's family, since the key is the CSR's.
func withCSR(c *call, req *certs.IssueRequest) *Error {
	csr, aerr := c.p.required("Csr")
	if aerr != nil {
		return aerr
	}
	// Some clients turn the PEM's newlines into spaces or "\n" escapes.
	csr = strings.ReplaceAll(csr, `\n`, "\n")
	req.CSR = []byte(csr)
	if _, aerr := algorithm(c.p, ""); aerr != nil {
		return aerr
	}
	return nil
}

func (s *Server) createClientWithCSR(c *call) (resp, *Error) {
	req, aerr := s.issueRequest(c, certs.KindClient)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := withCSR(c, &req); aerr != nil {
		return nil, aerr
	}
	if req.SANs, aerr = sanParam(c.p, 1, 2, 6, 7); aerr != nil {
		return nil, aerr
	}
	return s.issue(c, req)
}

func (s *Server) createServerWithCSR(c *call) (resp, *Error) {
	req, aerr := s.issueRequest(c, certs.KindServer)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := withCSR(c, &req); aerr != nil {
		return nil, aerr
	}
	if req.SANs, aerr = domains(c.p); aerr != nil {
		return nil, aerr
	}
	return s.issue(c, req)
}

// caSubject reads a CA subject; Alibaba requires every field but the
// country. Without a country, a sub CA inherits its parent's and a root
// gets certs.DefaultCountry (XX): the CA does it, for the CLI too.
func caSubject(p params) (certs.Subject, *Error) {
	for _, name := range []string{"CommonName", "Organization", "OrganizationUnit", "Locality", "State"} {
		if !p.has(name) {
			return certs.Subject{}, errMissing(name)
		}
	}
	return subject(p), nil
}

func caYears(p params, min, max int64) (certs.Validity, *Error) {
	y, aerr := p.integer("Years", 0, min, max)
	if aerr != nil {
		return certs.Validity{}, aerr
	}
	if y == 0 {
		return certs.Validity{}, errMissing("Years")
	}
	return certs.Validity{Years: int(y)}, nil
}

func caResponse(c certs.CA, chain []certs.CA) resp {
	return resp{
		"Identifier":       string(c.Identifier),
		"Certificate":      string(certs.EncodeCertPEM(c.DER)),
		"CertificateChain": chainPEM(chain),
	}
}

func (s *Server) createRoot(c *call) (resp, *Error) {
	subj, aerr := caSubject(c.p)
	if aerr != nil {
		return nil, aerr
	}
	v, aerr := caYears(c.p, 1, 30)
	if aerr != nil {
		return nil, aerr
	}
	alg, aerr := algorithm(c.p, certs.ECC384)
	if aerr != nil {
		return nil, aerr
	}
	tags, aerr := c.p.tags("Tags")
	if aerr != nil {
		return nil, aerr
	}
	root, err := s.issuer.CreateRoot(c.ctx, certs.RootRequest{Subject: subj, Algorithm: alg, Validity: v, Tags: tags})
	if err != nil {
		return nil, s.fail(c, "create root", "Algorithm", err)
	}
	return caResponse(root, []certs.CA{root}), nil
}

func (s *Server) createSub(c *call) (resp, *Error) {
	subj, aerr := caSubject(c.p)
	if aerr != nil {
		return nil, aerr
	}
	parent, aerr := s.subParent(c)
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := c.p.required("Algorithm"); aerr != nil {
		return nil, aerr
	}
	alg, aerr := algorithm(c.p, "")
	if aerr != nil {
		return nil, aerr
	}
	v, aerr := caYears(c.p, 1, 30)
	if aerr != nil {
		return nil, aerr
	}
	pathLen, aerr := c.p.integer("PathLenConstraint", 0, 0, 16)
	if aerr != nil {
		return nil, aerr
	}
	ekus, aerr := extKeyUsages(c.p, "ExtendedKeyUsages")
	if aerr != nil {
		return nil, aerr
	}
	maxDays, aerr := c.p.integer("CertMaxTime", 0, 1, 36600)
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := c.p.integer("CrlDay", 0, 1, 365); aerr != nil {
		return nil, aerr
	}
	if _, aerr := c.p.boolean("EnableCrl"); aerr != nil {
		return nil, aerr
	}
	tags, aerr := c.p.tags("Tags")
	if aerr != nil {
		return nil, aerr
	}
	sub, err := s.issuer.CreateSub(c.ctx, certs.SubRequest{Parent: parent, Subject: subj, Algorithm: alg, Validity: v, PathLen: int(pathLen),
		ExtKeyUsages: ekus, CertMaxDays: int(maxDays), Tags: tags})
	if err != nil {
		return nil, s.fail(c, "create sub CA", "ParentIdentifier", err)
	}
	chain, err := s.chains.Chain(c.ctx, sub.Identifier)
	if err != nil {
		return nil, s.internal(c, "chain", err)
	}
	return caResponse(sub, chain), nil
}
