// Command fakenode runs the project's fake Qortal node (internal/qortalnode/
// nodefake; this is only a launcher) as a process for the browser tests of
// the Q-Apps gateway. It publishes the fixture app as APP "Fixture" and a
// second APP "Staff-Tools", registers the names given with --name, and
// writes the node's API key to --api-key-file.
//
// It prints {"url": "..."} on one stdout line once serving, and stops when
// its standard input closes or on a signal. A test republishes an app with
// POST /_fake/publish {"service","name","title","files":{path: text}}, and resets an
// account to one without a transaction (no public key on chain) with POST /_fake/account
// {"address","balance"}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fakenode:", err)
		os.Exit(2)
	}
}

type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(v string) error { *n = append(*n, v); return nil }

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakenode", flag.ContinueOnError)
	keyFile := fs.String("api-key-file", "", "where to write the node's API key (required)")
	var regs names
	fs.Var(&regs, "name", "NAME=ADDRESS[=PUBLICKEY] to register (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyFile == "" {
		return errors.New("--api-key-file is required")
	}
	node := nodefake.NewHandler()
	if err := os.WriteFile(*keyFile, []byte(node.APIKey+"\n"), 0o600); err != nil {
		return err
	}
	for _, r := range regs {
		parts := strings.Split(r, "=")
		if len(parts) < 2 {
			return fmt.Errorf("--name %q: want NAME=ADDRESS[=PUBLICKEY]", r)
		}
		node.RegisterName(parts[0], parts[1])
		acct := nodefake.Account{Address: parts[1], Balance: "12.50000000"}
		if len(parts) > 2 {
			acct.PublicKey = parts[2]
		}
		node.AddAccount(acct)
	}
	node.Publish("APP", "Fixture", "", "Fixture app", nodefake.FixtureApp())
	node.Publish("APP", "Staff-Tools", "", "Staff tools", nodefake.FixtureApp())

	mux := http.NewServeMux()
	mux.Handle("/", node)
	mux.HandleFunc("POST /_fake/publish", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Service, Name, Identifier, Title string
			Files                            map[string]string
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		files := map[string][]byte{}
		for p, body := range in.Files {
			files[p] = []byte(body)
		}
		sig := node.Publish(in.Service, in.Name, in.Identifier, in.Title, files)
		_ = json.NewEncoder(w).Encode(map[string]string{"signature": sig})
	})
	// An account as before its first transaction: the node forgets its public key.
	mux.HandleFunc("POST /_fake/account", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Address, Balance string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Address == "" {
			http.Error(w, "want {address, balance}", http.StatusBadRequest)
			return
		}
		node.AddAccount(nodefake.Account{Address: in.Address, Balance: in.Balance})
		w.WriteHeader(http.StatusNoContent)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if err := json.NewEncoder(stdout).Encode(map[string]string{"url": "http://" + ln.Addr().String()}); err != nil {
		return fmt.Errorf("announce url: %w", err)
	}
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-ctx.Done():
	case <-eof:
	}
	return nil
}
