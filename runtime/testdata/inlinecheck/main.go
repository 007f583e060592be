// Command inlinecheck instantiates the generic hot-path types of package
// runtime so that `go build -gcflags=-m` reports whether they inline; the
// package's inlining test builds it.
package main

import flujort "github.com/flujo/flujo/runtime"

type scratch struct{ buf [64]byte }

func main() {
	p, err := flujort.NewPool[scratch](8, 0.9, nil, nil)
	if err != nil {
		panic(err)
	}
	v := p.Get()
	p.Put(v)
}
