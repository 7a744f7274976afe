package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/acsclient"
	"github.com/certstatus/certstatus/internal/syncbuf"
)

// runCommandAction is the API action that runs a CLI command inside the
// server holding the data directory: the same code, the same output, on
// the server's open store and CA, so that the next OCSP answer sees a
// revocation at once. It is authorised as yundun-cert:CertstatusRunCommand
// (the admin key's AllowAll has it; no read-only key does), audited with
// the calling AccessKey as actor.
const runCommandAction = "CertstatusRunCommand"

// remoteCommands are the commands that may run through the server, with
// their subcommands (nil: every one). Left out: serve and init (they make
// a server or a directory), import (its inputs are directories and large
// files), backup and check (they read the file itself), crl, ocsp and
// api (they are clients already). settings set through the server stores
// the new settings, which it applies at its next start.
// check runs there on the open store: its values, indexes and bbolt's
// page consistency inside one read transaction.
var remoteCommands = map[string][]string{
	"ca": nil, "cert": nil, "accesskey": nil, "audit": nil, "check": {}, "settings": nil,
}

// remoteAllowed reports whether the command line args may run through
// the server, and how many of its first words name the command (1 for a
// command without subcommands, such as check; 2 for ca revoke).
func remoteAllowed(args []string) (int, bool) {
	if len(args) == 0 {
		return 0, false
	}
	subs, ok := remoteCommands[args[0]]
	switch {
	case !ok:
		return 0, false
	case subs != nil && len(subs) == 0: // no subcommands
		return 1, true
	case len(args) < 2 || strings.HasPrefix(args[1], "-"):
		return 0, false
	}
	return 2, subs == nil || slices.Contains(subs, args[1])
}

// Flags naming files on the caller's machine: the client sends an input
// file's bytes and the server writes them to a private temporary
// directory; the output directory of cert issue is the server's
// temporary directory, whose files go back to the client.
var (
	remoteInputFlags = []string{"csr", "policy"}
	remoteOutDirFlag = "out-dir"
	// remoteDroppedFlags are the caller's own: the server has its data
	// directory, master key and configuration.
	remoteDroppedFlags = []string{"data", "config", "master-key-file"}
)

// maxRemoteOutput bounds what one command may print through the server.
const maxRemoteOutput = 8 << 20

// remoteResult is the answer of runCommandAction.
type remoteResult struct {
	Stdout, Stderr string
	// Error is the command's error, empty on success; Usage marks a
	// command-line mistake (exit status 2).
	Error string
	Usage bool
	// Files are those the command wrote to its output directory, by base
	// name: mode and base64 contents.
	Files map[string]remoteFile
}

// outputBudget bounds what a command run through the server may print, in
// all: memory stays bounded however much a command would print.
type outputBudget struct {
	mu       sync.Mutex
	left     int
	exceeded bool
}

// errOutputBudget fails the writes past the budget.
var errOutputBudget = errors.New("output limit of a command run through the server reached")

