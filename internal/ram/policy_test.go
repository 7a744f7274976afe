package ram_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/internal/ram"
)

const (
	describe = "yundun-cert:DescribeClientCertificateStatus"
	list     = "yundun-cert:ListClientCertificate"
	del      = "yundun-cert:DeleteClientCertificate"
	revoke   = "yundun-cert:CreateRevokeClientCertificate"
)

// mustParse parses doc or fails the test.
func mustParse(t *testing.T, doc string) *ram.Policy {
	t.Helper()
	p, err := ram.Parse(doc)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

// doc builds a policy document from statement objects.
func doc(statements ...string) string {
	return `{"Version":"1","Statement":[` + strings.Join(statements, ",") + `]}`
}

func TestEvaluate(t *testing.T) {
	readOnly := doc(
		`{"Effect":"Allow","Action":["yundun-cert:Describe*","yundun-cert:List*"],"Resource":"*"}`,
		`{"Effect":"Deny","Action":"yundun-cert:Delete*","Resource":"*"}`)
	cases := map[string]struct {
		doc    string
		action string
		want   ram.Decision
	}{
		"allow/wildcard Describe*":            {readOnly, describe, ram.Decision{Allowed: true, Statement: 0}},
		"allow/second pattern List*":          {readOnly, list, ram.Decision{Allowed: true, Statement: 0}},
		"allow/AllowAll":                      {ram.AllowAll, del, ram.Decision{Allowed: true, Statement: 0}},
		"allow/bare star":                     {doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`), "ecs:Anything", ram.Decision{Allowed: true, Statement: 0}},
		"allow/exact name":                    {doc(`{"Effect":"Allow","Action":"` + describe + `","Resource":"*"}`), describe, ram.Decision{Allowed: true, Statement: 0}},
		"allow/first matching Allow":          {doc(`{"Effect":"Allow","Action":"ecs:*","Resource":"*"}`, `{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*"}`, `{"Effect":"Allow","Action":"*","Resource":"*"}`), describe, ram.Decision{Allowed: true, Statement: 1}},
		"allow/question mark one char":        {doc(`{"Effect":"Allow","Action":"yundun-cert:?escribe*","Resource":"*"}`), describe, ram.Decision{Allowed: true, Statement: 0}},
		"allow/case-insensitive pattern":      {doc(`{"Effect":"Allow","Action":"YUNDUN-CERT:describe*","Resource":"*"}`), describe, ram.Decision{Allowed: true, Statement: 0}},
		"allow/case-insensitive action":       {readOnly, "Yundun-Cert:DESCRIBEClientCertificateStatus", ram.Decision{Allowed: true, Statement: 0}},
		"allow/resource ARN of service":       {doc(`{"Effect":"Allow","Action":"yundun-cert:*","Resource":"acs:yundun-cert:*:*:*"}`), describe, ram.Decision{Allowed: true, Statement: 0}},
		"allow/resource ARN any service":      {doc(`{"Effect":"Allow","Action":"yundun-cert:*","Resource":"acs:*:*:*:*"}`), describe, ram.Decision{Allowed: true, Statement: 0}},
		"allow/resource short acs:*":          {doc(`{"Effect":"Allow","Action":"yundun-cert:*","Resource":"acs:*"}`), describe, ram.Decision{Allowed: true, Statement: 0}},
		"allow/one resource of several":       {doc(`{"Effect":"Allow","Action":"yundun-cert:*","Resource":["acs:ecs:*:*:*","acs:yundun-cert:*:*:*"]}`), describe, ram.Decision{Allowed: true, Statement: 0}},
		"allow/NotAction everything else":     {doc(`{"Effect":"Allow","NotAction":"yundun-cert:Delete*","Resource":"*"}`), revoke, ram.Decision{Allowed: true, Statement: 0}},
		"allow/Deny NotAction spares list":    {doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","NotAction":["yundun-cert:Describe*","yundun-cert:List*"],"Resource":"*"}`), describe, ram.Decision{Allowed: true, Statement: 0}},
		"allow/single statement object":       {`{"Version":"1","Statement":{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*"}}`, describe, ram.Decision{Allowed: true, Statement: 0}},
		"deny/explicit wins over allow":       {readOnly, "yundun-cert:DeleteClientCertificate", ram.Decision{ExplicitDeny: true, Statement: 1}},
		"deny/explicit before allow":          {doc(`{"Effect":"Deny","Action":"*","Resource":"*"}`, `{"Effect":"Allow","Action":"*","Resource":"*"}`), describe, ram.Decision{ExplicitDeny: true, Statement: 0}},
		"deny/explicit case-insensitive":      {readOnly, "yundun-cert:deleteclientcertificate", ram.Decision{ExplicitDeny: true, Statement: 1}},
		"deny/first matching Deny":            {doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"yundun-cert:Delete*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"*"}`), del, ram.Decision{ExplicitDeny: true, Statement: 1}},
		"deny/NotAction denies the rest":      {doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","NotAction":["yundun-cert:Describe*","yundun-cert:List*"],"Resource":"*"}`), revoke, ram.Decision{ExplicitDeny: true, Statement: 1}},
		"deny/implicit no match":              {readOnly, revoke, ram.Decision{Statement: -1}},
		"deny/implicit other service":         {ram.AllowAll, "ecs:DescribeInstances", ram.Decision{Statement: -1}},
		"deny/implicit service prefix":        {doc(`{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*"}`), "yundun-certx:Describe", ram.Decision{Statement: -1}},
		"deny/implicit NotAction excludes":    {doc(`{"Effect":"Allow","NotAction":"yundun-cert:Delete*","Resource":"*"}`), del, ram.Decision{Statement: -1}},
		"deny/implicit NotAction star":        {doc(`{"Effect":"Allow","NotAction":"*","Resource":"*"}`), describe, ram.Decision{Statement: -1}},
		"deny/implicit question mark":         {doc(`{"Effect":"Allow","Action":"yundun-cert:?Describe*","Resource":"*"}`), describe, ram.Decision{Statement: -1}},
		"deny/implicit no prefix match":       {doc(`{"Effect":"Allow","Action":"yundun-cert:Describe","Resource":"*"}`), describe, ram.Decision{Statement: -1}},
		"deny/implicit empty statements":      {`{"Version":"1","Statement":[]}`, describe, ram.Decision{Statement: -1}},
		"deny/implicit empty action":          {ram.AllowAll, "", ram.Decision{Statement: -1}},
		"deny/other resource never applies":   {doc(`{"Effect":"Allow","Action":"*","Resource":"acs:ecs:*:*:instance/*"}`), describe, ram.Decision{Statement: -1}},
		"deny/Deny on other resource ignored": {doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"acs:oss:*:*:bucket"}`), describe, ram.Decision{Allowed: true, Statement: 0}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mustParse(t, tc.doc).Evaluate(ram.Request{Action: tc.action})
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestEvaluate_NilPolicy(t *testing.T) {
	var p *ram.Policy
	got := p.Evaluate(ram.Request{Action: describe})
	if want := (ram.Decision{Statement: -1}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestDecision_NoPermissionType(t *testing.T) {
	cases := map[string]struct {
		d    ram.Decision
		want string
	}{
		"deny/explicit": {ram.Decision{ExplicitDeny: true, Statement: 1}, "ExplicitDeny"},
		"deny/implicit": {ram.Decision{Statement: -1}, "ImplicitDeny"},
		"allow/empty":   {ram.Decision{Allowed: true}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.d.NoPermissionType(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParse_Valid(t *testing.T) {
	cases := map[string]string{
		"AllowAll":          ram.AllowAll,
		"pretty-printed":    "{\n  \"Version\": \"1\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"yundun-cert:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n",
		"single object":     `{"Version":"1","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`,
		"empty statements":  `{"Version":"1","Statement":[]}`,
		"key order free":    `{"Statement":[{"Resource":["*"],"Action":["*"],"Effect":"Allow"}],"Version":"1"}`,
		"empty Condition":   doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}`),
		"other ARN":         doc(`{"Effect":"Allow","Action":"ecs:*","Resource":"acs:ecs:cn-hangzhou:123:instance/i-1"}`),
		"service wildcard":  doc(`{"Effect":"Allow","Action":"*:Describe*","Resource":"*"}`),
		"dotted names":      doc(`{"Effect":"Allow","Action":"svc.x:Do_It-2","Resource":"*"}`),
		"Condition all ops": doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"},"NotIpAddress":{"ACS:SOURCEIP":["10.9.0.0/16","2001:db8::/32"]},"DateGreaterThan":{"acs:CurrentTime":"2020-01-01T00:00:00Z"},"DateGreaterThanEquals":{"acs:CurrentTime":"2020-01-01T00:00:00+08:00"},"DateLessThan":{"acs:currenttime":"2030-01-01T00:00:00.5Z"},"DateLessThanEquals":{"acs:CurrentTime":["2030-01-01T00:00:00Z"]},"Bool":{"acs:SecureTransport":"TRUE"}}}`),
	}
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ram.Parse(d); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

func TestParse_Errors(t *testing.T) {
	allow := func(rest string) string {
		return doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Allow"`+rest+`}`)
	}
	cond := func(c string) string { return allow(`,"Action":"*","Resource":"*","Condition":` + c) }
	cases := map[string]struct {
		doc  string
		want string
	}{
		"error/empty document":       {``, "ram: invalid policy document: EOF"},
		"error/bad JSON":             {`{"Version":"1",`, "ram: invalid policy document"},
		"error/not an object":        {`[]`, "ram: invalid policy document: must be a JSON object"},
		"error/trailing data":        {ram.AllowAll + `{}`, "unexpected data after the JSON object"},
		"error/duplicate top key":    {`{"Version":"1","Version":"1","Statement":[]}`, `ram: invalid policy document: duplicate key "Version"`},
		"error/Version 2":            {`{"Version":"2","Statement":[]}`, `ram: Version "2" must be "1"`},
		"error/Version number":       {`{"Version":1,"Statement":[]}`, `ram: Version 1 must be "1"`},
		"error/missing Version":      {`{"Statement":[]}`, "ram: Version is required"},
		"error/missing Statement":    {`{"Version":"1"}`, "ram: Statement is required"},
		"error/Statement string":     {`{"Version":"1","Statement":"x"}`, "ram: Statement must be an array or an object"},
		"error/Statement null":       {`{"Version":"1","Statement":null}`, "ram: Statement must be an array or an object"},
		"error/unknown top key":      {`{"Version":"1","Statement":[],"Id":"x"}`, `ram: unknown key "Id"`},
		"error/lower-case top key":   {`{"version":"1","Statement":[]}`, `ram: unknown key "version" (keys are case-sensitive: use "Version")`},
		"error/statement not object": {doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `"x"`), "ram: statement 1: must be a JSON object"},
		"error/missing Effect":       {doc(`{"Action":"*","Resource":"*"}`), "ram: statement 0: Effect is required"},
		"error/duplicate Effect":     {allow(`,"Action":"*","Resource":"*","Effect":"allow"`), `duplicate key "Effect"`},
		"error/Effect allow":         {doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"allow","Action":"*","Resource":"*"}`), `ram: statement 2: Effect "allow" must be Allow or Deny`},
		"error/Effect not string":    {doc(`{"Effect":true,"Action":"*","Resource":"*"}`), `ram: statement 0: Effect true must be Allow or Deny`},
		"error/Action and NotAction": {allow(`,"Action":"*","NotAction":"ecs:*","Resource":"*"`), "ram: statement 1: Action and NotAction are mutually exclusive"},
		"error/no Action":            {allow(`,"Resource":"*"`), "ram: statement 1: Action or NotAction is required"},
		"error/empty Action array":   {allow(`,"Action":[],"Resource":"*"`), "ram: statement 1: Action: must not be an empty array"},
		"error/Action not string":    {allow(`,"Action":["*",1],"Resource":"*"`), "ram: statement 1: Action: element 1 is not a string"},
		"error/Action object":        {allow(`,"NotAction":{},"Resource":"*"`), "ram: statement 1: NotAction: must be a string or an array of strings"},
		"error/Action without colon": {allow(`,"Action":"Describe*","Resource":"*"`), `ram: statement 1: Action "Describe*": must be "*" or "<service>:<action>"`},
		"error/Action empty name":    {allow(`,"Action":"yundun-cert:","Resource":"*"`), `must be "*" or "<service>:<action>"`},
		"error/Action space":         {allow(`,"Action":"yundun-cert: Describe*","Resource":"*"`), `ram: statement 1: Action "yundun-cert: Describe*": invalid character ' '`},
		"error/Action two colons":    {allow(`,"Action":"a:b:c","Resource":"*"`), `invalid character ':'`},
		"error/missing Resource":     {allow(`,"Action":"*"`), "ram: statement 1: Resource is required"},
		"error/Resource not ARN":     {allow(`,"Action":"*","Resource":"cert/1"`), `ram: statement 1: Resource "cert/1": must be "*" or an ARN starting with "acs:"`},
		"error/Resource no service":  {allow(`,"Action":"*","Resource":"acs::x"`), `ram: statement 1: Resource "acs::x": ARN has no service field`},
		"error/Resource empty array": {allow(`,"Action":"*","Resource":[]`), "ram: statement 1: Resource: must not be an empty array"},
		"error/Resource one certificate": {allow(`,"Action":"yundun-cert:*","Resource":"acs:yundun-cert:*:*:certificate/0123456789abcdef0123456789abcdef"`),
			`ram: statement 1: Resource "acs:yundun-cert:*:*:certificate/0123456789abcdef0123456789abcdef": resource-level scoping is not supported`},
		"error/Resource one account":     {allow(`,"Action":"yundun-cert:*","Resource":"acs:yundun-cert:*:123456:*"`), "resource-level scoping is not supported"},
		"error/Resource one region":      {allow(`,"Action":"yundun-cert:*","Resource":"acs:yundun-cert:cn-hangzhou:*:*"`), "resource-level scoping is not supported"},
		"error/Resource any service CA":  {allow(`,"Action":"*","Resource":"acs:*:*:*:ca/*"`), "resource-level scoping is not supported"},
		"error/Resource glob service":    {allow(`,"Action":"*","Resource":["*","acs:yundun-*:*:*:certificate/x"]`), "resource-level scoping is not supported"},
		"error/Resource bare service":    {allow(`,"Action":"*","Resource":"acs:yundun-cert"`), "resource-level scoping is not supported"},
		"error/Resource too many fields": {allow(`,"Action":"*","Resource":"acs:yundun-cert:*:*:*:*"`), "resource-level scoping is not supported"},
		"error/scoped Deny too":          {doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"acs:yundun-cert:*:*:certificate/x"}`), "resource-level scoping is not supported"},
		"error/unknown key":              {allow(`,"Action":"*","Resource":"*","Sid":"x"`), `ram: statement 1: unknown key "Sid"`},
		"error/NotResource":              {allow(`,"Action":"*","NotResource":"*"`), `ram: statement 1: unknown key "NotResource"`},
		"error/Condition not object":     {cond(`[]`), "ram: statement 1: Condition: must be a JSON object"},
		"error/unknown operator":         {cond(`{"StringEquals":{"acs:SourceIp":"x"}}`), `ram: statement 1: Condition: unknown operator "StringEquals"`},
		"error/operator case":            {cond(`{"ipaddress":{"acs:SourceIp":"10.0.0.1"}}`), `unknown operator "ipaddress"`},
		"error/IfExists operator":        {cond(`{"IpAddressIfExists":{"acs:SourceIp":"10.0.0.1"}}`), `unknown operator "IpAddressIfExists"`},
		"error/unknown condition key":    {cond(`{"IpAddress":{"acs:UserAgent":"x"}}`), `ram: statement 1: Condition: IpAddress: unknown condition key "acs:UserAgent"`},
		"error/key of other operator":    {cond(`{"Bool":{"acs:SourceIp":"true"}}`), `ram: statement 1: Condition: Bool: operator does not apply to key "acs:SourceIp"`},
		"error/no condition keys":        {cond(`{"Bool":{}}`), "ram: statement 1: Condition: Bool: no condition keys"},
		"error/operator not object":      {cond(`{"Bool":"true"}`), "ram: statement 1: Condition: Bool: must be a JSON object"},
		"error/empty values":             {cond(`{"Bool":{"acs:SecureTransport":[]}}`), "Bool: acs:SecureTransport: must not be an empty array"},
		"error/bool literal value":       {cond(`{"Bool":{"acs:SecureTransport":true}}`), "Bool: acs:SecureTransport: must be a string or an array of strings"},
		"error/bad bool":                 {cond(`{"Bool":{"acs:SecureTransport":"yes"}}`), `Bool: acs:SecureTransport: "yes" is not true or false`},
		"error/bad CIDR":                 {cond(`{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","10.0.0.0/33"]}}`), `ram: statement 1: Condition: IpAddress: acs:SourceIp: "10.0.0.0/33" is not an IP address or CIDR prefix`},
		"error/bad IPv6 CIDR":            {cond(`{"NotIpAddress":{"acs:SourceIp":"2001:db8::/129"}}`), `"2001:db8::/129" is not an IP address or CIDR prefix`},
		"error/bad IP":                   {cond(`{"IpAddress":{"acs:SourceIp":"10.0.0.256"}}`), `"10.0.0.256" is not an IP address or CIDR prefix`},
		"error/IP with zone":             {cond(`{"IpAddress":{"acs:SourceIp":"fe80::1%eth0"}}`), `"fe80::1%eth0" is not an IP address or CIDR prefix`},
		"error/bad date":                 {cond(`{"DateLessThan":{"acs:CurrentTime":"2020-13-01T00:00:00Z"}}`), `ram: statement 1: Condition: DateLessThan: acs:CurrentTime: "2020-13-01T00:00:00Z" is not an RFC 3339 time`},
		"error/date without zone":        {cond(`{"DateLessThan":{"acs:CurrentTime":"2020-01-01T00:00:00"}}`), "is not an RFC 3339 time"},
		"error/duplicate condition":      {cond(`{"Bool":{"acs:SecureTransport":"true"},"Bool":{"acs:SecureTransport":"false"}}`), `Condition: duplicate key "Bool"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := ram.Parse(tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want error containing %q", p, err, tc.want)
			}
		})
	}
}

func TestParse_ErrorsWrapJSON(t *testing.T) {
	_, err := ram.Parse(`{"Version":`)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("got %v, want a wrapped JSON error", err)
	}
	_, err = ram.Parse(`{"Version":"1",]`)
	if !errors.As(err, &syn) {
		t.Errorf("got %v, want a wrapped *json.SyntaxError", err)
	}
}
