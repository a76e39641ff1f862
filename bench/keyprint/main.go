// Command keyprint prints the benchmark key, or with -path SIZE a credential
// path that exists in that fixture, for bench/compare.sh.
package main

import (
	"flag"
	"fmt"

	"github.com/credvault/vault/internal/benchdata"
)

func main() {
	size := flag.String("path", "", "print a credential path of this fixture instead of the key")
	flag.Parse()
	if *size != "" {
		fmt.Println(benchdata.GetPath(*size))
		return
	}
	fmt.Println(benchdata.Key)
}
