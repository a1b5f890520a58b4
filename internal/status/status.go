// Package status renders what `syncd status` shows: per series what is stored,
// what is missing and why, how fresh it is, and today's quota.
package status

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the whole status, as `syncd status --json` prints it.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	Quota       []Quota   `json:"quota"`
	Series      []Series  `json:"series"`
}

// Quota is one key's usage today, as the governor persisted it.
type Quota struct {
	Vendor         string    `json:"vendor"`
	KeyFingerprint string    `json:"key_fingerprint"`
	Plan           string    `json:"plan,omitempty"`
	DayStart       time.Time `json:"day_start"`
	// Used is what the governor reserved against the cap today: requests are
	// reserved in small blocks, so it may run ahead of requests made by up to
	// a block per process start, never behind.
	Used     int64      `json:"used"`
	Cap      int64      `json:"cap,omitempty"` // 0: unknown or unlimited
	ResetsAt *time.Time `json:"resets_at,omitempty"`
	// ExhaustedUntil is set while the cap is used up: the engines sleep until then.
	ExhaustedUntil *time.Time `json:"exhausted_until,omitempty"`
}

// Range is a time range with a state, from the coverage ledger.
type Range struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	State  string    `json:"state"`
	Reason string    `json:"reason,omitempty"`
}

// Series is one series' status.
type Series struct {
	Vendor    string     `json:"vendor"`
	Symbol    string     `json:"symbol"`
	Timeframe string     `json:"timeframe"`
	Oldest    *time.Time `json:"oldest,omitempty"`
	Newest    *time.Time `json:"newest,omitempty"`
	Bars      int64      `json:"bars"`
	// OpenGaps are head gaps still to heal.
	OpenGaps []Range `json:"open_gaps"`
	// Unavailable are ranges the vendor cannot serve or confirmed empty.
	Unavailable []Range `json:"unavailable"`
	// Exhausted: the vendor's history was walked to its end.
	Exhausted bool `json:"history_exhausted"`
	// LiveConfirmedAt is when a live poll last confirmed the forming bar.
	LiveConfirmedAt *time.Time `json:"live_confirmed_at,omitempty"`
	// Lag is the time since the newest stored bar opened, in seconds.
	LagSeconds  *float64   `json:"lag_seconds,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	Quarantined int64      `json:"quarantined"`
}

// WriteJSON prints the report as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write status json: %w", err)
	}
	return nil
}

// WriteTable prints the report for people.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIES\tOLDEST\tNEWEST\tBARS\tGAPS\tUNAVAILABLE\tFRESHNESS\tLAST ERROR")
	for _, s := range r.Series {
		fmt.Fprintf(tw, "%s:%s:%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", s.Vendor, s.Symbol, s.Timeframe,
			fmtTime(s.Oldest), fmtTime(s.Newest), s.Bars, len(s.OpenGaps), fmtRanges(s.Unavailable, s.Exhausted),
			fmtAgo(s.LiveConfirmedAt, r.GeneratedAt), clip(s.LastError, 60))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write status table: %w", err)
	}
	for _, q := range r.Quota {
		line := fmt.Sprintf("\nquota %s key %s", q.Vendor, q.KeyFingerprint)
		if q.Plan != "" {
			line += fmt.Sprintf(" (plan %s)", q.Plan)
		}
		line += fmt.Sprintf(": %d requests used today", q.Used)
		if q.Cap > 0 {
			line += fmt.Sprintf(" of %d (%d left)", q.Cap, max(q.Cap-q.Used, 0))
		}
		switch {
		case q.ExhaustedUntil != nil:
			line += ", exhausted until " + q.ExhaustedUntil.UTC().Format(time.RFC3339)
		case q.ResetsAt != nil:
			line += ", resets " + q.ResetsAt.UTC().Format(time.RFC3339)
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return fmt.Errorf("write status quota: %w", err)
		}
	}
	return nil
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func fmtAgo(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return now.Sub(*t).Round(time.Second).String() + " ago"
}

func fmtRanges(rs []Range, exhausted bool) string {
	if len(rs) == 0 {
		if exhausted {
			return "history exhausted"
		}
		return "-"
	}
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s..%s %s", r.From.UTC().Format("2006-01-02"), r.To.UTC().Format("2006-01-02"), r.State))
	}
	return strings.Join(parts, "; ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
