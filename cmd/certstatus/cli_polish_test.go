package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLI_SubcommandHelp: every command and every subcommand of a group
// answers --help with exit 0 and a usage line naming it, and lists only
// flags it binds itself: a subcommand shows no flag of its siblings.
func TestCLI_SubcommandHelp(t *testing.T) {
	c := newCLI(t, filepath.Join(t.TempDir(), "data"))
	flagLine := regexp.MustCompile(`(?m)^  -(\S+)`)
	check := func(command, sub string) {
		t.Helper()
		args := []string{command}
		name := command
		if sub != "" {
			args, name = append(args, sub), command+" "+sub
		}
		out, stderr, err := c.run(append(args, "--help")...)
		if err != nil {
			t.Errorf("%s --help: %v", name, err)
			return
		}
		help := out + stderr
		if !strings.Contains(help, "Usage: certstatus "+name) {
			t.Errorf("%s --help has no usage line naming it:\n%s", name, help)
		}
		fs, ok := flagsOf(command, sub)
		if !ok {
			t.Errorf("%s: no flag binding", name)
			return
		}
		for _, m := range flagLine.FindAllStringSubmatch(help, -1) {
			if fs.Lookup(m[1]) == nil {
				t.Errorf("%s --help lists -%s, which it does not accept", name, m[1])
			}
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if got := len(flagLine.FindAllString(help, -1)); got != n {
			t.Errorf("%s --help lists %d flags, it binds %d", name, got, n)
		}
	}
	for _, cmd := range commands() {
		subs := subcommandsOf(cmd.name)
		if subs == nil {
			if _, ok := leafOf(cmd.name); !ok {
				t.Errorf("command %s has neither subcommands nor a flag binding", cmd.name)
				continue
			}
			check(cmd.name, "")
			continue
		}
		for _, s := range subs {
			check(cmd.name, s.name)
		}
	}

	for _, tc := range []struct {
		args     []string
		synopsis string
		absent   []string
	}{
		{[]string{"cert", "show"}, "cert show ID", []string{"-reason", "-at", "-force"}},
		{[]string{"cert", "revoke"}, "cert revoke ID --reason R [--at T]", []string{"-pem", "-force"}},
		{[]string{"cert", "delete"}, "cert delete ID", []string{"-pem", "-reason"}},
		{[]string{"cert", "list"}, "cert list", []string{"-pem", "-cn"}},
		{[]string{"ca", "show"}, "ca show CA", []string{"-reason", "-parent"}},
		{[]string{"ca", "create-root"}, "ca create-root", []string{"-parent", "-eku", "-cert-max-days", "-pem"}},
		{[]string{"accesskey", "show"}, "accesskey show ID", []string{"-qps", "-owner", "-allow-all"}},
		{[]string{"accesskey", "delete"}, "accesskey delete ID", []string{"-policy"}},
		{[]string{"settings", "show"}, "settings show", []string{"-ocsp-url"}},
	} {
		_, help, err := c.run(append(tc.args, "--help")...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(help, "Usage: certstatus "+tc.synopsis) {
			t.Errorf("%v --help: no synopsis %q:\n%s", tc.args, tc.synopsis, help)
		}
		for _, f := range tc.absent {
			if regexp.MustCompile(`(?m)^  ` + f + `\b`).MatchString(help) {
				t.Errorf("%v --help lists %s", tc.args, f)
			}
		}
	}
	// A flag of a sibling is refused, not ignored.
	c.fails("flag provided but not defined: -reason", "cert", "show", "0123456789abcdef0123456789abcdef", "--reason", "superseded")
}

// TestCLI_JSONAndCAAliases: every command that prints something prints
// JSON with --json, offline and through the server; a CA alias works
// wherever a CA identifier does (cert issue --ca, cert list --ca, ca
// create-sub --parent, ca show/revoke/disable/enable, crl fetch --ca); an
// alias two CAs carry is an error naming both.
func TestCLI_JSONAndCAAliases(t *testing.T) {
	e := newOCSPEnv(t)
	c := e.c
	decode := func(args ...string) map[string]any {
		t.Helper()
		out := c.ok(append(args, "--json")...)
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v --json: not JSON: %v\n%s", args, err, out)
		}
		switch v := v.(type) {
		case map[string]any:
			return v
		case []any:
			return map[string]any{"List": v}
		}
		t.Fatalf("%v --json: %T", args, v)
		return nil
	}
	var root, sub, old certView
	c.json(&root, "ca", "create-root", "--cn", "Alias Root", "--o", "Example", "--c", "US", "--alias", "alias-root")
	c.json(&sub, "ca", "create-sub", "--parent", "alias-root", "--cn", "Alias Sub", "--o", "Example", "--c", "US", "--alias", "alias-sub")
	if sub.ParentIdentifier != root.Identifier || sub.Alias != "alias-sub" {
		t.Fatalf("create-sub --parent alias-root: %+v (root %s)", sub, root.Identifier)
	}
	c.json(&old, "ca", "create-sub", "--parent", root.Identifier, "--cn", "Old Sub", "--o", "Example", "--c", "US", "--alias", "alias-old")
	var shown certView
	c.json(&shown, "ca", "show", "alias-sub")
	if shown.Identifier != sub.Identifier {
		t.Errorf("ca show alias-sub: %s, want %s", shown.Identifier, sub.Identifier)
	}
	if v := decode("ca", "disable", "alias-sub"); v["Disabled"] != true || v["Identifier"] != sub.Identifier {
		t.Errorf("ca disable alias-sub: %v", v)
	}
	if v := decode("ca", "enable", "alias-sub"); v["Disabled"] != nil || v["Identifier"] != sub.Identifier {
		t.Errorf("ca enable alias-sub: %v", v)
	}
	if v := decode("ca", "revoke", "alias-old", "--reason", "cessationOfOperation"); v["Status"] != "REVOKE" || v["Identifier"] != old.Identifier {
		t.Errorf("ca revoke alias-old: %v", v)
	}
	outDir := t.TempDir()
	var issued struct{ Certificate certView }
	c.json(&issued, "cert", "issue", "--ca", "alias-sub", "--cn", "alias.example", "--out-dir", outDir)
	if issued.Certificate.ParentIdentifier != sub.Identifier {
		t.Errorf("cert issue --ca alias-sub: issuer %s, want %s", issued.Certificate.ParentIdentifier, sub.Identifier)
	}
	var listed struct{ Certificates []certView }
	c.json(&listed, "cert", "list", "--ca", "alias-sub")
	if len(listed.Certificates) != 1 || listed.Certificates[0].Identifier != issued.Certificate.Identifier {
		t.Errorf("cert list --ca alias-sub: %+v", listed.Certificates)
	}

	// Ambiguous and unknown aliases.
	var twin1, twin2 certView
	c.json(&twin1, "ca", "create-root", "--cn", "Twin 1", "--o", "Example", "--c", "US", "--alias", "twin")
	c.json(&twin2, "ca", "create-root", "--cn", "Twin 2", "--o", "Example", "--c", "US", "--alias", "twin")
	for _, args := range [][]string{{"ca", "show", "twin"}, {"cert", "list", "--ca", "twin"}, {"cert", "issue", "--ca", "twin", "--cn", "x", "--out-dir", outDir}} {
		err := c.fails("names 2 CAs", args...)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), twin1.Identifier) || !strings.Contains(err.Error(), twin2.Identifier) {
			t.Errorf("%v: %v, want a usage error naming both CAs", args, err)
		}
	}
	c.fails("neither a CA identifier", "ca", "show", "no-such-alias")
	c.fails("32 hex characters", "ca", "enable", "no-such-alias")

	// --json on everything else that prints.
	if v := decode("version"); v["Version"] == nil {
		t.Errorf("version: %v", v)
	}
	if v := decode("check"); v["OK"] != true {
		t.Errorf("check: %v", v)
	}
	bfile := filepath.Join(t.TempDir(), "copy.db")
	if v := decode("backup", "--out", bfile); v["File"] != bfile || v["Bytes"].(float64) <= 0 || v["From"] == "" {
		t.Errorf("backup: %v", v)
	}
	if v := decode("audit", "list", "--limit", "2"); len(v["List"].([]any)) != 2 {
		t.Errorf("audit list: %v", v)
	}
	if v := decode("audit", "verify"); v["OK"] != true {
		t.Errorf("audit verify: %v", v)
	}
	if v := decode("settings", "show"); v["ocsp_url"] == nil {
		t.Errorf("settings show: %v", v)
	}
	key := decode("accesskey", "create", "--owner", "json-test", "--read-only")
	id, _ := key["AccessKeyId"].(string)
	if id == "" || key["AccessKeySecret"] == "" {
		t.Fatalf("accesskey create: %v", key)
	}
	decode("accesskey", "list")
	decode("accesskey", "show", id)
	if v := decode("accesskey", "set", id, "--qps", "5"); v["QPS"] != float64(5) {
		t.Errorf("accesskey set: %v", v)
	}
	decode("accesskey", "disable", id)
	decode("accesskey", "enable", id)
	if v := decode("accesskey", "delete", id); v["AccessKeyId"] != id || v["Deleted"] != true {
		t.Errorf("accesskey delete: %v", v)
	}
	decode("ca", "list")
	decode("cert", "show", issued.Certificate.Identifier)
	decode("cert", "revoke", issued.Certificate.Identifier, "--reason", "superseded")
	if v := decode("cert", "delete", issued.Certificate.Identifier); v["Deleted"] != true {
		t.Errorf("cert delete: %v", v)
	}
	caFile, _, leafFile, _, _ := externalCA(t, t.TempDir())
	if v := decode("import", "pem", "--bundle", leafFile, "--ca-cert", caFile); v["Added"] != float64(1) {
		t.Errorf("import pem: %v", v)
	}
	initDir := filepath.Join(t.TempDir(), "fresh")
	if v := decode("init", "--data", initDir, "--ocsp-url", "http://ocsp.json.example", "--no-ca"); len(v) == 0 {
		t.Errorf("init: %v", v)
	}

	// While serving: the alias resolves in the server, crl fetch and ocsp
	// fetch print JSON.
	leaf := e.issue(t, "--ca", "alias-sub", "--cn", "served.example")
	e.serve(t)
	c.env["CERTSTATUS_CRL_BASE_URL"] = e.ocsp
	if v := decode("ca", "show", "alias-sub"); v["Identifier"] != sub.Identifier {
		t.Errorf("ca show alias-sub through the server: %v", v)
	}
	crlOut := filepath.Join(t.TempDir(), "alias.crl")
	if v := decode("crl", "fetch", "--ca", "alias-sub", "--out", crlOut); v["CA"] != sub.Identifier || v["File"] != crlOut {
		t.Errorf("crl fetch --ca alias-sub through the server: %v", v)
	}
	subPEM := filepath.Join(t.TempDir(), "alias-sub.pem")
	os.WriteFile(subPEM, []byte(c.ok("ca", "show", "alias-sub", "--pem")), 0o644)
	if v := decode("ocsp", "fetch", "--cert", e.pem(leaf), "--issuer", subPEM, "--url", e.ocsp, "--out", filepath.Join(t.TempDir(), "r.der")); v["Status"] != "good" {
		t.Errorf("ocsp fetch: %v", v)
	}
	e.shutdown(t)

	// Offline, crl fetch looks the alias up in the data directory.
	cfg := &Config{Data: c.env["CERTSTATUS_DATA"]}
	env := &cmdEnv{stdout: os.Stdout, stderr: os.Stderr, getenv: c.getenv}
	if got, err := caIdentifierOf(context.Background(), env, cfg, "alias-sub"); err != nil || string(got) != sub.Identifier {
		t.Errorf("caIdentifierOf(alias-sub) offline: %v %v", got, err)
	}
	if got, err := caIdentifierOf(context.Background(), env, cfg, strings.ToUpper(sub.Identifier)); err != nil || string(got) != sub.Identifier {
		t.Errorf("caIdentifierOf(identifier): %v %v", got, err)
	}
	if _, err := caIdentifierOf(context.Background(), env, &Config{Data: t.TempDir()}, "alias-sub"); !errors.Is(err, errUsage) {
		t.Errorf("caIdentifierOf without a data directory: %v", err)
	}
}

