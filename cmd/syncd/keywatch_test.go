package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

type reportLog struct {
	vendor.Open
	errs []error
}

func (r *reportLog) Report(_ vendor.Endpoint, err error) { r.errs = append(r.errs, err) }

func TestKeyWatchTellsReadinessWhetherTheKeyIsRefused(t *testing.T) {
	t.Parallel()
	inner := &reportLog{}
	k := &keyWatch{Gate: inner}
	ctx := context.Background()
	require.NoError(t, k.Check(ctx), "ready before any request")

	refused := &vendor.APIError{Vendor: vendor.AllTick, Kind: vendor.ErrAuth, Message: "token invalid"}
	k.Report(vendor.EndpointLatest, refused)
	require.ErrorIs(t, k.Check(ctx), vendor.ErrAuth)
	require.ErrorContains(t, k.Check(ctx), "refuses the API key")

	k.Report(vendor.EndpointHistory, vendor.ErrTransient)
	require.ErrorIs(t, k.Check(ctx), vendor.ErrAuth, "a 5xx says nothing about the key")

	k.Report(vendor.EndpointHistory, nil)
	require.NoError(t, k.Check(ctx), "a success clears it")

	require.Len(t, inner.errs, 3, "every report reaches the wrapped gate")
	require.ErrorIs(t, inner.errs[0], vendor.ErrAuth)
	_, err := k.Acquire(ctx, vendor.EndpointLatest, 1)
	require.NoError(t, err)
}
