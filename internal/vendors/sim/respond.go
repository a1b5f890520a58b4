package sim

import (
	"io"
	"net/http"
	"strconv"
)

// playFault waits out the call's added latency and plays its response-level
// fault, the part of a vendor's misbehaviour that does not depend on its wire
// format. It returns false when the handler must answer nothing more: the
// client gave up, the request hung until its bound, a 5xx page went out, or
// rateLimited has rendered the vendor's own rate-limit answer for a
// FaultRateLimit.
func playFault(w http.ResponseWriter, r *http.Request, call *Call, rateLimited func()) bool {
	if err := call.Fault.Wait(r.Context()); err != nil {
		return false
	}
	switch call.Fault.Kind {
	case FaultTimeout:
		return false // Wait hung until the bound; the client has given up
	case FaultServerError:
		w.WriteHeader(call.Fault.Status)
		_, _ = io.WriteString(w, "<html><body>upstream error</body></html>")
		return false
	case FaultRateLimit:
		rateLimited()
		return false
	}
	return true
}

// writeBody sends a rendered body, malformed or cut short when the call's
// fault says so; a nil call (an answer given before admission) sends it as is.
func writeBody(w http.ResponseWriter, call *Call, body []byte) {
	if call != nil {
		switch call.Fault.Kind {
		case FaultMalformed:
			body = call.Fault.Malform(body)
		case FaultTruncated:
			// Promise the whole body, send part of it: the client sees a short read.
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(call.Fault.Truncate(body)) //nolint:gosec // JSON for a test client, never rendered as HTML
			return
		}
	}
	_, _ = w.Write(body) //nolint:gosec // JSON for a test client, never rendered as HTML
}
