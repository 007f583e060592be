package signature

import (
	"github.com/flujo/flujo"

	"example.com/flujotest/errors/signature/hidden"
)

// The output type of hidden.Make is not exported, so code generated here
// cannot name it.
var Secret = flujo.Step("secret", hidden.Make)
