package nextcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

func TestNewValidatesConfig(t *testing.T) {
	good := Config{BaseURL: "https://cloud.example.org/", User: "svc", AppPassword: "pw"}
	cases := map[string]func(*Config){
		"relative URL":    func(c *Config) { c.BaseURL = "cloud.example.org" },
		"ftp URL":         func(c *Config) { c.BaseURL = "ftp://cloud.example.org" },
		"no host":         func(c *Config) { c.BaseURL = "https://" },
		"userinfo in URL": func(c *Config) { c.BaseURL = "https://svc:pw@cloud.example.org" },
		"query in URL":    func(c *Config) { c.BaseURL = "https://cloud.example.org/?x=1" },
		"no user":         func(c *Config) { c.User = "" },
		"no password":     func(c *Config) { c.AppPassword = "" },
		"bad version":     func(c *Config) { c.APIVersion = 3 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := good
			mutate(&cfg)
			if _, err := New(cfg); !errors.Is(err, ErrInvalid) {
				t.Fatalf("want ErrInvalid, got %v", err)
			}
		})
	}
	c, err := New(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.prefix != "/ocs/v2.php" || c.cfg.Timeout != 10*time.Second || c.cfg.MaxRetries != 2 || c.base != "https://cloud.example.org" {
		t.Fatalf("defaults not applied: %+v prefix %s base %s", c.cfg, c.prefix, c.base)
	}
}

func TestConfigNeverShowsPassword(t *testing.T) {
	cfg := Config{BaseURL: "https://x.example", User: "svc", AppPassword: svcPassword}
	var sb strings.Builder
	logger := slog.New(slog.NewJSONHandler(&sb, nil))
	logger.Info("cfg", "config", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg), sb.String()} {
		if strings.Contains(s, svcPassword) {
			t.Fatalf("password leaked: %s", s)
		}
	}
	if !strings.Contains(sb.String(), "x.example") {
		t.Fatalf("log lacks config: %s", sb.String())
	}
}

func TestProbe(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		u, err := e.c.Probe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != svcUser || !contains(u.Groups, "admin") {
			t.Fatalf("probe user %+v", u)
		}
	})
}

func TestProbeUnauthorized(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		t.Run("wrong password gives 401", func(t *testing.T) {
			e := newEnv(t, v, func(c *Config) { c.AppPassword = "wrong-" + svcPassword })
			_, err := e.c.Probe(context.Background())
			if asError(t, err, ErrUnauthorized).HTTPStatus != http.StatusUnauthorized {
				t.Fatalf("want HTTP 401: %v", err)
			}
			if got := e.fake.Requests(ocsfake.RouteCurrentUser); got != 1 {
				t.Fatalf("401 must not be retried, got %d requests", got)
			}
		})
		t.Run("OCS 403", func(t *testing.T) {
			e := newEnv(t, v)
			e.fake.FailNextOCS(ocsfake.RouteCurrentUser, http.StatusForbidden, "Logged in account must be an admin", 1)
			_, err := e.c.Probe(context.Background())
			if asError(t, err, ErrUnauthorized).OCSStatus != 403 {
				t.Fatalf("want OCS 403: %v", err)
			}
		})
		t.Run("proxy 403 page", func(t *testing.T) {
			e := newEnv(t, v)
			e.fake.FailNext(ocsfake.RouteCurrentUser, http.StatusForbidden, 1)
			_, err := e.c.Probe(context.Background())
			asError(t, err, ErrUnauthorized)
		})
		t.Run("server errors are not bad credentials", func(t *testing.T) {
			e := newEnv(t, v)
			e.fake.FailNext(ocsfake.RouteCurrentUser, http.StatusBadGateway, 10)
			_, err := e.c.Probe(context.Background())
			if asError(t, err, ErrUnexpected).HTTPStatus != http.StatusBadGateway {
				t.Fatalf("want 502: %v", err)
			}
		})
	})
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(Config{BaseURL: "http://" + addr, User: "svc", AppPassword: svcPassword, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Probe(context.Background())
	e := asError(t, err, ErrUnreachable)
	if e.HTTPStatus != 0 || errors.Is(err, ErrUnauthorized) {
		t.Fatalf("unreachable misreported: %v", err)
	}
	if strings.Contains(err.Error(), svcPassword) {
		t.Fatal("password in error")
	}
}

func TestRetriesOnlyIdempotentCalls(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddUser(ocsfake.User{ID: "alice"})

		e.fake.FailNext(ocsfake.RouteGetUser, http.StatusBadGateway, 2)
		if _, err := e.c.GetUser(ctx, "alice"); err != nil {
			t.Fatalf("GET should recover after retries: %v", err)
		}
		if got := e.fake.Requests(ocsfake.RouteGetUser); got != 3 {
			t.Fatalf("want 3 GET attempts, got %d", got)
		}

		e.fake.FailNext(ocsfake.RouteListUsers, http.StatusServiceUnavailable, 5)
		_, err := e.c.SearchUsers(ctx, "", 0, 0)
		asError(t, err, ErrUnavailable)
		if got := e.fake.Requests(ocsfake.RouteListUsers); got != 3 {
			t.Fatalf("want 1+MaxRetries search attempts, got %d", got)
		}

		e.fake.FailNext(ocsfake.RouteCreateUser, http.StatusBadGateway, 1)
		asError(t, e.c.CreateUser(ctx, NewUser{ID: "bob"}), ErrUnexpected)
		if got := e.fake.Requests(ocsfake.RouteCreateUser); got != 1 {
			t.Fatalf("create must not be retried, got %d", got)
		}

		e.fake.FailNext(ocsfake.RouteEditUser, http.StatusInternalServerError, 1)
		asError(t, e.c.EditUser(ctx, "alice", "email", "a@example.org"), ErrUnexpected)
		if got := e.fake.Requests(ocsfake.RouteEditUser); got != 1 {
			t.Fatalf("edit must not be retried, got %d", got)
		}

		// v1 reports server errors inside HTTP 200; they are retried too.
		e.fake.FailNextOCS(ocsfake.RouteGetUser, 996, "Internal Server Error", 1)
		if _, err := e.c.GetUser(ctx, "alice"); err != nil {
			t.Fatalf("OCS 996 should be retried: %v", err)
		}
	})
}

