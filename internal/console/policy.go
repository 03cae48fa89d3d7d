package console

import (
	"net/http"

	"github.com/qortal-oidc/qortal-oidc/internal/policy"
)

// choice is one option of a select, with what it means.
type choice struct{ Value, Label, Help string }

var modes = []choice{
	{policy.ModeLinkOnly, "Link only", "Only addresses an admin has linked may sign in. Strict pre-provisioning."},
	{policy.ModeAutoProvision, "Auto-provision", "An unknown address that proves ownership gets a Nextcloud account at first sign-in, subject to the guard."},
	{policy.ModeStandalone, "Standalone", "No Nextcloud: anyone who proves a Qortal address signs in, identified by the address itself. Refused while Nextcloud is configured."},
}

var guards = []choice{
	{policy.GuardNone, "None", "Anyone with a Qortal key may create an account."},
	{policy.GuardAllowlist, "Allowlist", "Only addresses on the allowlist may create an account."},
	{policy.GuardInvite, "Invite", "A valid invite link is required to create an account."},
	{policy.GuardInviteOrAllowlist, "Invite or allowlist", "Allowlisted addresses, or anyone with a valid invite."},
}

type policyView struct {
	Current       policy.Effective
	Modes, Guards []choice
	Mode, Guard   string // the form's selection
}

func (h *Handler) policyPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.showPolicy(w, r, s, http.StatusOK, nil)
}

func (h *Handler) showPolicy(w http.ResponseWriter, r *http.Request, s *session, status int, err error) {
	v := h.pageFor(w, r, s, "Login policy", "policy")
	d := policyView{Modes: modes, Guards: guards}
	cur, cerr := h.d.Policy.Current(r.Context())
	status = showErrors(&v, status, err, cerr)
	d.Current, d.Mode, d.Guard = cur, cur.Mode, cur.Guard
	if r.Method == http.MethodPost {
		d.Mode, d.Guard = r.PostForm.Get("mode"), r.PostForm.Get("guard")
	}
	v.D = d
	h.render(w, r, status, "policy.html", v)
}

func (h *Handler) policySet(w http.ResponseWriter, r *http.Request, s *session) {
	p, err := h.d.Policy.Set(r.Context(), s.Actor(), r.PostForm.Get("mode"), r.PostForm.Get("guard"))
	if err != nil {
		h.showPolicy(w, r, s, 0, err)
		return
	}
	h.done(w, r, s, "/policy", "Login policy is now "+p.Mode+" with guard "+p.Guard+".")
}

func (h *Handler) policyReset(w http.ResponseWriter, r *http.Request, s *session) {
	p, err := h.d.Policy.Reset(r.Context(), s.Actor())
	if err != nil {
		h.showPolicy(w, r, s, 0, err)
		return
	}
	h.done(w, r, s, "/policy", "Override removed: the configured policy applies ("+p.Mode+", guard "+p.Guard+").")
}
