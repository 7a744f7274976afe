package api

import (
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// The ApiPassthrough parameters of CreateCustomCertificate, flattened as
// the SDKs send them.
const (
	ptSubject  = "ApiPassthrough.Subject."
	ptExt      = "ApiPassthrough.Extensions."
	ptKU       = ptExt + "KeyUsage."
	ptEKU      = ptExt + "ExtendedKeyUsages"
	ptSAN      = ptExt + "SubjectAlternativeNames"
	ptCritical = ptExt + "Criticals"
	ptAttrs    = ptSubject + "CustomAttributes"
)

// customKeyUsages maps ApiPassthrough.Extensions.KeyUsage.* to key usages.
var customKeyUsages = map[string]certs.KeyUsage{
	"DigitalSignature": certs.KUDigitalSignature, "ContentCommitment": certs.KUContentCommitment,
	"NonRepudiation": certs.KUContentCommitment, "KeyEncipherment": certs.KUKeyEncipherment,
	"DataEncipherment": certs.KUDataEncipherment, "KeyAgreement": certs.KUKeyAgreement,
	"EncipherOnly": certs.KUEncipherOnly, "DecipherOnly": certs.KUDecipherOnly,
}

// customSANTypes maps a SubjectAlternativeNames Type to the SanType number
// sanParam uses; the other GeneralName forms (otherName, directoryName,
// x400Address, ediPartyName, registeredID) are refused.
var customSANTypes = map[string]int64{"rfc822Name": 1, "email": 1, "dNSName": 2, "dns": 2, "uniformResourceIdentifier": 6, "uri": 6, "iPAddress": 7, "ip": 7}

// customAttrs maps the CustomAttributes OIDs certstatus carries to the
// subject field they set.
var customAttrs = map[string]string{
	"2.5.4.6": "Country", "2.5.4.8": "State", "2.5.4.7": "Locality",
	"2.5.4.10": "Organization", "2.5.4.11": "OrganizationUnit", "2.5.4.3": "CommonName",
}

// createCustom answers CreateCustomCertificate for what a private CA can
// vouch for: the CSR's key, key usages (never keyCertSign or cRLSign),
// extended key usages (serverAuth, clientAuth, codeSigning,
// emailProtection), e-mail, DNS, URI and IP SANs, the subject fields, and a
// validity within the CA's (and its CertMaxTime). Refused, with the reason:
// a caller-chosen SerialNumber, critical flags other than the ones
// certstatus sets, other SAN types or subject attributes, CA:TRUE (a CSR
// asking for it) or any CSR extension the certificate would not carry,
// unknown ApiPassthrough fields, and EKUs outside the
// issuing CA's constraint. A certificate with serverAuth is stored as
// SERVER, any other as CLIENT.
func (s *Server) createCustom(c *call) (resp, *Error) {
	if aerr := customKnown(c.p); aerr != nil {
		return nil, aerr
	}
	if c.p.has("ApiPassthrough.SerialNumber") {
		return nil, errInvalid("ApiPassthrough.SerialNumber", "certstatus chooses every serial number itself (at least 64 random bits, RFC 5280 §4.1.2.2 and the CA/B Baseline Requirements §7.1): a chosen serial could repeat or be predicted")
	}
	parent, aerr := c.p.identifier("ParentIdentifier")
	if aerr != nil {
		return nil, aerr
	}
	req := certs.IssueRequest{Issuer: parent, ResourceGroupID: c.p.str("ResourceGroupId")}
	req.CustomIdentifier = c.p.str("customIdentifier")
	if req.CustomIdentifier == "" {
		req.CustomIdentifier = c.p.str("CustomIdentifier")
	}
	if err := certs.ValidateCustomIdentifier(req.CustomIdentifier); err != nil {
		return nil, errInvalid("customIdentifier", "%s", publicMessage(err))
	}
	if req.Tags, aerr = c.p.tags("Tags"); aerr != nil {
		return nil, aerr
	}
	if aerr := withCSR(c, &req); aerr != nil {
		return nil, aerr
	}
	if aerr := csrExtensions(req.CSR); aerr != nil {
		return nil, aerr
	}
	if req.Validity, aerr = customValidity(c.p, c.now); aerr != nil {
		return nil, aerr
	}
	crl, aerr := c.p.integer("EnableCrl", 1, 0, 1)
	if aerr != nil {
		return nil, aerr
	}
	req.OmitCRL = crl == 0
	if req.Subject, aerr = customSubject(c.p); aerr != nil {
		return nil, aerr
	}
	for name, ku := range customKeyUsages {
		on, aerr := c.p.boolean(ptKU + name)
		if aerr != nil {
			return nil, aerr
		}
		if on && !slices.Contains(req.KeyUsages, ku) {
			req.KeyUsages = append(req.KeyUsages, ku)
		}
	}
	sort.Slice(req.KeyUsages, func(i, j int) bool { return req.KeyUsages[i] < req.KeyUsages[j] })
	if len(req.KeyUsages) == 0 {
		return nil, errMissing(ptKU + "DigitalSignature")
	}
	if req.ExtKeyUsages, aerr = extKeyUsages(c.p, ptEKU); aerr != nil {
		return nil, aerr
	}
	if len(req.ExtKeyUsages) == 0 {
		return nil, errInvalid(ptEKU, "name at least one of serverAuth, clientAuth, codeSigning, emailProtection: a certificate without extended key usages is valid for every purpose, which certstatus does not issue")
	}
	req.Kind = certs.KindClient
	if slices.Contains(req.ExtKeyUsages, certs.EKUServerAuth) {
		req.Kind = certs.KindServer
	}
	for _, v := range c.p.list(ptCritical) {
		if v != "keyUsage" && v != "basicConstraints" {
			return nil, errInvalid(ptCritical, "%q: certstatus marks keyUsage and basicConstraints critical and every other extension non-critical, as RFC 5280 and the CA/B Baseline Requirements expect", v)
		}
	}
	for _, i := range sortedIndexes(c.p.indexed(ptCritical)) {
		if v := c.p.str(ptCritical + "." + strconv.Itoa(i)); v != "keyUsage" && v != "basicConstraints" {
			return nil, errInvalid(ptCritical+"."+strconv.Itoa(i), "%q: certstatus marks keyUsage and basicConstraints critical and every other extension non-critical, as RFC 5280 and the CA/B Baseline Requirements expect", v)
		}
	}
	sans := c.p.indexed(ptSAN)
	for _, i := range sortedIndexes(sans) {
		param := ptSAN + "." + strconv.Itoa(i)
		t, ok := customSANTypes[sans[i]["Type"]]
		if !ok {
			return nil, errInvalid(param+".Type", "%q: certstatus issues rfc822Name, dNSName, uniformResourceIdentifier and iPAddress names only", sans[i]["Type"])
		}
		one, aerr := sanParam(params{v: map[string][]string{"SanType": {strconv.FormatInt(t, 10)}, "SanValue": {sans[i]["Value"]}}}, t)
		if aerr != nil {
			aerr.Message = strings.ReplaceAll(aerr.Message, `"SanValue"`, strconv.Quote(param+".Value"))
			return nil, aerr
		}
		req.SANs.Emails = append(req.SANs.Emails, one.Emails...)
		req.SANs.DNSNames = append(req.SANs.DNSNames, one.DNSNames...)
		req.SANs.URIs = append(req.SANs.URIs, one.URIs...)
		req.SANs.IPs = append(req.SANs.IPs, one.IPs...)
	}
	imm, aerr := immediately(c.p)
	if aerr != nil {
		return nil, aerr
	}
	out, err := s.issuer.Issue(c.ctx, req)
	if err != nil {
		return nil, s.fail(c, "issue custom", "ParentIdentifier", err)
	}
	r := resp{"Identifier": string(out.Record.Identifier), "SerialNumber": string(out.Record.Serial), "Certificate": "", "CertificateChain": ""}
	if imm >= 1 {
		r["Certificate"] = string(certs.EncodeCertPEM(out.Record.DER))
	}
	if imm == 2 {
		r["CertificateChain"] = chainPEM(out.Chain)
	}
	return r, nil
}

// customKnownParam matches the ApiPassthrough parameters createCustom reads.
var customKnownParam = regexp.MustCompile(`^ApiPassthrough\.(SerialNumber|Subject\.(CommonName|Country|State|Locality|Organization|OrganizationUnit|CustomAttributes\.[1-9]\d*\.(ObjectIdentifier|Value))|Extensions\.(KeyUsage\.(` +
	`DigitalSignature|ContentCommitment|NonRepudiation|KeyEncipherment|DataEncipherment|KeyAgreement|EncipherOnly|DecipherOnly)|ExtendedKeyUsages(\.[1-9]\d*)?|Criticals(\.[1-9]\d*)?|SubjectAlternativeNames\.[1-9]\d*\.(Type|Value)))$`)

// customKnown refuses an ApiPassthrough field certstatus does not know:
// silently dropping it would issue something other than what was asked.
func customKnown(p params) *Error {
	var names []string
	for k := range p.v {
		if strings.HasPrefix(k, "ApiPassthrough") && !customKnownParam.MatchString(k) {
			names = append(names, k)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		return errInvalid(names[0], "not a CreateCustomCertificate field certstatus can honour")
	}
	return nil
}

// customSubject reads ApiPassthrough.Subject, with CustomAttributes for
// the fields certstatus carries; other attributes are refused.
func customSubject(p params) (certs.Subject, *Error) {
	get := func(name string) string { return p.str(ptSubject + name) }
	subj := certs.Subject{Country: get("Country"), State: get("State"), Locality: get("Locality"),
		Organization: get("Organization"), OrganizationalUnit: get("OrganizationUnit"), CommonName: get("CommonName")}
	attrs := p.indexed(ptAttrs)
	for _, i := range sortedIndexes(attrs) {
		oid, v := attrs[i]["ObjectIdentifier"], attrs[i]["Value"]
		field, ok := customAttrs[oid]
		if !ok {
			return subj, errInvalid(ptAttrs+"."+strconv.Itoa(i)+".ObjectIdentifier", "%q: certstatus carries only C, ST, L, O, OU and CN (2.5.4.6, .8, .7, .10, .11, .3) in a subject", oid)
		}
		dst := map[string]*string{"Country": &subj.Country, "State": &subj.State, "Locality": &subj.Locality,
			"Organization": &subj.Organization, "OrganizationUnit": &subj.OrganizationalUnit, "CommonName": &subj.CommonName}[field]
		if *dst != "" && *dst != v {
			return subj, errInvalid(ptAttrs+"."+strconv.Itoa(i), "%s is also given as %q", field, *dst)
		}
		*dst = v
	}
	if err := subj.Validate(); err != nil {
		return subj, errInvalid("ApiPassthrough.Subject", "%s", publicMessage(err))
	}
	return subj, nil
}

// customValidity reads Validity: the end of the validity as
// yyyy-MM-ddTHH:mm:ssZ (Alibaba's documented form), or a relative <n>d or
// <n>y.
func customValidity(p params, now time.Time) (certs.Validity, *Error) {
	v, aerr := p.required("Validity")
	if aerr != nil {
		return certs.Validity{}, aerr
	}
	if t, err := time.Parse("2006-01-02T15:04:05Z", v); err == nil {
		if !t.After(now) {
			return certs.Validity{}, errInvalid("Validity", "%s is already past", v)
		}
		return certs.Validity{NotBefore: now, NotAfter: t}, nil
	}
	if n, err := strconv.Atoi(strings.TrimRight(v, "dDyY")); err == nil && n > 0 && len(v) > 1 {
		switch v[len(v)-1] {
		case 'd', 'D':
			return certs.Validity{Days: n}, nil
		case 'y', 'Y':
			return certs.Validity{Years: n}, nil
		}
	}
	return certs.Validity{}, errInvalid("Validity", "%q: want the end as yyyy-MM-ddTHH:mm:ssZ, or a relative <n>d or <n>y", v)
}

// csrKnownExtensions are the CSR extensions a custom certificate is built
// around: the names (replaced by ApiPassthrough's when given), the usages
// (replaced by ApiPassthrough's), basicConstraints (CA:FALSE only; the CA
// refuses CA:TRUE) and the key identifier (the CA computes its own).
var csrKnownExtensions = map[string]bool{"2.5.29.17": true, "2.5.29.15": true, "2.5.29.37": true, "2.5.29.19": true, "2.5.29.14": true}

// csrExtensions refuses a CSR asking for an extension the certificate
// would not carry: the caller would believe it issued.
func csrExtensions(csr []byte) *Error {
	der := csr
	if b, _ := pem.Decode(csr); b != nil {
		der = b.Bytes
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil // the CA reports it, with its own checks
	}
	for _, e := range req.Extensions {
		if !csrKnownExtensions[e.Id.String()] {
			return errInvalid("Csr", "it asks for extension %s, which certstatus does not put in custom certificates (it issues subjectAltName, keyUsage, extendedKeyUsage, basicConstraints CA:FALSE and its own key identifiers)", e.Id)
		}
	}
	return nil
}
