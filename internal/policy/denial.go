package policy

// Denial is a refused admission. Code and Description are deterministic for
// a situation: the login page shows the description and the relying party
// receives access_denied with it as error_description.
type Denial struct {
	Code        string
	Description string
}

func (d *Denial) Error() string { return "admission denied: " + d.Code + ": " + d.Description }

// Denial codes.
const (
	CodeNotLinked            = "not_linked"
	CodeBlocked              = "blocked"
	CodeNotAllowlisted       = "not_allowlisted"
	CodeInviteRequired       = "invite_required"
	CodeInviteInvalid        = "invite_invalid"
	CodeInviteRevoked        = "invite_revoked"
	CodeInviteExpired        = "invite_expired"
	CodeInviteUsed           = "invite_used"
	CodeInviteBoundElsewhere = "invite_bound_elsewhere"
	CodeUserExists           = "nextcloud_user_exists"
)

// The denials, one per situation.
var (
	denyNotLinked      = &Denial{CodeNotLinked, "this Qortal address is not linked to an account here"}
	denyBlocked        = &Denial{CodeBlocked, "this Qortal address is blocked from signing in"}
	denyNotAllowlisted = &Denial{CodeNotAllowlisted, "this Qortal address is not on the list of addresses allowed to create an account here"}
	denyInviteRequired = &Denial{CodeInviteRequired, "an invite is required to create an account here"}
	denyInviteOrList   = &Denial{CodeInviteRequired, "an invite is required to create an account here, unless an administrator has allowlisted this Qortal address"}
	denyInviteInvalid  = &Denial{CodeInviteInvalid, "this invite link is not valid"}
	denyInviteGone     = &Denial{CodeInviteInvalid, "the account this invite is for no longer exists"}
	denyInviteRevoked  = &Denial{CodeInviteRevoked, "this invite was revoked by an administrator"}
	denyInviteExpired  = &Denial{CodeInviteExpired, "this invite has expired; ask for a new one"}
	denyInviteUsed     = &Denial{CodeInviteUsed, "this invite was already used"}
	denyAddressElse    = &Denial{CodeInviteBoundElsewhere, "this Qortal address is already linked to another account than the one this invite is for"}
	denyAccountElse    = &Denial{CodeInviteBoundElsewhere, "the account this invite is for is already linked to another Qortal address"}
	// Auto-provisioning found an account under this address's id that the
	// broker did not create: it might be a trap set for this person.
	denyUserExists = &Denial{CodeUserExists, "a Nextcloud account with this address's user id already exists and was not created by this sign-in service, so it is not linked automatically; an administrator must link it on purpose"}
)

// deny returns a copy, so callers can never alter the shared values.
func deny(d *Denial) *Denial { c := *d; return &c }
