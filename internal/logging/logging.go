// Package logging builds the broker's slog handler: JSON or text, durations
// written as strings ("20s", not 20000000000), and the request id of the
// request a log call's context belongs to on every line, so an application
// line ("provisioned", "login") can be found next to its access line.
package logging

import (
	"context"
	"io"
	"log/slog"
)

type ctxKey struct{}

// WithRequestID returns ctx carrying id (the HTTP middleware sets it).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Options says how to log.
type Options struct {
	Level  slog.Leveler
	Format string // "json" (default) or "text"
}

// New is the broker's logger writing to w.
func New(w io.Writer, o Options) *slog.Logger {
	return slog.New(NewHandler(w, o))
}

// NewHandler is New's handler, for callers that wrap it further.
func NewHandler(w io.Writer, o Options) slog.Handler {
	ho := &slog.HandlerOptions{Level: o.Level, ReplaceAttr: ReplaceAttr}
	var h slog.Handler = slog.NewJSONHandler(w, ho)
	if o.Format == "text" {
		h = slog.NewTextHandler(w, ho)
	}
	return Wrap(h)
}

// ReplaceAttr writes durations the way people (and the config) write them.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// Wrap adds request_id from the context to every record of h that does not
// already carry one.
func Wrap(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ inner slog.Handler }

func (h requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		has := false
		r.Attrs(func(a slog.Attr) bool {
			has = a.Key == "request_id"
			return !has
		})
		if !has {
			r = r.Clone()
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.inner.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.inner.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.inner.WithGroup(name)}
}
