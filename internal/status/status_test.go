package status

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	old, newest, live := now.Add(-30*24*time.Hour), now.Add(-time.Minute), now.Add(-3*time.Second)
	reset := now.Add(4 * time.Hour)
	r := Report{GeneratedAt: now,
		Quota: []Quota{
			{Vendor: "alltick", KeyFingerprint: "abcd", Plan: "free", Used: 1000, Cap: 1000, ResetsAt: &reset, ExhaustedUntil: &reset},
			{Vendor: "alltick", KeyFingerprint: "ef01", Plan: "basic", Used: 12, Cap: 86400, ResetsAt: &reset},
		},
		Series: []Series{{Vendor: "alltick", Symbol: "AAPL.US", Timeframe: "1m", Oldest: &old, Newest: &newest, Bars: 500,
			Unavailable:     []Range{{From: old.Add(-time.Hour), To: old, State: "unavailable", Reason: "cannot page back"}},
			LiveConfirmedAt: &live}}}
	var tbl bytes.Buffer
	require.NoError(t, WriteTable(&tbl, r))
	out := tbl.String()
	require.Contains(t, out, "alltick:AAPL.US:1m")
	require.Contains(t, out, "unavailable")
	require.Contains(t, out, "3s ago")
	require.Contains(t, out, "quota alltick key abcd (plan free): 1000 requests used today of 1000 (0 left), exhausted until 2026-11-23T16:00:00Z\n")
	require.Contains(t, out, "quota alltick key ef01 (plan basic): 12 requests used today of 86400 (86388 left), resets 2026-11-23T16:00:00Z\n")

	var js bytes.Buffer
	require.NoError(t, WriteJSON(&js, r))
	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, int64(500), back.Series[0].Bars)
	require.Equal(t, "cannot page back", back.Series[0].Unavailable[0].Reason)
}