func TestRateLimited(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddUser(ocsfake.User{ID: "alice"})
		e.fake.SetRateLimited(true)
		_, err := e.c.GetUser(ctx, "alice")
		if re := asError(t, err, ErrRateLimited); re.RetryAfter != 30*time.Second {
			t.Fatalf("want Retry-After 30s, got %v", re.RetryAfter)
		}
		if !strings.Contains(err.Error(), "retry after 30s") {
			t.Fatalf("error lacks retry hint: %v", err)
		}
		if got := e.fake.Requests(ocsfake.RouteGetUser); got != 1 {
			t.Fatalf("429 must not be retried, got %d", got)
		}
		e.fake.SetRateLimited(false)

		// Brute-force protection answers an OCS 429 (HTTP 200 on v1).
		e.fake.FailNextOCS(ocsfake.RouteGetUser, http.StatusTooManyRequests, "Reached maximum delay", 1)
		_, err = e.c.GetUser(ctx, "alice")
		asError(t, err, ErrRateLimited)
	})
}

func TestEditUserThrottle(t *testing.T) {
	e := newEnv(t, 2)
	e.fake.AddUser(ocsfake.User{ID: "alice"})
	var err error
	n := 0
	for ; n < 60 && err == nil; n++ {
		err = e.c.EditUser(context.Background(), "alice", "email", "alice@example.org")
	}
	asError(t, err, ErrRateLimited)
	if n != 51 {
		t.Fatalf("throttle hit after %d edits, want 51", n)
	}
}

func TestTimeoutHonoured(t *testing.T) {
	e := newEnv(t, 2, func(c *Config) { c.Timeout = 50 * time.Millisecond; c.MaxRetries = -1 })
	e.fake.SetDelay(3 * time.Second)
	start := time.Now()
	_, err := e.c.Probe(context.Background())
	asError(t, err, ErrUnreachable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline cause: %v", err)
	}
	if time.Since(start) >= 3*time.Second {
		t.Fatal("client waited for the slow server instead of timing out")
	}
	if got := e.fake.Requests(ocsfake.RouteCurrentUser); got != 1 {
		t.Fatalf("MaxRetries<0 means no retry, got %d", got)
	}
}

func TestCallerCancellationStopsRetries(t *testing.T) {
	e := newEnv(t, 2, func(c *Config) { c.RetryBackoff = time.Hour })
	e.fake.FailNext(ocsfake.RouteCurrentUser, http.StatusBadGateway, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := e.c.Probe(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrUnexpected) {
		t.Fatalf("want unexpected with ctx cause, got %v", err)
	}
	if got := e.fake.Requests(ocsfake.RouteCurrentUser); got != 1 {
		t.Fatalf("backoff should have been cut short, got %d requests", got)
	}
}

func TestNonJSONBodies(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		e.fake.AddUser(ocsfake.User{ID: "alice"})
		// A proxy's HTML 404 must not read as "user not found".
		e.fake.FailNext(ocsfake.RouteGetUser, http.StatusNotFound, 1)
		_, err := e.c.GetUser(context.Background(), "alice")
		ue := asError(t, err, ErrUnexpected)
		if !strings.Contains(ue.Message, "<html>") || len(ue.Message) > 250 {
			t.Fatalf("want short snippet of the body, got %q", ue.Message)
		}
		e.fake.FailNext(ocsfake.RouteGetUser, http.StatusOK, 1)
		_, err = e.c.GetUser(context.Background(), "alice")
		asError(t, err, ErrUnexpected)
	})
}

