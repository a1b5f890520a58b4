package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/config"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/xdtick"
)

// Every XdTick plan builds an XdTick client that packs latest-bar requests
// to the plan's group cap.
func TestBuildVendorClientXdTick(t *testing.T) {
	t.Parallel()
	names := plan.Names(vendor.XdTick)
	require.ElementsMatch(t, []string{"free", "basic", "advanced", "pro"}, names)
	for _, name := range names {
		p, err := plan.Lookup(vendor.XdTick, name)
		require.NoError(t, err)
		env := &Env{Config: &config.Config{Vendor: vendor.XdTick, Plan: name, VendorToken: secret.New(token)}, Log: zap.NewNop()}
		c, err := buildVendorClient(env, vendor.Open{})
		require.NoError(t, err, name)
		require.IsType(t, &xdtick.Client{}, c)
		caps, err := c.Capabilities("BTCUSD")
		require.NoError(t, err)
		require.Equal(t, p.BatchMax, caps.BatchMax, name)
		require.LessOrEqual(t, caps.BatchMax, xdtick.BatchMax, name)
	}
}
