package nodefake

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

// The node's transaction side, as core v6.1.x has it: GET /addresses/lastreference/{a},
// GET /transactions/unitfee, GET /groups/{id}, GET /polls/{name}; the builders that need
// the API key and not "apiRestricted": false (POST /chat, POST /chat/compute, POST
// /arbitrary/{service}/{name}[/{identifier}]/base64); and /transactions/decode and
// /transactions/process parsing the real byte layouts of PAYMENT, JOIN_GROUP, CHAT,
// ARBITRARY (v5), VOTE_ON_POLL and CREATE_POLL (core's *TransactionTransformer.fromByteBuffer,
// written here independently of internal/qortal's builders), with the validity checks a
// test meets (balance, group, poll, name owner). process verifies the Ed25519 signature
// over the bytes core signs (toBytesForSigning) and applies the transaction: balances,
// group membership, votes, the published resource, the last reference.
//
// Not modelled: CHAT's memory-hard proof of work (/chat/compute sets a nonce, process
// does not check it), ARBITRARY's chunking and the fee/size rules.

// Group is a Qortal group the fake knows.
type Group struct {
	ID      int32
	Name    string
	Members []string // addresses
}

// Poll is a poll the fake knows.
type Poll struct {
	Name    string
	Owner   string
	Options []string
	Votes   map[string]int32 // voter address -> option index
}

// ChatMessage is a CHAT the node accepted.
type ChatMessage struct {
	Sender    string
	GroupID   int32
	Recipient string
	Data      string
	Signature string
}

var unitFees = map[string]int64{"PAYMENT": 1_000_000, "JOIN_GROUP": 1_000_000, "VOTE_ON_POLL": 1_000_000,
	"CREATE_POLL": 1_000_000, "ARBITRARY": 1_000_000, "CHAT": 0, "MESSAGE": 1_000_000}

var txTypeNames = map[int32]string{2: "PAYMENT", 8: "CREATE_POLL", 9: "VOTE_ON_POLL", 10: "ARBITRARY", 17: "MESSAGE", 18: "CHAT", 31: "JOIN_GROUP"}

// Services the fake publishes (core's arbitrary/misc/Service.java values).
var serviceValues = map[string]int32{"ARBITRARY_DATA": 100, "FILE": 140, "FILES": 150, "WEBSITE": 200, "IMAGE": 400,
	"THUMBNAIL": 410, "VIDEO": 500, "AUDIO": 600, "BLOG": 700, "BLOG_POST": 777, "BLOG_COMMENT": 778, "DOCUMENT": 800,
	"LIST": 900, "PLAYLIST": 910, "APP": 1000, "METADATA": 1100, "JSON": 1110, "CODE": 1400, "GAME": 1500,
	"DATABASE": 1700, "COMMENT": 1800, "MAIL": 1900, "MESSAGE": 1910}

// AddGroup makes a group known (GET /groups/{id}, JOIN_GROUP, group CHAT).
func (n *Node) AddGroup(g Group) { n.mu.Lock(); n.groups[g.ID] = &g; n.mu.Unlock() }

// GroupMembers lists a group's members.
func (n *Node) GroupMembers(id int32) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if g := n.groups[id]; g != nil {
		return append([]string(nil), g.Members...)
	}
	return nil
}

// AddPoll makes a poll known (GET /polls/{name}, VOTE_ON_POLL).
func (n *Node) AddPoll(p Poll) {
	n.mu.Lock()
	if p.Votes == nil {
		p.Votes = map[string]int32{}
	}
	n.polls[strings.ToLower(p.Name)] = &p
	n.mu.Unlock()
}

// PollVotes are a poll's votes by voter address (nil when there is no such poll).
func (n *Node) PollVotes(name string) map[string]int32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.polls[strings.ToLower(name)]
	if p == nil {
		return nil
	}
	out := map[string]int32{}
	for k, v := range p.Votes {
		out[k] = v
	}
	return out
}