// stripHeader drops OCS-APIRequest to check the client explains a 412.
type stripHeader struct{}

func (stripHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("OCS-APIRequest")
	return http.DefaultTransport.RoundTrip(r)
}

func TestCSRFRejection(t *testing.T) {
	e := newEnv(t, 2, func(c *Config) { c.HTTPClient = &http.Client{Transport: stripHeader{}} })
	_, err := e.c.Probe(context.Background())
	ce := asError(t, err, ErrUnexpected)
	if ce.HTTPStatus != http.StatusPreconditionFailed || !strings.Contains(ce.Message, "CSRF") {
		t.Fatalf("want explained 412: %v", err)
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		var errs []error
		add := func(err error) {
			if err != nil {
				errs = append(errs, err)
			}
		}
		add(e.c.CreateUser(ctx, NewUser{ID: "alice", Email: "alice@example.org"}))
		created, _ := e.fake.User("alice")
		if created.Password == "" {
			t.Fatal("fake did not record the password")
		}
		add(e.c.CreateUser(ctx, NewUser{ID: "alice"}))
		e.fake.RejectPasswords(true)
		add(e.c.CreateUser(ctx, NewUser{ID: "bob"}))
		e.fake.RejectPasswords(false)
		// A hostile or broken server echoing credentials back.
		e.fake.FailNextOCS(ocsfake.RouteCreateUser, 101, "bad "+svcPassword, 1)
		add(e.c.CreateUser(ctx, NewUser{ID: "carol"}))
		e.fake.FailNextOCS(ocsfake.RouteGetUser, 101, "echo "+svcPassword, 1)
		_, err := e.c.GetUser(ctx, "alice")
		add(err)
		e.fake.CrashAfterCreate(1)
		add(e.c.CreateUser(ctx, NewUser{ID: "dave"}))
		_, err = e.c.GetUser(ctx, "nobody")
		add(err)
		wrong := newEnv(t, v, func(c *Config) { c.AppPassword = "x" + svcPassword })
		_, err = wrong.c.Probe(ctx)
		add(err)

		if len(errs) < 6 {
			t.Fatalf("expected failures to inspect, got %d", len(errs))
		}
		secrets := []string{svcPassword, created.Password}
		if dave, ok := e.fake.User("dave"); ok {
			secrets = append(secrets, dave.Password)
		}
		for _, err := range errs {
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v", err), s) {
					t.Fatalf("secret in error %q", err)
				}
			}
		}
		logs := e.logs.String() + wrong.logs.String()
		if !strings.Contains(logs, "create_user") {
			t.Fatalf("debug logs missing: %s", logs)
		}
		for _, s := range secrets {
			if strings.Contains(logs, s) {
				t.Fatalf("secret in logs:\n%s", logs)
			}
		}
		if strings.Contains(logs, "Authorization") || strings.Contains(logs, "Basic ") {
			t.Fatalf("auth header in logs:\n%s", logs)
		}
	})
}

func TestObserve(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]string{}
	e := newEnv(t, 2, func(c *Config) {
		c.Observe = func(op, outcome string, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			got[op] = append(got[op], outcome)
		}
	})
	ctx := context.Background()
	_ = e.c.CreateUser(ctx, NewUser{ID: "alice"})
	_ = e.c.CreateUser(ctx, NewUser{ID: "alice"})
	_, _ = e.c.GetUser(ctx, "nobody")
	e.fake.SetRateLimited(true)
	_, _ = e.c.Probe(ctx)
	want := map[string][]string{
		opCreateUser: {"ok", "exists"},
		opGetUser:    {"not_found"},
		opProbe:      {"rate_limited"},
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func BenchmarkGetUser(b *testing.B) {
	e := newEnv(b, 2)
	e.fake.AddUser(ocsfake.User{ID: "alice", Groups: []string{"staff"}})
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.c.GetUser(ctx, "alice"); err != nil {
			b.Fatal(err)
		}
	}
}