// TestCompletion_Bash: the bash script parses, and its completion function
// completes commands, subcommands and a subcommand's own flags.
func TestCompletion_Bash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	c := newCLI(t, t.TempDir())
	script := filepath.Join(t.TempDir(), "certstatus.bash")
	if err := os.WriteFile(script, []byte(c.ok("completion", "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	complete := func(words ...string) string {
		t.Helper()
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prog := `source "$1"; COMP_WORDS=(` + strings.Join(quoted, " ") + `); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _certstatus; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, "-c", prog, "bash", script).CombinedOutput()
		if err != nil {
			t.Fatalf("completing %v: %v\n%s", words, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"certstatus", "ce"}, "cert"},
		{[]string{"certstatus", "cert", "re"}, "revoke"},
		{[]string{"certstatus", "cert", "revoke", "--re"}, "--reason"},
		{[]string{"certstatus", "cert", "revoke", "ID", "--reason", "superseded", "--a"}, "--at"},
		{[]string{"certstatus", "cert", "show", "--re"}, ""},
		{[]string{"certstatus", "ca", "create-sub", "--pa"}, "--parent --path-len"},
		{[]string{"certstatus", "serve", "--shut"}, "--shutdown-timeout"},
		{[]string{"certstatus", "completion", "z"}, "zsh"},
	} {
		if got := complete(tc.words...); got != tc.want {
			t.Errorf("%v<TAB>: %q, want %q", tc.words, got, tc.want)
		}
	}
	c.fails("want bash or zsh", "completion", "fish")
	c.fails("one shell", "completion")
}

// TestCompletion_Zsh: the zsh script parses (zsh -n).
func TestCompletion_Zsh(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh is not installed: cannot check the script's syntax")
	}
	c := newCLI(t, t.TempDir())
	script := filepath.Join(t.TempDir(), "_certstatus")
	if err := os.WriteFile(script, []byte(c.ok("completion", "zsh")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
}