// Chats lists the CHAT messages the node accepted.
func (n *Node) Chats() []ChatMessage {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]ChatMessage(nil), n.chats...)
}

// Balance is an account's balance as the node prints it.
func (n *Node) Balance(address string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return prettyAmount(n.balanceOf(address))
}

func (n *Node) balanceOf(address string) int64 {
	a, ok := n.accounts[address]
	if !ok || a.Balance == "" {
		return 0
	}
	v, _ := parseAmount(a.Balance)
	return v
}

func prettyAmount(v int64) string { return fmt.Sprintf("%d.%08d", v/100_000_000, v%100_000_000) }

// parseAmount reads a decimal QORT amount (AmountTypeAdapter: 8 places) as 1e-8 units.
func parseAmount(s string) (int64, error) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if len(frac) > 8 {
		return 0, fmt.Errorf("more than 8 decimal places")
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, err
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 8-len(frac)), 10, 64); err != nil {
			return 0, err
		}
	}
	return w*100_000_000 + f, nil
}

// invalid is core's TRANSACTION_INVALID (312) answer.
func invalid(w http.ResponseWriter, result, text string) {
	apiError(w, http.StatusBadRequest, 312, fmt.Sprintf("transaction invalid: %s (%s)", text, result))
}

func (n *Node) requireKey(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("X-API-KEY") != n.APIKey {
		apiError(w, http.StatusUnauthorized, 2, "API key invalid")
		return false
	}
	return true
}

// ---- reads --------------------------------------------------------------------

func (n *Node) unitFee(w http.ResponseWriter, r *http.Request) {
	fee, ok := unitFees[r.URL.Query().Get("txType")]
	if !ok {
		apiError(w, http.StatusBadRequest, 125, "invalid criteria")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(strconv.FormatInt(fee, 10)))
}

func (n *Node) lastReference(w http.ResponseWriter, addr string) {
	if err := qortal.ValidateAddress(addr); err != nil {
		apiError(w, http.StatusBadRequest, 102, "invalid address")
		return
	}
	n.mu.Lock()
	ref := n.lastRefs[addr]
	n.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	if ref == "" {
		ref = "false"
	}
	_, _ = w.Write([]byte(ref))
}

func (n *Node) groupsAPI(w http.ResponseWriter, rest string) {
	id, err := strconv.ParseInt(rest, 10, 32)
	n.mu.Lock()
	defer n.mu.Unlock()
	g := n.groups[int32(id)]
	if err != nil || g == nil {
		apiError(w, http.StatusNotFound, 1101, "group unknown")
		return
	}
	writeJSON(w, map[string]any{"groupId": g.ID, "owner": "", "groupName": g.Name, "description": "", "isOpen": true,
		"approvalThreshold": "NONE", "memberCount": len(g.Members)})
}

func (n *Node) pollsAPI(w http.ResponseWriter, name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.polls[strings.ToLower(name)]
	if p == nil {
		apiError(w, http.StatusNotFound, 1401, "poll unknown")
		return
	}
	opts := []map[string]string{}
	for _, o := range p.Options {
		opts = append(opts, map[string]string{"optionName": o})
	}
	writeJSON(w, map[string]any{"pollName": p.Name, "owner": p.Owner, "description": "", "pollOptions": opts})
}

// ---- builders -----------------------------------------------------------------

