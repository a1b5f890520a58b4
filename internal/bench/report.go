package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets from the benchmark issue (S8).
const (
	TargetEfficiency = 0.97
	TargetRatio      = 0.5
	TargetPollP99    = 25 * time.Millisecond
	TargetRSSKiB     = 100 * 1024
)

// Markdown writes the report as docs/benchmarks.md. command is how the run was
// started, so a reader can repeat it.
func (r *Report) Markdown(w io.Writer, command string) error {
	var b strings.Builder
	r.header(&b, command)
	r.summary(&b)
	r.efficiency(&b)
	r.pipeline(&b)
	r.poll(&b)
	r.plans(&b)
	footer(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) header(b *strings.Builder, command string) {
	b.WriteString("# Benchmarks\n\n")
	if r.Quick {
		b.WriteString("> **Quick run (development sizes, not the real figures).** Sizes, durations and tick counts are cut down\n" +
			"> so that the run takes about a minute; the figures below only show that every phase works. The full run\n" +
			"> (`make bench`, about 10 minutes) on a quiet machine replaces this file.\n\n")
	}
	b.WriteString("Written by `cmd/syncbench` (internal/bench): every figure below comes from one run, against the in-process\n" +
		"vendor simulator (AllTick wire format) and a real PostgreSQL. Run it with `make bench` (Docker needed for\n" +
		"PostgreSQL); each section says how its figure was measured, and the end of the page how to run it.\n\n")
	fmt.Fprintf(b, "| | |\n|---|---|\n")
	fmt.Fprintf(b, "| date | %s (run took %s) |\n", r.Started.Format("2006-01-02 15:04 MST"), r.Took)
	fmt.Fprintf(b, "| commit | `%s` |\n", r.Commit)
	m := r.Machine
	fmt.Fprintf(b, "| machine | %d CPUs, %s, %s MiB memory, Linux %s, load %s at start |\n", m.CPUs, orDash(m.CPUModel),
		thousands(m.MemoryMiB), orDash(m.Kernel), orDash(m.Load))
	fmt.Fprintf(b, "| software | %s, PostgreSQL %s |\n", m.Go, orDash(r.Postgres))
	fmt.Fprintf(b, "| command | `%s` |\n\n", command)
}

func (r *Report) summary(b *strings.Builder) {
	b.WriteString("## Summary against the targets\n\n| figure | measured | target | verdict |\n|---|---|---|---|\n")
	for _, e := range r.Efficiency {
		if e.Beside {
			fmt.Fprintf(b, "| plan efficiency, %s | %.3f, %d violations | none: measured beside the targets | see Plan efficiency |\n",
				e.Label(), e.Ratio(), e.Violations)
			continue
		}
		fmt.Fprintf(b, "| plan efficiency, %s | %.3f, %d violations | ≥ %.2f, 0 violations | %s |\n", e.Label(), e.Ratio(), e.Violations,
			TargetEfficiency, verdict(e.Ratio() >= TargetEfficiency && e.Violations == 0, missBy(e.Ratio(), TargetEfficiency)))
	}
	if p := r.Pipeline; p != nil {
		fmt.Fprintf(b, "| pipeline ÷ COPY | %.2f | ≥ %.1f | %s |\n", p.Ratio(), TargetRatio, verdict(p.Ratio() >= TargetRatio, missBy(p.Ratio(), TargetRatio)))
		fmt.Fprintf(b, "| peak RSS during backfill | %s | ≤ 100 MiB | %s |\n", mib(p.PeakRSS),
			verdict(p.PeakRSS <= TargetRSSKiB, fmt.Sprintf("%s over", mib(p.PeakRSS-TargetRSSKiB))))
	}
	if p := r.Poll; p != nil {
		fmt.Fprintf(b, "| poll tick p99 (%d groups) | %s | < %s | %s |\n", p.Groups, ms(p.P99), ms(TargetPollP99),
			verdict(p.P99 < TargetPollP99, fmt.Sprintf("%s over", ms(p.P99-TargetPollP99))))
	}
	for _, e := range r.Errors {
		fmt.Fprintf(b, "| **phase failed** | %s | | |\n", escape(e))
	}

	if why := r.misses(); len(why) > 0 {
		b.WriteString("\n### Why targets were missed\n\n")
		for _, w := range why {
			b.WriteString("- " + w + "\n")
		}
	}
}

func (r *Report) efficiency(b *strings.Builder) {
	b.WriteString("\n## Plan efficiency\n\n")
	b.WriteString("Requests that reached the simulator while backfill work was queued, divided by what the plan allows in the same\n" +
		"time (its history rate × the duration). 32 crypto series two years deep keep far more pages queued than any plan\n" +
		"serves; the real governor (`internal/quota`), AllTick client, backfill engine and store do the work. The simulator\n" +
		"enforces the same plan as a strict vendor would and counts every refusal as a violation. Nothing is time-scaled:\n" +
		"the simulator and the governor run on the real clock, since basic's one request a second already gives 60 requests a minute.\n\n")
	b.WriteString("| plan | allowed rate | for | requests made | allowed | efficiency | violations | governor alone |\n" +
		"|---|---|---|---|---|---|---|---|\n")
	for _, e := range r.Efficiency {
		fmt.Fprintf(b, "| `%s` | %.2f req/s | %s | %d | %.1f | **%.3f** | %d (%s) | %d grants (%.3f) |\n", e.Label(), e.Rate,
			e.For.Round(100*time.Millisecond), e.Made, e.Allowed, e.Ratio(), e.Violations, reasonList(e.Reasons),
			e.GovernorAlone, e.GovernorRatio())
	}
	b.WriteString("\n\"Governor alone\" is a second governor with the same plan, run in the same seconds for callers that do nothing\n" +
		"but ask: the ceiling the governor itself sets, without HTTP or database.\n")
	var beside []string
	for _, e := range r.Efficiency {
		if e.Beside && (e.Margin == 0 || !r.hasDefaultRun(e)) {
			beside = append(beside, fmt.Sprintf("`%s` reached %.3f with %d violation(s).", e.Label(), e.Ratio(), e.Violations)+r.effCauses(e))
		}
	}
	if len(beside) > 0 {
		b.WriteString("\n### Beside the targets: requests spaced apart\n\n" +
			"A plan can also space requests: AllTick's plans allow one history request per interval, which a window count does\n" +
			"not express. The governor then pads every interval with its margin, since the vendor measures arrivals, and that\n" +
			"costs most at short intervals; the planning table below takes the efficiency of AllTick's faster plans from these runs.\n\n")
		for _, w := range beside {
			b.WriteString("- " + w + "\n")
		}
	}
}

// hasDefaultRun reports whether e's plan was also run at the default margin,
// whose explanation then speaks of e too (see marginNote).
func (r *Report) hasDefaultRun(e Efficiency) bool {
	for _, o := range r.Efficiency {
		if o.Plan == e.Plan && o.Margin == 0 {
			return true
		}
	}
	return false
}

func (r *Report) pipeline(b *strings.Builder) {
	p := r.Pipeline
	if p == nil {
		return
	}
	b.WriteString("\n## Unthrottled pipeline\n\n")
	fmt.Fprintf(b, "`syncd backfill` (the real binary, default settings) against the simulator with no rate limit: %d crypto\n"+
		"series of 1m bars in parallel, from the first history request to the last commit (page served, decoded, validated,\n"+
		"committed with its cursor). Then the same rows, exported to CSV, are loaded by one %s into an empty table\n"+
		"with the same columns, constraints, primary key and monthly partitions, in the same database.\n\n", p.Series, p.Copy.Method)
	b.WriteString("| | rows | time | rows/s |\n|---|---|---|---|\n")
	fmt.Fprintf(b, "| syncd backfill | %s | %s | %s |\n", thousands(p.Bars), p.Took.Round(100*time.Millisecond), thousands(int64(p.BarsPerSecond())))
	fmt.Fprintf(b, "| %s | %s | %s | %s |\n", p.Copy.Method, thousands(p.Copy.Rows), p.Copy.Took.Round(100*time.Millisecond),
		thousands(int64(p.Copy.RowsPerSecond())))
	fmt.Fprintf(b, "| **ratio** | | | **%.2f** |\n\n", p.Ratio())
	fmt.Fprintf(b, "%d history requests; the process ran %s in all (start-up and migration check included). syncd's summary:\n"+
		"`%s`\n", p.Requests, p.Process.Round(100*time.Millisecond), escape(p.Summary))

	b.WriteString("\n## Memory\n\nResident set of the `syncd backfill` process above (the simulator runs in the benchmark's own process),\n" +
		"sampled every 100 ms from /proc/<pid>/status.\n\n| when | RSS |\n|---|---|\n")
	if p.AtMark > 0 {
		fmt.Fprintf(b, "| after %s bars served | %s |\n", thousands(int64(p.Mark)), mib(p.AtMark))
	} else {
		fmt.Fprintf(b, "| after %s bars served | not reached (the run stored fewer) |\n", thousands(int64(p.Mark)))
	}
	fmt.Fprintf(b, "| peak (VmHWM) over %s bars | %s |\n", thousands(p.Bars), mib(p.PeakRSS))
}

func (r *Report) poll(b *strings.Builder) {
	if p := r.Poll; p != nil {
		b.WriteString("\n## Poll tick\n\n")
		fmt.Fprintf(b, "One `incremental.Poller.Tick`: %d crypto series in %d latest-bars request(s) through the governor, decoded,\n"+
			"validated and upserted in one transaction (%d bars a tick: the bar that closed and the one forming), %d ticks back\n"+
			"to back after a first tick that inserted the rows.\n\n", p.Groups, p.Requests, p.Bars, p.Ticks)
		fmt.Fprintf(b, "| p50 | p99 | max | rows updated | rows unchanged | rows inserted |\n|---|---|---|---|---|---|\n")
		fmt.Fprintf(b, "| %s | **%s** | %s | %d | %d | %d |\n", ms(p.P50), ms(p.P99), ms(p.Max), p.Updated, p.Unchanged, p.Inserted)
	}
}

func (r *Report) plans(b *strings.Builder) {
	b.WriteString("\n## Backfill time per AllTick plan\n\n")
	fmt.Fprintf(b, "Time to backfill %d symbol-years of 1m bars of an always-open market (crypto: %s bars a year, %s in all),\n"+
		"from the formula of the benchmark issue and the figures measured above:\n\n"+
		"    backfill requests/s = min(history rate, global rate − live rate, per-minute cap/60 − live rate, daily cap/86400 − live rate)\n"+
		"    time = bars ÷ (requests/s × measured efficiency × bars per request)\n\n"+
		"capped by the unthrottled pipeline's bars/s. The daily cap is spread over the day (a key used only for backfill).\n"+
		"AllTick stock codes cannot page back at all, so this applies to crypto, FX and commodities; FX and commodities\n"+
		"trade about 5/7 of the week and take about 5/7 of the time. The `all_*_stocks` plans have professional's limits.\n\n",
		SymbolYears, thousands(barsPerYear), thousands(int64(SymbolYears*barsPerYear)))
	b.WriteString("| plan | requests/s | efficiency applied | bars/request | backfill time | with live polling | \n|---|---|---|---|---|---|\n")
	for _, t := range r.Plans {
		live := "—: live polling takes the whole plan (the governor still gives backfill 1 grant in 5)"
		if t.LiveRate > 0 {
			live = fmt.Sprintf("%s (%.3f req/s left)", human(t.LiveTook), t.LiveRate)
		}
		took := "**" + human(t.Took) + "**"
		if t.PipelineBound {
			took += " (pipeline-bound)"
		}
		fmt.Fprintf(b, "| %s | %.4g | %.3f (from `%s`) | %.1f | %s | %s |\n", t.Plan, t.Rate, t.Efficiency, t.EfficiencyFrom,
			t.BarsPerRequest, took, live)
	}
}

func footer(b *strings.Builder) {
	b.WriteString("\n## Go benchmarks\n\n`make bench` also runs every `Benchmark…` function of the module (`go test -run '^$' -bench . -benchmem`);\n" +
		"their output goes to the terminal, not to this page. They cover the simulator's pages, each vendor's decoders, the\n" +
		"governor, every write mechanism of the store (docs/storage.md) and the poll tick.\n")

	b.WriteString("\n## How to run\n\n" +
		"    make bench                              # Go benchmarks, then the full run (about 10 minutes); needs Docker\n" +
		"    make bench/e2e                          # the full end-to-end run alone\n" +
		"    make bench/e2e SYNCBENCH_FLAGS=-quick   # about a minute of measuring, for development\n\n" +
		"`scripts/bench.sh` starts PostgreSQL 15 from `syncd-test/postgres:15` (scripts/pg-test-image.sh builds it) on a\n" +
		"loopback port, builds `bin/syncd` and `bin/syncbench`, runs `bin/syncbench -db … -syncd bin/syncd -psql …` (psql runs\n" +
		"inside the container, fed the CSV on stdin), then removes the container. `scripts/bench.sh -help` lists the sizes\n" +
		"that can be changed; pass them in `SYNCBENCH_FLAGS`.\n")
}

// misses explains every missed target with the causes this run can show.
func (r *Report) misses() []string {
	var out []string
	startup, small := "", ""
	if r.Quick {
		startup = " This is a quick run: a short run weighs start-up (the governor starts with full windows) more."
		small = " This is a quick run, with small sizes."
	}
	for _, e := range r.Efficiency {
		if e.Beside || (e.Ratio() >= TargetEfficiency && e.Violations == 0) {
			continue
		}
		why := fmt.Sprintf("Plan efficiency of `%s`: %.3f against %.2f (%s).", e.Label(), e.Ratio(), TargetEfficiency, missBy(e.Ratio(), TargetEfficiency))
		out = append(out, why+r.effCauses(e)+startup)
	}
	if p := r.Pipeline; p != nil && p.Ratio() < TargetRatio {
		out = append(out, fmt.Sprintf("Pipeline ÷ COPY: %.2f against %.1f (%s). The pipeline shares the machine's %d CPUs between the"+
			" simulator (rendering JSON pages), syncd (decoding, validating, committing) and PostgreSQL, while the COPY"+
			" reference gives PostgreSQL the machine alone; the load average was %s at the start.%s",
			p.Ratio(), TargetRatio, missBy(p.Ratio(), TargetRatio), r.Machine.CPUs, orDash(r.Machine.Load), small))
	}
	if p := r.Pipeline; p != nil && p.PeakRSS > TargetRSSKiB {
		out = append(out, fmt.Sprintf("Peak RSS: %s, %s over the 100 MiB target.", mib(p.PeakRSS), mib(p.PeakRSS-TargetRSSKiB)))
	}
	if p := r.Poll; p != nil && p.P99 >= TargetPollP99 {
		spread := "the tail, not the typical tick, misses"
		if p.P50 >= TargetPollP99 {
			spread = "even the median tick misses, so the cost is in every tick (decoding the answer, validating, the upsert), not in scheduling noise"
		}
		out = append(out, fmt.Sprintf("Poll tick p99: %s against < %s (%s over; p50 %s): %s. A tick is one HTTP round trip with %d groups"+
			" and one upsert of %d rows, on %d CPUs with a load average of %s at the start.%s",
			ms(p.P99), ms(TargetPollP99), ms(p.P99-TargetPollP99), ms(p.P50), spread, p.Groups, p.Bars, r.Machine.CPUs, orDash(r.Machine.Load), small))
	}
	return out
}

// effCauses explains an efficiency run's shortfall with the causes this run
// can show.
func (r *Report) effCauses(e Efficiency) string {
	why := ""
	if e.Violations > 0 {
		why += fmt.Sprintf(" The simulator refused %d request(s) (%s): the governor accounts a request when it is sent,"+
			" the simulator when it arrives, and the difference outgrew the governor's margin (SYNCD_QUOTA_MARGIN).",
			e.Violations, reasonList(e.Reasons))
	}
	switch p := r.Pipeline; {
	case e.GovernorRatio() < TargetEfficiency:
		why += fmt.Sprintf(" A second governor with the same plan, granting to callers that did nothing else, reached only %.3f"+
			" in the same time: the governor itself is the ceiling. It pads every spacing and window with a safety margin"+
			" (quota.Config.Margin, SYNCD_QUOTA_MARGIN) for the variation of the trip to the vendor, which alone caps"+
			" this plan at %.3f; the rest is its timers waking late on a shared machine.", e.GovernorRatio(), e.marginCeiling())
		if o, ok := smallerMargin(r.Efficiency, e); ok {
			why += marginNote(o)
		}
	case p != nil && p.BarsPerSecond() > 0 && e.Rate*p.BarsPerRequest() > p.BarsPerSecond():
		why += fmt.Sprintf(" The plan allows %s bars/s, more than the unthrottled pipeline stored (%s bars/s): the database and CPU,"+
			" not the governor, were the bottleneck.", thousands(int64(e.Rate*p.BarsPerRequest())), thousands(int64(p.BarsPerSecond())))
	default:
		why += fmt.Sprintf(" The governor alone reached %.3f, so the rest was lost between grant and arrival: HTTP, decoding and"+
			" commits on a shared machine.", e.GovernorRatio())
	}
	return why
}

func verdict(ok bool, miss string) string {
	if ok {
		return "met"
	}
	return "**missed** (" + miss + ")"
}

func missBy(got, want float64) string {
	return fmt.Sprintf("%.1f %% short", (want-got)/want*100)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func escape(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "`", "'").Replace(s)
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// thousands writes n with thin separators: 5,000,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// human renders a long duration in the unit a planner thinks in.
func human(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Hour:
		return fmt.Sprintf("%.0f min", d.Minutes())
	case d < 72*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	default:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	}
}

// marginNote says what the run of the same plan with a smaller margin shows.
func marginNote(o Efficiency) string {
	why := fmt.Sprintf(" With a margin of %s the same plan reached %.3f (governor alone %.3f) with %d violation(s).",
		o.Margin, o.Ratio(), o.GovernorRatio(), o.Violations)
	if o.Violations > 0 {
		why += fmt.Sprintf(" Even on loopback two requests sent a spacing apart sometimes arrive more than %s closer together,"+
			" so the margin cannot simply be lowered: the default is the safe choice, and SYNCD_QUOTA_MARGIN lowers it"+
			" only where the trip to the vendor is known to be steady.", o.Margin)
	}
	if o.GovernorRatio()-o.Ratio() > 0.05 {
		why += " The rest is lost between a grant and the request leaving: spacings count from the moment each request" +
			" was sent, so the next grant waits for that moment, and the real interval is spacing + margin + that delay" +
			" (building the request, a connection, the scheduler on a shared machine)."
	}
	return why
}

// smallerMargin returns the run of e's plan with a margin set below the
// default, if one was made.
func smallerMargin(effs []Efficiency, e Efficiency) (Efficiency, bool) {
	if e.Margin != 0 {
		return Efficiency{}, false
	}
	for _, o := range effs {
		if o.Plan == e.Plan && o.Margin > 0 {
			return o, true
		}
	}
	return Efficiency{}, false
}
