package plan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

func TestPresets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		vendor, plan string
		latest       time.Duration
		perDay       int
	}{
		{vendor.AllTick, "free", 10 * time.Second, 1000},
		{vendor.AllTick, "basic", 3 * time.Second, 86400},
		{vendor.AllTick, "premium", 2 * time.Second, 864000},
		{vendor.AllTick, "professional", time.Second, 1728000},
		{vendor.AllTick, "all_us_stocks", time.Second, 1728000},
		{vendor.XdTick, "advanced", 2 * time.Second, 864000},
		{vendor.Infoway, "free", time.Second, 86400},
		{vendor.QOS, "default", 6 * time.Second, 0},
	}
	for _, c := range cases {
		p, err := Lookup(c.vendor, c.plan)
		require.NoError(t, err, c)
		require.NoError(t, p.Validate())
		require.Equal(t, c.latest, p.MinInterval(vendor.EndpointLatest), c)
		require.Equal(t, c.perDay, p.PerDay, c)
	}
	free, err := Lookup(vendor.AllTick, "free")
	require.NoError(t, err)
	require.Equal(t, 5, free.BatchMax, "the stricter of 5 and 10 groups")
	free.Spacing[vendor.EndpointLatest] = 0
	again, err := Lookup(vendor.AllTick, "free")
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, again.Spacing[vendor.EndpointLatest], "Lookup hands out copies")

	_, err = Lookup(vendor.AllTick, "gold")
	require.ErrorContains(t, err, "want one of all_cn_stocks, all_hk_stocks, all_us_stocks, basic, free, premium, professional")
	_, err = Lookup("bloomberg", "free")
	require.ErrorContains(t, err, "unknown vendor")
}

func TestParseCustom(t *testing.T) {
	t.Parallel()
	p, err := Lookup(vendor.AllTick, "custom:per_second=50,per_minute=3000,latest=20ms,batch=500")
	require.NoError(t, err)
	require.Equal(t, 50, p.PerSecond)
	require.Equal(t, 20*time.Millisecond, p.Spacing[vendor.EndpointLatest])
	require.Equal(t, vendor.AllTick, p.Vendor)
	require.Equal(t, 20*time.Millisecond, p.MinInterval(vendor.EndpointLatest))
	u, err := ParseCustom("custom:unlimited")
	require.NoError(t, err)
	require.Zero(t, u.MinInterval(vendor.EndpointHistory))
	for _, bad := range []string{"custom:per_second=-1", "custom:latest=fast", "custom:nope=1", "custom:per_second", "custom:per_second=10,per_minute=5"} {
		_, err := ParseCustom(bad)
		require.Error(t, err, bad)
	}
}

func FuzzParseCustom(f *testing.F) {
	for _, s := range []string{"custom", "custom:unlimited", "custom:per_second=50,latest=20ms", "custom:global=1s,batch=5", "custom:per_day=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := ParseCustom(spec)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseCustom(%q) returned an invalid plan: %v", spec, err)
		}
		if p.MinInterval(vendor.EndpointLatest) < 0 {
			t.Fatalf("negative interval from %q", spec)
		}
	})
}