// buildChat is ChatResource.buildChat: ChatTransactionData JSON -> unsigned bytes
// without the nonce.
func (n *Node) buildChat(w http.ResponseWriter, r *http.Request) {
	if !n.requireKey(w, r) {
		return
	}
	var in struct {
		Timestamp       int64  `json:"timestamp"`
		Reference       string `json:"reference"`
		Fee             string `json:"fee"`
		TxGroupID       int32  `json:"txGroupId"`
		SenderPublicKey string `json:"senderPublicKey"`
		Recipient       string `json:"recipient"`
		ChatReference   string `json:"chatReference"`
		Data            string `json:"data"`
		IsText          bool   `json:"isText"`
		IsEncrypted     bool   `json:"isEncrypted"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, 1000, "JSON error")
		return
	}
	ref, err1 := qortal.Base58Decode(in.Reference)
	pub, err2 := qortal.Base58Decode(in.SenderPublicKey)
	data, err3 := qortal.Base58Decode(in.Data)
	fee, err4 := parseAmount(in.Fee)
	if in.Data == "" {
		data, err3 = []byte{}, nil
	}
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(ref) != 64 || len(pub) != 32 {
		apiError(w, http.StatusBadRequest, 127, "transformation error")
		return
	}
	var b []byte
	b = binary.BigEndian.AppendUint32(b, 18)
	b = binary.BigEndian.AppendUint64(b, uint64(in.Timestamp))
	b = binary.BigEndian.AppendUint32(b, uint32(in.TxGroupID))
	b = append(b, ref...)
	b = append(b, pub...)
	b = binary.BigEndian.AppendUint32(b, 0) // nonce: POST /chat/compute
	if in.Recipient != "" {
		rc, err := qortal.Base58Decode(in.Recipient)
		if err != nil || len(rc) != 25 {
			invalid(w, "INVALID_ADDRESS", "invalid address")
			return
		}
		b = append(append(b, 1), rc...)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	b = append(b, boolByte(in.IsEncrypted), boolByte(in.IsText))
	b = binary.BigEndian.AppendUint64(b, uint64(fee))
	if in.ChatReference != "" {
		cr, err := qortal.Base58Decode(in.ChatReference)
		if err != nil || len(cr) != 64 {
			apiError(w, http.StatusBadRequest, 127, "transformation error")
			return
		}
		b = append(append(b, 1), cr...)
	} else {
		b = append(b, 0)
	}
	tx, err := parseTx(b, false)
	if err != nil {
		apiError(w, http.StatusBadRequest, 127, "transformation error")
		return
	}
	n.mu.Lock()
	res, text := n.validate(tx)
	n.mu.Unlock()
	if res != "" {
		invalid(w, res, text)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(qortal.Base58Encode(b)))
}

// computeChat is ChatResource's POST /chat/compute: the same bytes with a nonce. Core
// runs MemoryPoW here; the fake writes a fixed non-zero nonce.
func (n *Node) computeChat(w http.ResponseWriter, r *http.Request) {
	if !n.requireKey(w, r) {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	raw, err := qortal.Base58Decode(strings.TrimSpace(string(body)))
	if err != nil {
		apiError(w, http.StatusBadRequest, 115, "invalid data")
		return
	}
	tx, err := parseTx(raw, false)
	if err != nil || tx.typ != 18 {
		apiError(w, http.StatusBadRequest, 115, "invalid data")
		return
	}
	binary.BigEndian.PutUint32(raw[commonLen:], 4242)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(qortal.Base58Encode(raw)))
}

type pendingPublish struct {
	service, name, identifier, filename, title string
	data                                       []byte
}

// publishBase64 is ArbitraryResource's POST /arbitrary/{service}/{name}[/{identifier}]/base64:
// the creator is the name's owner; the node keeps the data and builds a v5 ARBITRARY
// transaction (PUT, ZIP compression, a 32-byte secret, DATA_HASH of the file, the
// metadata hash, nonce 0: "done by the client (or via POST /arbitrary/compute)", or paid
// by the fee given).
func (n *Node) publishBase64(w http.ResponseWriter, r *http.Request, segs []string) {
	if !n.requireKey(w, r) {
		return
	}
	service, name, identifier := segs[0], segs[1], ""
	if len(segs) == 4 {
		identifier = segs[2]
	}
	sv, ok := serviceValues[service]
	if !ok {
		apiError(w, http.StatusBadRequest, 125, "invalid criteria")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(body)))
	if err != nil {
		apiError(w, http.StatusBadRequest, 1004, "REPOSITORY_ISSUE: bad base64")
		return
	}
	q := r.URL.Query()
	fee, _ := strconv.ParseInt(q.Get("fee"), 10, 64)
	n.mu.Lock()
	defer n.mu.Unlock()
	nm, ok := n.names[strings.ToLower(name)]
	if !ok {
		apiError(w, http.StatusBadRequest, 125, "Name not registered: "+name)
		return
	}
	acct := n.accounts[nm.Owner]
	pub, err := qortal.Base58Decode(acct.PublicKey)
	if err != nil || len(pub) != 32 {
		apiError(w, http.StatusBadRequest, 124, "account unknown")
		return
	}
	ts := n.clockNow()
	var b []byte
	b = binary.BigEndian.AppendUint32(b, 10)
	b = binary.BigEndian.AppendUint64(b, uint64(ts))
	b = binary.BigEndian.AppendUint32(b, 0)
	ref := make([]byte, 64)
	if lr, err := qortal.Base58Decode(n.lastRefs[nm.Owner]); err == nil && len(lr) == 64 {
		ref = lr
	} else {
		_, _ = rand.Read(ref)
	}
	b = append(b, ref...)
	b = append(b, pub...)
	b = binary.BigEndian.AppendUint32(b, 0) // nonce
	b = appendSized(b, []byte(nm.Name))
	b = appendSized(b, []byte(identifier))
	b = binary.BigEndian.AppendUint32(b, 0) // PUT
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	b = appendSized(b, secret)
	b = binary.BigEndian.AppendUint32(b, 1) // ZIP
	b = binary.BigEndian.AppendUint32(b, 0) // payments
	b = binary.BigEndian.AppendUint32(b, uint32(sv))
	b = append(b, 0) // DATA_HASH
	hash := sha256.Sum256(data)
	b = appendSized(b, hash[:])
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	meta := sha256.Sum256([]byte(q.Get("title") + "\x00" + q.Get("description")))
	b = appendSized(b, meta[:])
	b = binary.BigEndian.AppendUint64(b, uint64(fee))
	n.pending[qortal.Base58Encode(hash[:])] = pendingPublish{service: service, name: nm.Name, identifier: identifier,
		filename: q.Get("filename"), title: q.Get("title"), data: data}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(qortal.Base58Encode(b)))
}

func (n *Node) clockNow() int64 { n.clock += 1000; return n.clock }

func appendSized(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// ---- parsing (core's fromByteBuffer) ------------------------------------------

const commonLen = 4 + 8 + 4 + 64 + 32

type tx struct {
	typ       int32
	timestamp int64
	txGroupID int32
	reference []byte
	creator   []byte
	fee       int64
	signature []byte // nil when unsigned
	signing   []byte // the bytes the signature covers
	fields    map[string]any
	// per type
	recipient string
	amount    int64
	groupID   int32
	pollName  string
	option    int32
	options   []string
	data      []byte
	dataHash  string
	name      string
	ident     string
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = errors.New("BufferUnderflowException")
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}
func (r *reader) i32() int32 {
	if v := r.take(4); v != nil {
		return int32(binary.BigEndian.Uint32(v))
	}
	return 0
}
func (r *reader) i64() int64 {
	if v := r.take(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}
func (r *reader) byte1() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}
func (r *reader) address() string { return qortal.Base58Encode(r.take(25)) }
func (r *reader) sized(max int) string {
	l := int(r.i32())
	if l > max {
		r.err = errors.New("string too long")
		return ""
	}
	s := r.take(l)
	if r.err == nil && !utf8.Valid(s) {
		r.err = errors.New("not UTF-8")
	}
	return string(s)
}

// parseTx reads a transaction; signed says whether 64 signature bytes follow. Like
// TransactionsResource.decode, a caller that does not know tries signed then unsigned.
func parseTx(b []byte, signed bool) (*tx, error) {
	r := &reader{b: b}
	t := &tx{typ: r.i32(), timestamp: r.i64(), txGroupID: r.i32(), fields: map[string]any{}}
	t.reference = r.take(64)
	t.creator = r.take(32)
	switch t.typ {
	case 2: // PAYMENT
		t.recipient = r.address()
		t.amount = r.i64()
		t.fields["senderPublicKey"] = qortal.Base58Encode(t.creator)
		t.fields["recipient"] = t.recipient
		t.fields["amount"] = prettyAmount(t.amount)
	case 31: // JOIN_GROUP
		t.groupID = r.i32()
		t.fields["joinerPublicKey"] = qortal.Base58Encode(t.creator)
		t.fields["groupId"] = t.groupID
	case 9: // VOTE_ON_POLL
		t.pollName = r.sized(400)
		t.option = r.i32()
		t.fields["voterPublicKey"] = qortal.Base58Encode(t.creator)
		t.fields["pollName"] = t.pollName
		t.fields["optionIndex"] = t.option
	case 8: // CREATE_POLL
		owner := r.address()
		t.pollName = r.sized(400)
		desc := r.sized(4000)
		count := int(r.i32())
		if count < 0 || count > 100 {
			return nil, errors.New("bad option count")
		}
		opts := []map[string]string{}
		for i := 0; i < count && r.err == nil; i++ {
			o := r.sized(400)
			t.options = append(t.options, o)
			opts = append(opts, map[string]string{"optionName": o})
		}
		t.recipient = owner
		t.fields["pollCreatorPublicKey"] = qortal.Base58Encode(t.creator)
		t.fields["owner"] = owner
		t.fields["pollName"] = t.pollName
		t.fields["description"] = desc
		t.fields["pollOptions"] = opts
	case 18: // CHAT
		t.fields["nonce"] = r.i32()
		if r.byte1() == 1 {
			t.recipient = r.address()
			t.fields["recipient"] = t.recipient
		}
		l := int(r.i32())
		if l > 4000 {
			return nil, errors.New("data too long")
		}
		t.data = r.take(l)
		t.fields["isEncrypted"] = r.byte1() == 1
		t.fields["isText"] = r.byte1() == 1
	case 10: // ARBITRARY v5
		t.fields["version"] = 5
		t.fields["nonce"] = r.i32()
		t.name = r.sized(400)
		t.ident = r.sized(64)
		method := r.i32()
		r.take(int(r.i32())) // secret
		compression := r.i32()
		payments := r.i32()
		if payments != 0 {
			return nil, errors.New("payments not modelled")
		}
		service := r.i32()
		raw := r.byte1() == 1
		t.data = r.take(int(r.i32()))
		size := r.i32()
		r.take(int(r.i32())) // metadata hash
		t.dataHash = qortal.Base58Encode(t.data)
		t.fields["senderPublicKey"] = qortal.Base58Encode(t.creator)
		t.fields["service"] = service
		t.fields["name"] = t.name
		t.fields["identifier"] = t.ident
		t.fields["method"] = map[int32]string{0: "PUT", 1: "PATCH"}[method]
		t.fields["compression"] = map[int32]string{0: "NONE", 1: "ZIP"}[compression]
		t.fields["size"] = size
		t.fields["dataType"] = map[bool]string{true: "RAW_DATA", false: "DATA_HASH"}[raw]
		t.fields["data"] = t.dataHash
		t.fields["payments"] = []any{}
	default:
		return nil, fmt.Errorf("type %d not modelled", t.typ)
	}
	t.fee = r.i64()
	if t.typ == 18 {
		if r.byte1() == 1 {
			t.fields["chatReference"] = qortal.Base58Encode(r.take(64))
		}
		if t.data != nil {
			t.fields["data"] = qortal.Base58Encode(t.data)
		}
		t.fields["senderPublicKey"] = qortal.Base58Encode(t.creator)
		t.fields["sender"] = qortal.AddressFromPublicKey(t.creator)
	}
	end := r.off
	if signed {
		t.signature = r.take(64)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(b) {
		return nil, errors.New("trailing bytes")
	}
	t.signing = b[:end]
	if t.typ == 10 {
		t.signing = arbitrarySigning(b[:end])
	}
	return t, nil
}

// arbitrarySigning is ArbitraryTransactionTransformer.toBytesForSigningImpl: no
// data-type byte, RAW_DATA replaced by its SHA-256.
func arbitrarySigning(u []byte) []byte {
	r := &reader{b: u}
	r.take(commonLen + 4)
	r.take(int(r.i32()))
	r.take(int(r.i32()))
	r.take(4)
	r.take(int(r.i32()))
	r.take(4 + 4 + 4) // compression, payment count (0), service
	at := r.off
	raw := r.byte1() == 1
	l := r.i32()
	data := r.take(int(l))
	out := append([]byte{}, u[:at]...)
	out = binary.BigEndian.AppendUint32(out, uint32(l))
	if raw {
		h := sha256.Sum256(data)
		out = append(out, h[:]...)
	} else {
		out = append(out, data...)
	}
	return append(out, u[r.off:]...)
}

// json is what core's API shows of a transaction (TransactionData and the type's fields).
func (t *tx) json() map[string]any {
	out := map[string]any{"type": txTypeNames[t.typ], "timestamp": t.timestamp, "reference": qortal.Base58Encode(t.reference),
		"fee": prettyAmount(t.fee), "txGroupId": t.txGroupID, "creatorAddress": qortal.AddressFromPublicKey(t.creator),
		"approvalStatus": "NOT_REQUIRED"}
	if t.signature != nil {
		out["signature"] = qortal.Base58Encode(t.signature)
	}
	for k, v := range t.fields {
		out[k] = v
	}
	return out
}

// validate is the part of Transaction.isValid a test meets; "" = OK. Callers hold n.mu.
func (n *Node) validate(t *tx) (string, string) {
	creator := qortal.AddressFromPublicKey(t.creator)
	if want := unitFees[txTypeNames[t.typ]]; t.fee < want {
		return "INSUFFICIENT_FEE", "insufficient fee"
	}
	switch t.typ {
	case 2:
		if qortal.ValidateAddress(t.recipient) != nil {
			return "INVALID_ADDRESS", "invalid address"
		}
		if t.amount <= 0 {
			return "NEGATIVE_AMOUNT", "negative amount"
		}
		if n.balanceOf(creator) < t.amount+t.fee {
			return "NO_BALANCE", "no balance"
		}
	case 31:
		g := n.groups[t.groupID]
		if g == nil {
			return "GROUP_DOES_NOT_EXIST", "group does not exist"
		}
		for _, m := range g.Members {
			if m == creator {
				return "ALREADY_GROUP_MEMBER", "already group member"
			}
		}
	case 18:
		if t.txGroupID != 0 {
			g := n.groups[t.txGroupID]
			if g == nil {
				return "GROUP_DOES_NOT_EXIST", "group does not exist"
			}
			member := false
			for _, m := range g.Members {
				member = member || m == creator
			}
			if !member {
				return "NOT_GROUP_MEMBER", "not group member"
			}
		}
	case 9:
		p := n.polls[strings.ToLower(t.pollName)]
		if p == nil {
			return "POLL_DOES_NOT_EXIST", "poll does not exist"
		}
		if t.option < 0 || int(t.option) >= len(p.Options) {
			return "POLL_OPTION_DOES_NOT_EXIST", "poll option does not exist"
		}
	case 8:
		if n.polls[strings.ToLower(t.pollName)] != nil {
			return "POLL_ALREADY_EXISTS", "poll already exists"
		}
	case 10:
		nm, ok := n.names[strings.ToLower(t.name)]
		if !ok {
			return "NAME_DOES_NOT_EXIST", "name does not exist"
		}
		if nm.Owner != creator {
			return "INVALID_NAME_OWNER", "invalid name owner"
		}
	}
	if t.typ != 18 && t.typ != 10 && n.balanceOf(creator) < t.fee {
		return "NO_BALANCE", "no balance"
	}
	return "", ""
}

// decodeTx is TransactionsResource.decodeTransaction for the modelled types: signed
// first, then unsigned; validity checks unless ignoreValidityChecks=true.
func (n *Node) decodeTx(w http.ResponseWriter, r *http.Request, raw []byte) bool {
	t, err := parseTx(raw, true)
	if err != nil {
		if t, err = parseTx(raw, false); err != nil {
			return false
		}
	}
	if r.URL.Query().Get("ignoreValidityChecks") != "true" {
		if t.signature != nil && !ed25519.Verify(t.creator, t.signing, t.signature) {
			apiError(w, http.StatusBadRequest, 101, "invalid signature")
			return true
		}
		n.mu.Lock()
		res, text := n.validate(t)
		n.mu.Unlock()
		if res != "" {
			invalid(w, res, text)
			return true
		}
	}
	writeJSON(w, t.json())
	return true
}

// processTx is TransactionsResource.processTransaction for a modelled type: signature
// over the signing bytes, validity, then the effects. Answers "true" (API version 1) or
// the transaction's JSON (version 2).
func (n *Node) processTx(w http.ResponseWriter, r *http.Request, signed string, t *tx) {
	if !ed25519.Verify(t.creator, t.signing, t.signature) {
		apiError(w, http.StatusBadRequest, 101, "invalid signature")
		return
	}
	if t.typ == 18 && t.txGroupID == 0 && t.recipient == "" {
		apiError(w, http.StatusBadRequest, 115, "invalid data")
		return
	}
	n.mu.Lock()
	res, text := n.validate(t)
	for _, p := range n.processed {
		if p == signed {
			res, text = "TRANSACTION_ALREADY_EXISTS", "transaction already exists"
		}
	}
	if res != "" {
		n.mu.Unlock()
		invalid(w, res, text)
		return
	}
	creator := qortal.AddressFromPublicKey(t.creator)
	setBalance := func(addr string, v int64) {
		a := n.accounts[addr]
		a.Address, a.Balance = addr, prettyAmount(v)
		n.accounts[addr] = a
	}
	if t.fee > 0 {
		setBalance(creator, n.balanceOf(creator)-t.fee)
	}
	switch t.typ {
	case 2:
		setBalance(creator, n.balanceOf(creator)-t.amount)
		setBalance(t.recipient, n.balanceOf(t.recipient)+t.amount)
	case 31:
		n.groups[t.groupID].Members = append(n.groups[t.groupID].Members, creator)
	case 9:
		n.polls[strings.ToLower(t.pollName)].Votes[creator] = t.option
	case 8:
		n.polls[strings.ToLower(t.pollName)] = &Poll{Name: t.pollName, Owner: t.recipient, Options: t.options, Votes: map[string]int32{}}
	case 18:
		n.chats = append(n.chats, ChatMessage{Sender: creator, GroupID: t.txGroupID, Recipient: t.recipient, Data: string(t.data), Signature: qortal.Base58Encode(t.signature)})
	case 10:
		if p, ok := n.pending[t.dataHash]; ok {
			delete(n.pending, t.dataHash)
			key := resKey(p.service, p.name, p.identifier)
			rs := n.resources[key]
			if rs == nil {
				rs = &resource{service: p.service, name: p.name, identifier: p.identifier}
				n.resources[key] = rs
			}
			fname := p.filename
			if fname == "" {
				fname = fmt.Sprintf("qortal-%d", t.timestamp)
			}
			rs.versions = append(rs.versions, Version{Signature: qortal.Base58Encode(t.signature), Timestamp: t.timestamp,
				Files: map[string][]byte{fname: p.data}, Title: p.title})
		}
	}
	sig58 := qortal.Base58Encode(t.signature)
	n.lastRefs[creator] = sig58
	if a := n.accounts[creator]; a.PublicKey == "" {
		a.Address, a.PublicKey = creator, qortal.Base58Encode(t.creator)
		n.accounts[creator] = a
	}
	n.processed = append(n.processed, signed)
	n.mu.Unlock()
	if r.URL.Query().Get("apiVersion") == "2" || r.Header.Get("X-API-VERSION") == "2" {
		writeJSON(w, t.json())
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("true"))
}
