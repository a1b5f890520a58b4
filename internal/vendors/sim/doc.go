// Package sim is the vendor simulator's core: everything about a market-data
// vendor that does not depend on its wire format.
//
//   - Generator: deterministic, random-access OHLCV bars per (seed, symbol,
//     timeframe), only inside the market's sessions (package calendar), with a
//     forming bar that evolves with the clock and converges to the final bar.
//   - Enforcer: a plan (package plan) applied as a strict vendor would, per
//     API key, saying why a request is refused.
//   - Faults: seeded, per-request decisions to answer 5xx, hang, delay, send a
//     malformed or truncated body, claim a rate limit, or spoil a page's bars.
//   - Stats and ground truth for end-to-end tests.
//   - Server: the HTTP mux the per-vendor wire handlers are mounted on
//     (RegisterVendor), with /healthz and /_sim/{stats,reset,truth}.
//
// The per-vendor handlers (AllTick, XdTick, Infoway, QOS) decode a request,
// call Core.Begin, and render the Call's verdict, fault and bars in their own
// format. docs/simulator.md describes the design.
package sim
