package vault

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestEncodeLargeDocument encodes documents above and below parallelMin,
// where encodeObject writes the members in two halves at once: the bytes
// must be encoding/json's (which sorts keys too), and of two bad values,
// one in each half, the error must name the first in key order, as a
// single pass would.
func TestEncodeLargeDocument(t *testing.T) {
	build := func(services int) map[string]any {
		doc := map[string]any{}
		for s := range services {
			svc := map[string]any{"port": 5432 + s, "tls": s%2 == 0}
			for k := range 40 {
				svc[fmt.Sprintf("secret%02d", k)] = strings.Repeat(string(rune('a'+k%26)), 100) + fmt.Sprint(s)
			}
			doc[fmt.Sprintf("service%04d", s)] = svc
		}
		return doc
	}
	for _, services := range []int{3, 400} {
		doc := build(services)
		want, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if services == 400 && len(want) < parallelMin {
			t.Fatalf("the large document is %d bytes, under parallelMin: it does not test the split", len(want))
		}
		got, err := sealDocument(doc)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%d services: the encoding differs from encoding/json's", services)
		}
		doc["service0001"].(map[string]any)["bad"] = "\xff"
		doc[fmt.Sprintf("service%04d", services-1)].(map[string]any)["bad"] = "\xfe"
		_, err = sealDocument(doc)
		if err == nil || !strings.Contains(err.Error(), `"service0001.bad"`) {
			t.Errorf("%d services, two bad values: got %v, want the error at service0001.bad", services, err)
		}
	}
}
