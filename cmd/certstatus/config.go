package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// Config is the configuration of one certstatus process. Every field can be
// set, from lowest to highest precedence, by its default, the JSON config
// file (--config or CERTSTATUS_CONFIG; keys are the flag names), the
// environment variable CERTSTATUS_<FLAG> (upper case, "-" → "_"), and the
// command-line flag. Values are parsed and checked once, by the resolver
// bindConfig returns, whose errors name the flag and where the value came
// from; the rest of the program reads typed fields. The fields the data
// directory's stored settings govern (OCSPURL, CRLBaseURL and the OCSP
// signer's) take the stored values when it opens (settings.go).
type Config struct {
	// Data is the data directory holding certstatus.db, master.key and
	// admin-accesskey.json. Default "./data".
	Data string
	// APIAddr is the JSON API listener. Default "127.0.0.1:8080".
	APIAddr string
	// OCSPAddr is the OCSP listener. Default "127.0.0.1:8888".
	OCSPAddr string
	// OCSPURL is the responder URL written into issued certificates' AIA
	// extension. Default "http://" + OCSPAddr.
	OCSPURL string
	// CRLBaseURL prefixes the CRL distribution point of issued certificates
	// (<CRLBaseURL>/crl/<ca>.crl). Default: OCSPURL.
	CRLBaseURL string
	// MasterKeyFile holds the 64-hex-character key sealing private keys at
	// rest. Default "<Data>/master.key", created on first use.
	MasterKeyFile string
	// CRLValidity is nextUpdate − thisUpdate of CRLs, 1h..720h. Default 24h.
	CRLValidity time.Duration
	// CRLRetention is how long an expired revoked certificate stays on the
	// CRL. Default 2160h (90 days).
	CRLRetention time.Duration
	// LogFormat is "text" or "json". Default "text".
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error". Default "info".
	LogLevel string

	// OCSP responder settings (serve).

	// OCSPValidity is nextUpdate − thisUpdate of OCSP answers, 8h..168h.
	// Default 24h.
	OCSPValidity time.Duration
	// OCSPRefreshAfter is the age at which pre-signed answers are
	// re-signed, 1m..OCSPValidity/2. Zero (the default): the responder's
	// default, a third of OCSPValidity.
	OCSPRefreshAfter time.Duration
	// OCSPRefreshShare is the share of the time the background refresh
	// works, 0.01..1. Default 0.05.
	OCSPRefreshShare float64
	// OCSPResponderValidity is the validity of delegated responder
	// certificates, at least twice OCSPValidity. Default 720h.
	OCSPResponderValidity time.Duration
	// OCSPSignWithCA signs with the CA key instead of a delegated
	// responder. Default false.
	OCSPSignWithCA bool
	// OCSPOmitCACert leaves the CA's certificate out of CA-signed answers;
	// a stored setting only (certstatus settings set --ocsp-omit-ca-cert).
	OCSPOmitCACert bool
	// OCSPResponderID is "byKey" (default) or "byName".
	OCSPResponderID string
	// OCSPUnknown is the answer for serials never issued: "unknown"
	// (default) or "revoked".
	OCSPUnknown string
	// OCSPMaxLive is the number of concurrent live signatures before
	// tryLater, at least 1. Default 64.
	OCSPMaxLive int
	// OCSPPathPrefix is the path prefix of GET requests. Default none.
	OCSPPathPrefix string
	// OCSPQuickHTTP answers plain pre-signed requests with certstatus's
	// own HTTP/1.1 reader. Default true.
	OCSPQuickHTTP bool
	// OCSPAnswerCache is the number of pre-signed answers kept in memory,
	// 0 (none) .. db.MaxAnswerCache. Default 10000.
	OCSPAnswerCache int

	// Connection caps of the listeners (serve). Zero (the default): 10000
	// (OCSP) and 1000 (API), lowered to fit RLIMIT_NOFILE.
	OCSPMaxConns int
	APIMaxConns  int

	// API transport security (serve; tls_config.go).

	// APITLS is --api-tls: auto, off or CERT,KEY. Default: auto when
	// APIAddr listens beyond loopback, off on loopback.
	APITLS apiTLSConfig
	// APIInsecurePlainHTTP allows --api-tls off beyond loopback. Default
	// false.
	APIInsecurePlainHTTP bool
	// APITLSNames are DNS names and IP addresses the auto certificate
	// carries besides the listener's own. Default none.
	APITLSNames []string
	// APITrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto count for acs:SourceIp and acs:SecureTransport.
	// Default none.
	APITrustedProxies []netip.Prefix

	// serve is true for a Config bound with the listeners' settings.
	serve bool
	// ocspURLDefaulted is true when OCSPURL was derived from OCSPAddr, so
	// serve may correct it once it knows the port it really bound.
	ocspURLDefaulted bool
	// crl is the parsed CRL policy.
	crl             ca.CRLPolicy
	crlURLDefaulted bool
	// from names, by flag, where each value not left at its default came
	// from ("the command line", "$CERTSTATUS_…", "config file …"): a
	// value given for a stored setting must agree with it (settings.go).
	from map[string]string
}

