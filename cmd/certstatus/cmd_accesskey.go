package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ram"
)

// ReadOnlyPolicy allows every Describe*, List* and Get* action except the
// private-key export: status queries and listings, no changes, no secrets.
const ReadOnlyPolicy = ram.ReadOnly

var accessKeySubcommands = []subcommand{
	{"create", "create an AccessKey (prints its secret once)"},
	{"list", "list AccessKeys (never their secrets)"},
	{"show", "show one AccessKey (ID)"},
	{"set", "change an AccessKey's policy, QPS limit or owner (ID)"},
	{"disable", "refuse requests signed with an AccessKey (ID)"},
	{"enable", "accept an AccessKey again (ID)"},
	{"delete", "remove an AccessKey for good (ID)"},
}

// accessKeyView is how the CLI shows a key; the secret only at creation.
type accessKeyView struct {
	AccessKeyId     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret,omitempty"`
	Owner           string `json:"Owner"`
	Policy          string `json:"Policy"`
	QPS             int    `json:"QPS"`
	Disabled        bool   `json:"Disabled"`
	CreatedAt       string `json:"CreatedAt"`
}

func keyView(k certs.AccessKey) accessKeyView {
	// The policy as the API evaluates it: a read-only key of an older
	// version shows (and is) today's read-only policy.
	return accessKeyView{AccessKeyId: k.ID, Owner: k.Owner, Policy: ram.Current(k.Policy), QPS: k.QPS, Disabled: k.Disabled, CreatedAt: rfc3339(k.CreatedAt)}
}

func runAccessKey(ctx context.Context, e *cmdEnv, args []string) error {
	sub, args, done, err := pickSubcommand(e, "accesskey", accessKeySubcommands, args)
	if done {
		return err
	}
	fs := newFlagSet(e, "accesskey "+sub, "accesskey "+sub+" [flags]")
	cfg, resolve := bindConfig(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	var run func(*service, []string) error

	// policy flags, for create and set
	policyFile := fs.String("policy", "", "create/set: RAM policy document (JSON file, Version \"1\")")
	allowAll := fs.Bool("allow-all", false, "create/set: allow every yundun-cert action (administrator)")
	readOnly := fs.Bool("read-only", false, "create/set: allow Describe*, List* and Get* actions only, never DescribeCertificatePrivateKey")
	qps := fs.Int("qps", -1, "create/set: requests per second per action for this key's owner (0: the server default, 10)")
	owner := fs.String("owner", "", "create/set: the user the key belongs to (QPS limits are per user)")
	policy := func(required bool) (string, bool, error) {
		n := 0
		for _, b := range []bool{*policyFile != "", *allowAll, *readOnly} {
			if b {
				n++
			}
		}
		switch {
		case n > 1:
			return "", false, usageErr("give one of --policy, --allow-all, --read-only")
		case n == 0 && required:
			return "", false, usageErr("a policy is required: --policy FILE, --allow-all or --read-only")
		case n == 0:
			return "", false, nil
		case *allowAll:
			return ram.AllowAll, true, nil
		case *readOnly:
			return ReadOnlyPolicy, true, nil
		}
		b, err := os.ReadFile(*policyFile)
		if err != nil {
			return "", false, fmt.Errorf("--policy: %w", err)
		}
		if _, err := ram.Parse(string(b)); err != nil {
			return "", false, fmt.Errorf("--policy %s: %w", *policyFile, err)
		}
		return string(b), true, nil
	}
	show := func(v accessKeyView) error {
		if *asJSON {
			return printJSON(e.stdout, v)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "AccessKeyId:\t%s\n", v.AccessKeyId)
		if v.AccessKeySecret != "" {
			fmt.Fprintf(tw, "AccessKeySecret:\t%s\t(shown once; store it now)\n", v.AccessKeySecret)
		}
		fmt.Fprintf(tw, "Owner:\t%s\nQPS:\t%d\nDisabled:\t%v\nCreated:\t%s\nPolicy:\t%s\n", v.Owner, v.QPS, v.Disabled, v.CreatedAt, v.Policy)
		return tw.Flush()
	}

	switch sub {
	case "create":
		run = func(s *service, pos []string) error {
			if len(pos) > 0 {
				return usageErr("accesskey create takes no arguments")
			}
			if *owner == "" {
				return usageErr("accesskey create needs --owner NAME")
			}
			doc, _, err := policy(true)
			if err != nil {
				return err
			}
			if *qps < 0 {
				*qps = 0
			}
			k, secret, err := s.newAccessKey(*owner, doc, *qps)
			if err != nil {
				return err
			}
			if err := s.store.PutAccessKey(ctx, k); err != nil {
				return err
			}
			s.log.Info("access key created", "access_key", k.ID, "owner", k.Owner, "qps", k.QPS)
			v := keyView(k)
			v.AccessKeySecret = secret
			return show(v)
		}
	case "list":
		run = func(s *service, pos []string) error {
			if len(pos) > 0 {
				return usageErr("accesskey list takes no arguments")
			}
			keys, err := s.store.AccessKeys(ctx)
			if err != nil {
				return err
			}
			vs := make([]accessKeyView, 0, len(keys))
			for _, k := range keys {
				vs = append(vs, keyView(k))
			}
			if *asJSON {
				return printJSON(e.stdout, vs)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCESSKEYID\tOWNER\tQPS\tDISABLED\tCREATED")
			for _, v := range vs {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%v\t%s\n", v.AccessKeyId, v.Owner, v.QPS, v.Disabled, v.CreatedAt)
			}
			return tw.Flush()
		}
	case "show", "set", "disable", "enable", "delete":
		run = func(s *service, pos []string) error {
			if len(pos) != 1 {
				return usageErr("accesskey %s needs exactly one AccessKeyId", sub)
			}
			id := pos[0]
			var (
				k   certs.AccessKey
				err error
			)
			switch sub {
			case "show":
				k, err = s.store.AccessKey(ctx, id)
			case "delete":
				if err = s.store.DeleteAccessKey(ctx, id); err == nil {
					s.log.Info("access key deleted", "access_key", id)
					fmt.Fprintf(e.stdout, "deleted %s\n", id)
				}
				return err
			case "set":
				doc, changed, perr := policy(false)
				if perr != nil {
					return perr
				}
				if !changed && *qps < 0 && *owner == "" {
					return usageErr("accesskey set needs --policy/--allow-all/--read-only, --qps or --owner")
				}
				k, err = s.store.UpdateAccessKey(ctx, id, func(k *certs.AccessKey) error {
					if changed {
						k.Policy = doc
					}
					if *qps >= 0 {
						k.QPS = *qps
					}
					if *owner != "" {
						k.Owner = *owner
					}
					return nil
				})
			default:
				k, err = s.store.UpdateAccessKey(ctx, id, func(k *certs.AccessKey) error {
					k.Disabled = sub == "disable"
					return nil
				})
			}
			if err != nil {
				return err
			}
			if sub != "show" {
				s.log.Info("access key changed", "access_key", k.ID, "owner", k.Owner, "qps", k.QPS, "disabled", k.Disabled)
			}
			return show(keyView(k))
		}
	default:
		return usageErr("unknown accesskey subcommand %q (want create, list, show, set, disable, enable, delete)", sub)
	}
	return runOffline(e, fs, cfg, resolve, args, run)
}
