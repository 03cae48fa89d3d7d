package policy

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// gatedProvisioner runs the real provisioning service, but each Upsert
// first announces itself and waits for a verdict: fail (as if Nextcloud
// broke) or go ahead. It orders two concurrent admissions precisely.
type gatedProvisioner struct {
	Provisioner
	entered chan chan bool // each call's verdict: true runs the real upsert, false fails
}

func (g *gatedProvisioner) Upsert(ctx context.Context, actor string, req provision.Request) (provision.Result, error) {
	verdict := make(chan bool)
	g.entered <- verdict
	if !<-verdict {
		return provision.Result{}, apierror.New(http.StatusBadGateway, "nextcloud_unreachable", "Nextcloud is unreachable")
	}
	return g.Provisioner.Upsert(ctx, actor, req)
}

// One address admitted by two requests at once with one invite, one failing
// and one succeeding, in either order: the invite must end up used, so no
// third address can create another account with it.
func TestInviteStaysSpentWhenConcurrentAdmissionsSplit(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"success_then_failure", "failure_then_success"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, storetest.Open(t, storetest.SQLite), ModeAutoProvision, GuardInvite)
			g := &gatedProvisioner{Provisioner: e.svc.prov, entered: make(chan chan bool)}
			e.svc.prov = g
			tok := e.invite(t, "")
			a := newAddress(t)
			type result struct {
				m   store.Mapping
				err error
			}
			admit := func() chan result {
				c := make(chan result, 1)
				go func() {
					m, err := e.svc.Admit(context.Background(), a, tok)
					c <- result{m, err}
				}()
				return c
			}
			wait := func(c chan result) result {
				select {
				case r := <-c:
					return r
				case <-time.After(10 * time.Second):
					t.Fatal("admission did not finish")
				}
				return result{}
			}
			first := admit()
			v1 := <-g.entered // first request holds the consumed invite
			second := admit()
			v2 := <-g.entered // second request got past Consume too (same address)
			var ok, failed result
			if order == "success_then_failure" {
				v2 <- true
				ok = wait(second)
				v1 <- false
				failed = wait(first)
			} else {
				v1 <- false
				failed = wait(first)
				v2 <- true
				ok = wait(second)
			}
			if ok.err != nil || ok.m.QortalAddress != a {
				t.Fatalf("successful admission: %+v %v", ok.m, ok.err)
			}
			if failed.err == nil {
				t.Fatal("the failing admission succeeded")
			}
			g.Provisioner, e.svc.prov = nil, g.Provisioner
			_, err := e.svc.Admit(context.Background(), newAddress(t), tok)
			wantDenial(t, err, "invite_used", msgInviteUsed)
		})
	}
}