func (b *outputBudget) writer(w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		b.mu.Lock()
		if len(p) > b.left {
			b.exceeded = true
			b.mu.Unlock()
			return 0, errOutputBudget
		}
		b.left -= len(p)
		b.mu.Unlock()
		return w.Write(p)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type remoteFile struct {
	Mode    os.FileMode
	Content string
}

// flagName returns the name of a flag argument ("--csr=x" → "csr") and
// its inline value.
func flagName(arg string) (name, value string, inline, ok bool) {
	if !strings.HasPrefix(arg, "-") || arg == "-" || arg == "--" {
		return "", "", false, false
	}
	name = strings.TrimLeft(arg, "-")
	name, value, inline = strings.Cut(name, "=")
	return name, value, inline, true
}

// remoteRunner is the server side of runCommandAction for service s.
func (s *service) remoteRunner() func(ctx context.Context, params url.Values) (map[string]any, error) {
	return func(ctx context.Context, params url.Values) (map[string]any, error) {
		var args []string
		if err := json.Unmarshal([]byte(params.Get("Args")), &args); err != nil || len(args) < 1 {
			return nil, fmt.Errorf("%w Args: want a JSON array of the command's arguments, command and subcommand first", certs.ErrInvalid)
		}
		words, ok := remoteAllowed(args)
		if !ok {
			return nil, fmt.Errorf("%w command %q: it does not run through the server; stop it to run the command on the data directory", certs.ErrInvalid, strings.Join(args[:min(2, len(args))], " "))
		}
		inputs := map[string]string{}
		if f := params.Get("Files"); f != "" {
			if err := json.Unmarshal([]byte(f), &inputs); err != nil {
				return nil, fmt.Errorf("%w Files: want a JSON object of base64 contents by flag name", certs.ErrInvalid)
			}
		}
		tmp, err := os.MkdirTemp("", "certstatus-remote-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		out := slices.Clone(args[:words])
		for i := words; i < len(args); i++ {
			name, value, inline, isFlag := flagName(args[i])
			if !isFlag {
				out = append(out, args[i])
				continue
			}
			takesValue := slices.Contains(remoteInputFlags, name) || name == remoteOutDirFlag || slices.Contains(remoteDroppedFlags, name)
			if takesValue && !inline {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("%w flag --%s needs a value", certs.ErrInvalid, name)
				}
				i++
				value = args[i]
			}
			switch {
			case slices.Contains(remoteDroppedFlags, name), name == remoteOutDirFlag:
				// the server's own; the output directory is set below
			case slices.Contains(remoteInputFlags, name):
				b, err := base64.StdEncoding.DecodeString(inputs[name])
				if err != nil || inputs[name] == "" {
					return nil, fmt.Errorf("%w Files: no contents for --%s %s", certs.ErrInvalid, name, value)
				}
				p := filepath.Join(tmp, "in-"+name)
				if err := os.WriteFile(p, b, 0o600); err != nil {
					return nil, err
				}
				out = append(out, "--"+name+"="+p)
			default:
				out = append(out, args[i])
			}
		}
		outDir := filepath.Join(tmp, "out")
		if err := os.Mkdir(outDir, 0o700); err != nil {
			return nil, err
		}
		if words == 2 && args[0] == "cert" && args[1] == "issue" {
			out = append(out, "--"+remoteOutDirFlag+"="+outDir)
		}
		var stdout, stderr syncbuf.Buffer
		budget := &outputBudget{left: maxRemoteOutput}
		e := &cmdEnv{stdout: budget.writer(&stdout), stderr: budget.writer(&stderr), getenv: func(string) string { return "" }, svc: s}
		runErr := runEnv(ctx, out, e)
		if budget.exceeded {
			return nil, fmt.Errorf("%w: the command printed more than %d bytes through the server; narrow it (cert list --limit N --after ID) or run it with the server stopped", certs.ErrInvalid, maxRemoteOutput)
		}
		res := remoteResult{Stdout: stdout.String(), Stderr: stderr.String()}
		if runErr != nil {
			res.Error, res.Usage = runErr.Error(), errors.Is(runErr, errUsage)
		}
		ents, err := os.ReadDir(outDir)
		if err != nil {
			return nil, err
		}
		for _, ent := range ents {
			fi, err := ent.Info()
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(outDir, ent.Name()))
			if err != nil {
				return nil, err
			}
			if res.Files == nil {
				res.Files = map[string]remoteFile{}
			}
			res.Files[ent.Name()] = remoteFile{Mode: fi.Mode().Perm(), Content: base64.StdEncoding.EncodeToString(b)}
		}
		// The paths printed name the caller's directory, not ours.
		res.Stdout = strings.ReplaceAll(res.Stdout, outDir, params.Get("OutDir"))
		var m map[string]any
		b, _ := json.Marshal(res)
		return m, json.Unmarshal(b, &m)
	}
}

// runRemote is the client side: args (command and subcommand first) run
// in the server c reaches, with the caller's input files sent and the
// output files written where the caller asked.
func runRemote(ctx context.Context, e *cmdEnv, c *acsclient.Client, args []string) error {
	files := map[string]string{}
	outDir := "."
	words, _ := remoteAllowed(args)
	for i := words; i < len(args); i++ {
		name, value, inline, isFlag := flagName(args[i])
		if !isFlag || !slices.Contains(remoteInputFlags, name) && name != remoteOutDirFlag {
			continue
		}
		if !inline {
			if i+1 >= len(args) {
				return usageErr("flag --%s needs a value", name)
			}
			value = args[i+1]
		}
		if name == remoteOutDirFlag {
			outDir = value
			continue
		}
		b, err := os.ReadFile(value)
		if err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		files[name] = base64.StdEncoding.EncodeToString(b)
	}
	argsJSON, _ := json.Marshal(args)
	filesJSON, _ := json.Marshal(files)
	raw, err := c.Call(ctx, runCommandAction, map[string]string{"Args": string(argsJSON), "Files": string(filesJSON), "OutDir": outDir})
	if err != nil {
		return fmt.Errorf("running %s through the server at %s: %w", strings.Join(args[:words], " "), c.Endpoint, err)
	}
	var res remoteResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("the server at %s answered %s with something else: %w", c.Endpoint, runCommandAction, err)
	}
	for name, f := range res.Files {
		if name != filepath.Base(name) || name == "." || name == ".." {
			return fmt.Errorf("the server sent a file named %q", name)
		}
		b, err := base64.StdEncoding.DecodeString(f.Content)
		if err != nil {
			return fmt.Errorf("the server sent %s undecodable: %w", name, err)
		}
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return err
		}
		p := filepath.Join(outDir, name)
		if err := os.WriteFile(p, b, f.Mode.Perm()|0o400); err != nil {
			return err
		}
		if err := os.Chmod(p, f.Mode.Perm()|0o400); err != nil {
			return err
		}
	}
	fmt.Fprint(e.stdout, res.Stdout)
	fmt.Fprint(e.stderr, res.Stderr)
	switch {
	case res.Error == "":
		return nil
	case res.Usage:
		return fmt.Errorf("%w: %s", errUsage, strings.TrimPrefix(res.Error, errUsage.Error()+": "))
	default:
		return errors.New(res.Error)
	}
}
