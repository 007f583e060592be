// Package devdeps pins module requirements while the packages that use them are written.
package devdeps

import (
	_ "github.com/cespare/xxhash/v2"
	_ "github.com/dave/jennifer/jen"
	_ "github.com/invopop/jsonschema"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/maypok86/otter/v2"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "go.uber.org/goleak"
	_ "golang.org/x/tools/go/packages"
)