// setting binds one Config field to its flag, variable and default. set
// parses a value into the field; its error says what is wanted.
type setting struct {
	name    string
	def     string
	usage   string
	boolean bool // a yes/no flag: --name alone is true, --name=false
	numeric bool // the config file may give a JSON number
	set     func(v string) error
}

const maxDuration = time.Duration(1<<63 - 1)

func (c *Config) settings(withListeners bool) []setting {
	s := []setting{
		str("data", &c.Data, "./data", "data directory"),
		str("master-key-file", &c.MasterKeyFile, "", "master key file (default <data>/master.key)"),
		str("ocsp-url", &c.OCSPURL, "", "OCSP URL written into issued certificates (default http://<ocsp-addr>)"),
		str("crl-base-url", &c.CRLBaseURL, "", "CRL distribution point prefix (default <ocsp-url>)"),
		duration("crl-validity", &c.CRLValidity, "24h", "CRL validity (nextUpdate - thisUpdate), 1h..720h",
			time.Hour, 720*time.Hour, false, "want a duration from 1h to 720h"),
		duration("crl-retention", &c.CRLRetention, "2160h", "how long an expired revoked certificate stays on the CRL",
			0, maxDuration, false, "want a duration such as 2160h"),
		setting{name: "log-format", def: "text", usage: "log format: text or json", set: func(v string) error {
			if v != "text" && v != "json" {
				return errors.New("want a log format, text or json")
			}
			c.LogFormat = v
			return nil
		}},
		setting{name: "log-level", def: "info", usage: "log level: debug, info, warn or error", set: func(v string) error {
			if !slices.Contains([]string{"debug", "info", "warn", "error"}, v) {
				return errors.New("want a log level, debug, info, warn or error")
			}
			c.LogLevel = v
			return nil
		}},
		str("ocsp-addr", &c.OCSPAddr, "127.0.0.1:8888", "OCSP listen address"),
	}
	if withListeners {
		s = append(s,
			str("api-addr", &c.APIAddr, "127.0.0.1:8080", "JSON API listen address"),
			duration("ocsp-validity", &c.OCSPValidity, "24h", "OCSP response validity (nextUpdate - thisUpdate), 8h..168h",
				ocspsign.MinValidity, ocspsign.MaxValidity, false, "want a duration from 8h to 168h (answers valid outside 8h..168h break the CA/B BRs and the Microsoft root program)"),
			duration("ocsp-refresh-after", &c.OCSPRefreshAfter, "", "age at which pre-signed OCSP answers are re-signed, 1m..half the validity (default a third of --ocsp-validity)",
				time.Minute, maxDuration, true, "want a duration from 1m to half of --ocsp-validity"),
			setting{name: "ocsp-refresh-share", def: "0.05", numeric: true, usage: "share of the time the background refresh of pre-signed OCSP answers works (it sleeps the rest), 0.01..1", set: func(v string) error {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || !(f >= 0.01 && f <= 1) {
					return errors.New("want a number from 0.01 to 1")
				}
				c.OCSPRefreshShare = f
				return nil
			}},
			duration("ocsp-responder-validity", &c.OCSPResponderValidity, "720h", "validity of the delegated OCSP responder certificates (rotated automatically)",
				0, maxDuration, false, "want a duration such as 720h"),
			boolean("ocsp-sign-with-ca", &c.OCSPSignWithCA, "false", "sign OCSP responses with the CA key instead of a delegated responder"),
			oneOf("ocsp-responder-id", &c.OCSPResponderID, "byKey", "OCSP ResponderID: byKey or byName", "byKey", "byName"),
			oneOf("ocsp-unknown", &c.OCSPUnknown, "unknown", "answer for serials never issued: unknown, or revoked (RFC 6960 §2.2 certificateHold)", "unknown", "revoked"),
			integer("ocsp-max-live", &c.OCSPMaxLive, "64", "concurrent live OCSP signatures (nonces, several CertIDs) before tryLater",
				1, math.MaxInt, false, "want a positive number"),
			str("ocsp-path-prefix", &c.OCSPPathPrefix, "", "path prefix of OCSP GET requests, e.g. /ocsp"),
			boolean("ocsp-quick-http", &c.OCSPQuickHTTP, "true", "answer plain pre-signed OCSP requests with certstatus's own HTTP/1.1 reader, handing every other connection to net/http; false: net/http only"),
			integer("ocsp-max-conns", &c.OCSPMaxConns, "", "connections the OCSP listener holds open; at the cap the longest idle one is closed for a new one (default 10000, lowered to fit the descriptor limit)",
				minMaxConns, math.MaxInt, true, fmt.Sprintf("want a number of connections, at least %d", minMaxConns)),
			integer("api-max-conns", &c.APIMaxConns, "", "connections the API listener holds open; at the cap the longest idle one is closed for a new one (default 1000, lowered to fit the descriptor limit)",
				minMaxConns, math.MaxInt, true, fmt.Sprintf("want a number of connections, at least %d", minMaxConns)),
			integer("ocsp-answer-cache", &c.OCSPAnswerCache, "10000", "pre-signed OCSP answers kept in memory for the hot path, and an eighth as many serials found unknown (any database write retires them all); 0: none",
				0, db.MaxAnswerCache, false, fmt.Sprintf("want a number of answers from 0 (no cache) to %d", db.MaxAnswerCache)),
			setting{name: "api-tls", usage: "TLS on the API listener: auto (a certificate from certstatus's own CA, renewed; trust <data>/api-tls-ca.pem), off, or CERT,KEY (PEM files, re-read when they change) (default auto beyond loopback, off on loopback)", set: c.APITLS.parse},
			boolean("api-insecure-plain-http", &c.APIInsecurePlainHTTP, "false", "allow --api-tls off on an address beyond loopback (behind a TLS-terminating proxy)"),
			setting{name: "api-tls-names", usage: "DNS names and IP addresses the auto API certificate carries besides the listener's, comma-separated", set: parseHostList(&c.APITLSNames)},
			setting{name: "api-trusted-proxies", usage: "CIDR prefixes of proxies whose X-Forwarded-For and X-Forwarded-Proto count for acs:SourceIp and acs:SecureTransport, comma-separated (default none)", set: parsePrefixList(&c.APITrustedProxies)},
		)
	}
	return s
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return "CERTSTATUS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// bindConfig registers the config flags (and --config) on fs. Call
// resolve after fs.Parse: it applies the file, the environment and the
// flags over the defaults, and parses and checks every value (the only
// place config values are checked).
func bindConfig(fs *flag.FlagSet, withListeners bool) (*Config, func(getenv func(string) string) error) {
	c := &Config{serve: withListeners, from: map[string]string{}}
	settings := c.settings(withListeners)
	vals := make(map[string]*rawFlag, len(settings))
	for _, s := range settings {
		v := &rawFlag{v: s.def, boolean: s.boolean}
		vals[s.name] = v
		usage := s.usage + " [$" + envName(s.name) + "]"
		if s.boolean && s.def == "true" {
			usage = s.usage + " (--" + s.name + "=false turns it off) [$" + envName(s.name) + "]"
		}
		fs.Var(v, s.name, usage)
	}
	configFile := fs.String("config", "", "JSON config file; keys are flag names [$CERTSTATUS_CONFIG]")
	resolve := func(getenv func(string) string) error {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		type source struct{ value, from string }
		raw := make(map[string]source, len(settings))
		for _, s := range settings {
			raw[s.name] = source{s.def, "the default"}
		}
		path := *configFile
		if path == "" {
			path = getenv("CERTSTATUS_CONFIG")
		}
		if path != "" {
			file, err := readFile(path, settings)
			if err != nil {
				return err
			}
			for k, v := range file {
				raw[k] = source{v, "config file " + path}
			}
		}
		for _, s := range settings {
			if v, ok := lookupEnv(getenv, envName(s.name)); ok {
				raw[s.name] = source{v, "$" + envName(s.name)}
			}
			if set[s.name] {
				raw[s.name] = source{vals[s.name].v, "the command line"}
			}
			if err := s.set(raw[s.name].value); err != nil {
				return fmt.Errorf("config: --%s %q (from %s): %w", s.name, raw[s.name].value, raw[s.name].from, err)
			}
			if raw[s.name].from != "the default" {
				c.from[s.name] = raw[s.name].from
			}
		}
		return c.finish()
	}
	return c, resolve
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// readFile reads a JSON config file into raw values by flag name. Values
// are strings; a yes/no setting may also be a JSON boolean and a numeric
// one a JSON number.
func readFile(path string, settings []setting) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("config %s: not a JSON object: %w", path, err)
	}
	known := map[string]setting{}
	for _, s := range settings {
		known[s.name] = s
		known[strings.ReplaceAll(s.name, "-", "_")] = s
	}
	// One file serves serve and every command: a key of serve's that
	// this command does not use is ignored; a key no command knows is an
	// error.
	anyCommand := map[string]bool{}
	for _, s := range (&Config{}).settings(true) {
		anyCommand[s.name], anyCommand[strings.ReplaceAll(s.name, "-", "_")] = true, true
	}
	out := map[string]string{}
	var unknown []string
	for k, v := range m {
		s, ok := known[k]
		if !ok {
			if !anyCommand[k] {
				unknown = append(unknown, k)
			}
			continue
		}
		want := "a string"
		switch {
		case s.boolean:
			want = "true or false"
		case s.numeric:
			want = "a number"
		}
		switch v := v.(type) {
		case string:
			out[s.name] = v
		case bool:
			if !s.boolean {
				return nil, fmt.Errorf("config %s: %q must be %s", path, k, want)
			}
			out[s.name] = strconv.FormatBool(v)
		case float64:
			if !s.numeric {
				return nil, fmt.Errorf("config %s: %q must be %s", path, k, want)
			}
			out[s.name] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return nil, fmt.Errorf("config %s: %q must be %s", path, k, want)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("config %s: unknown key(s) %s", path, strings.Join(unknown, ", "))
	}
	return out, nil
}

// finish fills derived defaults and checks what involves several values.
func (c *Config) finish() error {
	if c.Data == "" {
		return fmt.Errorf("config: --data: the data directory is empty")
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.Data, "master.key")
	}
	if c.OCSPURL == "" {
		c.OCSPURL = "http://" + c.OCSPAddr
		c.ocspURLDefaulted = true
	}
	if c.CRLBaseURL == "" {
		c.CRLBaseURL = c.OCSPURL
		c.crlURLDefaulted = true
	}
	c.crl = ca.CRLPolicy{Validity: c.CRLValidity, Retention: c.CRLRetention}
	if !c.serve {
		return nil
	}
	if c.OCSPRefreshAfter != 0 && c.OCSPRefreshAfter > c.OCSPValidity/2 {
		return fmt.Errorf("config: --ocsp-refresh-after %v is outside 1m..%v (half of --ocsp-validity)", c.OCSPRefreshAfter, c.OCSPValidity/2)
	}
	if c.OCSPResponderValidity < 2*c.OCSPValidity {
		return fmt.Errorf("config: --ocsp-responder-validity %v must be at least twice --ocsp-validity (%v), so responses never outlive their signer", c.OCSPResponderValidity, c.OCSPValidity)
	}
	return c.finishAPITLS()
}

// boundOCSP replaces defaulted URLs that name port 0 with the address the
// OCSP listener really bound.
func (c *Config) boundOCSP(addr string) {
	if c.ocspURLDefaulted {
		c.OCSPURL = "http://" + addr
	}
	if c.crlURLDefaulted {
		c.CRLBaseURL = c.OCSPURL
	}
}
