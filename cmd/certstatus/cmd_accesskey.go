package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ram"
)

// ReadOnlyPolicy allows every Describe*, List* and Get* action except the
// private-key export: status queries and listings, no changes, no secrets.
const ReadOnlyPolicy = ram.ReadOnly

func accessKeySubcommands() []subcommand {
	return []subcommand{
		{"create", "create an AccessKey (prints its secret once)", "accesskey create --owner NAME (--allow-all | --read-only | --policy FILE) [--qps N] [flags]", offline(bindAccessKeyCreate)},
		{"list", "list AccessKeys (never their secrets)", "accesskey list [flags]", offline(bindAccessKeyList)},
		{"show", "show one AccessKey (ID)", "accesskey show ID [flags]", offline(bindAccessKeyOne("show"))},
		{"set", "change an AccessKey's policy, QPS limit or owner (ID)", "accesskey set ID [--allow-all | --read-only | --policy FILE] [--qps N] [--owner NAME] [flags]", offline(bindAccessKeySet)},
		{"disable", "refuse requests signed with an AccessKey (ID)", "accesskey disable ID [flags]", offline(bindAccessKeyOne("disable"))},
		{"enable", "accept an AccessKey again (ID)", "accesskey enable ID [flags]", offline(bindAccessKeyOne("enable"))},
		{"delete", "remove an AccessKey for good (ID)", "accesskey delete ID [flags]", offline(bindAccessKeyOne("delete"))},
	}
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
	return runGroup(ctx, e, "accesskey", accessKeySubcommands(), args)
}

// accessKeyFlags are the flags of accesskey create and set.
type accessKeyFlags struct {
	policyFile   *string
	allowAll, ro *bool
	qps          *int
	owner        *string
}

func bindAccessKeyFlags(fs *flag.FlagSet) *accessKeyFlags {
	return &accessKeyFlags{
		policyFile: fs.String("policy", "", "RAM policy document (JSON file, Version \"1\")"),
		allowAll:   fs.Bool("allow-all", false, "allow every yundun-cert action (administrator)"),
		ro:         fs.Bool("read-only", false, "allow Describe*, List* and Get* actions only, never DescribeCertificatePrivateKey"),
		qps:        fs.Int("qps", -1, "requests per second per action for this key's owner (0: the server default, 10)"),
		owner:      fs.String("owner", "", "the user the key belongs to (QPS limits are per user)"),
	}
}

// policy returns the policy document the flags give, and whether they
// give one.
func (f *accessKeyFlags) policy(required bool) (string, bool, error) {
	n := 0
	for _, b := range []bool{*f.policyFile != "", *f.allowAll, *f.ro} {
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
	case *f.allowAll:
		return ram.AllowAll, true, nil
	case *f.ro:
		return ReadOnlyPolicy, true, nil
	}
	b, err := os.ReadFile(*f.policyFile)
	if err != nil {
		return "", false, fmt.Errorf("--policy: %w", err)
	}
	if _, err := ram.Parse(string(b)); err != nil {
		return "", false, fmt.Errorf("--policy %s: %w", *f.policyFile, err)
	}
	return string(b), true, nil
}

// showAccessKey prints one key, as JSON with --json.
func showAccessKey(e *cmdEnv, v accessKeyView, asJSON bool) error {
	if asJSON {
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

func bindAccessKeyCreate(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	f := bindAccessKeyFlags(fs)
	return func(s *service, pos []string) error {
		if len(pos) > 0 {
			return usageErr("accesskey create takes no arguments")
		}
		if *f.owner == "" {
			return usageErr("accesskey create needs --owner NAME")
		}
		doc, _, err := f.policy(true)
		if err != nil {
			return err
		}
		qps := max(*f.qps, 0)
		k, secret, err := s.newAccessKey(*f.owner, doc, qps)
		if err != nil {
			return err
		}
		if err := s.store.PutAccessKey(ctx, k); err != nil {
			return err
		}
		s.log.Info("access key created", "access_key", k.ID, "owner", k.Owner, "qps", k.QPS)
		v := keyView(k)
		v.AccessKeySecret = secret
		return showAccessKey(e, v, *asJSON)
	}
}

func bindAccessKeyList(ctx context.Context, e *cmdEnv, _ *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	return func(s *service, pos []string) error {
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
}

func bindAccessKeySet(ctx context.Context, e *cmdEnv, fs *flag.FlagSet, asJSON *bool) func(*service, []string) error {
	f := bindAccessKeyFlags(fs)
	return func(s *service, pos []string) error {
		if len(pos) != 1 {
			return usageErr("accesskey set needs exactly one AccessKeyId")
		}
		doc, changed, err := f.policy(false)
		if err != nil {
			return err
		}
		if !changed && *f.qps < 0 && *f.owner == "" {
			return usageErr("accesskey set needs --policy/--allow-all/--read-only, --qps or --owner")
		}
		k, err := s.store.UpdateAccessKey(ctx, pos[0], func(k *certs.AccessKey) error {
			if changed {
				k.Policy = doc
			}
			if *f.qps >= 0 {
				k.QPS = *f.qps
			}
			if *f.owner != "" {
				k.Owner = *f.owner
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.log.Info("access key changed", "access_key", k.ID, "owner", k.Owner, "qps", k.QPS, "disabled", k.Disabled)
		return showAccessKey(e, keyView(k), *asJSON)
	}
}

// accessKeyDeleted is what accesskey delete --json prints.
type accessKeyDeleted struct {
	AccessKeyId string `json:"AccessKeyId"`
	Deleted     bool   `json:"Deleted"`
}

// bindAccessKeyOne binds accesskey show, disable, enable or delete: one
// AccessKeyId and no flags of their own.
func bindAccessKeyOne(sub string) offlineBinder {
	return func(ctx context.Context, e *cmdEnv, _ *flag.FlagSet, asJSON *bool) func(*service, []string) error {
		return func(s *service, pos []string) error {
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
				if k, err = s.store.AccessKey(ctx, id); err != nil {
					return err
				}
				return showAccessKey(e, keyView(k), *asJSON)
			case "delete":
				if err := s.store.DeleteAccessKey(ctx, id); err != nil {
					return err
				}
				s.log.Info("access key deleted", "access_key", id)
				if *asJSON {
					return printJSON(e.stdout, accessKeyDeleted{AccessKeyId: id, Deleted: true})
				}
				fmt.Fprintf(e.stdout, "deleted %s\n", id)
				return nil
			}
			k, err = s.store.UpdateAccessKey(ctx, id, func(k *certs.AccessKey) error {
				k.Disabled = sub == "disable"
				return nil
			})
			if err != nil {
				return err
			}
			s.log.Info("access key changed", "access_key", k.ID, "owner", k.Owner, "qps", k.QPS, "disabled", k.Disabled)
			return showAccessKey(e, keyView(k), *asJSON)
		}
	}
}
