// workloadcheck: fetches this process's X.509 context from a SPIFFE Workload API endpoint with go-spiffe's
// workloadapi client (the same call every go-spiffe workload makes) and verifies the SVID against the bundles it got.
//
//	workloadcheck -addr unix:///path/to/socket [-updates N]
//
// With -updates N it keeps watching and reports after N updates (N-1 rotations after the first answer).
// Prints one JSON line {"ok":true,"ids":["spiffe://…", …],"serials":[…]} (exit 0) or {"ok":false,"error":"…"} (exit 1).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

type result struct {
	OK      bool     `json:"ok"`
	IDs     []string `json:"ids,omitempty"`
	Serials []string `json:"serials,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func finish(r result) {
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	if r.OK {
		os.Exit(0)
	}
	os.Exit(1)
}

func check(c *workloadapi.X509Context) (string, string, error) {
	svid := c.DefaultSVID()
	id, _, err := x509svid.Verify(svid.Certificates, c.Bundles)
	if err != nil {
		return "", "", err
	}
	return id.String(), svid.Certificates[0].SerialNumber.Text(16), nil
}

type watcher struct {
	want    int
	res     result
	done    chan struct{}
	failure error
}

func (w *watcher) OnX509ContextUpdate(c *workloadapi.X509Context) {
	id, serial, err := check(c)
	if err != nil {
		w.failure = err
		close(w.done)
		return
	}
	w.res.IDs = append(w.res.IDs, id)
	w.res.Serials = append(w.res.Serials, serial)
	// Signal readiness for the next rotation on stdout's sibling, stderr, so the test can rotate.
	fmt.Fprintf(os.Stderr, "update %d\n", len(w.res.IDs))
	if len(w.res.IDs) == w.want {
		close(w.done)
	}
}

func (w *watcher) OnX509ContextWatchError(err error) {}

func main() {
	addr := flag.String("addr", "", "Workload API address, unix:///…")
	updates := flag.Int("updates", 1, "number of X.509 context updates to wait for")
	timeout := flag.Duration("timeout", 30*time.Second, "give up after this long")
	flag.Parse()
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "usage: workloadcheck -addr unix:///path [-updates N]")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *updates <= 1 {
		c, err := workloadapi.FetchX509Context(ctx, workloadapi.WithAddr(*addr))
		if err != nil {
			finish(result{Error: err.Error()})
		}
		id, serial, err := check(c)
		if err != nil {
			finish(result{Error: err.Error()})
		}
		finish(result{OK: true, IDs: []string{id}, Serials: []string{serial}})
	}
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(*addr))
	if err != nil {
		finish(result{Error: err.Error()})
	}
	defer client.Close()
	w := &watcher{want: *updates, done: make(chan struct{})}
	go func() { _ = client.WatchX509Context(ctx, w) }()
	select {
	case <-w.done:
	case <-ctx.Done():
		finish(result{Error: "timed out waiting for updates", IDs: w.res.IDs, Serials: w.res.Serials})
	}
	if w.failure != nil {
		finish(result{Error: w.failure.Error()})
	}
	w.res.OK = true
	finish(w.res)
}
