// svidcheck: a go-spiffe v2 client that judges an X.509-SVID the way any SPIFFE workload would.
//
//	svidcheck -trust-domain TD -bundle BUNDLE.pem -svid CHAIN.pem -key KEY.pem
//
// Parses the SVID with its private key (x509svid.Parse: the SPIFFE id and X509-SVID leaf rules, key match), loads
// the trust bundle (x509bundle.Parse) and verifies the chain against it (x509svid.Verify). Prints one JSON line:
// {"ok":true,"id":"spiffe://…"} and exits 0, or {"ok":false,"stage":"…","error":"…"} and exits 1.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

type result struct {
	OK    bool   `json:"ok"`
	ID    string `json:"id,omitempty"`
	Stage string `json:"stage,omitempty"`
	Error string `json:"error,omitempty"`
}

func finish(r result) {
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	if r.OK {
		os.Exit(0)
	}
	os.Exit(1)
}

func main() {
	tdName := flag.String("trust-domain", "", "trust domain of the bundle")
	bundlePath := flag.String("bundle", "", "trust bundle, PEM certificates")
	svidPath := flag.String("svid", "", "X.509-SVID chain, PEM, leaf first")
	keyPath := flag.String("key", "", "the SVID's private key, PKCS#8 PEM")
	flag.Parse()
	if *tdName == "" || *bundlePath == "" || *svidPath == "" || *keyPath == "" {
		fmt.Fprintln(os.Stderr, "usage: svidcheck -trust-domain TD -bundle BUNDLE.pem -svid CHAIN.pem -key KEY.pem")
		os.Exit(2)
	}
	td, err := spiffeid.TrustDomainFromString(*tdName)
	if err != nil {
		finish(result{Stage: "trust-domain", Error: err.Error()})
	}
	bundlePEM, err := os.ReadFile(*bundlePath)
	if err != nil {
		finish(result{Stage: "read", Error: err.Error()})
	}
	bundle, err := x509bundle.Parse(td, bundlePEM)
	if err != nil {
		finish(result{Stage: "bundle", Error: err.Error()})
	}
	svid, err := x509svid.Load(*svidPath, *keyPath)
	if err != nil {
		finish(result{Stage: "parse", Error: err.Error()})
	}
	id, _, err := x509svid.Verify(svid.Certificates, bundle)
	if err != nil {
		finish(result{Stage: "verify", Error: err.Error()})
	}
	if id != svid.ID {
		finish(result{Stage: "verify", Error: fmt.Sprintf("verified id %s differs from parsed id %s", id, svid.ID)})
	}
	finish(result{OK: true, ID: id.String()})
}
